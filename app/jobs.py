"""What every RQ job needs: an application context in the worker process."""
from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, has_app_context

_worker_app: Flask | None = None


@contextmanager
def job_context():
    """Reuse the worker's context (`flask worker`), or build the app once per process."""
    global _worker_app
    if has_app_context():
        yield
        return
    if _worker_app is None:
        from app import create_app  # only when a job runs outside `flask worker`

        _worker_app = create_app()
    with _worker_app.app_context():
        yield
