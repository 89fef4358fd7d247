"""`flask outbox relay` and `flask worker`."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup
from redis import Redis
from rq import Worker

from app.outbox.dispatch import DEFAULT_QUEUE, QUEUE_BY_TOPIC_PREFIX, relay

outbox_cli = AppGroup("outbox", help="The transactional outbox.")


@outbox_cli.command("relay")
@click.option("--once", is_flag=True, help="Hand over what is pending, then exit.")
def relay_command(once: bool) -> None:
    """Hand undelivered outbox events to the job queues (run one per deployment)."""
    dispatcher = current_app.extensions["outbox_dispatch"]
    interval = current_app.config["OUTBOX_RELAY_INTERVAL"]
    while True:
        handed = relay(dispatcher)
        if handed:
            click.echo(f"relayed {handed} event(s)")
        if once:
            return
        time.sleep(interval)


@click.command("worker")
@click.option("--queues", default=",".join([DEFAULT_QUEUE, *QUEUE_BY_TOPIC_PREFIX.values()]),
              show_default=True, help="Comma-separated queue names, in priority order.")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker_command(queues: str, burst: bool) -> None:
    """Run an RQ worker with the application's context (needs REDIS_URL)."""
    redis_url = current_app.config["REDIS_URL"]
    if not redis_url:
        raise click.ClickException("REDIS_URL is not set: the embedded default runs jobs in-process.")
    worker = Worker([name.strip() for name in queues.split(",") if name.strip()],
                    connection=Redis.from_url(redis_url))
    worker.work(burst=burst, with_scheduler=True)
