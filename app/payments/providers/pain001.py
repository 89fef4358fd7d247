"""The bank-file adapter: payouts wait for the next ISO 20022 pain.001.001.09 batch.

Sending a payout only accepts it for the next file (`flask payments bank-file`),
which the vendor uploads to its bank. The bank's answer comes back through the
reconciliation import or `flask payments confirm`; there are no webhooks.
"""
from __future__ import annotations

from app.payments.money import exponent
from app.payments.providers import InvalidWebhook, PayoutInstruction, ProviderRejected, ProviderResult


class BankFileProvider:
    name = "pain001"

    def create_payout(self, instruction: PayoutInstruction) -> ProviderResult:
        """Accept the payout for the next batch; only IBAN payees in two-decimal currencies fit a file."""
        if instruction.payee.kind != "iban":
            raise ProviderRejected("a pain.001 credit transfer needs the partner's IBAN")
        if exponent(instruction.currency) != 2:
            raise ProviderRejected(f"bank files carry two-decimal currencies, not {instruction.currency}")
        return ProviderResult(status="in_transit", provider_payout_id=None)

    def payout_status(self, idempotency_key: str) -> ProviderResult | None:
        return None  # the bank answers through statements, not an API

    def parse_webhooks(self, headers, body: bytes):
        raise InvalidWebhook("bank files have no webhooks")
