"""Registering a claims platform, checking its signed requests, and paying the claims it pushes.

A request of the platform names its integration and signs its raw body with the
integration's secret, as the payments provider signs its webhooks (app.payments.signing):

    X-GTAC-Integration: <integration id>
    X-GTAC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">

A timestamp outside the tolerance is refused, so a captured request cannot be
replayed later. The secret is stored encrypted with INTEGRATION_SECRET_KEYS
(app.crypto) and shown in clear once, in the registration's answer.

A pushed claim carries the platform's own reference, the idempotency key kept
for good: the same reference with the same body answers as the first time,
with another body it is a 409. Everything a push writes (the claim, approved,
its payout, the reservation in the ledger, the outbox event that sends it to
the provider) commits in one transaction, or nothing does.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app import access, crypto
from app.accounts.models import Organisation, OrgKind, User
from app.audit.services import record
from app.bounds import MAX_ID, ascii_digits
from app.clock import now
from app.errors import Conflict, Forbidden, InvalidInput, RuleViolation, Unauthorized
from app.integrations.models import CallbackDelivery, Integration, IntegrationStatus, PushedClaim
from app.payments import claims, payouts, signing
from app.uow import unit_of_work
from app.webhooks import urls as callback_urls

log = logging.getLogger(__name__)

ID_HEADER = "X-GTAC-Integration"
SIGNATURE_HEADER = "X-GTAC-Signature"


def _cipher():
    return crypto.cipher("INTEGRATION_SECRET_KEYS", "integration-secret")


def seal(secret: str) -> str:
    return _cipher().encrypt(secret.encode()).decode()


def unseal(ciphertext: str) -> str:
    """The signing secret in clear, to check a request or sign a callback, and nothing else."""
    return _cipher().decrypt(ciphertext.encode()).decode()


def rotate_keys() -> int:
    """Re-encrypt every integration's secret under the first configured key; returns how many."""
    with unit_of_work() as uow:
        rotated = crypto.rotate_column(uow.session, Integration, "secret_ciphertext", _cipher(), "integration")
        record(None, "integration", "*", "integration.keys_rotated", after={"records": rotated})
    return rotated


def _check_url(url: str) -> None:
    if current_app.config["GTAC_ENV"] == "production" and urlsplit(url).scheme != "https":
        raise InvalidInput("Callback URLs must use https.", code="invalid_input",
                           details={"fields": {"callback_url": ["Must use https."]}})
    callback_urls.check(url)


def _refuse_blank(text: str, field: str) -> None:
    # Stored without its outer spaces: spaces alone would be stored empty.
    if not text.strip():
        raise InvalidInput(f"The {field} is empty or only spaces.", details={"fields": {field: ["More than spaces."]}})


def register(actor: User, name: str, callback_url: str) -> tuple[Integration, str]:
    """A new integration and its signing secret (shown only now)."""
    access.require(actor, "integration.manage")
    name = name.strip()
    _refuse_blank(name, "name")
    _check_url(callback_url)
    with unit_of_work() as uow:
        if uow.session.scalar(sa.select(Integration.id).where(Integration.name == name)) is not None:
            raise Conflict(f"An integration named {name!r} exists already.", code="integration_exists",
                           details={"fields": {"name": ["Already taken."]}})
        secret = secrets.token_urlsafe(32)
        integration = Integration(name=name, callback_url=callback_url, secret_ciphertext=seal(secret),
                                  status=IntegrationStatus.ACTIVE, created_by_id=actor.id, created_at=now())
        uow.session.add(integration)
        uow.session.flush()
        record(actor, "integration", integration.id, "integration.registered",
               after={"name": name, "callback_url": callback_url})
        return integration, secret


def list_integrations(actor: User) -> list[Integration]:
    access.require(actor, "integration.manage")
    with unit_of_work() as uow:
        return list(uow.session.scalars(access.visible_integrations(actor).order_by(Integration.id)))


def recent_callbacks(actor: User, integration_id: int, limit: int = 10) -> list[CallbackDelivery]:
    """The latest callbacks owed to one integration, with their outcome."""
    with unit_of_work() as uow:
        integration = access.get_integration(actor, integration_id)
        access.require(actor, "integration.manage")
        return list(uow.session.scalars(sa.select(CallbackDelivery)
                                        .where(CallbackDelivery.integration_id == integration.id)
                                        .order_by(CallbackDelivery.id.desc()).limit(limit)))


def set_status(actor: User, integration_id: int, status: IntegrationStatus) -> Integration:
    """Suspend an integration (its requests are refused from now on) or reactivate it."""
    with unit_of_work() as uow:
        integration = access.get_integration(actor, integration_id)
        access.require(actor, "integration.manage")
        integration = uow.session.scalars(sa.select(Integration).where(Integration.id == integration.id)
                                          .with_for_update()).one()
        if integration.status is not status:
            before = integration.status.value
            integration.status = status
            record(actor, "integration", integration.id, f"integration.{status.value}",
                   before={"status": before}, after={"status": status.value})
        return integration


def authenticate(headers, body: bytes) -> int:
    """The id of the active integration that signed this request; 401 or 403 otherwise.

    Checked before the body is parsed or anything is written.
    """
    named, signature = headers.get(ID_HEADER, ""), headers.get(SIGNATURE_HEADER)
    if not named or not signature:
        raise Unauthorized(f"Sign the request: {ID_HEADER} and {SIGNATURE_HEADER} headers.",
                           code="missing_signature")
    if not ascii_digits(named, 10) or not 0 < int(named) <= MAX_ID:
        raise Unauthorized("Unknown integration or wrong signature.", code="invalid_signature")
    with unit_of_work() as uow:
        integration = uow.session.get(Integration, int(named))
        sealed = integration.secret_ciphertext if integration else None
        status = integration.status if integration else None
    try:
        valid = sealed is not None and signing.verify(unseal(sealed), body, signature)
    except signing.MalformedSignature as exc:
        raise Unauthorized(f"Malformed signature: {exc}.", code="invalid_signature") from None
    except InvalidToken:
        log.error("integration %s: no key of INTEGRATION_SECRET_KEYS decrypts its secret", named)
        valid = False
    if not valid:
        # One answer for an unknown integration, a wrong secret and a stale timestamp.
        raise Unauthorized("Unknown integration, wrong signature, or a timestamp outside "
                           f"{signing.TOLERANCE_SECONDS} s.", code="invalid_signature")
    if status is IntegrationStatus.SUSPENDED:
        raise Forbidden("This integration is suspended.", code="integration_suspended")
    return int(named)


def fingerprint(data: dict[str, Any]) -> str:
    """What makes two pushes the same: their body, keys in any order."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def push_claim(integration_id: int, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Pay an approved claim of the platform; (the answer, True if this push created it).

    Two pushes of one reference racing each other: the second one's insert meets the
    first one's unique row, its transaction is rolled back whole, and it answers as
    a replay (or a 409 for another body).
    """
    _refuse_blank(data["description"], "description")
    digest = fingerprint(data)
    try:
        return payouts.reserving(lambda optimistic: _push(integration_id, data, digest, optimistic))
    except IntegrityError:
        return payouts.reserving(lambda optimistic: _push(integration_id, data, digest, optimistic))


def _push(integration_id: int, data: dict[str, Any], digest: str, optimistic: bool) -> tuple[dict[str, Any], bool]:
    with unit_of_work() as uow:
        session = uow.session
        integration = session.get(Integration, integration_id)
        if integration is None or integration.status is not IntegrationStatus.ACTIVE:
            raise Forbidden("This integration is suspended.", code="integration_suspended")
        reference = data["reference"]
        earlier = session.scalars(sa.select(PushedClaim).where(PushedClaim.integration_id == integration_id,
                                                               PushedClaim.reference == reference)).one_or_none()
        if earlier is not None:
            if earlier.request_hash != digest:
                raise Conflict(f"Claim reference {reference!r} was pushed before with another body.",
                               code="reference_reused",
                               details={"reference": reference, "claim_id": earlier.claim_id})
            return earlier.response, False
        partner = _payable_partner(session, data["partner_id"])
        payout = claims.file_approved_claim(uow, partner, integration.created_by_id, data,
                                            source={"integration_id": integration_id, "reference": reference})
        answer = {"reference": reference, "claim_id": payout.claim_id, "payout_id": payout.id,
                  "payout_reference": payout.reference, "partner_id": partner.id, "amount": payout.amount,
                  "currency": payout.currency, "status": "accepted"}
        session.add(PushedClaim(integration_id=integration_id, reference=reference, request_hash=digest,
                                claim_id=payout.claim_id, response=answer, created_at=now()))
        session.flush()  # the unique reference is claimed here, before the funds are touched
        payouts.start(uow, [payout], optimistic=optimistic and payouts.nobody_waiting(uow, [payout]))
        return answer, True


def _payable_partner(session, partner_id: int) -> Organisation:
    partner = session.get(Organisation, partner_id)
    if partner is None or partner.kind is not OrgKind.PARTNER:
        raise RuleViolation(f"No partner {partner_id}: the claim is for an unknown partner.",
                            code="unknown_partner", details={"partner_id": partner_id})
    if partner.suspended:
        raise RuleViolation(f"Partner {partner.name} is suspended (since {partner.suspended_at:%Y-%m-%d}); "
                            "its claims cannot be paid.", code="partner_suspended",
                            details={"partner_id": partner_id})
    return partner
