"""Benchmarks of the platform, the policies and the infrastructure code; each runs as
`python -m scripts.bench.<name>` (the load benchmark is `bizid load bench`)."""
