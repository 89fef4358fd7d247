"""Outbox handler of attachments: scan a text log once it is stored."""
from __future__ import annotations

from flask import current_app

from app.attachments.services import scan


def on_attachment_stored(payload: dict) -> None:
    scan(payload["attachment_id"], current_app.extensions["log_scanner"])


HANDLERS = {"attachments.scan": on_attachment_stored}
