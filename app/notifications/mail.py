"""Sending e-mail through the configured SMTP server."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from functools import partial

from flask import current_app

from app import outbound
from app.uow import UnitOfWork

log = logging.getLogger(__name__)


def send_email(uow: UnitOfWork, to: list[str], subject: str, body: str) -> None:
    """Send one plain-text e-mail once the unit of work commits; without MAIL_SERVER it is only
    logged (embedded demo). The SMTP conversation runs with no transaction open."""
    if not to:
        return
    config = current_app.config
    if not config["MAIL_SERVER"]:
        log.info("e-mail (no MAIL_SERVER set) to %s: %s", ", ".join(to), subject)
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    settings = {key: config[key] for key in
                ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEADLINE_SECONDS")}
    uow.after_commit(partial(_deliver, settings, message))


def _deliver(settings: dict, message: EmailMessage) -> None:
    what = f"SMTP {settings['MAIL_SERVER']}:{settings['MAIL_PORT']}"
    outbound.guard(what)
    smtp = smtplib.SMTP(timeout=settings["MAIL_DEADLINE_SECONDS"])
    accepted = False
    try:
        with outbound.deadline(settings["MAIL_DEADLINE_SECONDS"], what) as watch:
            watch.add(lambda: smtp.sock)
            try:
                smtp.connect(settings["MAIL_SERVER"], settings["MAIL_PORT"])
                if settings["MAIL_USE_TLS"]:
                    smtp.starttls()
                if settings["MAIL_USERNAME"]:
                    smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"] or "")
                smtp.send_message(message)
                accepted = True
                smtp.quit()
            finally:
                smtp.close()
    except (smtplib.SMTPException, OSError) as exc:  # DeadlineExceeded is one (a requests.Timeout)
        if not accepted:
            raise
        # Accepted: whatever became of the goodbye, failed, the job would send the message again.
        log.info("%s: the message was accepted; the goodbye failed: %s", what, exc)
