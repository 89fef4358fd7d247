"""Who hears about claims and payouts: outbox handlers that send e-mails."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import Role, User
from app.extensions import db
from app.notifications.mail import send_email
from app.payments.models import Claim, Payout
from app.payments.money import format_amount

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


def on_claim_event(payload: dict) -> None:
    """Tell the partner (and, for a submission, the programmes team) what happened to a claim."""
    claim = db.session.get(Claim, payload["claim_id"])
    if claim is None:
        return
    what = CLAIM_SENTENCES.get(payload["event"], payload["event"])
    amount = format_amount(claim.amount, claim.currency)
    body = f"Claim {claim.id} ({claim.type.value}, {amount}, {claim.period}) {what}.\n"
    if claim.rejection_reason and payload["event"] == "rejected":
        body += f"\nReason: {claim.rejection_reason}\n"
    body += f"\n{_url(f'/payments/claims/{claim.id}')}\n"
    recipients = _partner_admins(claim.partner_id)
    if payload["event"] in ("submitted", "first_approval"):
        recipients += _programmes()
    send_email(recipients, f"[Claim {claim.id}] {what}", body)


def on_payout_event(payload: dict) -> None:
    """Tell the partner about its payment: paid, failed, returned, or waiting for funds."""
    payout = db.session.get(Payout, payload["payout_id"])
    if payout is None:
        return
    what = PAYOUT_SENTENCES.get(payload["status"], payload["status"])
    body = (f"Payment {payout.reference} of {format_amount(payout.amount, payout.currency)} "
            f"for claim {payout.claim_id} {what}.\n")
    reason = payout.failure_reason or payout.return_reason
    if reason and payload["status"] in ("failed", "returned"):
        body += f"\nReason: {reason}\n"
    body += f"\n{_url(f'/payments/payouts/{payout.id}')}\n"
    recipients = _partner_admins(payout.partner_id)
    if payload["status"] in ("failed", "returned"):
        recipients += _programmes()
    send_email(recipients, f"[Payment {payout.reference}] {what}", body)
