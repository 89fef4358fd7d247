"""Timings a feature records for the metrics endpoint (app/metrics), kept below every feature so any
of them may observe one. Not registered anywhere at import: the metrics endpoint collects them (and,
under gunicorn with PROMETHEUS_MULTIPROC_DIR, every worker's copy from the shared folder)."""
from __future__ import annotations

from prometheus_client import Histogram

REQUEST_SECONDS = Histogram(
    "gtac_http_request_duration_seconds", "Time to answer an HTTP request, by endpoint, method and status.",
    ["endpoint", "method", "status"], registry=None,
    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
LOG_SCAN_SECONDS = Histogram("gtac_log_scan_duration_seconds", "Time to scan one uploaded log file.",
                             registry=None, buckets=(.01, .05, .1, .5, 1, 5, 15, 60, 300))
IMPORT_SECONDS = Histogram("gtac_import_duration_seconds", "Time to take in one imported file, by kind.",
                           ["kind"], registry=None, buckets=(.05, .1, .5, 1, 5, 15, 60, 300))
