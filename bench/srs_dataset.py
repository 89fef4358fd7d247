"""A million open SRs in PostgreSQL, loaded inside the database (INSERT ... SELECT generate_series).

Every SR hangs on a case of its own (one SR per case), as escalation leaves it.
The SRs are spread over the routing queues and the open states; their SLA due
times are spread over the next 30 days with a few percent already overdue and a
few near their breach, as on a busy desk. SRs awaiting the partner have no due
time (their clocks are paused).
"""
from __future__ import annotations

import time

import psycopg

from bench import dataset

QUEUES = ["S1-Critical-EMEA", "S1-Critical-AMER", "S1-Critical-APAC", "EXOS-EMEA", "EXOS-AMER",
          "Fabric-Global", "Wireless-Global", "General"]
# The due time of running SRs: minutes from the load, (id * 7919) mod 43200 - OVERDUE_MINUTES.
OVERDUE_MINUTES = 1500  # so about 1500 / 43200 = 3.5 % are overdue when loaded
CASE_COLUMNS = {
    **dataset.CASE_COLUMNS,
    "partner_id": "%(partner)s",
    "customer_id": "%(customer)s",
    "opened_by_id": "%(engineer)s",
    "product_id": "CASE WHEN g %% 10 < 6 THEN %(product_a)s ELSE %(product_b)s END",
    "serial_number": "'ACME-' || lpad((g %% 10 + 1)::text, 4, '0')",
    "status": "'escalated'",
    "escalated_at": "ts",
}
CASE_SOURCE = """(SELECT g, now() - (%(total)s - g) * interval '3 seconds' AS ts
                 FROM generate_series(1, %(total)s) AS g) AS series"""
SR_INSERT = """
INSERT INTO service_requests (number, case_id, partner_id, status, severity, queue, product_family, region,
    escalated_by_id, created_at, response_due_at, update_due_at, assignee_id, responded_at, paused_at,
    solution_provided_at, closed_at, reopen_count, management_level, sla_due_at, sla_warn_at)
SELECT 'SR' || lpad((%(first_number)s + n)::text, 8, '0'), id, partner_id, status, severity,
       (%(queues)s::text[])[1 + id %% %(queue_count)s], 'EXOS', 'EMEA', opened_by_id, created_at,
       COALESCE(due, created_at + interval '4 hours'), COALESCE(due, created_at + interval '1 day'),
       CASE WHEN status <> 'new' THEN %(gtac)s END, CASE WHEN status IN ('in_progress', 'awaiting_partner')
       THEN created_at + interval '30 minutes' END, CASE WHEN status = 'awaiting_partner' THEN now() END,
       NULL, NULL, 0, CASE WHEN id %% 97 = 0 THEN 1 ELSE 0 END, due, due - interval '2 hours'
FROM (SELECT c.id, c.partner_id, c.opened_by_id, c.severity, c.created_at,
             row_number() OVER (ORDER BY c.id) AS n,
             (ARRAY['new', 'assigned', 'in_progress', 'in_progress', 'in_progress', 'in_progress',
                    'in_progress', 'awaiting_partner', 'awaiting_partner', 'assigned'])[1 + c.id %% 10] AS status,
             CASE WHEN c.id %% 10 IN (7, 8) THEN NULL
                  ELSE now() + ((c.id::bigint * 7919) %% 43200 - %(overdue)s) * interval '1 minute' END AS due
      FROM cases c WHERE c.id > %(after_id)s) AS s
"""


def load(database_url: str, srs: int) -> dict:
    """Add `srs` escalated cases and their open SRs, then VACUUM ANALYZE; returns counts and timings."""
    timings: dict[str, float] = {}
    with psycopg.connect(database_url) as conn:
        ids = dataset.demo_ids(conn)
        ids["gtac"] = conn.execute("SELECT id FROM users WHERE email = 'gtac@vendor.example'").fetchone()[0]
        after_id = conn.execute("SELECT COALESCE(max(id), 0) FROM cases").fetchone()[0]
        started = time.perf_counter()
        params = {**ids, "total": srs, "period": 0, "after_id": after_id}
        conn.execute(dataset.clone_statement(conn, "cases", dataset.CASE_TEMPLATE, CASE_COLUMNS, CASE_SOURCE,
                                             params), params)
        timings["insert_cases_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        first = conn.execute("SELECT COALESCE(max(substr(number, 3)::bigint), 0) FROM service_requests").fetchone()[0]
        conn.execute(SR_INSERT, {**ids, "first_number": first, "queues": QUEUES, "queue_count": len(QUEUES),
                                 "overdue": OVERDUE_MINUTES, "after_id": after_id})
        conn.execute("SELECT setval('sr_number_seq', (SELECT max(substr(number, 3)::bigint) FROM service_requests))")
        timings["insert_service_requests_s"] = round(time.perf_counter() - started, 1)
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) cases, service_requests")
        conn.execute("CHECKPOINT")
        timings["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
        by_status = dict(conn.execute("SELECT status, count(*) FROM service_requests GROUP BY status").fetchall())
        overdue = conn.execute("SELECT count(*) FROM service_requests WHERE sla_due_at <= now()").fetchone()[0]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {"srs": sum(by_status.values()), "srs_by_status": by_status, "overdue_at_load": overdue,
            "queues": len(QUEUES), "database_bytes": size, **timings}


def prepare(database_url: str, app_dir, srs: int) -> dict:
    """Fresh database, migrations, demo seed, bulk SRs."""
    started = time.perf_counter()
    dataset.reset_database(database_url)
    dataset.flask(database_url, app_dir, "db", "upgrade")
    dataset.flask(database_url, app_dir, "demo", "seed")
    loaded = load(database_url, srs)
    return {**loaded, "prepare_total_s": round(time.perf_counter() - started, 1)}
