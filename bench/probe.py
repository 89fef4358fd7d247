"""Looking inside one request of each scenario: its SQL, its query count and the list plan.

The probe runs the real application in this process against the benchmark
database, records every statement a request sends, and asks PostgreSQL to
EXPLAIN ANALYZE the list query exactly as the application sent it.
"""
from __future__ import annotations

import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

PAGE_INDEX = "ix_cases_partner_page"


def make_app(env: dict[str, str], app_dir: Path):
    """The application in `app_dir` as gunicorn builds it (production settings), for probing."""
    if "app" in sys.modules:
        raise RuntimeError("the application was imported before its folder was chosen")
    sys.path.insert(0, str(app_dir))
    os.environ.update(env)
    if "REDIS_URL" not in env:
        os.environ.pop("REDIS_URL", None)
    from app import create_app

    return create_app()


@contextmanager
def statements(app):
    """Collects (thread name, sql, params) of every statement sent while the block runs."""
    from app.extensions import db

    sent: list[tuple[str, str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append((threading.current_thread().name, statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def deep_cursor(app, depth_from_oldest: int = 1000) -> tuple[str, int]:
    """A cursor whose page lies `depth_from_oldest` cases above the partner's oldest case."""
    from app.extensions import db
    from app.pagination import encode_cursor

    with app.app_context():
        partner_id = db.session.execute(sa.text(
            "SELECT id FROM organisations WHERE name = 'Northwind Networks'")).scalar_one()
        before_id = db.session.execute(sa.text(
            "SELECT id FROM cases WHERE partner_id = :p ORDER BY id OFFSET :n LIMIT 1"),
            {"p": partner_id, "n": depth_from_oldest}).scalar_one()
        db.session.rollback()
    return encode_cursor(before_id), before_id


def request_profile(app, method: str, path: str, headers: dict, body: dict | None = None,
                    settle_s: float = 0.0) -> dict:
    """Status, body and the statements of one request (through the test client).

    Statements sent by other threads while the request runs, or within `settle_s`
    after it (the outbox's in-process drain), are kept apart as background work.
    """
    client = app.test_client()
    with statements(app) as sent:
        answer = client.open(path, method=method, headers=headers, json=body)
        time.sleep(settle_s)
    here = threading.current_thread().name
    mine = [(sql, params) for thread, sql, params in sent if thread == here]
    return {"status": answer.status_code, "body": answer.get_json(silent=True) or {},
            "statements": [sql for sql, _ in mine], "params": [params for _, params in mine],
            "background_statements": [sql for thread, sql, _ in sent if thread != here]}


def explain(app, statement: str, params) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement; the plan's indexes and timings."""
    from app.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
            conn.rollback()
    plan = [row[0] for row in rows]
    text = "\n".join(plan)
    times = dict(re.findall(r"(Planning|Execution) Time: ([0-9.]+) ms", text))
    return {
        "uses_page_index": PAGE_INDEX in text,
        "indexes": sorted(set(re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)", text))),
        "planning_ms": float(times.get("Planning", "nan")),
        "execution_ms": float(times.get("Execution", "nan")),
        "plan": plan,
    }


def list_statement(profile: dict) -> tuple[str, object]:
    """The cases query among a list request's statements."""
    for sql, params in zip(profile["statements"], profile["params"]):
        if "FROM cases" in sql and "ORDER BY cases.id DESC" in sql:
            return sql, params
    raise RuntimeError("the list request sent no cases query:\n" + "\n".join(profile["statements"]))
