"""The benchmark database: created afresh, migrated, seeded, then filled with cases in bulk.

The bulk load runs inside PostgreSQL (INSERT ... SELECT generate_series) so that a
million cases take about a minute rather than the hours the API would need. Each
bulk case also gets the audit event and the processed outbox event that opening it
through the API would have left, so that inserts land in tables of realistic size.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

RESERVED_DATABASES = {"test", "postgres", "template0", "template1"}

# Each bulk row is a copy of a row the demo seed wrote through the application (the
# template), with the columns below overridden; a column added later keeps the
# template's value, so the load follows schema changes.
CASE_TEMPLATE = "SELECT * FROM cases WHERE partner_id = %(partner)s ORDER BY id LIMIT 1"
# Every `period`-th row belongs to the other tenant (Contoso's customer Fabrikam), so that
# the tenancy filter has rows to skip, as it would in a shared deployment.
CASE_SOURCE = """(SELECT g, %(period)s > 0 AND g %% GREATEST(%(period)s, 1) = 0 AS other,
                        now() - (%(total)s - g) * interval '90 seconds' AS ts
                 FROM generate_series(1, %(total)s) AS g) AS series"""
CASE_COLUMNS = {
    "partner_id": "CASE WHEN other THEN %(other_partner)s ELSE %(partner)s END",
    "customer_id": "CASE WHEN other THEN %(other_customer)s ELSE %(customer)s END",
    "opened_by_id": """CASE WHEN other THEN %(other_customer_user)s
                            WHEN g %% 4 = 0 THEN %(customer_user)s ELSE %(engineer)s END""",
    "product_id": """CASE WHEN other THEN %(product_c)s
                          WHEN g %% 10 < 6 THEN %(product_a)s ELSE %(product_b)s END""",
    "serial_number": """CASE WHEN other THEN 'FAB-' || lpad((g %% 5 + 1)::text, 4, '0')
                             ELSE 'ACME-' || lpad((g %% 10 + 1)::text, 4, '0') END""",
    "software_version": "(ARRAY['32.2.1.3', '32.5.1.4', '32.6.1.4', '33.1.1.2'])[1 + g %% 4]",
    "severity": "(ARRAY['S1', 'S2', 'S3', 'S3', 'S4'])[1 + g %% 5]",
    "status": """CASE WHEN g > %(total)s - 2000 THEN 'open' WHEN g %% 10 = 0 THEN 'escalated'
                      WHEN g %% 10 = 1 THEN 'resolved' ELSE 'closed' END""",
    "title": """'Case ' || g || ': ' || (ARRAY['stack member reboots under multicast load',
                'fan tray alarm on core switch', 'OSPF adjacency flaps after upgrade',
                'PoE budget exceeded on edge ports', 'high CPU in process hal'])[1 + g %% 5]""",
    "description": "repeat('Observed on the customer site during the maintenance window; logs attached. ', 4)",
    "hardware_issue": "g %% 17 = 0",
    "escalated_at": "CASE WHEN g %% 10 = 0 THEN ts + interval '2 hours' END",
    "created_at": "ts",
    "updated_at": "ts + interval '1 day'",
}

AUDIT_TEMPLATE = "SELECT * FROM audit_events WHERE action = 'case.opened' ORDER BY id LIMIT 1"
AUDIT_COLUMNS = {
    "at": "c.created_at",
    "actor_id": "c.opened_by_id",
    "entity_id": "c.id::text",
    "after": """json_build_object('status', 'open', 'severity', c.severity, 'title', c.title,
                'serial_number', c.serial_number, 'software_version', c.software_version)""",
}

OUTBOX_TEMPLATE = "SELECT * FROM outbox_events WHERE topic = 'notify.case_opened' ORDER BY id LIMIT 1"
OUTBOX_COLUMNS = {
    "payload": "json_build_object('case_id', c.id)",
    "created_at": "c.created_at",
    "enqueued_at": "c.created_at",
    "processed_at": "c.created_at + interval '1 second'",
    "attempts": "1",
    "last_error": "NULL",
}
NEW_CASES = "(SELECT * FROM cases WHERE id > %(after_id)s) AS c"


def database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def _maintenance_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


def reset_database(database_url: str) -> None:
    """Drop and recreate the benchmark database; refuses the shared and CI databases."""
    name = database_name(database_url)
    if not name or name in RESERVED_DATABASES:
        raise SystemExit(f"refusing to reset the database {name!r}: name a database of its own")
    with psycopg.connect(_maintenance_url(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flask(database_url: str, app_dir: Path, *args: str) -> None:
    """Run a `flask` command of the application in `app_dir` against the benchmark database."""
    env = {**os.environ, "DATABASE_URL": database_url, "GTAC_ENV": "development",
           "JOBS_EAGER": "1", "FLASK_APP": "wsgi.py"}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "flask", *args], cwd=app_dir, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def demo_ids(conn: psycopg.Connection) -> dict[str, int]:
    """Ids of the demo rows the bulk cases hang on: both partners, their customers, users, products."""
    def one(query: str, *params) -> int:
        row = conn.execute(query, params).fetchone()
        if row is None:
            raise SystemExit(f"demo data missing: {query} {params}")
        return row[0]

    return {
        "partner": one("SELECT id FROM organisations WHERE name = %s", "Northwind Networks"),
        "customer": one("SELECT id FROM organisations WHERE name = %s", "Acme Corp"),
        "engineer": one("SELECT id FROM users WHERE email = %s", "engineer@northwind.example"),
        "customer_user": one("SELECT id FROM users WHERE email = %s", "customer@acme.example"),
        "product_a": one("SELECT id FROM products WHERE model = %s", "X465-48T"),
        "product_b": one("SELECT id FROM products WHERE model = %s", "X695-48Y"),
        "other_partner": one("SELECT id FROM organisations WHERE name = %s", "Contoso Integrators"),
        "other_customer": one("SELECT id FROM organisations WHERE name = %s", "Fabrikam Ltd"),
        "other_customer_user": one("SELECT id FROM users WHERE email = %s", "customer@fabrikam.example"),
        "product_c": one("SELECT id FROM products WHERE model = %s", "VSP4900-48P"),
    }


def clone_statement(conn: psycopg.Connection, table: str, template: str,
                    overrides: dict[str, str], source: str, params: dict) -> sql.Composed:
    """INSERT ... SELECT copying the template row once per source row, with `overrides` applied."""
    columns = [row[0] for row in conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s AND column_name <> 'id' "
        "ORDER BY ordinal_position", [table])]
    if not conn.execute(sql.SQL("SELECT count(*) FROM ({}) AS t").format(sql.SQL(template)),
                        params).fetchone()[0]:
        raise SystemExit(f"no template row in {table}: the demo seed should have written one")
    values = [sql.SQL(overrides[c]) if c in overrides else sql.SQL("t.") + sql.Identifier(c)
              for c in columns]
    return sql.SQL("INSERT INTO {table} ({columns}) SELECT {values} FROM ({template}) AS t, {source}").format(
        table=sql.Identifier(table), columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(values), template=sql.SQL(template), source=sql.SQL(source))


def bulk_load(database_url: str, cases: int, other_tenant_cases: int) -> dict:
    """Add `cases` cases of Northwind/Acme and `other_tenant_cases` of Contoso/Fabrikam, interleaved,
    with their audit and outbox rows, then VACUUM ANALYZE; returns counts and timings."""
    timings: dict[str, float] = {}
    with psycopg.connect(database_url) as conn:
        ids = demo_ids(conn)
        after_id = conn.execute("SELECT COALESCE(max(id), 0) FROM cases").fetchone()[0]
        for table, template, columns, source in (
                ("cases", CASE_TEMPLATE, CASE_COLUMNS, CASE_SOURCE),
                ("audit_events", AUDIT_TEMPLATE, AUDIT_COLUMNS, NEW_CASES),
                ("outbox_events", OUTBOX_TEMPLATE, OUTBOX_COLUMNS, NEW_CASES)):
            started = time.perf_counter()
            total = cases + other_tenant_cases
            period = round(total / other_tenant_cases) if other_tenant_cases else 0
            params = {**ids, "total": total, "period": period, "after_id": after_id}
            conn.execute(clone_statement(conn, table, template, columns, source, params), params)
            timings[f"insert_{table}_s"] = round(time.perf_counter() - started, 1)
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        started = time.perf_counter()
        # Sets hint bits and the visibility map now, so the first measured reads don't write.
        conn.execute("VACUUM (ANALYZE) cases, audit_events, outbox_events")
        conn.execute("CHECKPOINT")
        timings["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
        per_partner = dict(conn.execute(
            "SELECT o.name, count(*) FROM cases c JOIN organisations o ON o.id = c.partner_id "
            "GROUP BY o.name ORDER BY o.name").fetchall())
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {"cases_in_database": sum(per_partner.values()), "cases_per_partner": per_partner,
            "database_bytes": size, **timings}


def prepare(database_url: str, app_dir: Path, cases: int, other_tenant_cases: int) -> dict:
    """Fresh database, migrations, demo seed, bulk cases: everything the measurements need."""
    started = time.perf_counter()
    reset_database(database_url)
    flask(database_url, app_dir, "db", "upgrade")
    flask(database_url, app_dir, "demo", "seed")
    loaded = bulk_load(database_url, cases, other_tenant_cases)
    return {**loaded, "prepare_total_s": round(time.perf_counter() - started, 1)}
