"""Every `flask ...` command the application adds."""
from __future__ import annotations

from flask import Flask

from app.accounts.cli import certifications_cli
from app.demo.cli import demo_cli
from app.outbox.cli import outbox_cli, worker_command


def register_cli(app: Flask) -> None:
    for command in (certifications_cli, demo_cli, outbox_cli, worker_command):
        app.cli.add_command(command)
