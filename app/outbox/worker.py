"""The RQ workers that `flask worker` runs: forking (the default) or not (`--no-fork`)."""
from __future__ import annotations

from flask import has_app_context
from rq import SimpleWorker, Worker
from sqlalchemy.orm import configure_mappers

from app.extensions import db


class _Tuned:
    """What both workers change in RQ's: mappers configured up front, a command channel that lets go."""

    def work(self, *args, **kwargs):
        """Work with the ORM's mappers already configured, so that no work-horse pays for it.

        Configuring them happens on first use and costs a few hundred milliseconds
        of CPU; a child forked before that would configure them again for every job
        (measured: the SLA watch over 1,000,000 SRs took 0.92 s when scheduled
        against 0.55 s run in a warm process).
        """
        configure_mappers()
        return super().work(*args, **kwargs)

    def subscribe(self):
        """RQ's command channel, listened to with a one-second poll instead of RQ's sixty.

        The listening thread waits that long for a message once the worker has
        unsubscribed, and the worker's shutdown waits for the thread: with RQ's
        default every `flask worker` took up to a minute to stop.
        """
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1, daemon=True,
                                                       exception_handler=self._pubsub_exception_handler)



class AppWorker(_Tuned, Worker):
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


class WarmWorker(_Tuned, SimpleWorker):
    """Runs each job in the worker process itself, so that its connection pool and compiled
    statements stay warm from one job to the next.

    For the periodic jobs (the `scheduled` queue): a forked work-horse pays for a new
    database connection and the first compilation of every statement it runs, about
    70 ms measured against a 0.19 s SLA watch pass over 1,000,000 SRs, on every run.
    A job that crashes the process takes the worker with it, so run it under the same
    supervisor as the others; job timeouts still hold (SIGALRM, in the main thread).
    """
