"""GET /payments/payouts/feed: a payments page's first connection hears first the payouts that changed
since the page read its rows, each as it is now and only those the caller sees."""
from __future__ import annotations

import queue
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from app.accounts.models import Organisation, Role, User
from app.accounts.passwords import hash_password
from app.clock import now
from app.extensions import db
from app.payments.models import Payout
from tests.srs.sse_client import signed_in_reader

FEED = "/payments/payouts/feed"


def _approved(payments):  # noqa: F811
    claim_id = payments.claim(amount=30_000)
    assert payments.approve(claim_id).status_code == 200
    return payments.payout_of(claim_id)


def _contoso_admin(app) -> str:
    with app.app_context():
        contoso = db.session.scalars(sa.select(Organisation).filter_by(name="Contoso Integrators")).one()
        db.session.add(User(email="admin@contoso.example", name="Cora Contoso", role=Role.PARTNER_ADMIN,
                            organisation_id=contoso.id, password_hash=hash_password("contoso-password")))
        db.session.commit()
        db.session.remove()
    return "admin@contoso.example"


def _changed_minutes_ago(app, payout_id: int, minutes: int) -> None:
    with app.app_context():
        db.session.execute(sa.update(Payout).where(Payout.id == payout_id)
                           .values(updated_at=now() - timedelta(minutes=minutes)))
        db.session.commit()
        db.session.remove()


def _silent(reader) -> None:
    with pytest.raises(queue.Empty):
        reader.next(timeout=0.5)


def test_a_pages_first_connection_hears_the_payouts_changed_since_the_page_read_them(
        payments, sandbox, app, live_server):  # noqa: F811
    # On the real clock: the outbox's leases and redeliveries timed by a clock fixed in the past fall due
    # at once when it is put back, and could replay this test's payout jobs into the next test's.
    earlier = _approved(payments)
    _changed_minutes_ago(app, earlier["id"], 5)  # in transit since well before the page
    with app.app_context():
        read_at = now()
    later = _approved(payments)
    assert payments.webhook("payout.paid", later["reference"], "evt_after_the_page").json["outcome"] == "paid"
    contoso = _contoso_admin(app)
    since = "?" + urlencode({"since": read_at.isoformat()})
    readers = {"programs": signed_in_reader(live_server, "programs@vendor.example", FEED + since),
               "admin": signed_in_reader(live_server, "admin@northwind.example", FEED + since),
               "contoso": signed_in_reader(live_server, contoso, FEED + since, password="contoso-password")}
    try:
        for who in ("programs", "admin"):
            event = readers[who].next(timeout=2)
            assert event["event"] == "payout"
            # Once, as it is now: paid (its approval and its sending came after the page too).
            assert (event["json"]["payout_id"], event["json"]["status"], event["json"]["claim_status"]) == (
                later["id"], "paid", "paid")
            _silent(readers[who])  # not the payout that moved before the page
        _silent(readers["contoso"])  # another partner's payouts are not its to hear
    finally:
        for reader in readers.values():
            reader.close()
    # A reconnection hears nothing again (the page reads its rows anew), nor does a feed without since.
    for query, headers in ((since, {"Last-Event-ID": str(later["id"])}), ("", None)):
        reader = signed_in_reader(live_server, "programs@vendor.example", FEED + query, headers)
        try:
            _silent(reader)
        finally:
            reader.close()


@pytest.mark.parametrize("bad", ["yesterday", "2026-11-23T08:00:00", "9" * 50, "0001-01-01T00:00:00+00:00",
                                 "0001-01-01T00:00:00+01:00"])
def test_a_feed_given_something_other_than_a_time_with_its_offset_is_refused(app, demo, live_server, bad):
    reader = signed_in_reader(live_server, "programs@vendor.example", FEED + "?" + urlencode({"since": bad}))
    reader.close()
    assert reader.status_code == 400
