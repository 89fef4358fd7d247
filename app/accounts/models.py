"""Organisations (vendor, partners, customers), users, API tokens, certifications."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


class OrgKind(str, enum.Enum):
    VENDOR = "vendor"
    PARTNER = "partner"
    CUSTOMER = "customer"


class PartnerTier(str, enum.Enum):
    PW = "PW"
    PWP = "PWP"


class Role(str, enum.Enum):
    CUSTOMER = "customer"
    PARTNER_ENGINEER = "partner_engineer"
    PARTNER_ADMIN = "partner_admin"
    GTAC_ENGINEER = "gtac_engineer"
    GTAC_MANAGER = "gtac_manager"
    PROGRAMS = "programs"
    VENDOR_ADMIN = "vendor_admin"


PARTNER_ROLES = frozenset({Role.PARTNER_ENGINEER, Role.PARTNER_ADMIN})
GTAC_ROLES = frozenset({Role.GTAC_ENGINEER, Role.GTAC_MANAGER})
VENDOR_ROLES = GTAC_ROLES | {Role.PROGRAMS, Role.VENDOR_ADMIN}


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind, "org_kind"))
    tier: Mapped[PartnerTier | None] = mapped_column(str_enum(PartnerTier, "partner_tier"))
    region: Mapped[str | None] = mapped_column(sa.String(16))
    # A customer organisation is served by exactly one partner.
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    # Set while the vendor has suspended a partner: its users cannot sign in, open cases or escalate.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    partner: Mapped[Organisation | None] = relationship(remote_side=[id])

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'customer') = (partner_id IS NOT NULL)", name="customer_has_partner"
        ),
        sa.CheckConstraint("(kind = 'partner') OR tier IS NULL", name="tier_only_for_partners"),
    )


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # None until an invited user accepts the invitation and sets a password: nothing signs in.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    certifications: Mapped[list[Certification]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def invitation_pending(self) -> bool:
        return self.password_hash is None

    # A partner admin's user list walks (organisation, id) backwards for each organisation it
    # administers; without it the page scans every newer user of every other organisation.
    __table_args__ = (sa.Index("ix_users_organisation_page", "organisation_id", "id"),)


class ApiToken(db.Model):
    """A personal API token, stored only as the SHA-256 digest of its secret."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # None: the token never expires.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Moved at most once a minute (services.user_for_token), so a busy integration does not write every request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class LinkPurpose(str, enum.Enum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


class AccountLink(db.Model):
    """A single-use link e-mailed to a user (an invitation, a password reset), stored only as the
    SHA-256 digest of its secret, like API tokens; it opens nothing once used or expired."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(str_enum(LinkPurpose, "link_purpose"))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class Certification(db.Model):
    """An engineer's certification for one product family, valid until expires_on."""

    __tablename__ = "certifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    product_family: Mapped[str] = mapped_column(sa.String(32))
    # As the training system records it; unknown for certifications entered before imports existed.
    certified_on: Mapped[date | None] = mapped_column(sa.Date)
    expires_on: Mapped[date] = mapped_column(sa.Date)

    user: Mapped[User] = relationship(back_populates="certifications")

    __table_args__ = (sa.UniqueConstraint("user_id", "product_family"),)


class LoginFailure(db.Model):
    """A failed sign-in, kept for throttling (by e-mail and by client address)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class WebSession(db.Model):
    """A browser's server-side session: its cookie holds only a random id, stored here as a digest.

    Deleting the row ends the session wherever its cookie was copied to (app/accounts/sessions.py).
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # The signed-in user, so that all of one user's sessions can be ended at once.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    data: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


@dataclass(frozen=True)
class Person:
    """Who did something, as a page names them: what plain-column reads give in place of a User
    (`role` where the page tells GTAC's people from the partner's)."""

    name: str
    role: Role | None = None
