"""`flask scheduler`: the one process that enqueues the periodic jobs on RQ."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.scheduling.on_rq import make_scheduler


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Enqueue the periodic jobs (app/scheduling/__init__.py) on RQ at their intervals; needs REDIS_URL.

    Run one; a second one started by mistake enqueues nothing twice. `flask worker` runs the jobs.
    """
    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set: the embedded default runs the periodic jobs "
                                   "in the web process.")
    make_scheduler(current_app._get_current_object()).start()
