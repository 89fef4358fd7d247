"""Claims, MDF allocations, the double-entry ledger, payouts and payee details.

Money is always an integer number of minor units plus an ISO 4217 currency code.
Ledger entries and transfers are immutable: a correction is a new transfer.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation, User
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db

Money = sa.BigInteger


class ClaimType(str, enum.Enum):
    REBATE = "rebate"
    MDF = "mdf"


class ClaimStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REJECTED = "rejected"
    # Approved: the payout exists from the approval's own transaction on.
    PAYOUT_PENDING = "payout_pending"
    PAID = "paid"
    FAILED = "failed"
    RETURNED = "returned"


APPROVED_CLAIM_STATUSES = frozenset({ClaimStatus.PAYOUT_PENDING, ClaimStatus.PAID,
                                     ClaimStatus.FAILED, ClaimStatus.RETURNED})


class PayoutStatus(str, enum.Enum):
    PENDING = "pending"
    AWAITING_FUNDS = "awaiting_funds"
    IN_TRANSIT = "in_transit"
    PAID = "paid"
    FAILED = "failed"
    RETURNED = "returned"


class AccountKind(str, enum.Enum):
    FUNDING_SOURCE = "funding_source"  # the vendor's bank: the outside world, may go negative
    PREFUNDING = "prefunding"  # the pre-funded balance payouts are drawn from; never negative
    PARTNER_PAYABLE = "partner_payable"  # owed to one partner: reserved, not yet handed to the provider
    IN_TRANSIT = "in_transit"  # handed to the provider, not yet confirmed paid
    PAID = "paid"  # left for partners' banks, confirmed by the provider


class TransferKind(str, enum.Enum):
    FUNDING = "funding"
    RESERVATION = "reservation"  # pending: approval earmarks pre-funding for a payout
    HANDOVER = "handover"  # pending: the provider accepted the payout, payable -> in transit
    POST = "post"  # the provider confirmed: a pending transfer becomes real
    VOID = "void"  # the provider failed: a pending transfer is released
    SETTLEMENT = "settlement"  # the provider paid: in transit -> paid
    RETURN = "return"  # a paid payout came back: compensating, never an edit


class PayeeKind(str, enum.Enum):
    IBAN = "iban"
    ABA = "aba"


class Claim(db.Model):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    type: Mapped[ClaimType] = mapped_column(str_enum(ClaimType, "claim_type"))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    period: Mapped[str] = mapped_column(sa.String(7))
    description: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ClaimStatus] = mapped_column(str_enum(ClaimStatus, "claim_status"),
                                                default=ClaimStatus.DRAFT)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    first_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    return_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # Read-only: these are written through their ids, so a flush of a claim need not consider them.
    partner: Mapped[Organisation] = relationship(lazy="joined", viewonly=True)
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], viewonly=True)
    first_approved_by: Mapped[User | None] = relationship(foreign_keys=[first_approved_by_id], viewonly=True)
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id], viewonly=True)
    attachments: Mapped[list[ClaimAttachment]] = relationship(back_populates="claim",
                                                              order_by="ClaimAttachment.id")
    payout: Mapped[Payout | None] = relationship(back_populates="claim", uselist=False)

    def awaits_another_approver(self, user_id: int | None) -> bool:
        """Whether this user gave the first of the claim's two approvals: the second is someone else's."""
        return self.status is ClaimStatus.SUBMITTED and self.first_approved_by_id == user_id

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("length(currency) = 3", name="currency_iso"),
        # The second approval must come from someone else (SPEC §8).
        sa.CheckConstraint("approved_by_id IS NULL OR first_approved_by_id IS NULL"
                           " OR approved_by_id <> first_approved_by_id", name="two_approvers"),
        sa.Index("ix_claims_partner_page", "partner_id", "id"),
        sa.Index("ix_claims_status_page", "status", "id"),
        sa.Index("ix_claims_mdf_usage", "partner_id", "type", "period", "currency"),
    )


class ClaimAttachment(db.Model):
    """A proof-of-performance file of an MDF claim, stored under a generated name."""

    __tablename__ = "claim_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="attachments")


class MdfAllocation(db.Model):
    """A partner's market development funds for one programme period and currency."""

    __tablename__ = "mdf_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    period: Mapped[str] = mapped_column(sa.String(7))
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[int] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    partner: Mapped[Organisation] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("partner_id", "period", "currency"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )


class LedgerAccount(db.Model):
    """A ledger account. Only the pre-funding account keeps its balance in the columns below,
    a cache of its entries verified by `flask ledger check`: reservations check funds against
    it without summing history. Every other account's balance is summed from its entries, and
    its columns stay zero, so that payouts of one partner do not queue on a shared row."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind, "ledger_account_kind"))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    posted: Mapped[int] = mapped_column(Money, default=0)
    pending_debits: Mapped[int] = mapped_column(Money, default=0)
    pending_credits: Mapped[int] = mapped_column(Money, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        # Last line of defence behind the locked check in ledger.reserve().
        sa.CheckConstraint("kind <> 'prefunding' OR posted - pending_debits >= 0",
                           name="prefunding_not_negative"),
        sa.CheckConstraint("pending_debits >= 0 AND pending_credits >= 0", name="pending_not_negative"),
    )

    @property
    def available(self) -> int:
        """Posted balance less pending debits: what a new reservation may still take."""
        return self.posted - self.pending_debits


class LedgerTransfer(db.Model):
    """One movement of money; its entries sum to zero. Never updated, never deleted."""

    __tablename__ = "ledger_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Deterministic per business fact ("return:payout:12"), so a replay cannot post twice.
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[TransferKind] = mapped_column(str_enum(TransferKind, "ledger_transfer_kind"))
    # A post or void names the reservation it resolves; unique, so it is resolved once.
    pending_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transfers.id"), unique=True)
    payout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payouts.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    memo: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="transfer", order_by="LedgerEntry.id")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("(kind IN ('post', 'void')) = (pending_id IS NOT NULL)",
                           name="resolution_names_reservation"),
    )


class LedgerEntry(db.Model):
    """One side of a transfer: a signed amount on one account (credit positive)."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transfers.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    # Entries of a reservation count as pending until a post or void resolves it.
    pending: Mapped[bool] = mapped_column(default=False)

    transfer: Mapped[LedgerTransfer] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.Index("ix_ledger_entries_account", "account_id", "id"),
    )


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
@event.listens_for(LedgerTransfer, "before_update")
@event.listens_for(LedgerTransfer, "before_delete")
def _refuse_change(mapper, connection, target):
    raise RuntimeError("ledger transfers and entries are immutable")


class FundingDeposit(db.Model):
    """Money the vendor brought into the pre-funding balance."""

    __tablename__ = "funding_deposits"

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    # The bank reference; a repeated reference is the same deposit, never a second one.
    reference: Mapped[str] = mapped_column(sa.String(140), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    transfer_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transfers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)


class Payout(db.Model):
    """The one payment of one approved claim, however often it is attempted."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Permanent: one payout per claim, whatever retries, crashes and races happen.
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), unique=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[PayoutStatus] = mapped_column(str_enum(PayoutStatus, "payout_status"))
    provider: Mapped[str] = mapped_column(sa.String(32))
    # Bumped by a retry after a failure; the provider's idempotency key carries it.
    attempt: Mapped[int] = mapped_column(default=1)
    provider_payout_id: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    return_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="payout", lazy="joined")
    partner: Mapped[Organisation] = relationship(lazy="joined", viewonly=True)  # written through partner_id

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_payouts_partner_page", "partner_id", "id"),
        # Funds are released to waiting payouts oldest approval first.
        sa.Index("ix_payouts_queue", "status", "currency", "approved_at", "id"),
        # A payments page's feed first sends the payouts that changed since the page read them.
        sa.Index("ix_payouts_updated_at", "updated_at"),
    )

    @property
    def reference(self) -> str:
        """Our payout id as the provider and the bank see it."""
        return f"PO{self.id:010d}"

    @property
    def idempotency_key(self) -> str:
        """The payout id, plus the attempt after a retry (a failed attempt is final at the provider)."""
        return self.reference if self.attempt == 1 else f"{self.reference}-{self.attempt}"


class ProviderEvent(db.Model):
    """A verified webhook from a payments provider, kept so that a duplicate is ignored."""

    __tablename__ = "payment_provider_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(32))
    event_id: Mapped[str] = mapped_column(sa.String(100))
    type: Mapped[str] = mapped_column(sa.String(40))
    payout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payouts.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    outcome: Mapped[str] = mapped_column(sa.String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)


class PayeeAccount(db.Model):
    """A partner's bank details, entered by the partner, stored only encrypted."""

    __tablename__ = "payee_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), unique=True)
    kind: Mapped[PayeeKind] = mapped_column(str_enum(PayeeKind, "payee_kind"))
    holder_name: Mapped[str] = mapped_column(sa.String(140))
    ciphertext: Mapped[str] = mapped_column(sa.Text)
    masked: Mapped[str] = mapped_column(sa.String(64))
    updated_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class StatementImport(db.Model):
    """A provider statement (CSV) imported for reconciliation, with its result."""

    __tablename__ = "statement_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    imported_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    lines: Mapped[int]
    matched: Mapped[int]
    exceptions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
