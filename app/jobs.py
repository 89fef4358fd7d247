"""What every RQ job needs: an application context of its own in the worker process."""
from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

_worker_app: Flask | None = None


@contextmanager
def job_context():
    """A fresh application context (and so a fresh database session) for one job.

    Under `flask worker` the work-horse inherits the worker's application; under
    the plain RQ CLI the application is built once per process. The context is
    always new so that no identity map outlives a job: a long-lived session with
    expire_on_commit off would hand the next job stale rows.
    """
    with _application().app_context():
        yield


def _application() -> Flask:
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from app import create_app  # only when a job runs outside `flask worker`

        _worker_app = create_app()
    return _worker_app
