"""Prometheus metrics: request timings recorded as requests end, and the service's state read from the
database and Redis when Prometheus scrapes GET /metrics."""
