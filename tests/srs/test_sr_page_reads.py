"""The SR page reads everything it shows in one unit of work, and its template reads nothing more."""
from __future__ import annotations

import io
import re
import threading

import sqlalchemy as sa
from sqlalchemy import event

import app.uow as uow_module
from app.extensions import db
from app.srs import services
from app.srs.models import HistoryKind, SRHistory
from tests.srs.helpers import escalate, move
from tests.web.helpers import sign_in, text


def busy_sr(client, tokens) -> str:
    """An SR with something in every part of its page: thread, files, RMA, checklist, triage."""
    number = escalate(client, tokens, hardware_issue=True)
    assert move(client, tokens["gtac"], number, "assigned").status_code == 200
    assert client.post(f"/api/v1/srs/{number}/messages", json={"body": "Send the core file, please."},
                       headers=tokens["gtac"]).status_code == 201
    requested = client.post(f"/api/v1/srs/{number}/rmas", headers=tokens["engineer"], json={
        "ship_to": "Acme Corp, Dock 4, 1 Main Street, Springfield",
        "items": [{"serial_number": "ACME-0003", "failure_description": "Port 1:49 fails link negotiation."}]})
    assert requested.status_code == 201, requested.json
    uploaded = client.post(f"/api/v1/srs/{number}/attachments", headers=tokens["gtac"],
                           data={"kind": "other", "file": (io.BytesIO(b"debug steps\n"), "steps.txt")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.json
    return number


def test_the_sr_page_is_read_in_one_transaction(app, client, tokens, monkeypatch):
    number = busy_sr(client, tokens)
    sign_in(client, "manager")
    units, transactions, statements = [], [], []
    begin = uow_module.begin

    def counting_begin(session=None):
        units.append(1)
        return begin(session)

    monkeypatch.setattr(uow_module, "begin", counting_begin)
    with app.app_context():
        engine = db.engine

    def on_begin(connection):
        transactions.append(1)

    def on_execute(connection, cursor, statement, *rest):
        statements.append((len(transactions), statement))

    event.listen(engine, "begin", on_begin)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        answer = client.get(f"/srs/{number}")
    finally:
        event.remove(engine, "begin", on_begin)
        event.remove(engine, "before_cursor_execute", on_execute)
    assert answer.status_code == 200
    html = text(answer)
    for part in ('id="answers-h"', 'id="triage-h"', 'id="case-h"', "Send the core file", "steps.txt",
                 "ACME-0003", "id=\"assignee\""):
        assert part in html, part
    assert len(units) == 1
    # From reading the SR on, every statement runs in the one transaction (the template loads nothing late).
    first = next(index for index, (_, sql) in enumerate(statements) if "FROM service_requests" in sql)
    assert {tx for tx, _ in statements[first:]} == {statements[first][0]}, [
        (tx, sql.split("\n")[0][:80]) for tx, sql in statements[first:]]


def test_an_entry_written_while_the_sr_page_is_read_is_left_to_its_stream(app, client, tokens, monkeypatch,
                                                                         postgres):
    """On PostgreSQL each statement reads afresh: a move GTAC commits after the page read the SR's row
    must not be in the page's timeline (its fields would not show it) but come through its stream."""
    number = escalate(client, tokens)
    sign_in(client, "engineer")
    history_of, moved = services.history_of, []

    def gtac_moves_meanwhile(*args, **kwargs):
        if not moved:  # another thread: its own session and connection, committed at once
            thread = threading.Thread(target=lambda: moved.append(
                move(app.test_client(), tokens["gtac"], number, "assigned").status_code))
            thread.start()
            thread.join()
        return history_of(*args, **kwargs)

    monkeypatch.setattr(services, "history_of", gtac_moves_meanwhile)
    answer = client.get(f"/srs/{number}")
    assert moved == [200] and answer.status_code == 200
    page = text(answer)
    assert "st-new" in re.search(r'data-field="status">(.*?)</dd>', page, re.S).group(1)
    assert "→ assigned" not in page
    after = int(re.search(r'data-sr-events="[^"]*\?after=(\d+)"', page).group(1))
    with app.app_context():
        replayed = db.session.scalars(sa.select(SRHistory.to_status).where(
            SRHistory.id > after, SRHistory.kind == HistoryKind.STATUS)).all()
    assert replayed == ["assigned"]


def test_the_queue_page_reads_its_engineers_and_its_srs_in_one_unit(app, client, tokens, monkeypatch):
    number = escalate(client, tokens)
    sign_in(client, "manager")
    units = []
    begin = uow_module.begin

    def counting_begin(session=None):
        units.append(1)
        return begin(session)

    monkeypatch.setattr(uow_module, "begin", counting_begin)
    answer = client.get("/srs")
    assert answer.status_code == 200
    html = text(answer)
    assert number in html and "Assigned to me" in html
    assert len(units) == 1
