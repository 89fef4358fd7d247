"""A stateful property test: random sequences of claims, approvals, fundings, payouts, provider
failures, duplicate webhooks, returns and retries; every ledger invariant holds after each step.

A model beside the service predicts what each step does: every payout's status and attempt,
the money available, every refusal (a DomainError's code) and every provider outage that
reaches the caller. A refusal the model does not predict fails the test, and so does a
predicted refusal that does not happen.

The provider is a scripted adapter registered under its own name (the point here is the
ledger; the HTTP adapter has its own tests against the sandbox). Jobs run eagerly after
each commit, as in the rest of the suite: a job whose provider call finds the provider
unavailable raises out of the call that committed, and the jobs queued after it in that
commit do not run (their payouts stay pending until a job runs again).

HYPOTHESIS_PROFILE picks the profile. By default, and in CI, "ci": 200 examples of up to 20
steps, about 25 s on SQLite. "nightly" runs 2,000 examples of up to 50 steps (some 25 times
longer), by hand:

    HYPOTHESIS_PROFILE=nightly .venv/bin/python -m pytest -q tests/payments/test_ledger_properties.py
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, consumes, initialize, invariant, precondition,
                                 rule)

from app.errors import DomainError
from app.outbox.dispatch import EagerDispatcher
from app.extensions import db
from app.payments import claims, funding, ledger, payouts
from app.payments.checks import check_ledger
from app.payments.models import Claim, Payout, PayoutStatus
from app.payments.providers import (InvalidWebhook, ProviderRejected, ProviderResult, ProviderUnavailable,
                                    WebhookEvent)
from app.uow import unit_of_work

PAYMENT_TABLES = ["payment_provider_events", "ledger_entries", "funding_deposits", "ledger_transfers",
                  "payouts", "claim_attachments", "claims", "mdf_allocations", "ledger_accounts", "outbox_events"]

# Not "ci": Hypothesis has a built-in profile of that name, which other tests may load.
PROFILES = {"ci": "ledger-ci", "nightly": "ledger-nightly"}
_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("ledger-ci", max_examples=200, stateful_step_count=20, **_COMMON)
settings.register_profile("ledger-nightly", max_examples=2000, stateful_step_count=50, **_COMMON)

DONE, UNAVAILABLE = "done", "provider_unavailable"
OPEN = ("pending", "in_transit")
CLAIM_STATUS = {"pending": "payout_pending", "awaiting_funds": "payout_pending", "in_transit": "payout_pending",
                "paid": "paid", "failed": "failed", "returned": "returned"}


def profile() -> settings:
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    if name not in PROFILES:
        pytest.fail(f"HYPOTHESIS_PROFILE={name!r}: the ledger property test knows {sorted(PROFILES)}")
    return settings.get_profile(PROFILES[name])


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


@dataclass
class ModelPayout:
    claim_id: int
    amount: int
    status: str
    attempt: int = 1


class Model:
    """What the service should do, in plain Python: one currency, one partner, one approver.

    Payouts are kept in approval order, which is also the order of their ids and of the
    queue of payouts awaiting funds (a retried payout keeps its place by approval time).
    """

    def __init__(self):
        self.claims: dict[int, int] = {}  # claim id -> amount
        self.approved: set[int] = set()
        self.payouts: list[ModelPayout] = []
        self.available = 0
        self.deposits: dict[str, int] = {}  # bank reference -> amount
        self.script: list[str] = []

    def pick(self, index: int, wanted: tuple[str, ...] | None) -> int:
        """A payout's position: among those in a wanted status if there are any, else among all."""
        positions = [n for n, payout in enumerate(self.payouts) if wanted and payout.status in wanted]
        positions = positions or list(range(len(self.payouts)))
        return positions[index % len(positions)]

    def _awaiting_before(self, payout: ModelPayout) -> bool:
        position = self.payouts.index(payout)
        return any(p.status == "awaiting_funds" for p in self.payouts[:position])

    def _reserve_or_wait(self, payout: ModelPayout) -> bool:
        """Reserve its money, unless an older payout waits for funds or the money is short."""
        if not self._awaiting_before(payout) and self.available >= payout.amount:
            self.available -= payout.amount
            payout.status = "pending"
            return True
        payout.status = "awaiting_funds"
        return False

    def _send(self, started: list[ModelPayout]) -> str:
        """The eager jobs of one commit, in order; an outage stops them and reaches the caller."""
        for payout in started:
            if payout.status != "pending":
                continue
            answer = self.script.pop(0) if self.script else "in_transit"
            if answer == "unavailable":
                return UNAVAILABLE
            if answer == "rejected":
                payout.status = "failed"
                self.available += payout.amount
            else:
                payout.status = "in_transit"
        return DONE

    def approve(self, claim_id: int) -> str:
        if claim_id in self.approved:
            return "illegal_transition"
        self.approved.add(claim_id)
        payout = ModelPayout(claim_id=claim_id, amount=self.claims[claim_id], status="new")
        self.payouts.append(payout)
        return self._send([payout]) if self._reserve_or_wait(payout) else DONE

    def deposit(self, reference: str, amount: int) -> str:
        if reference in self.deposits:
            # The same deposit again changes nothing; another amount under its reference is refused.
            return DONE if self.deposits[reference] == amount else "funding_reference_reused"
        self.deposits[reference] = amount
        self.available += amount
        released = []
        for payout in self.payouts:
            if payout.status != "awaiting_funds":
                continue
            if self.available < payout.amount:
                break  # strictly in order: a small later payout does not overtake a large earlier one
            self.available -= payout.amount
            payout.status = "pending"
            released.append(payout)
        return self._send(released)

    def run_job(self, payout: ModelPayout) -> str:
        return self._send([payout])

    def webhook(self, payout: ModelPayout, kind: str, attempt: int) -> str:
        if payout.status == "awaiting_funds" or attempt != payout.attempt:
            return "stale_attempt"
        if kind == "payout.paid":
            if payout.status in OPEN:
                payout.status = "paid"
                return "paid"
            return "already_paid" if payout.status == "paid" else "ignored"
        if kind == "payout.failed":
            if payout.status not in OPEN:
                return "ignored"
            payout.status = "failed"
            self.available += payout.amount
            return "failed"
        if payout.status not in (*OPEN, "paid"):
            return "ignored"
        payout.status = "returned"  # a return that comes first settles, then returns
        self.available += payout.amount
        return "returned"

    def retry(self, payout: ModelPayout) -> str:
        if payout.status not in ("failed", "returned"):
            return "illegal_transition"
        payout.attempt += 1
        return self._send([payout]) if self._reserve_or_wait(payout) else DONE


def outcome(call) -> str:
    """What a call did, as the model names it: done, a refusal's code, or a provider outage."""
    try:
        call()
    except DomainError as exc:
        return exc.code
    except ProviderUnavailable:
        return UNAVAILABLE
    return DONE


@pytest.fixture
def machine_env(app, demo, monkeypatch):
    # The model says what an outage leaves behind when jobs run right after the commit, as on the
    # embedded default; on RQ a failed job is also retried later, which the model does not know.
    monkeypatch.setitem(app.extensions, "outbox_dispatch", EagerDispatcher())
    provider = ScriptedProvider()
    monkeypatch.setitem(app.config, "PAYMENTS_PROVIDER", "scripted")
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    monkeypatch.setitem(app.extensions, "payment_providers", {"scripted": provider})
    return app, demo, provider


def test_ledger_invariants_hold_under_random_operations(machine_env):
    app, demo, provider = machine_env

    class LedgerMachine(RuleBasedStateMachine):
        claim_ids = Bundle("submitted claims")
        approved_ids = Bundle("approved claims")

        def __init__(self):
            super().__init__()
            self.context = app.app_context()
            self.context.push()
            with db.engine.begin() as connection:
                for table in PAYMENT_TABLES:
                    connection.execute(sa.text(f"DELETE FROM {table}"))
            provider.script.clear()
            self.admin, self.programs = demo["admin"], demo["programs"]
            self.references = itertools.count(1)
            self.events: list[WebhookEvent] = []
            self.model = Model()

        def teardown(self):
            db.session.remove()
            self.context.pop()

        def _payouts(self) -> list[Payout]:
            return list(db.session.scalars(sa.select(Payout).order_by(Payout.id)
                                           .execution_options(populate_existing=True)))

        def _pick(self, index: int, wanted: tuple[str, ...] | None) -> tuple[Payout, ModelPayout]:
            """The same payout in the service and in the model (both in approval order)."""
            position = self.model.pick(index, wanted)
            return self._payouts()[position], self.model.payouts[position]

        def _expect(self, predicted: str, call, what: str) -> None:
            actual = outcome(call)
            assert actual == predicted, f"{what}: the model predicted {predicted}, the service did {actual}"

        @initialize(amount=st.integers(min_value=0, max_value=150_000))
        def opening_deposit(self, amount):
            if amount:
                self._deposit(amount)

        @rule(target=claim_ids, amount=st.integers(min_value=1, max_value=50_000))
        def file_claim(self, amount):
            claim = claims.create_claim(self.admin, {"type": "rebate", "amount": amount, "currency": "USD",
                                                     "period": "2026-Q3", "description": "property"})
            claims.submit_claim(self.admin, claim.id)
            self.model.claims[claim.id] = amount
            return claim.id

        @rule(target=approved_ids, claim_id=consumes(claim_ids))
        def approve(self, claim_id):
            self._approve(claim_id)
            return claim_id

        @rule(claim_id=approved_ids)
        def approve_again(self, claim_id):
            self._approve(claim_id)

        def _approve(self, claim_id):
            self._expect(self.model.approve(claim_id), lambda: claims.approve_claim(self.programs, claim_id),
                         f"approving claim {claim_id}")

        @rule(amount=st.integers(min_value=1, max_value=80_000),
              again=st.sampled_from([None, None, None, "same amount", "another amount"]),
              index=st.integers(min_value=0, max_value=50))
        def fund(self, amount, again, index):
            if again is None or not self.model.deposits:
                self._deposit(amount)
                return
            # A bank reference recorded before: the same deposit again, or a clash.
            references = sorted(self.model.deposits)
            reference = references[index % len(references)]
            self._deposit(self.model.deposits[reference] + (0 if again == "same amount" else 1), reference)

        def _deposit(self, amount, reference=None):
            reference = reference or f"PROP-{next(self.references)}"
            self._expect(self.model.deposit(reference, amount),
                         lambda: funding.record_deposit(self.programs, amount, "USD", reference),
                         f"depositing {amount} as {reference}")

        @rule(trouble=st.sampled_from(["unavailable", "rejected"]))
        def provider_trouble(self, trouble):
            provider.script.append(trouble)
            self.model.script.append(trouble)

        # Each rule below mostly aims at payouts it can move (`wanted`), sometimes at any payout.
        @precondition(lambda self: self.model.payouts)
        @rule(index=st.integers(min_value=0, max_value=50), wanted=st.sampled_from([("pending",), None]))
        def run_job_again(self, index, wanted):
            payout, expected = self._pick(index, wanted)
            self._expect(self.model.run_job(expected), lambda: payouts.execute_payout(payout.id),
                         f"running payout {payout.id}'s job again")

        @precondition(lambda self: self.model.payouts)
        @rule(index=st.integers(min_value=0, max_value=50),
              kind=st.sampled_from(["payout.paid", "payout.failed", "payout.returned"]),
              stale=st.sampled_from([False, False, True]),
              wanted=st.sampled_from([(*OPEN, "paid"), None]))
        def webhook(self, index, kind, stale, wanted):
            payout, expected = self._pick(index, wanted)
            # A stale event names the payout's first attempt (its key is the bare reference).
            key = payout.idempotency_key if not stale or payout.attempt == 1 else payout.reference
            event = WebhookEvent(event_id=f"evt-{len(self.events)}", type=kind, reference=key,
                                 provider_payout_id=f"scr-{key}", reason="scripted", payload={"type": kind})
            self.events.append(event)
            predicted = self.model.webhook(expected, kind, 1 if stale else payout.attempt)
            actual = payouts.apply_webhook("scripted", event)
            assert actual == predicted, f"{kind} for payout {payout.id}: the model predicted {predicted}, got {actual}"

        @precondition(lambda self: self.events)
        @rule(index=st.integers(min_value=0, max_value=1000))
        def duplicate_webhook(self, index):
            assert payouts.apply_webhook("scripted", self.events[index % len(self.events)]) == "duplicate"

        @precondition(lambda self: self.model.payouts)
        @rule(index=st.integers(min_value=0, max_value=50), wanted=st.sampled_from([("failed", "returned"), None]))
        def retry(self, index, wanted):
            payout, expected = self._pick(index, wanted)
            self._expect(self.model.retry(expected), lambda: payouts.retry_payout(self.programs, payout.id),
                         f"retrying payout {payout.id}")

        @invariant()
        def ledger_is_sound(self):
            assert check_ledger(db.session) == []

        @invariant()
        def payouts_and_claims_are_as_the_model_says(self):
            rows = self._payouts()
            assert [(p.claim_id, p.amount, p.status.value, p.attempt) for p in rows] == [
                (p.claim_id, p.amount, p.status, p.attempt) for p in self.model.payouts]
            statuses = dict(db.session.execute(sa.select(Claim.id, Claim.status)
                                               .execution_options(populate_existing=True)).all())
            expected = {claim_id: "submitted" for claim_id in self.model.claims}
            expected.update({p.claim_id: CLAIM_STATUS[p.status] for p in self.model.payouts})
            assert {claim_id: status.value for claim_id, status in statuses.items()} == expected

        @invariant()
        def money_matches_payout_states(self):
            rows = self._payouts()
            reserved = sum(p.amount for p in rows if p.status in (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT))
            paid = sum(p.amount for p in rows if p.status is PayoutStatus.PAID)
            with unit_of_work() as uow:
                balances = {b.currency: b for b in ledger.balances(uow)}
            usd = balances.get("USD")
            available = usd.prefunding_available if usd else 0
            assert available == sum(self.model.deposits.values()) - reserved - paid
            assert available == self.model.available
            assert available >= 0
            assert (usd.paid if usd else 0) == paid
            in_transit = sum(p.amount for p in rows if p.status is PayoutStatus.IN_TRANSIT)
            assert (usd.in_transit if usd else 0) == in_transit
            assert (usd.partner_payable if usd else 0) == sum(p.amount for p in rows
                                                              if p.status is PayoutStatus.PENDING)

    LedgerMachine.TestCase.settings = profile()
    LedgerMachine.TestCase().runTest()
