"""Benchmarks (scripts; run each with .venv/bin/python bench/<name>.py)."""
