"""A stateful property test: random sequences of claims, approvals, fundings, payouts, provider
failures, duplicate webhooks, returns and retries; every ledger invariant holds after each step.

The provider is a scripted adapter registered under its own name (the point here is the
ledger; the HTTP adapter has its own tests against the sandbox). Jobs run eagerly after
each commit, as in the rest of the suite.
"""
from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from app.errors import DomainError
from app.extensions import db
from app.payments import claims, funding, ledger, payouts
from app.payments.checks import check_ledger
from app.payments.models import Payout, PayoutStatus
from app.payments.providers import (InvalidWebhook, ProviderRejected, ProviderResult, ProviderUnavailable,
                                    WebhookEvent)
from app.uow import unit_of_work

PAYMENT_TABLES = ["payment_provider_events", "ledger_entries", "funding_deposits", "ledger_transfers",
                  "payouts", "claim_attachments", "claims", "mdf_allocations", "ledger_accounts", "outbox_events"]


class ScriptedProvider:
    """Answers create calls from a script: in transit by default, or refused, or unreachable."""

    name = "scripted"

    def __init__(self):
        self.script: list[str] = []
        self.created: dict[str, int] = {}

    def create_payout(self, instruction):
        outcome = self.script.pop(0) if self.script else "in_transit"
        if outcome == "unavailable":
            raise ProviderUnavailable("scripted outage")
        if outcome == "rejected":
            raise ProviderRejected("scripted refusal")
        self.created[instruction.idempotency_key] = self.created.get(instruction.idempotency_key, 0) + 1
        return ProviderResult(status="in_transit", provider_payout_id="scr-" + instruction.idempotency_key)

    def payout_status(self, idempotency_key):
        return None

    def parse_webhooks(self, headers, body):
        raise InvalidWebhook("scripted provider sends no webhooks")


@pytest.fixture
def machine_env(app, demo, monkeypatch):
    provider = ScriptedProvider()
    monkeypatch.setitem(app.config, "PAYMENTS_PROVIDER", "scripted")
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    monkeypatch.setitem(app.extensions, "payment_providers", {"scripted": provider})
    return app, demo, provider


def test_ledger_invariants_hold_under_random_operations(machine_env):
    app, demo, provider = machine_env

    class LedgerMachine(RuleBasedStateMachine):
        claim_ids = Bundle("claims")

        def __init__(self):
            super().__init__()
            self.context = app.app_context()
            self.context.push()
            with db.engine.begin() as connection:
                for table in PAYMENT_TABLES:
                    connection.execute(sa.text(f"DELETE FROM {table}"))
            provider.script.clear()
            self.admin, self.programs = demo["admin"], demo["programs"]
            self.funded = 0
            self.references = itertools.count(1)
            self.events: list[WebhookEvent] = []

        def teardown(self):
            db.session.remove()
            self.context.pop()

        def _payout(self, index: int) -> Payout | None:
            rows = list(db.session.scalars(sa.select(Payout).order_by(Payout.id)
                                           .execution_options(populate_existing=True)))
            return rows[index % len(rows)] if rows else None

        @rule(target=claim_ids, amount=st.integers(min_value=1, max_value=50_000))
        def file_claim(self, amount):
            claim = claims.create_claim(self.admin, {"type": "rebate", "amount": amount, "currency": "USD",
                                                     "period": "2026-Q3", "description": "property"})
            claims.submit_claim(self.admin, claim.id)
            return claim.id

        @rule(claim_id=claim_ids)
        def approve(self, claim_id):
            try:
                claims.approve_claim(self.programs, claim_id)
            except DomainError:
                pass  # already decided: refused, as it must be
            except ProviderUnavailable:
                pass  # committed; the payout waits for a retry

        @rule(amount=st.integers(min_value=1, max_value=80_000))
        def fund(self, amount):
            try:
                funding.record_deposit(self.programs, amount, "USD", f"PROP-{next(self.references)}")
            except ProviderUnavailable:
                pass  # committed; a released payout's job failed and waits for a retry
            self.funded += amount

        @rule(trouble=st.sampled_from(["unavailable", "rejected"]))
        def provider_trouble(self, trouble):
            provider.script.append(trouble)

        @rule(index=st.integers(min_value=0, max_value=50))
        def run_job_again(self, index):
            payout = self._payout(index)
            if payout is not None:
                try:
                    payouts.execute_payout(payout.id)
                except ProviderUnavailable:
                    pass

        @rule(index=st.integers(min_value=0, max_value=50),
              kind=st.sampled_from(["payout.paid", "payout.failed", "payout.returned"]),
              stale=st.booleans())
        def webhook(self, index, kind, stale):
            payout = self._payout(index)
            if payout is None:
                return
            key = payout.idempotency_key if not stale or payout.attempt == 1 else payout.reference
            event = WebhookEvent(event_id=f"evt-{len(self.events)}", type=kind, reference=key,
                                 provider_payout_id=f"scr-{key}", reason="scripted", payload={"type": kind})
            self.events.append(event)
            payouts.apply_webhook("scripted", event)

        @rule(index=st.integers(min_value=0, max_value=1000))
        def duplicate_webhook(self, index):
            if self.events:
                assert payouts.apply_webhook("scripted", self.events[index % len(self.events)]) == "duplicate"

        @rule(index=st.integers(min_value=0, max_value=50))
        def retry(self, index):
            payout = self._payout(index)
            if payout is None:
                return
            try:
                payouts.retry_payout(self.programs, payout.id)
            except DomainError:
                pass
            except ProviderUnavailable:
                pass

        @invariant()
        def ledger_is_sound(self):
            assert check_ledger(db.session) == []

        @invariant()
        def money_matches_payout_states(self):
            rows = list(db.session.scalars(sa.select(Payout).execution_options(populate_existing=True)))
            reserved = sum(p.amount for p in rows if p.status in (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT))
            paid = sum(p.amount for p in rows if p.status is PayoutStatus.PAID)
            with unit_of_work() as uow:
                balances = {b.currency: b for b in ledger.balances(uow)}
            usd = balances.get("USD")
            available = usd.prefunding_available if usd else 0
            assert available == self.funded - reserved - paid
            assert available >= 0
            assert (usd.paid if usd else 0) == paid
            in_transit = sum(p.amount for p in rows if p.status is PayoutStatus.IN_TRANSIT)
            assert (usd.in_transit if usd else 0) == in_transit
            assert (usd.partner_payable if usd else 0) == sum(p.amount for p in rows
                                                              if p.status is PayoutStatus.PENDING)

    LedgerMachine.TestCase.settings = settings(max_examples=10, stateful_step_count=20, deadline=None,
                                               suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.function_scoped_fixture])
    LedgerMachine.TestCase().runTest()
