"""The provider adapter interface and the configured adapter.

An adapter sends one payout instruction and reports what the provider says.
The payout's idempotency key travels with every call, so asking twice (a
retried job, two workers, a worker killed mid-call) still pays once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from flask import current_app


@dataclass(frozen=True)
class Payee:
    """Bank details in clear: built only for the call to the provider, never stored or logged."""

    kind: str  # "iban" or "aba"
    holder_name: str
    iban: str | None = None
    bic: str | None = None
    account_number: str | None = None
    routing_number: str | None = None

    def __repr__(self) -> str:  # keeps account numbers out of logs and tracebacks
        return f"Payee(kind={self.kind!r}, holder_name={self.holder_name!r})"


@dataclass(frozen=True)
class PayoutInstruction:
    reference: str  # our payout id, as the partner's bank statement shows it
    idempotency_key: str
    amount: int
    currency: str
    payee: Payee = field(repr=False)
    description: str = ""


@dataclass(frozen=True)
class ProviderResult:
    """What the provider says about a payout: in_transit, paid, failed or returned."""

    status: str
    provider_payout_id: str | None = None
    reason: str | None = None
    # What the provider says it pays, when it says it (see WebhookEvent).
    amount: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    type: str  # payout.paid, payout.failed, payout.returned
    reference: str  # our idempotency key
    provider_payout_id: str | None
    reason: str | None
    payload: dict
    # What the provider says it pays, when the event says it: an event naming our reference with
    # another amount is about someone else's payment (a restored database, a shared account).
    amount: int | None = None
    currency: str | None = None


class ProviderUnavailable(Exception):
    """The outcome is unknown (timeout, 5xx, connection): ask again with the same key."""


class ProviderRejected(Exception):
    """The provider refused the instruction for good (4xx): the attempt has failed."""


class InvalidWebhook(Exception):
    """A webhook whose signature or timestamp does not check out (401)."""


class MalformedWebhook(InvalidWebhook):
    """A webhook that is not one at all: a malformed signature header, or a signed body that is not
    a delivery of events (400)."""


class PaymentProvider(Protocol):
    name: str

    def create_payout(self, instruction: PayoutInstruction) -> ProviderResult: ...

    def payout_status(self, idempotency_key: str) -> ProviderResult | None: ...

    def parse_webhooks(self, headers, body: bytes) -> list[WebhookEvent]: ...


def create_payouts(provider: PaymentProvider,
                   instructions: list[PayoutInstruction]) -> dict[str, ProviderResult | ProviderUnavailable]:
    """Send many instructions; per idempotency key the result, or why its outcome is unknown.

    A provider with a batch call (`create_payouts`) gets one request; any other
    is asked one instruction at a time. A refusal is a failed result.
    """
    batch = getattr(provider, "create_payouts", None)
    if batch is not None:
        return batch(instructions)
    return create_payouts_one_by_one(provider, instructions)


def create_payouts_one_by_one(provider: PaymentProvider, instructions: list[PayoutInstruction]
                              ) -> dict[str, ProviderResult | ProviderUnavailable]:
    results: dict[str, ProviderResult | ProviderUnavailable] = {}
    for instruction in instructions:
        try:
            results[instruction.idempotency_key] = provider.create_payout(instruction)
        except ProviderRejected as exc:
            results[instruction.idempotency_key] = refused(exc)
        except ProviderUnavailable as exc:
            results[instruction.idempotency_key] = exc
    return results


def refused(exc: Exception) -> ProviderResult:
    return ProviderResult(status="failed", reason=f"Refused by the provider: {exc}")


def get_provider(name: str | None = None) -> PaymentProvider:
    """The adapter named by PAYMENTS_PROVIDER (or `name`)."""
    name = name or current_app.config["PAYMENTS_PROVIDER"]
    # Extra adapters registered by the application (or by a test) under their name.
    registered = current_app.extensions.get("payment_providers", {})
    if name in registered:
        return registered[name]
    if name == "sandbox":
        from app.payments.providers.http import HttpProvider

        config = current_app.config
        return HttpProvider(name="sandbox", base_url=config["PAYMENTS_SANDBOX_URL"],
                            api_key=config["PAYMENTS_SANDBOX_API_KEY"],
                            webhook_secret=config["PAYMENTS_WEBHOOK_SECRET"],
                            timeout=config["PAYMENTS_PROVIDER_TIMEOUT"])
    if name == "pain001":
        from app.payments.providers.pain001 import BankFileProvider

        return BankFileProvider()
    raise LookupError(f"unknown payments provider {name!r}")
