"""GET /metrics for Prometheus, and the timing of every request.

The endpoint answers a bearer token equal to METRICS_TOKEN. Without that setting it answers only
outside production and only to this machine (loopback): in production a reverse proxy on the same
machine would make every outside request look local.
Under gunicorn, set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by the workers: each records
its timings there and any of them answers a scrape with the sum.
"""
from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from app import telemetry
from app.errors import Forbidden
from app.metrics.collector import OperationsCollector

blp = Blueprint("metrics", __name__)
REGISTRY = "metrics_registry"
LOOPBACK = {"127.0.0.1", "::1"}


def init_app(app: Flask) -> None:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for histogram in (telemetry.REQUEST_SECONDS, telemetry.LOG_SCAN_SECONDS, telemetry.IMPORT_SECONDS):
            registry.register(histogram)
    registry.register(OperationsCollector(app))
    app.extensions[REGISTRY] = registry
    app.before_request(_start_timer)
    app.after_request(_record_time)
    app.register_blueprint(blp)


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _record_time(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is not None:
        telemetry.REQUEST_SECONDS.labels(request.endpoint or "unmatched", request.method,
                                         str(response.status_code)).observe(time.perf_counter() - started)
    return response


def _may_read() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return current_app.config["GTAC_ENV"] != "production" and request.remote_addr in LOOPBACK


@blp.get("/metrics")
def metrics():
    if not _may_read():
        raise Forbidden("Metrics need the METRICS_TOKEN as a bearer token.",
                        code="metrics_forbidden")
    body = generate_latest(current_app.extensions[REGISTRY])
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
