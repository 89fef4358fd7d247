"""Sending e-mail through the configured SMTP server."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from functools import partial

from flask import current_app

from app.outbox.services import defer

log = logging.getLogger(__name__)


def send_email(to: list[str], subject: str, body: str) -> None:
    """Send one plain-text e-mail; without MAIL_SERVER it is only logged (embedded demo).

    From an outbox handler the SMTP conversation is deferred until the handler
    has read what it needs (see app.outbox.services.defer).
    """
    if not to:
        return
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    if not config["MAIL_SERVER"]:
        log.info("e-mail (no MAIL_SERVER set) to %s: %s", message["To"], subject)
        return
    settings = {key: config[key] for key in
                ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD")}
    deliver = partial(_deliver, settings, message)
    if not defer(deliver):
        deliver()


def _deliver(settings: dict, message: EmailMessage) -> None:
    with smtplib.SMTP(settings["MAIL_SERVER"], settings["MAIL_PORT"], timeout=30) as smtp:
        if settings["MAIL_USE_TLS"]:
            smtp.starttls()
        if settings["MAIL_USERNAME"]:
            smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
