"""Payouts change state on the programmes page and on the partner's payments page without a reload,
and a payout's live event is published with its change: after the commit, never for a rolled-back one."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.payments import payouts
from app.payments.models import Payout, PayoutStatus
from app.uow import LIVE_BROKER, unit_of_work
from tests.browser import assert_usable, sign_in, streams_held, wait_for_streams
from tests.web.helpers import sign_in as sign_in_client

pytestmark = pytest.mark.browser


def approved(payments, amount=40_000):  # noqa: F811
    claim_id = payments.claim(amount=amount)
    assert payments.approve(claim_id).status_code == 200
    payout = payments.payout_of(claim_id)
    assert payout["status"] == "in_transit"  # the sandbox holds it until a webhook settles it
    return claim_id, payout


def not_reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


PAGES = [("programs", "/payments/programmes"), ("admin", "/payments/partner")]


FEED = "**/payments/payouts/feed*"


def opened(page, who: str, path: str, payout: dict, status: str = "in transit"):
    """The payments page at `path` as `who`, once its feed answered; the payout's row, as `status`."""
    sign_in(page, who)
    with page.expect_response(lambda r: "/payments/payouts/feed?" in r.url):
        page.goto(path)
    return loaded(page, payout, status)


def loaded(page, payout: dict, status: str = "in transit"):
    page.evaluate("window.__notReloaded = true")
    row = page.locator(f'tr[data-payout="{payout["id"]}"]')
    expect(row.locator('[data-field="status"]')).to_have_text(status)
    return row


def shows_paid(page, who: str, row, claim_id: int) -> None:
    expect(row.locator('[data-field="status"]')).to_have_text("paid", timeout=5000)
    expect(row.locator('[data-field="paid"]')).not_to_be_empty()
    if who == "programs":  # the sums the page does not recompute are marked older
        expect(page.locator("#balances-stale")).to_be_visible()
    if who == "admin":  # the partner's claims list shows the claim paid too
        claim = page.locator(f'tr[data-claim="{claim_id}"]')
        expect(claim.locator('[data-field="claim-status"]')).to_have_text("paid")
    assert not_reloaded(page)


@pytest.mark.parametrize(("who", "path"), PAGES)
def test_a_paid_payout_shows_as_paid_without_a_reload(payments, sandbox, page, who, path):  # noqa: F811
    claim_id, payout = approved(payments)
    row = opened(page, who, path, payout)
    assert payments.webhook("payout.paid", payout["reference"], f"evt_live_{who}").json["outcome"] == "paid"
    shows_paid(page, who, row, claim_id)
    expect(page.locator("#live")).to_contain_text(f"Payment {payout['reference']}")
    expect(page.locator("#live")).to_contain_text("is now paid")
    assert_usable(page, f"{path} after a live update")


@pytest.mark.parametrize(("who", "path"), PAGES)
def test_a_payout_paid_while_the_feed_reconnected_shows_as_paid(
        payments, sandbox, app, page, monkeypatch, who, path):  # noqa: F811
    claim_id, payout = approved(payments)
    # Streams end after a second here, so the page's feed reconnects (2 s later) within the test.
    monkeypatch.setitem(app.config, "SR_EVENTS_MAX_SECONDS", 1)
    row = opened(page, who, path, payout)
    with streams_held(page, FEED) as held:
        wait_for_streams(page, held)  # the first stream has ended; the browser asks again
        # No stream of the page is subscribed while this happens.
        assert payments.webhook("payout.paid", payout["reference"], f"evt_gap_{who}").json["outcome"] == "paid"
    shows_paid(page, who, row, claim_id)


@pytest.mark.parametrize(("who", "path"), PAGES)
def test_a_payout_paid_between_the_pages_load_and_its_feeds_connection_shows_as_paid(
        payments, sandbox, page, who, path):  # noqa: F811
    claim_id, payout = approved(payments)
    sign_in(page, who)
    with streams_held(page, FEED) as held:
        page.goto(path)
        row = loaded(page, payout)
        wait_for_streams(page, held)
        assert payments.webhook("payout.paid", payout["reference"], f"evt_load_{who}").json["outcome"] == "paid"
    shows_paid(page, who, row, claim_id)


def test_a_payout_that_changed_just_before_the_page_read_it_is_not_announced_again(
        payments, sandbox, page):  # noqa: F811
    _, payout = approved(payments)
    assert payments.webhook("payout.paid", payout["reference"], "evt_before_load").json["outcome"] == "paid"
    # The feed's first connection sends it (it changed within seconds of the page's read): the row
    # already shows it, so the balances the page read are not marked older, nor is it announced.
    row = opened(page, "programs", "/payments/programmes", payout, status="paid")
    expect(page.locator("html")).to_have_attribute("data-live-events", "1")  # the demo has no other payout
    expect(page.locator("#balances-stale")).to_be_hidden()
    expect(page.locator("#live")).to_be_empty()
    expect(row).not_to_have_class("changed")
    assert not_reloaded(page)


def test_only_those_who_read_payouts_open_the_payout_feed(app, demo):
    from app import access

    with app.app_context():
        assert access.payout_feed_partner(demo["programs"]) is None  # every payout
        assert access.payout_feed_partner(demo["admin"]) == demo["admin"].organisation_id  # its own
    for who in ("engineer", "customer", "gtac"):
        web = app.test_client()
        sign_in_client(web, who)
        assert web.get("/payments/payouts/feed").status_code == 403, who


class RecordingBroker:
    def __init__(self):
        self.published: list[tuple[str, str]] = []

    def publish(self, channel: str, message: str) -> None:
        self.published.append((channel, message))


def test_the_live_event_goes_out_with_the_change_and_never_with_a_rolled_back_one(
        payments, sandbox, app, monkeypatch):  # noqa: F811
    _, payout = approved(payments)
    broker = RecordingBroker()
    monkeypatch.setitem(app.extensions, LIVE_BROKER, broker)
    with app.app_context():
        with pytest.raises(RuntimeError), unit_of_work() as uow:
            row = uow.session.get(Payout, payout["id"])
            payouts._apply(uow, row, "paid", None, None)
            assert broker.published == []  # not before the commit
            raise RuntimeError("the change fails after the payout moved")
        db.session.remove()
        assert db.session.scalar(sa.select(Payout.status).where(Payout.id == payout["id"])) is PayoutStatus.IN_TRANSIT
    assert broker.published == []

    assert payments.webhook("payout.paid", payout["reference"], "evt_committed").json["outcome"] == "paid"
    channels = [channel for channel, _ in broker.published]
    assert "payouts" in channels
    assert any(channel.startswith("payouts:partner:") for channel in channels)
    assert all('"status": "paid"' in message for _, message in broker.published)


def test_the_programmes_page_drawn_again_after_a_refused_deposit_still_catches_up(
        payments, sandbox, app, page, monkeypatch):  # noqa: F811
    claim_id, payout = approved(payments)
    monkeypatch.setitem(app.config, "SR_EVENTS_MAX_SECONDS", 1)  # the feed reconnects within the test
    sign_in(page, "programs")
    page.goto("/payments/programmes")
    funding = page.get_by_role("region", name="Record a pre-funding deposit")
    funding.get_by_label("Amount").fill("12.345")
    funding.get_by_label("Bank reference").fill("DEP-9")
    funding.get_by_role("button", name="Record deposit").click()
    expect(page.get_by_role("alert")).to_contain_text("Deposit not recorded")
    assert page.url.endswith("/payments/programmes/funding")  # drawn at the form's address
    row = loaded(page, payout)
    with streams_held(page, FEED) as held:
        wait_for_streams(page, held)  # the first stream has ended; the browser asks again
        assert payments.webhook("payout.paid", payout["reference"], "evt_refused").json["outcome"] == "paid"
    # Caught up by reading the page again from its own address, not the form's (a 405 there).
    shows_paid(page, "programs", row, claim_id)
    expect(page.locator("#balances-stale a")).to_have_attribute("href", "/payments/programmes")
