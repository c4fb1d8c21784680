"""Lint tools beyond ruff and mypy; each runs as `python -m scripts.lint.<name>` (the Makefile does)."""
