"""Every `flask ...` command the application adds."""
from __future__ import annotations

from flask import Flask

from app.accounts.cli import certifications_cli, users_cli
from app.files.cli import attachments_cli
from app.checklists.cli import checklist_cli
from app.demo.cli import demo_cli
from app.idempotency.cli import idempotency_cli
from app.imports.cli import import_cli
from app.integrations.cli import integrations_cli
from app.outbox.cli import outbox_cli, worker_command
from app.payments.cli import ledger_cli, payments_cli
from app.programmes.cli import programmes_cli
from app.scheduling.cli import scheduler_command
from app.srs.cli import srs_cli
from app.triage.cli import releasenotes_cli


def register_cli(app: Flask) -> None:
    for command in (attachments_cli, certifications_cli, checklist_cli, demo_cli, idempotency_cli, import_cli,
                    integrations_cli, outbox_cli, worker_command, ledger_cli, payments_cli, programmes_cli,
                    releasenotes_cli, scheduler_command, srs_cli, users_cli):
        app.cli.add_command(command)
