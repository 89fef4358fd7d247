"""Secrets at rest: Fernet keys from the environment, newest first.

Each use names its own setting (PAYEE_ENCRYPTION_KEYS for bank details,
SR_WEBHOOK_SECRET_KEYS for webhook signing secrets), so no two kinds of secret
share a key. MultiFernet encrypts with the first key and decrypts with any, so
a new key goes first and the old ones stay until everything is re-encrypted.
The embedded demo, which configures no keys, derives one per purpose from
SECRET_KEY; production refuses to start without keys (app/config.py).
"""
from __future__ import annotations

import base64
import hashlib

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


def keys(setting: str, purpose: str) -> list[str]:
    """The configured keys of `setting`, or the demo's key for `purpose` derived from SECRET_KEY."""
    configured = current_app.config.get(setting) or []
    if configured:
        return list(configured)
    digest = hashlib.sha256(purpose.encode() + b":" + current_app.config["SECRET_KEY"].encode()).digest()
    return [base64.urlsafe_b64encode(digest).decode()]


def cipher(setting: str, purpose: str) -> MultiFernet:
    """Encrypts with the first key of `setting`, decrypts with any."""
    return MultiFernet([Fernet(key) for key in keys(setting, purpose)])


def rotate_column(session, model, attribute: str, fernet: MultiFernet, label: str) -> int:
    """Re-encrypt `attribute` of every `model` row under the first key, rows locked; returns how many.

    A row that no configured key decrypts stops the rotation (and its transaction): dropping
    the old key would otherwise lose that secret for good.
    """
    rotated = 0
    for row in session.scalars(sa.select(model).order_by(model.id).with_for_update()):
        try:
            setattr(row, attribute, fernet.rotate(getattr(row, attribute).encode()).decode())
        except InvalidToken as exc:
            raise RuntimeError(f"{label} {row.id}: no configured key decrypts it") from exc
        rotated += 1
    return rotated
