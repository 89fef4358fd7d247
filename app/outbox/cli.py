"""`flask outbox relay` and `flask worker`: how jobs run in production.

With REDIS_URL set, run beside the web processes:

    flask scheduler       # one per deployment: enqueues the periodic jobs, the
                          # outbox relay among them (app/scheduling)
    flask worker          # any number: runs the jobs of the queues default,
                          # notifications and payments, a forked work-horse per job
    flask worker --queues scheduled --no-fork
                          # the periodic jobs, in one warm process

`flask outbox relay` is the relay as a loop of its own (or one pass with
--once): it hands over the events whose hand-off after commit failed or went
stale. `rq worker -u $REDIS_URL default notifications payments scheduled` works as well,
but each work-horse then builds the application itself, once per job. Without
REDIS_URL (the embedded default) neither is needed: jobs run on a background
thread of the web process.
"""
from __future__ import annotations

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from redis import Redis

from app.extensions import db
from app.outbox.dispatch import QUEUES, relay
from app.outbox.worker import AppWorker, WarmWorker

log = logging.getLogger(__name__)

outbox_cli = AppGroup("outbox", help="The transactional outbox.")


@outbox_cli.command("relay")
@click.option("--once", is_flag=True, help="Hand over what is pending, then exit.")
def relay_command(once: bool) -> None:
    """Hand undelivered outbox events to the job queues (run one per deployment)."""
    dispatcher = current_app.extensions["outbox_dispatch"]
    interval = current_app.config["OUTBOX_RELAY_INTERVAL"]
    while True:
        try:
            handed = relay(dispatcher)
        except Exception:
            if once:
                raise
            # A database hiccup must not stop the relay: the events wait in their table.
            log.exception("outbox relay: pass failed, retrying in %s s", interval)
            handed = 0
        if handed:
            click.echo(f"relayed {handed} event(s)")
        if once:
            return
        time.sleep(interval)


@click.command("worker")
@click.option("--queues", default=",".join(QUEUES),
              show_default=True, help="Comma-separated queue names, in priority order.")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--no-fork", is_flag=True,
              help="Run each job in this process (warm connections and statements), not in a forked work-horse.")
@with_appcontext
def worker_command(queues: str, burst: bool, no_fork: bool) -> None:
    """Run an RQ worker with the application's context (needs REDIS_URL).

    Production runs several of these beside `flask scheduler`; each job runs in
    a forked work-horse with its own database connections, or with --no-fork in
    the worker itself (the periodic jobs of the `scheduled` queue).
    """
    redis_url = current_app.config["REDIS_URL"]
    if not redis_url:
        raise click.ClickException("REDIS_URL is not set: the embedded default runs jobs in-process.")
    # Nothing pooled in this process may be inherited by the work-horses.
    db.engine.dispose()
    worker_class = WarmWorker if no_fork else AppWorker
    worker = worker_class([name.strip() for name in queues.split(",") if name.strip()],
                       connection=Redis.from_url(redis_url))
    # The scheduler moves jobs whose retry delay has passed back onto their queue.
    worker.work(burst=burst, with_scheduler=True)
