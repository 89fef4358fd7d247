"""Reproducible benchmarks of the service; each writes its results as JSON under bench/results/."""
