"""Who hears about claims and payouts: outbox handlers that send e-mails.

One event, one e-mail. Run as a batch (see app.outbox.dispatch), the events of
one partner and one kind become one e-mail listing them: a partner whose
quarter's rebates are approved at once gets a digest, not a thousand messages.
A paid payment is the exception: each gets its own remittance advice, listing
the claims it pays, as the partner reconciles each bank credit on its own.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import Role, User
from app.extensions import db
from app.notifications.mail import send_email
from app.payments.models import Claim, Payout
from app.payments.money import format_amount
from app.payments.remittance import advice_text, lines_for
from app.uow import UnitOfWork

CLAIM_SENTENCES = {
    "submitted": "was submitted for approval",
    "first_approval": "received its first approval and waits for a second approver",
    "approved": "was approved; its payout has started",
    "rejected": "was rejected",
}
PAYOUT_SENTENCES = {
    "awaiting_funds": "is approved and waits for the programme's pre-funding to be topped up",
    "paid": "was paid",
    "failed": "failed",
    "returned": "was returned by the bank",
}


def _emails(query) -> list[str]:
    return list(db.session.scalars(query.where(User.active.is_(True)).order_by(User.id)))


def _partner_admins(partner_id: int) -> list[str]:
    return _emails(sa.select(User.email).where(User.organisation_id == partner_id,
                                               User.role == Role.PARTNER_ADMIN))


def _programmes() -> list[str]:
    return _emails(sa.select(User.email).where(User.role == Role.PROGRAMS))


def _url(path: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}{path}"


def _claim_text(claim: Claim, event: str) -> str:
    amount = format_amount(claim.amount, claim.currency)
    text = f"Claim {claim.id} ({claim.type.value}, {amount}, {claim.period}) {CLAIM_SENTENCES.get(event, event)}.\n"
    if claim.rejection_reason and event == "rejected":
        text += f"\nReason: {claim.rejection_reason}\n"
    return text + f"\n{_url(f'/payments/claims/{claim.id}')}\n"


def _payout_text(payout: Payout, status: str, payload: dict) -> str:
    text = (f"Payment {payout.reference} of {format_amount(payout.amount, payout.currency)} "
            f"for claim {payout.claim_id} {PAYOUT_SENTENCES.get(status, status)}.\n")
    # The event's own reason: by the time it is handled a retry may have cleared the payout's, or
    # replaced it with the next attempt's. Events written before they carried it: the payout's.
    reason = payload.get("reason", payout.failure_reason or payout.return_reason)
    if reason and status in ("failed", "returned"):
        text += f"\nReason: {reason}\n"
    return text + f"\n{_url(f'/payments/payouts/{payout.id}')}\n"


def _by_partner_and_kind(model, events: list[tuple[int, dict]], id_key: str, kind_key: str) -> dict:
    """{(partner id, kind of event): ([event ids], [rows])} of the events' claims or payouts, in event order."""
    wanted = {payload[id_key] for _event_id, payload in events}
    rows = {row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(wanted)))}
    groups: dict[tuple[int, str], tuple[list[int], list]] = {}
    for event_id, payload in events:
        row = rows.get(payload[id_key])
        if row is not None:
            event_ids, group = groups.setdefault((row.partner_id, payload[kind_key]), ([], []))
            event_ids.append(event_id)
            group.append(row)
    return groups


def _send(uow: UnitOfWork, partner_id: int, with_programmes: bool, subject_one: str, subject_many: str, texts: list[str]) -> None:
    recipients = _partner_admins(partner_id) + (_programmes() if with_programmes else [])
    if len(texts) == 1:
        send_email(uow, recipients, subject_one, texts[0])
    else:
        send_email(uow, recipients, subject_many, "\n".join(texts))


def on_claim_event(uow: UnitOfWork, payload: dict) -> None:
    """Tell the partner (and, for a submission, the programmes team) what happened to a claim."""
    on_claim_events(uow, [(0, payload)])


def on_claim_events(uow: UnitOfWork, events: list[tuple[int, dict]]) -> dict[int, str]:
    """The batch form: one e-mail per partner and kind of event."""
    for (partner_id, event), (event_ids, group) in _by_partner_and_kind(Claim, events, "claim_id", "event").items():
        what = CLAIM_SENTENCES.get(event, event)
        with uow.on_behalf_of(event_ids):  # a refused digest fails its own events, not the others'
            _send(uow, partner_id, event in ("submitted", "first_approval"), f"[Claim {group[0].id}] {what}",
                  f"[Claims] {len(group)} claims: each {what}", [_claim_text(claim, event) for claim in group])
    return {}


def on_payout_event(uow: UnitOfWork, payload: dict) -> None:
    """Tell the partner about its payment: paid, failed, returned, or waiting for funds."""
    on_payout_events(uow, [(0, payload)])


def on_payout_events(uow: UnitOfWork, events: list[tuple[int, dict]]) -> dict[int, str]:
    """The batch form: one e-mail per partner and payout status."""
    payloads = dict(events)
    for (partner_id, status), (event_ids, group) in _by_partner_and_kind(Payout, events, "payout_id", "status").items():
        if status == "paid":
            _remittance_advices(uow, partner_id, event_ids, group)
            continue
        what = PAYOUT_SENTENCES.get(status, status)
        with uow.on_behalf_of(event_ids):
            _send(uow, partner_id, status in ("failed", "returned"), f"[Payment {group[0].reference}] {what}",
                  f"[Payments] {len(group)} payments: each {what}",
                  [_payout_text(payout, status, payloads[event_id]) for event_id, payout in zip(event_ids, group)])
    return {}


def _remittance_advices(uow: UnitOfWork, partner_id: int, event_ids: list[int], paid: list[Payout]) -> None:
    """One remittance advice per paid payment, to the partner's admins."""
    lines = lines_for(db.session, paid)
    recipients = _partner_admins(partner_id)
    for event_id, payout in zip(event_ids, paid):
        with uow.on_behalf_of([event_id]):
            send_email(uow, recipients, f"[Remittance advice {payout.reference}] "
                       f"{format_amount(payout.amount, payout.currency)} paid",
                       advice_text(payout, lines[payout.id], _url(f"/payments/payouts/{payout.id}")))
