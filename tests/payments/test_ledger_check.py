"""`flask ledger check`: clean after real flows, non-zero with the reason on each kind of damage."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.payments.models import LedgerEntry, LedgerTransfer


@pytest.fixture
def ledger_with_history(payments, sandbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    paid = payments.claim(amount=11_000)
    payments.approve(paid)
    payments.webhook("payout.paid", payments.payout_of(paid)["reference"], "evt_paid")
    returned = payments.claim(amount=12_000)
    payments.approve(returned)
    reference = payments.payout_of(returned)["reference"]
    payments.webhook("payout.paid", reference, "evt_paid_2")
    payments.webhook("payout.returned", reference, "evt_ret")
    failed = payments.claim(amount=13_000)
    payments.approve(failed)
    payments.webhook("payout.failed", payments.payout_of(failed)["reference"], "evt_fail")
    in_transit = payments.claim(amount=14_000)
    payments.approve(in_transit)
    return {"paid": paid, "returned": returned, "failed": failed, "in_transit": in_transit}


def _check(app):
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    return result.exit_code, result.output


def _sql(app, statement, **params):
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text(statement), params)


def test_check_is_clean_after_paid_returned_failed_and_pending_payouts(app, ledger_with_history):
    code, output = _check(app)
    assert code == 0, output
    assert "ledger OK" in output


def test_a_tampered_cached_balance_is_reported(app, ledger_with_history):
    _sql(app, "UPDATE ledger_accounts SET posted = posted + 1 WHERE kind = 'paid'")
    code, output = _check(app)
    assert code == 1
    assert "[cached_balance] account paid:USD" in output


def test_an_unbalanced_transfer_is_reported(app, ledger_with_history):
    with app.app_context():
        transfer_id = db.session.scalar(sa.select(sa.func.min(LedgerTransfer.id)))
        entry = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.transfer_id == transfer_id)).first()
        account_id = entry.account_id
        db.session.remove()
    _sql(app, "INSERT INTO ledger_entries (transfer_id, account_id, amount, currency, pending) "
              "VALUES (:t, :a, 5, 'USD', false)", t=transfer_id, a=account_id)
    code, output = _check(app)
    assert code == 1
    assert f"[sum_zero] transfer {transfer_id}: entries sum to 5 USD" in output


def test_a_claim_marked_paid_without_a_settled_payout_is_reported(app, ledger_with_history):
    _sql(app, "UPDATE claims SET status = 'paid' WHERE id = :id", id=ledger_with_history["in_transit"])
    code, output = _check(app)
    assert code == 1
    assert "[claim_status]" in output


def test_a_payout_marked_paid_twice_over_is_reported(app, ledger_with_history):
    _sql(app, "UPDATE payouts SET status = 'paid' WHERE claim_id = :id", id=ledger_with_history["failed"])
    _sql(app, "UPDATE claims SET status = 'paid' WHERE id = :id", id=ledger_with_history["failed"])
    code, output = _check(app)
    assert code == 1
    assert "[payout_ledger]" in output and "0 net settlement(s)" in output


def test_a_negative_prefunding_is_reported(app, ledger_with_history):
    # The schema refuses it outright; the check is the second line for data loaded around it.
    with pytest.raises(Exception):
        _sql(app, "UPDATE ledger_accounts SET posted = -1 WHERE kind = 'prefunding'")


def test_in_transit_money_that_no_payout_accounts_for_is_reported(app, ledger_with_history):
    _sql(app, "UPDATE payouts SET amount = amount + 1 WHERE claim_id = :id", id=ledger_with_history["in_transit"])
    code, output = _check(app)
    assert code == 1
    assert "[in_transit] in transit USD: the ledger holds 14000 but payouts in transit add up to 14001" in output
