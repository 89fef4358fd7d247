"""Partners' webhooks: every SR event, signed, retried with back-off, recorded with its outcome.

Each (webhook, event id) is one delivery row, unique: however often the event
is handed over, the partner receives one event id, perhaps several times if an
attempt's answer was lost, never two ids for one event. The body is signed with
HMAC-SHA256 over "<timestamp>.<body>" with the webhook's secret:

    X-GTAC-Signature: t=<unix seconds>,v1=<hex digest>

The secret is stored encrypted with SR_WEBHOOK_SECRET_KEYS (app.crypto) and is
shown in clear once, in the registration's answer. Only http(s) URLs to public
addresses are accepted, checked at registration, before every attempt and
again by the attempt's own connection, which connects only to an address it
checked (app.webhooks.urls). Redirects are not followed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from functools import partial
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from flask import current_app

from app import access, crypto, outbound
from app.accounts.models import Organisation, User
from app.audit.services import record
from app.clock import now
from app.uow import UnitOfWork, unit_of_work
from app.errors import InvalidInput, RuleViolation
from app.srs.models import ServiceRequest
from app.webhooks import attempts
from app.webhooks import urls as webhook_urls
from app.webhooks.attempts import retry_delay  # noqa: F401  (the webhooks' back-off, read by tests and the page)
from app.srs.timeline import event_payload
from app.srs.models import SRHistory
from app.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

# Active ones, counted under a lock on the partner's organisation row (register()).
MAX_WEBHOOKS_PER_PARTNER = 10


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>"."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def _cipher():
    return crypto.cipher("SR_WEBHOOK_SECRET_KEYS", "webhook-secret")


def seal(secret: str) -> str:
    """The signing secret as stored: encrypted under the first configured key."""
    return _cipher().encrypt(secret.encode()).decode()


def unseal(ciphertext: str) -> str:
    """The signing secret in clear, for signing a delivery and nothing else."""
    return _cipher().decrypt(ciphertext.encode()).decode()


def rotate_keys() -> int:
    """Re-encrypt every webhook's secret under the first configured key; returns how many."""
    with unit_of_work() as uow:
        rotated = crypto.rotate_column(uow.session, Webhook, "secret_ciphertext", _cipher(), "webhook")
        record(None, "webhook", "*", "webhook.keys_rotated", after={"records": rotated})
    return rotated


def register(actor: User, url: str) -> tuple[Webhook, str]:
    """A partner admin adds an endpoint; returns it and its secret (shown only now)."""
    access.require(actor, "webhook.manage")
    parts = urlsplit(url)
    if current_app.config["GTAC_ENV"] == "production" and parts.scheme != "https":
        raise InvalidInput("Webhook URLs must use https.", code="invalid_input",
                           details={"fields": {"url": ["Must use https."]}})
    webhook_urls.check(url)
    if parts.username is not None or parts.password is not None:
        # It would be kept, shown and audited as any URL is; the signature authenticates each delivery.
        raise RuleViolation("A webhook URL may not carry a user name or password: each delivery is signed "
                            "(X-GTAC-Signature) with the webhook's secret instead.", code="webhook_url_credentials",
                            details={"fields": {"url": ["No user name or password in the URL."]}})
    partner_id = access.acting_partner(actor)
    with unit_of_work() as uow:
        # Registrations of one partner wait for each other here, so that two at once cannot both
        # count the same nine and make eleven (on SQLite every writer waits its turn anyway).
        # NO KEY UPDATE: rows that only refer to the partner (its cases, SRs) are not held up by it.
        uow.session.execute(sa.select(Organisation.id).where(Organisation.id == partner_id)
                            .with_for_update(key_share=True))
        count = uow.session.scalar(sa.select(sa.func.count()).select_from(Webhook).where(
            access.webhook_scope(actor), Webhook.active.is_(True)))
        if count >= MAX_WEBHOOKS_PER_PARTNER:
            raise InvalidInput(f"A partner may have {MAX_WEBHOOKS_PER_PARTNER} active webhooks.",
                               code="too_many_webhooks")
        secret = secrets.token_urlsafe(32)
        webhook = Webhook(partner_id=partner_id, url=url, secret_ciphertext=seal(secret),
                          active=True, created_by_id=actor.id, created_at=now())
        uow.session.add(webhook)
        uow.session.flush()
        record(actor, "webhook", webhook.id, "webhook.registered", after={"url": url})
        log.info("webhook %s registered for partner %s: %s", webhook.id, webhook.partner_id, parts.hostname)
        return webhook, secret


def _own(actor: User, webhook_id: int) -> Webhook:
    access.require(actor, "webhook.manage")
    return access.get_webhook(actor, webhook_id)


def list_webhooks(actor: User) -> list[Webhook]:
    access.require(actor, "webhook.manage")
    with unit_of_work() as uow:
        return list(uow.session.scalars(access.visible_webhooks(actor).order_by(Webhook.id)))


STOPPED = "Not sent: the webhook was deactivated."


def deactivate(actor: User, webhook_id: int) -> Webhook:
    """No more events go to it, retries of earlier ones included (the partner may have lost the address)."""
    with unit_of_work() as uow:
        webhook = _own(actor, webhook_id)
        if webhook.active:
            webhook.active = False
            uow.session.execute(sa.update(WebhookDelivery).where(
                WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.status == DeliveryStatus.PENDING)
                .values(status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=STOPPED))
            record(actor, "webhook", webhook.id, "webhook.deactivated", before={"active": True},
                   after={"active": False})
        return webhook


def deliveries(actor: User, webhook_id: int, limit: int = 100) -> list[WebhookDelivery]:
    """The latest deliveries to one of the caller's webhooks, with their outcome."""
    with unit_of_work() as uow:
        webhook = _own(actor, webhook_id)
        return list(uow.session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                                    .order_by(WebhookDelivery.id.desc()).limit(limit)))


# The active webhooks of the partner whose SR an entry is about, read first. Most partners have none:
# their events end with this one read, without loading the entry and its SR.
_WEBHOOKS_OF_ENTRY = (sa.select(Webhook)
                      .join(ServiceRequest, ServiceRequest.partner_id == Webhook.partner_id)
                      .join(SRHistory, SRHistory.sr_id == ServiceRequest.id)
                      .where(SRHistory.id == sa.bindparam("history_id"), Webhook.active.is_(True))
                      .order_by(Webhook.id))


def on_sr_event(uow: UnitOfWork, payload: dict) -> None:
    """Outbox handler: one delivery per active webhook of the SR's partner, attempted after the commit."""
    session = uow.session
    webhooks = session.scalars(_WEBHOOKS_OF_ENTRY, {"history_id": payload["history_id"]}).all()
    if not webhooks:
        return
    row = session.get(SRHistory, payload["history_id"])
    sr = session.get(ServiceRequest, row.sr_id)
    event_id = f"sr-event-{row.id}"
    created = []
    for webhook in webhooks:
        exists = session.scalar(sa.select(WebhookDelivery.id).where(
            WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.event_id == event_id))
        if exists is not None:
            continue  # this event was handed over before: never a second id
        delivery = WebhookDelivery(webhook_id=webhook.id, event_id=event_id, topic=f"sr.{row.kind.value}",
                                   payload=event_payload(sr, row), status=DeliveryStatus.PENDING,
                                   next_attempt_at=now(), created_at=now())
        session.add(delivery)
        session.flush()
        created.append(delivery.id)
    for delivery_id in created:
        uow.after_commit(partial(_first_attempt, delivery_id))


def _first_attempt(delivery_id: int) -> None:
    # A failed attempt is the delivery's own business (retried on its schedule), not the event's.
    attempt(delivery_id)


def attempt(delivery_id: int) -> bool | None:
    """One attempt at one due delivery; True delivered, False failed, None not due or taken elsewhere."""
    with unit_of_work() as uow:
        query = (sa.select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now()).with_for_update(skip_locked=True))
        delivery = uow.session.scalars(query).one_or_none()
        if delivery is None:
            return None
        if not delivery.webhook.active:  # deactivated while this attempt was on its way
            delivery.status, delivery.next_attempt_at, delivery.last_error = DeliveryStatus.FAILED, None, STOPPED
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now() + attempts.ATTEMPT_LEASE
        number, url, sealed = delivery.attempts, delivery.webhook.url, delivery.webhook.secret_ciphertext
        body = json.dumps({"id": delivery.event_id, "type": delivery.topic,
                           "created_at": delivery.created_at.isoformat(), "data": delivery.payload},
                          separators=(",", ":"), sort_keys=True).encode()
        event_id, topic = delivery.event_id, delivery.topic
    def send() -> requests.Response:
        webhook_urls.check(url)  # again: the name may resolve elsewhere than at registration
        timestamp = int(now().timestamp())
        headers = {"Content-Type": "application/json", "User-Agent": "GTAC-Triage-Webhooks/1",
                   "X-GTAC-Event-Id": event_id, "X-GTAC-Event-Type": topic,
                   "X-GTAC-Signature": f"t={timestamp},v1={sign(unseal(sealed), timestamp, body)}"}
        # The session connects only to addresses it checked itself: the name may change after the check above.
        # SR_WEBHOOK_TIMEOUT_SECONDS bounds the whole call: a receiver that trickles cannot hold a worker.
        with webhook_urls.session() as http:
            return outbound.request(http, "POST", url, data=body, headers=headers, allow_redirects=False,
                                    total_seconds=current_app.config["SR_WEBHOOK_TIMEOUT_SECONDS"])

    status_code, error = attempts.call(send, "SR_WEBHOOK_SECRET_KEYS")
    with unit_of_work() as uow:
        attempts.settle(uow.session.get(WebhookDelivery, delivery_id), status_code, error, number=number,
                        max_attempts=current_app.config["SR_WEBHOOK_MAX_ATTEMPTS"],
                        delivered=DeliveryStatus.DELIVERED, failed=DeliveryStatus.FAILED)
    if error:
        log.warning("webhook delivery %s attempt %s failed: %s", delivery_id, number, error)
    return error is None


def deliver_due(limit: int = 200) -> int:
    """Retry the deliveries whose back-off has passed; returns how many were attempted."""
    with unit_of_work() as uow:
        due = list(uow.session.scalars(sa.select(WebhookDelivery.id).where(
            WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now())
            .order_by(WebhookDelivery.next_attempt_at).limit(limit)))
    return sum(1 for delivery_id in due if attempt(delivery_id) is not None)


HANDLERS = {"webhooks.sr_event": on_sr_event}
