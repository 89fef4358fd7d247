"""RMAs: seen with the SR they belong to; the partner asks, GTAC decides, either confirms receipt."""
from __future__ import annotations

import sqlalchemy as sa

from app.access.roles import PERMISSIONS
from app.access.srs import sr_scope
from app.accounts.models import GTAC_ROLES, PARTNER_ROLES, User
from app.errors import NotFound
from app.extensions import db
from app.rma.models import RMA
from app.srs.models import ServiceRequest

PERMISSIONS.update({
    "rma.request": PARTNER_ROLES,
    "rma.decide": GTAC_ROLES,  # approve, reject, ship: never automatic
    "rma.receive": GTAC_ROLES | PARTNER_ROLES,  # either side confirms the replacement arrived
})


def get_rma(user: User, number: str, *, for_update: bool = False) -> RMA:
    """One RMA of an SR the caller can see (GTAC, or the SR's partner)."""
    query = (sa.select(RMA).join(ServiceRequest, RMA.sr_id == ServiceRequest.id)
             .where(RMA.number == number, sr_scope(user)))
    if for_update:
        query = query.with_for_update(of=RMA)
    rma = db.session.scalars(query).one_or_none()
    if rma is None:
        raise NotFound(f"RMA {number} not found.", code="rma_not_found")
    return rma
