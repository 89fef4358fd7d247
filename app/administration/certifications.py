"""Engineers' certifications of every partner, and programme-wide extensions of their expiry
dates: the same use case as `flask certifications extend`, here on the vendor admin's behalf."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app import access
from app.accounts.models import Certification, Organisation, User
from app.accounts.services import LONGEST_EXTENSION_DAYS, extend_certifications
from app.administration import rules
from app.clock import now
from app.errors import InvalidInput
from app.uow import unit_of_work


@dataclass(frozen=True)
class CertificationRow:
    id: int
    engineer: User
    partner: Organisation
    product_family: str
    expires_on: date
    expired: bool


def list_certifications(actor: User, *, partner_id: int | None = None,
                        product_family: str | None = None) -> list[CertificationRow]:
    """Every engineer's certifications, by partner, engineer and family; filtered when asked."""
    access.require(actor, "certification.read_all")
    query = (access.visible_certifications(actor).join(Organisation, User.organisation_id == Organisation.id)
             .add_columns(User, Organisation)
             .order_by(sa.func.lower(Organisation.name), User.email, sa.func.lower(Certification.product_family)))
    if partner_id is not None:
        query = query.where(Organisation.id == partner_id)
    if product_family:
        query = query.where(sa.func.lower(Certification.product_family) == product_family.strip().lower())
    today = now().date()
    with unit_of_work() as uow:
        return [CertificationRow(c.id, engineer, partner, c.product_family, c.expires_on, c.expires_on < today)
                for c, engineer, partner in uow.session.execute(query)]


def extend(actor: User, days, product_family: str | None = None, expiring_before: date | None = None) -> int:
    """Move expiry dates `days` later programme-wide (one family, those expiring before a date, or all);
    each certification moved is audited with who asked. Returns how many moved."""
    access.require(actor, "certification.extend")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= LONGEST_EXTENSION_DAYS:
        raise rules.refuse("days", f"Extend by 1 to {LONGEST_EXTENSION_DAYS} days.")
    if product_family is not None:
        product_family = product_family.strip() or None
    if expiring_before is not None and not isinstance(expiring_before, date):
        raise InvalidInput("Give the date as YYYY-MM-DD.", details={"fields": {"expiring_before": ["Not a date."]}})
    return extend_certifications(product_family, days, expiring_before, actor=actor)
