"""Status callbacks to the platform: each pushed claim's payout paid, failed or returned.

One delivery row per (integration, event id), so an outcome is announced under one
id however often its outbox event is handed over. The body is signed like the
platform's own requests (X-GTAC-Signature over "<t>.<body>" with the integration's
secret). The first attempt is made after the commit of the outbox event that
announced the outcome; a refused or unanswered attempt is retried on the webhook
back-off (30 s, 1 min, 2 min ... at most an hour) by the scheduled retries, until
the platform answers 2xx or INTEGRATION_CALLBACK_MAX_ATTEMPTS is reached. Every
attempt is bounded in total (INTEGRATION_CALLBACK_TIMEOUT_SECONDS) and runs with
no transaction open; the URL is checked again before each attempt.
"""
from __future__ import annotations

import json
import logging
from functools import partial

import requests
import sqlalchemy as sa
from flask import current_app

from app import outbound
from app.clock import now
from app.integrations.models import CallbackDelivery, CallbackStatus, PushedClaim
from app.integrations.services import ID_HEADER, SIGNATURE_HEADER, unseal
from app.payments import signing
from app.payments.models import Payout
from app.uow import UnitOfWork, unit_of_work
from app.webhooks import attempts
from app.webhooks import urls as callback_urls

log = logging.getLogger(__name__)

# The payout outcomes the platform hears about.
ANNOUNCED = ("paid", "failed", "returned")


def on_payout_events(uow: UnitOfWork, events: list[tuple[int, dict]]) -> None:
    """Outbox handler (with the partner's e-mail): a callback for each outcome of a pushed claim.

    One delivery per outcome event, in the events' order: a payout that failed and, retried,
    was paid (or was paid, then returned) within one batch announces each outcome. An outcome
    is named by the attempt it is about, as the event says, so a failure handled after the
    retry keeps its own id and reason rather than taking the next attempt's.
    """
    outcomes = [payload for _event_id, payload in events if payload.get("status") in ANNOUNCED]
    if not outcomes:
        return
    session = uow.session
    pushed_payouts = {payout.id: (payout, pushed) for payout, pushed in session.execute(
        sa.select(Payout, PushedClaim).join(PushedClaim, PushedClaim.claim_id == Payout.claim_id)
        .where(Payout.id.in_({payload["payout_id"] for payload in outcomes})))}
    wanted = []
    for payload in outcomes:
        found = pushed_payouts.get(payload["payout_id"])
        if found is None:
            continue  # not the payout of a pushed claim: nobody to call back
        payout, pushed = found
        status = payload["status"]
        # Events written before they named their attempt are taken as about the current one.
        event_id = f"claim.{status}:{payout.id}:{payload.get('attempt', payout.attempt)}"
        wanted.append((payout, pushed, status, event_id, _reason(payout, payload)))
    # Handed over before (or twice in this batch): never a second delivery under one id.
    event_ids = {event_id for _payout, _pushed, _status, event_id, _why in wanted}
    announced = {(row.integration_id, row.event_id) for row in session.execute(
        sa.select(CallbackDelivery.integration_id, CallbackDelivery.event_id)
        .where(CallbackDelivery.event_id.in_(event_ids)))}
    created = []
    for payout, pushed, status, event_id, reason in wanted:
        if (pushed.integration_id, event_id) in announced:
            continue
        announced.add((pushed.integration_id, event_id))
        delivery = CallbackDelivery(
            integration_id=pushed.integration_id, pushed_claim_id=pushed.id, event_id=event_id,
            topic=f"claim.{status}", status=CallbackStatus.PENDING, next_attempt_at=now(), created_at=now(),
            payload={"reference": pushed.reference, "claim_id": payout.claim_id, "payout_id": payout.id,
                     "payout_reference": payout.reference, "status": status, "amount": payout.amount,
                     "currency": payout.currency, "reason": reason})
        session.add(delivery)
        created.append(delivery)
    if created:
        session.flush()
        # A refused callback is the delivery's own business (retried on its schedule), not the event's.
        uow.after_commit(partial(_attempt_all, [delivery.id for delivery in created]))


def _reason(payout: Payout, payload: dict) -> str | None:
    """Why the outcome was a failure or a return, as its event says; for events written before they
    said so, as the payout says now."""
    if "reason" in payload:
        return payload["reason"]
    status = payload["status"]
    return payout.failure_reason if status == "failed" else payout.return_reason if status == "returned" else None


def _attempt_all(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        attempt(delivery_id)


def body_of(delivery: CallbackDelivery) -> bytes:
    return json.dumps({"id": delivery.event_id, "type": delivery.topic,
                       "created_at": delivery.created_at.isoformat(), "data": delivery.payload},
                      separators=(",", ":"), sort_keys=True).encode()


def attempt(delivery_id: int) -> bool | None:
    """One attempt at one due callback; True delivered, False failed, None not due or taken elsewhere."""
    with unit_of_work() as uow:
        delivery = uow.session.scalars(sa.select(CallbackDelivery).where(
            CallbackDelivery.id == delivery_id, CallbackDelivery.status == CallbackStatus.PENDING,
            CallbackDelivery.next_attempt_at <= now()).with_for_update(skip_locked=True)).one_or_none()
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now() + attempts.ATTEMPT_LEASE  # nobody else tries it meanwhile
        number, integration_id = delivery.attempts, delivery.integration_id
        url, sealed = delivery.integration.callback_url, delivery.integration.secret_ciphertext
        body, event_id, topic = body_of(delivery), delivery.event_id, delivery.topic
    def send() -> requests.Response:
        callback_urls.check(url)  # again: the name may resolve elsewhere than at registration
        headers = {"Content-Type": "application/json", "User-Agent": "GTAC-Triage-Callbacks/1",
                   "X-GTAC-Event-Id": event_id, "X-GTAC-Event-Type": topic, ID_HEADER: str(integration_id),
                   SIGNATURE_HEADER: signing.sign(unseal(sealed), body, int(now().timestamp()))}
        with callback_urls.session() as http:
            if current_app.config["INTEGRATION_CALLBACK_CA_BUNDLE"]:
                # The programme platform is the vendor's own: its certificate may come from the vendor's CA.
                http.verify = current_app.config["INTEGRATION_CALLBACK_CA_BUNDLE"]
            return outbound.request(http, "POST", url, data=body, headers=headers, allow_redirects=False,
                                    total_seconds=current_app.config["INTEGRATION_CALLBACK_TIMEOUT_SECONDS"])

    status_code, error = attempts.call(send, "INTEGRATION_SECRET_KEYS")
    with unit_of_work() as uow:
        attempts.settle(uow.session.get(CallbackDelivery, delivery_id), status_code, error, number=number,
                        max_attempts=current_app.config["INTEGRATION_CALLBACK_MAX_ATTEMPTS"],
                        delivered=CallbackStatus.DELIVERED, failed=CallbackStatus.FAILED)
    if error:
        log.warning("integration callback %s attempt %s failed: %s", delivery_id, number, error)
    return error is None


def deliver_due(limit: int = 200) -> int:
    """Retry the callbacks whose back-off has passed; returns how many were attempted."""
    with unit_of_work() as uow:
        due = list(uow.session.scalars(sa.select(CallbackDelivery.id).where(
            CallbackDelivery.status == CallbackStatus.PENDING, CallbackDelivery.next_attempt_at <= now())
            .order_by(CallbackDelivery.next_attempt_at).limit(limit)))
    return sum(1 for delivery_id in due if attempt(delivery_id) is not None)
