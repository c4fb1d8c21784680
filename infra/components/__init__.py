"""Reusable ComponentResources; each is declared once per region under that region's explicit provider."""
