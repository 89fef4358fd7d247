"""A file added to an SR's thread is an event of the SR: on its timeline and history, on the live stream,
to the partner's webhooks and by e-mail to the other side; it does not move the SLA clocks."""
from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from werkzeug.wrappers import Request, Response

from app.attachments.models import Attachment
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.srs import notifications, timeline
from app.srs.models import SRHistory
from tests.migrations.test_migrations import empty_database  # noqa: F401  (a database of its own)
from tests.browser import serve
from tests.conftest import T0
from tests.srs.helpers import escalate, get_sr, make_sr
from tests.srs.sse_client import EventReader
from tests.srs.test_attachments import GTAC_LOG, sr_upload, stored_files
from tests.web.helpers import sign_in, text

H = timedelta(hours=1)
PARTNER_LOG = b"show tech-support\nslot 1: fan tray 2 failed\n"


@pytest.fixture
def mails(monkeypatch):
    """The e-mails the SR notifications send: (recipients, subject, body)."""
    sent: list[tuple[list[str], str, str]] = []
    monkeypatch.setattr(notifications, "send_email", lambda uow, to, subject, body: sent.append((to, subject, body)))
    return sent


def outbox_events(app) -> list[tuple]:
    """Every outbox event with its outcome, oldest first."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload, OutboxEvent.processed_at,
                      OutboxEvent.attempts, OutboxEvent.last_error).order_by(OutboxEvent.id))]


def history(client, headers, number) -> list[dict]:
    answer = client.get(f"/api/v1/srs/{number}/history", headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def history_rows(app, kind: str | None = None) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(SRHistory)
        return db.session.scalar(query.where(SRHistory.kind == kind) if kind else query)


def test_a_gtac_file_is_on_the_history_and_the_sr_page(app, client, tokens):
    number = make_sr(app, "in_progress")
    mine = sr_upload(client, tokens["gtac"], number, kind="core_file", filename="core.dump.txt").json
    for who in ("engineer", "gtac"):
        entry = history(client, tokens[who], number)[-1]
        assert entry["kind"] == "attachment" and entry["actor"] == "Grace GTAC"
        assert entry["data"] == {"attachment_id": mine["id"], "filename": "core.dump.txt", "kind": "core_file",
                                 "size": len(GTAC_LOG), "side": "gtac"}
        assert entry["status"] == "in_progress"
    assert client.get(f"/api/v1/srs/{number}/history", headers=tokens["customer"]).status_code == 404

    partner_web = app.test_client()
    sign_in(partner_web, "engineer")
    page = text(partner_web.get(f"/srs/{number}"))
    timeline = page[page.index('id="timeline"'):]
    assert re.search(r"Grace GTAC:\s+file <a href=\"/srs/%s/attachments/%d\" download>core.dump.txt</a> "
                     r"\(Core file, %d B\) from GTAC" % (number, mine["id"], len(GTAC_LOG)), timeline), timeline
    download = partner_web.get(f"/srs/{number}/attachments/{mine['id']}")
    assert download.status_code == 200 and download.data == GTAC_LOG


def test_a_partner_file_says_it_came_from_the_partner(app, client, tokens):
    number = make_sr(app, "in_progress")
    theirs = sr_upload(client, tokens["engineer"], number, content=PARTNER_LOG, kind="error_log",
                       filename="show-tech.txt").json
    entry = history(client, tokens["gtac"], number)[-1]
    assert (entry["kind"], entry["actor"]) == ("attachment", "Nadia Engineer")
    assert entry["data"]["side"] == "partner" and entry["data"]["attachment_id"] == theirs["id"]
    gtac_web = app.test_client()
    sign_in(gtac_web, "gtac")
    page = text(gtac_web.get(f"/srs/{number}"))
    assert re.search(r"show-tech.txt</a> \(Error log \(show log, syslog\), %d B\) from the partner"
                     % len(PARTNER_LOG), page)


def test_the_other_side_is_mailed_about_each_file(app, client, tokens, mails):
    number = make_sr(app, "in_progress")  # assigned to Grace GTAC
    assert sr_upload(client, tokens["gtac"], number).status_code == 201
    assert sr_upload(client, tokens["engineer"], number, content=PARTNER_LOG, kind="error_log",
                     filename="show-tech.txt").status_code == 201
    # It failed once in CI with one e-mail: say what was sent and what the outbox held.
    assert len(mails) == 2, "\n".join(map(str, [*mails, *outbox_events(app)]))
    (to_partner, subject, body), (to_gtac, subject2, body2) = mails
    assert sorted(to_partner) == ["admin@northwind.example", "engineer@northwind.example"]
    assert subject == f"[{number}] new file from GTAC: gtac-debug.txt"
    assert "Grace GTAC added a file" in body and f"gtac-debug.txt (other, {len(GTAC_LOG)} B)" in body
    assert f"/srs/{number}" in body
    assert to_gtac == ["gtac@vendor.example"]
    assert subject2 == f"[{number}] new file from the partner: show-tech.txt"
    assert f"show-tech.txt (error log, {len(PARTNER_LOG)} B)" in body2


def test_a_file_reaches_an_open_event_stream(app, client, tokens, live_server):
    number = make_sr(app, "in_progress")
    reader = EventReader(f"{live_server}/api/v1/srs/{number}/events", tokens["engineer"])
    try:
        assert reader.status_code == 200
        time.sleep(0.2)
        mine = sr_upload(client, tokens["gtac"], number).json
        event = reader.next(timeout=2)
        assert event["event"] == "attachment"
        assert event["json"]["data"]["attachment_id"] == mine["id"]
        assert event["json"]["data"]["filename"] == "gtac-debug.txt"
        assert int(event["id"]) == history(client, tokens["gtac"], number)[-1]["id"]
    finally:
        reader.close()
    # A stream opened later replays it from the timeline, after the SR's opening.
    replay = EventReader(f"{live_server}/api/v1/srs/{number}/events?after=0", tokens["gtac"])
    try:
        assert [replay.next(timeout=2)["event"] for _ in range(2)] == ["opened", "attachment"]
    finally:
        replay.close()


class Receiver:
    def __init__(self):
        self.received: list[dict] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.received.append({"headers": dict(request.headers), "body": json.loads(request.get_data())})
        return Response("ok")(environ, start_response)


def test_a_file_is_sent_to_the_partners_webhooks(app, client, tokens):
    endpoint = Receiver()
    url, stop = serve(endpoint)
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = True  # the receiver listens on loopback
    try:
        hook = client.post("/api/v1/webhooks", json={"url": url + "/hooks"}, headers=tokens["admin"])
        assert hook.status_code == 201, hook.json
        number = make_sr(app, "in_progress")
        mine = sr_upload(client, tokens["gtac"], number).json
    finally:
        app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = False
        stop()
    [delivery] = endpoint.received
    assert delivery["headers"]["X-Gtac-Event-Type"] == delivery["body"]["type"] == "sr.attachment"
    assert delivery["body"]["data"]["sr_number"] == number
    assert delivery["body"]["data"]["data"] == {"attachment_id": mine["id"], "filename": "gtac-debug.txt",
                                                "kind": "other", "size": len(GTAC_LOG), "side": "gtac"}


def test_a_gtac_file_is_neither_the_response_nor_an_update(client, tokens, clock):
    number = escalate(client, tokens, severity="S2")  # 4 h response, 24 h updates
    clock.advance(hours=2)
    assert sr_upload(client, tokens["gtac"], number).status_code == 201
    detail = get_sr(client, tokens["engineer"], number)
    assert detail["clocks"]["initial_response"]["met_at"] is None
    assert detail["clocks"]["initial_response"]["due_at"] == (T0 + 4 * H).isoformat()
    # A message is; the file before it changed nothing.
    clock.advance(hours=1)
    assert client.post(f"/api/v1/srs/{number}/messages", json={"body": "Debug image attached."},
                       headers=tokens["gtac"]).status_code == 201
    detail = get_sr(client, tokens["engineer"], number)
    assert detail["clocks"]["initial_response"]["met_at"] == (T0 + 3 * H).isoformat()
    clock.advance(hours=20)
    assert sr_upload(client, tokens["gtac"], number).status_code == 201
    detail = get_sr(client, tokens["engineer"], number)
    assert detail["clocks"]["update"]["due_at"] == (T0 + 3 * H + 24 * H).isoformat()


@pytest.mark.usefixtures("attachment_store")  # on both stores
def test_an_sr_closed_while_the_file_arrived_keeps_neither_file_nor_entry(app, client, tokens, monkeypatch):
    number = make_sr(app, "in_progress")
    before = stored_files(app)
    storage = app.extensions["attachment_storage"]
    real_keep = storage.keep

    def keep_while_gtac_closes_the_sr(stream):
        key = real_keep(stream)
        with db.engine.begin() as elsewhere:  # another request, committed while this body arrived
            elsewhere.execute(sa.text("UPDATE service_requests SET status = 'closed' WHERE number = :n"),
                              {"n": number})
        return key

    monkeypatch.setattr(storage, "keep", keep_while_gtac_closes_the_sr)
    refused = sr_upload(client, tokens["gtac"], number)
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "sr_closed")
    assert stored_files(app) == before
    assert history_rows(app, "attachment") == 0
    assert get_sr(client, tokens["gtac"], number)["status"] == "closed"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


@pytest.mark.usefixtures("attachment_store")  # on both stores
def test_a_failure_after_the_file_was_kept_removes_it_with_everything_else(app, client, tokens, monkeypatch):
    number = make_sr(app, "in_progress")
    before = stored_files(app)
    with app.app_context():
        outbox_before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))

    def broken(sr, row):
        raise RuntimeError("the timeline entry cannot be announced")

    monkeypatch.setattr(timeline, "event_payload", broken)
    with pytest.raises(RuntimeError):
        sr_upload(client, tokens["gtac"], number)
    assert stored_files(app) == before
    assert history_rows(app, "attachment") == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)) == outbox_before


def test_refused_uploads_write_no_timeline_entry(app, client, tokens):
    number = make_sr(app, "in_progress")
    assert sr_upload(client, tokens["gtac"], number, kind="selfie").status_code == 400
    assert sr_upload(client, tokens["contoso"], number).status_code == 404
    closed = make_sr(app, "closed")
    assert sr_upload(client, tokens["gtac"], closed).status_code == 409
    assert history_rows(app, "attachment") == 0


def test_the_timeline_kind_constraint_takes_attachment_and_still_refuses_unknown_kinds(app, demo):
    number = make_sr(app, "in_progress")
    insert = sa.text("INSERT INTO sr_history (sr_id, at, kind, data) "
                     "SELECT id, created_at, :kind, '{}' FROM service_requests WHERE number = :n")
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(insert, {"kind": "attachment", "n": number})
        with pytest.raises(sa.exc.IntegrityError):
            with db.engine.begin() as connection:
                connection.execute(insert, {"kind": "photo", "n": number})
    assert history_rows(app, "attachment") == 1


def _kind_check(connection) -> str:
    [check] = [c["sqltext"] for c in sa.inspect(connection).get_check_constraints("sr_history")
               if c["name"] == "ck_sr_history_sr_history_kind"]
    return check


def test_the_migration_adds_the_kind_and_its_downgrade_takes_it_away(empty_database):  # noqa: F811
    with empty_database.app_context():
        upgrade()
        with db.engine.connect() as connection:
            assert "'attachment'" in _kind_check(connection)
        downgrade(revision="0009")
        with db.engine.connect() as connection:
            check = _kind_check(connection)
        assert "'attachment'" not in check and "'rma'" in check and "'message'" in check
        upgrade()
        with db.engine.connect() as connection:
            assert "'attachment'" in _kind_check(connection)
