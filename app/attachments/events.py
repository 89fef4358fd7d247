"""Outbox handler of attachments: scan a text log once it is stored."""
from __future__ import annotations

from flask import current_app

from app.attachments.services import scan
from app.uow import UnitOfWork


def on_attachment_stored(uow: UnitOfWork, payload: dict) -> None:
    # After the event's commit: scanning a large log takes seconds and needs no lock meanwhile.
    scanner = current_app.extensions["log_scanner"]
    uow.after_commit(lambda: scan(payload["attachment_id"], scanner))


HANDLERS = {"attachments.scan": on_attachment_stored}
