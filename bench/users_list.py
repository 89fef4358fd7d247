"""Benchmark of the user list, GET /api/v1/users, at 100,000 users under gunicorn on PostgreSQL.

    .venv/bin/python -m bench.users_list            # the full run: 100,000 users

Target (issue 13): the vendor's user list at 100,000 users answers p95 under 20 ms at one
client. Creates the database afresh (default bench_users), migrates it, seeds the demo data,
writes the organisations and users straight into the tables (INSERT ... SELECT generate_series,
not the API), starts gunicorn on a free loopback port and measures with wrk, at each
concurrency, the first page and a deep page (reached by following the list's own cursors) for
the vendor's admin (every organisation's users) and for Northwind's partner admin (its own and
its customers'), and /healthz, the floor: a request that touches no database. Writes
bench/results/users_list-<date>.json. See bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import dataset, loadgen, machine, provenance
from bench.cases_api import issue_token, log, postgres_pids
from bench.server import Gunicorn, GunicornSettings, production_env, stop_cleanly_on_signals

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
VENDOR_ADMIN = ("vendor-admin@vendor.example", "demo-password")
PARTNER_ADMIN = ("admin@northwind.example", "demo-password")
TARGET_P95_MS = 20.0
TARGET = "the vendor's user list at 100,000 users answers p95 under 20 ms at one client (c=1)"

# Bulk partners and their customers, then users dealt round-robin over every organisation, so that
# each organisation's users are spread over the whole id range as years of sign-ups would leave them.
ORGANISATIONS = """
INSERT INTO organisations (name, kind, tier, region, partner_id, created_at)
SELECT 'Bench Partner ' || lpad(p::text, 5, '0'), 'partner', (ARRAY['PW', 'PWP'])[1 + p %% 2],
       (ARRAY['EMEA', 'AMER', 'APJ'])[1 + p %% 3], NULL, now()
FROM generate_series(1, %(partners)s) AS p;
INSERT INTO organisations (name, kind, tier, region, partner_id, created_at)
SELECT 'Bench Customer ' || lpad(p::text, 5, '0') || '-' || c, 'customer', NULL, NULL,
       CASE WHEN p = 0 THEN %(northwind)s ELSE (SELECT id FROM organisations
                                                WHERE name = 'Bench Partner ' || lpad(p::text, 5, '0')) END,
       now()
FROM generate_series(0, %(partners)s) AS p, generate_series(1, %(customers)s) AS c;
"""
USERS = """
WITH orgs AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, kind FROM organisations)
INSERT INTO users (email, name, password_hash, role, organisation_id, active, created_at)
SELECT 'bench-user-' || g || '@' || o.id || '.example', 'Bench User ' || g,
       CASE WHEN g %% 20 = 0 THEN NULL ELSE %(hash)s END,
       CASE WHEN o.kind = 'customer' THEN 'customer'
            WHEN o.kind = 'vendor' THEN (ARRAY['gtac_engineer', 'gtac_manager', 'programs'])[1 + g %% 3]
            WHEN g %% 10 = 0 THEN 'partner_admin' ELSE 'partner_engineer' END,
       o.id, g %% 50 <> 0, now() - (%(users)s - g) * interval '5 minutes'
FROM generate_series(1, %(users)s) AS g
JOIN orgs o ON o.n = g %% (SELECT count(*) FROM organisations)
ORDER BY g;
INSERT INTO certifications (user_id, product_family, expires_on)
SELECT id, (ARRAY['EXOS', 'VOSS', 'WiNG'])[1 + id %% 3], current_date + (id %% 700)
FROM users WHERE role = 'partner_engineer' AND email LIKE 'bench-user-%%';
"""


def bulk_load(database_url: str, users: int, partners: int, customers: int) -> dict:
    """Add `partners` partners with `customers` customers each (and as many for Northwind), then
    `users` users over every organisation, with certifications for the partners' engineers."""
    started = time.perf_counter()
    with psycopg.connect(database_url) as conn:
        northwind = conn.execute("SELECT id FROM organisations WHERE name = 'Northwind Networks'").fetchone()[0]
        # Every bulk user gets the demo's (real) password hash: nobody signs in as them.
        demo_hash = conn.execute("SELECT password_hash FROM users WHERE email = %s",
                                 [PARTNER_ADMIN[0]]).fetchone()[0]
        for statement in ORGANISATIONS.split(";")[:-1]:
            conn.execute(statement, {"partners": partners, "customers": customers, "northwind": northwind})
        for statement in USERS.split(";")[:-1]:
            conn.execute(statement, {"users": users, "hash": demo_hash})
        conn.commit()
    insert_s = time.perf_counter() - started
    with psycopg.connect(database_url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) organisations, users, certifications")
        conn.execute("CHECKPOINT")
        vacuum_s = time.perf_counter() - started
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM organisations), "
            "(SELECT count(*) FROM certifications), "
            "(SELECT count(*) FROM users u JOIN organisations o ON o.id = u.organisation_id "
            " WHERE o.id = %(nw)s OR o.partner_id = %(nw)s)", {"nw": northwind}).fetchone()
    return {"users_in_database": counts[0], "organisations": counts[1], "certifications": counts[2],
            "northwind_administered_users": counts[3], "insert_s": round(insert_s, 1),
            "vacuum_analyze_s": round(vacuum_s, 1)}


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def deep_cursor(base_url: str, token: str) -> dict:
    """Follow the list's cursors, 100 users a page, down to its last page; the measured deep page
    (25 users) starts where the page before the last did: among the caller's oldest users, full."""
    url, cursors, pages, items = base_url + "/api/v1/users?limit=100", [], 0, 0
    while True:
        page = get_json(url + (f"&cursor={cursors[-1]}" if cursors else ""), token)
        pages, items = pages + 1, items + len(page["items"])
        if not page["next_cursor"]:
            break
        cursors.append(page["next_cursor"])
    if not cursors:
        raise SystemExit("the caller's list has a single page: no deep page to measure")
    return {"cursor": cursors[-2] if len(cursors) > 1 else cursors[-1], "pages_followed": pages,
            "users_listed": items}


def one_request(token: str, base_url: str, path: str) -> dict:
    """One request of a scenario before it is measured: that it answers a full page."""
    started = time.perf_counter()
    page = get_json(base_url + path, token)
    return {"path": path, "items": len(page["items"]), "has_next": bool(page["next_cursor"]),
            "single_request_ms": round((time.perf_counter() - started) * 1000, 2)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.users_list", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000, help="users to bulk-load (default 100000)")
    parser.add_argument("--partners", type=int, default=500, help="bulk partners (default 500)")
    parser.add_argument("--customers", type=int, default=4, help="customers per partner, Northwind too (default 4)")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per scenario and concurrency")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of unmeasured load before each")
    parser.add_argument("--concurrency", default="1", help="comma-separated connection counts (default 1)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--quiet-cores", type=float, default=0.3)
    parser.add_argument("--quiet-timeout", type=float, default=20)
    parser.add_argument("--nice", type=int, default=-10, help="priority of gunicorn and wrk (see bench/README.md)")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/bench_users",
                        help="the benchmark database; dropped and recreated (never 'test')")
    parser.add_argument("--reuse-database", action="store_true", help="measure the database as it is")
    parser.add_argument("--revision", default=None, help="serve the application as of this git revision")
    parser.add_argument("--output", type=Path, default=None,
                        help="results file (default bench/results/users_list-<date>.json)")
    args = parser.parse_args(argv)
    args.command = "python -m bench.users_list " + " ".join(sys.argv[1:] if argv is None else argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_cleanly_on_signals()
    loadgen.require_wrk()
    started = datetime.now(UTC)
    output = args.output or RESULTS / f"users_list-{started:%Y-%m-%d}.json"
    tracked = provenance.start(REPO, [dataset.database_name(args.database_url)], args.revision)
    app_dir = machine.export_revision(REPO, args.revision) if args.revision else REPO
    try:
        return run(args, app_dir, started, output, tracked)
    finally:
        if app_dir != REPO:
            shutil.rmtree(app_dir, ignore_errors=True)


def run(args, app_dir: Path, started: datetime, output: Path, tracked: provenance.Run) -> int:
    if args.reuse_database:
        data = {"reused": True}
    else:
        log(f"preparing {dataset.database_name(args.database_url)} with {args.users} users")
        begun = time.perf_counter()
        dataset.reset_database(args.database_url)
        dataset.flask(args.database_url, app_dir, "db", "upgrade")
        dataset.flask(args.database_url, app_dir, "demo", "seed")
        data = {**bulk_load(args.database_url, args.users, args.partners, args.customers),
                "prepare_total_s": round(time.perf_counter() - begun, 1)}
        log(f"database ready: {data}")
    settings = GunicornSettings(workers=args.workers, nice=args.nice)
    env = production_env(args.database_url)
    results, callers = [], {}
    with Gunicorn(settings, args.database_url, app_dir, env) as server:
        log(f"gunicorn on {server.base_url} (log {server.log_path})")
        pg_pids = postgres_pids(args.database_url)
        scenarios = [("floor_healthz", "/healthz", {})]
        for caller, credentials in (("vendor_admin", VENDOR_ADMIN), ("partner_admin", PARTNER_ADMIN)):
            token = issue_token(server.base_url, credentials)
            deep = deep_cursor(server.base_url, token)
            first = one_request(token, server.base_url, "/api/v1/users")
            deep_path = f"/api/v1/users?cursor={deep['cursor']}"
            callers[caller] = {"email": credentials[0], **deep, "first_page": first,
                               "deep_page": one_request(token, server.base_url, deep_path)}
            log(f"{caller}: {callers[caller]}")
            headers = {"Authorization": f"Bearer {token}"}
            scenarios += [(f"{caller}_first_page", "/api/v1/users", headers),
                          (f"{caller}_deep_page", deep_path, headers)]
        for name, path, headers in scenarios:
            for concurrency in args.concurrency:
                result = loadgen.measure_get(server, name, path, concurrency, args, headers, pg_pids)
                results.append(result)
                log(loadgen.described(result))
    verdicts = loadgen.over_floor(results, TARGET_P95_MS)
    report = {
        "benchmark": "users_list",
        "date": started.isoformat(timespec="seconds"),
        "command": args.command,
        "machine": machine.describe(args.database_url),
        "deployment": {"gunicorn": settings.describe(), "redis": False,
                       "database": dataset.database_name(args.database_url) + " on 127.0.0.1"},
        "load_generator": {"tool": "wrk", "threads": 1, "timeout_s": 10},
        "settings": {"users": args.users, "partners": args.partners, "customers_per_partner": args.customers,
                     "duration_s": args.duration, "warmup_s": args.warmup, "concurrency": args.concurrency,
                     "page_size": 25, "quiet_cores": args.quiet_cores, "quiet_timeout_s": args.quiet_timeout},
        "dataset": data,
        "target": {"text": TARGET, "p95_ms_under": TARGET_P95_MS},
        "callers": callers,
        "results": results,
        "verdicts": verdicts,
        **tracked.finish(),
        "elapsed_s": round((datetime.now(UTC) - started).total_seconds()),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    log(f"results written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
