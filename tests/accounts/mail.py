"""A real SMTP server for the account e-mails (invitations, password resets), and reading their links.

Import the `mailbox` fixture into a test module to use it."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from tests.outbox.conftest import Mailbox, free_port

LINK = re.compile(r"https?://\S+/(?:invitations|password-reset)/\S+")


@pytest.fixture
def mailbox(app, monkeypatch):
    """Every e-mail the application sends during the test, delivered over SMTP on loopback."""
    inbox = Mailbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    yield inbox
    controller.stop()


def mails_to(mailbox, email: str) -> list:
    return [m for m in mailbox.messages if m["To"] == email]


def link_path(message) -> str:
    """The path of the one link an account e-mail carries (the host is PUBLIC_URL's, not the test server's)."""
    (url,) = LINK.findall(message.get_content())
    return urlsplit(url).path
