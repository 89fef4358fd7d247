"""Administration (issue 13): the vendor's support operations manage partner and customer
organisations, products and certifications programme-wide; and whose suspension stops whom."""
from __future__ import annotations

import sqlalchemy as sa

from app.access.roles import PERMISSIONS
from app.accounts.models import Certification, Organisation, OrgKind, Role, User
from app.errors import NotFound
from app.extensions import db

VENDOR_ADMINS = frozenset({Role.VENDOR_ADMIN})

PERMISSIONS.update({
    "organisation.manage": VENDOR_ADMINS,
    "product.manage": VENDOR_ADMINS,
    "certification.read_all": VENDOR_ADMINS,
    "certification.extend": VENDOR_ADMINS,
})


def administered_organisations(user: User, kind: OrgKind) -> sa.Select:
    """The partners or customers this user administers: every one for the vendor's admins, none otherwise."""
    query = sa.select(Organisation).where(Organisation.kind == kind)
    return query if user.role in VENDOR_ADMINS else query.where(sa.false())


def get_organisation(user: User, kind: OrgKind, organisation_id: int) -> Organisation:
    organisation = db.session.scalars(administered_organisations(user, kind)
                                      .where(Organisation.id == organisation_id)).one_or_none()
    if organisation is None:
        raise NotFound(f"{kind.value.capitalize()} {organisation_id} not found.", code=f"{kind.value}_not_found")
    return organisation


def visible_certifications(user: User) -> sa.Select:
    """Engineers' certifications: every partner's for the vendor's admins, none otherwise."""
    query = sa.select(Certification).join(User, Certification.user_id == User.id)
    return query if user.role in VENDOR_ADMINS else query.where(sa.false())


def suspending_partner(user: User) -> Organisation | None:
    """The suspended partner that stops this user (its own, or for a customer the partner serving it)."""
    organisation = db.session.get(Organisation, user.organisation_id)
    if organisation is None:
        return None
    partner = organisation.partner if organisation.kind is OrgKind.CUSTOMER else organisation
    return partner if partner is not None and partner.suspended else None
