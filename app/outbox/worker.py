"""The RQ worker that `flask worker` runs."""
from __future__ import annotations

from flask import has_app_context
from rq import Worker

from app.extensions import db


class AppWorker(Worker):
    """Forks a work-horse per job, as RQ's Worker does, without sharing database connections.

    A forked child inherits the parent's pooled connections; two processes talking
    over one socket corrupt each other's sessions. The child drops its copies
    (without closing them, which would close the parent's) and opens its own.
    """

    def main_work_horse(self, job, queue):
        """Entry point of the forked child: forget inherited connections, then run the job."""
        if has_app_context():
            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)
