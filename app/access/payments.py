"""Payments (SPEC §8): claims, MDF allocations, payouts, funding, payee details.

Partners see their own organisation's rows; the programmes team sees all.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.access.roles import PERMISSIONS, require
from app.accounts.models import PARTNER_ROLES, Role, User
from app.errors import NotFound
from app.extensions import db
from app.payments.models import Claim, MdfAllocation, Payout

PAYMENTS_STAFF = frozenset({Role.PROGRAMS})
PERMISSIONS.update({
    "claim.file": frozenset({Role.PARTNER_ADMIN}),
    "claim.read": frozenset({Role.PARTNER_ADMIN}) | PAYMENTS_STAFF,
    "claim.decide": PAYMENTS_STAFF,
    # Rebate claims computed by a programme's period close, filed for the partners.
    "claim.settle": PAYMENTS_STAFF,
    "mdf.manage": PAYMENTS_STAFF,
    "payout.read": frozenset({Role.PARTNER_ADMIN}) | PAYMENTS_STAFF,
    "payout.retry": PAYMENTS_STAFF,
    "funding.record": PAYMENTS_STAFF,
    "ledger.read": PAYMENTS_STAFF,
    "reconciliation.run": PAYMENTS_STAFF,
    # Bank details: only the partner's admin enters them; everyone sees them masked.
    "payee.manage": frozenset({Role.PARTNER_ADMIN}),
    "payee.read": frozenset({Role.PARTNER_ADMIN}) | PAYMENTS_STAFF,
})


def _partner_rows(user: User, partner_column) -> sa.ColumnElement[bool]:
    if user.role in PARTNER_ROLES:
        return partner_column == user.organisation_id
    if user.role in PAYMENTS_STAFF:
        return sa.true()
    return sa.false()


_PARTNER = sa.bindparam("scope_partner_id", type_=sa.Integer(), required=True)
_CLAIM_OF_PARTNER = Claim.partner_id == _PARTNER


def parameterised_claim_scope(user: User) -> tuple[sa.ColumnElement[bool], dict[str, int]]:
    """visible_claims' condition as (condition, parameters): the same condition object for every user of
    a kind, so that it can key a cache of statements; the parameters are this user's."""
    if user.role in PARTNER_ROLES:
        return _CLAIM_OF_PARTNER, {_PARTNER.key: user.organisation_id}
    return _partner_rows(user, Claim.partner_id), {}


def visible_claims(user: User) -> sa.Select:
    return sa.select(Claim).where(_partner_rows(user, Claim.partner_id))


def get_claim(user: User, claim_id: int, *, options: tuple = ()) -> Claim:
    """The claim if the user can see it, else NotFound; `options`: loader options for the caller's reading."""
    claim = db.session.scalars(visible_claims(user).where(Claim.id == claim_id).options(*options)).one_or_none()
    if claim is None:
        raise NotFound(f"Claim {claim_id} not found.", code="claim_not_found")
    return claim


def visible_allocations(user: User, partner_id: int | None = None) -> sa.Select:
    """MDF allocations: a partner's own; staff all of them, or the one partner it names."""
    query = sa.select(MdfAllocation).where(_partner_rows(user, MdfAllocation.partner_id))
    if user.role in PAYMENTS_STAFF and partner_id:
        query = query.where(MdfAllocation.partner_id == partner_id)
    return query


def visible_payouts(user: User) -> sa.Select:
    return sa.select(Payout).where(_partner_rows(user, Payout.partner_id))


def get_payout(user: User, payout_id: int) -> Payout:
    payout = db.session.scalars(visible_payouts(user).where(Payout.id == payout_id)).one_or_none()
    if payout is None:
        raise NotFound(f"Payout {payout_id} not found.", code="payout_not_found")
    return payout


def payee_partner(user: User, partner_id: int | None) -> int:
    """Whose bank details the caller asks about: staff may name a partner, a partner only itself."""
    if user.role in PAYMENTS_STAFF and partner_id:
        return partner_id
    return user.organisation_id


def payout_feed_partner(user: User) -> int | None:
    """Whose payouts' live events this user hears: None for the programmes team (every payout), else its own."""
    require(user, "payout.read")
    return None if user.role in PAYMENTS_STAFF else user.organisation_id
