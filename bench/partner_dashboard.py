"""Benchmark of the Partner Performance & Training Dashboard, GET /api/v1/partner-status/partners/{id},
under gunicorn on PostgreSQL.

    .venv/bin/python -m bench.partner_dashboard            # the full run: 5,000 partners, 1,000,000 sales lines

Target (issue 16): a partner's dashboard answers p95 under 30 ms at one client. Creates the database
afresh (default bench_partner_dashboard), migrates it, seeds the demo data (the level set, Northwind at
Select, the Growth Rebate's current quarter), then writes straight into the tables (INSERT ... SELECT
generate_series, not the API): bench partners with a level and status each, engineers (Northwind as
many as every other partner) with certifications, trainings and a programme-wide certification
extension in the audit trail, specialisations, exceptions, a target version per partner and the
sales lines of the current quarter. Starts gunicorn on a free loopback port and measures with wrk
Northwind's dashboard for its partner admin and its engineer, the same for the programmes team, and
/healthz, the floor: a request that touches no database. Writes
bench/results/partner_dashboard-<date>.json. See bench/README.md.
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
PARTNER_ADMIN = ("admin@northwind.example", "demo-password")
ENGINEER = ("engineer@northwind.example", "demo-password")
PROGRAMS = ("programs@vendor.example", "demo-password")
TARGET_P95_MS = 30.0
TARGET = "a partner's Performance & Training Dashboard answers p95 under 30 ms at one client (c=1)"

# Bench partners at every level of the demo's level set, then engineers dealt over them and Northwind
# (the measured partner gets as many as any other), each with two certifications and a training.
PARTNERS = """
INSERT INTO organisations (name, kind, tier, region, partner_id, created_at)
SELECT 'Bench Partner ' || lpad(p::text, 5, '0'), 'partner', (ARRAY['PW', 'PWP'])[1 + p %% 2],
       (ARRAY['EMEA', 'AMER', 'APJ'])[1 + p %% 3], NULL, now()
FROM generate_series(1, %(partners)s) AS p;
INSERT INTO partner_statuses (partner_id, level_id, valid_through, next_review_on, updated_at)
SELECT o.id, (SELECT id FROM partner_levels ORDER BY rank OFFSET (o.id %% 3) LIMIT 1),
       current_date + 200 + o.id %% 100, current_date + 90 + o.id %% 30, now()
FROM organisations o WHERE o.name LIKE 'Bench Partner %%';
INSERT INTO partner_specialisations (partner_id, name, starts_on, ends_on)
SELECT o.id, s.name, current_date - 300, current_date + (o.id + s.n) %% 200 - 50
FROM organisations o, (VALUES (1, 'Campus Fabric'), (2, 'Data Center Fabric'), (3, 'Wireless')) AS s (n, name)
WHERE o.name LIKE 'Bench Partner %%';
INSERT INTO partner_exceptions (partner_id, requirement_id, until, granted_until, reason, created_by_id, created_at)
SELECT o.id, (SELECT id FROM level_requirements ORDER BY id OFFSET (o.id %% 5) LIMIT 1),
       current_date + 60, current_date + 60, 'Bench exception',
       (SELECT id FROM users WHERE email = 'programs@vendor.example'), now()
FROM organisations o WHERE o.name LIKE 'Bench Partner %%' AND o.id %% 10 = 0;
"""
ENGINEERS = """
WITH orgs AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM organisations
              WHERE name LIKE 'Bench Partner %%' OR name = 'Northwind Networks')
INSERT INTO users (email, name, password_hash, role, organisation_id, active, created_at)
SELECT 'bench-engineer-' || g || '@' || o.id || '.example', 'Bench Engineer ' || g, NULL,
       'partner_engineer', o.id, true, now()
FROM generate_series(1, %(engineers)s * (SELECT count(*) FROM orgs)) AS g
JOIN orgs o ON o.n = g %% (SELECT count(*) FROM orgs);
INSERT INTO certifications (user_id, product_family, certified_on, expires_on)
SELECT u.id, f.family, current_date - 400, current_date + (u.id * f.n) %% 700 - 100
FROM users u, (VALUES (1, 'EXOS'), (2, 'VOSS')) AS f (n, family)
WHERE u.email LIKE 'bench-engineer-%%';
INSERT INTO training_completions (user_id, course, completed_on)
SELECT u.id, (ARRAY['Fabric Connect Essentials', 'Partner Sales Foundations'])[1 + u.id %% 2],
       current_date - u.id %% 300
FROM users u WHERE u.email LIKE 'bench-engineer-%%';
INSERT INTO audit_events (at, actor_id, entity_type, entity_id, action, before, after)
SELECT now(), NULL, 'certification', c.id::text, 'certification.extended',
       json_build_object('expires_on', (c.expires_on - 90)::text), json_build_object('expires_on', c.expires_on::text)
FROM certifications c JOIN users u ON u.id = c.user_id
WHERE u.email LIKE 'bench-engineer-%%' AND c.product_family = 'EXOS';
"""
# The current quarter's sales, spread over every partner and the days of the quarter so far, and a
# target of each partner's own.
SALES = """
WITH period AS (SELECT pp.id, pp.starts_on, GREATEST(LEAST(current_date, pp.ends_on) - pp.starts_on, 1) AS span
                FROM programme_periods pp JOIN rebate_programmes rp ON rp.id = pp.programme_id
                WHERE rp.name = 'Growth Rebate' AND pp.starts_on <= current_date ORDER BY pp.starts_on DESC LIMIT 1),
     partners AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM organisations WHERE kind = 'partner')
INSERT INTO partner_sales (invoice_reference, partner_id, sold_on, product_family, amount, currency, imported_at)
SELECT 'BENCH-' || g, p.id, (SELECT starts_on FROM period) + g %% (SELECT span FROM period),
       (ARRAY['EXOS', 'VOSS', 'WING'])[1 + g %% 3], 10000 + g %% 500000, 'USD', now()
FROM generate_series(1, %(sales)s) AS g
JOIN partners p ON p.n = g %% (SELECT count(*) FROM partners);
INSERT INTO target_versions (period_id, partner_id, amount, effective_from, alleviation_id, created_by_id, created_at)
SELECT (SELECT pp.id FROM programme_periods pp JOIN rebate_programmes rp ON rp.id = pp.programme_id
        WHERE rp.name = 'Growth Rebate' ORDER BY pp.starts_on DESC LIMIT 1),
       o.id, 30000000 + o.id %% 20000000, current_date - 10, NULL,
       (SELECT id FROM users WHERE email = 'programs@vendor.example'), now()
FROM organisations o WHERE o.name LIKE 'Bench Partner %%'
"""


def bulk_load(database_url: str, partners: int, engineers: int, sales: int) -> dict:
    started = time.perf_counter()
    with psycopg.connect(database_url) as conn:
        for script, values in ((PARTNERS, {"partners": partners}), (ENGINEERS, {"engineers": engineers}),
                               (SALES, {"sales": sales})):
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement, values)
        conn.commit()
    insert_s = time.perf_counter() - started
    with psycopg.connect(database_url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
        vacuum_s = time.perf_counter() - started
        counts = dict(zip(("partners", "users", "certifications", "trainings", "specialisations", "exceptions",
                           "sales_lines", "audit_events", "northwind_engineers"), conn.execute(
            "SELECT (SELECT count(*) FROM organisations WHERE kind = 'partner'), (SELECT count(*) FROM users), "
            "(SELECT count(*) FROM certifications), (SELECT count(*) FROM training_completions), "
            "(SELECT count(*) FROM partner_specialisations), (SELECT count(*) FROM partner_exceptions), "
            "(SELECT count(*) FROM partner_sales), (SELECT count(*) FROM audit_events), "
            "(SELECT count(*) FROM users u JOIN organisations o ON o.id = u.organisation_id "
            " WHERE o.name = 'Northwind Networks')").fetchone()))
    return {**counts, "insert_s": round(insert_s, 1), "vacuum_analyze_s": round(vacuum_s, 1)}


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def one_request(token: str, base_url: str, path: str) -> dict:
    """One request before the scenario is measured: that it answers a full dashboard."""
    started = time.perf_counter()
    body = get_json(base_url + path, token)
    return {"path": path, "level": (body.get("level") or {}).get("name"), "requirements": len(body["requirements"]),
            "engineers": len(body["engineers"]),
            "certifications": sum(len(e["certifications"]) for e in body["engineers"]),
            "rebates": len(body["rebates"]), "single_request_ms": round((time.perf_counter() - started) * 1000, 2)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.partner_dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partners", type=int, default=5000, help="bench partners (default 5000)")
    parser.add_argument("--engineers", type=int, default=10, help="engineers per partner, Northwind too (default 10)")
    parser.add_argument("--sales", type=int, default=1_000_000, help="sales lines of the quarter (default 1000000)")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per scenario and concurrency")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of unmeasured load before each")
    parser.add_argument("--concurrency", default="1", help="comma-separated connection counts (default 1)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--quiet-cores", type=float, default=0.3)
    parser.add_argument("--quiet-timeout", type=float, default=20)
    parser.add_argument("--nice", type=int, default=-10, help="priority of gunicorn and wrk (see bench/README.md)")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/bench_partner_dashboard",
                        help="the benchmark database; dropped and recreated (never 'test')")
    parser.add_argument("--reuse-database", action="store_true", help="measure the database as it is")
    parser.add_argument("--revision", default=None, help="serve the application as of this git revision")
    parser.add_argument("--output", type=Path, default=None,
                        help="results file (default bench/results/partner_dashboard-<date>.json)")
    args = parser.parse_args(argv)
    args.command = "python -m bench.partner_dashboard " + " ".join(sys.argv[1:] if argv is None else argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_cleanly_on_signals()
    loadgen.require_wrk()
    started = datetime.now(UTC)
    output = args.output or RESULTS / f"partner_dashboard-{started:%Y-%m-%d}.json"
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
        log(f"preparing {dataset.database_name(args.database_url)}: {args.partners} partners, "
            f"{args.engineers} engineers each, {args.sales} sales lines")
        begun = time.perf_counter()
        dataset.reset_database(args.database_url)
        dataset.flask(args.database_url, app_dir, "db", "upgrade")
        dataset.flask(args.database_url, app_dir, "demo", "seed")
        data = {**bulk_load(args.database_url, args.partners, args.engineers, args.sales),
                "prepare_total_s": round(time.perf_counter() - begun, 1)}
        log(f"database ready: {data}")
    with psycopg.connect(args.database_url) as conn:
        northwind = conn.execute("SELECT id FROM organisations WHERE name = 'Northwind Networks'").fetchone()[0]
    path = f"/api/v1/partner-status/partners/{northwind}"
    settings = GunicornSettings(workers=args.workers, nice=args.nice)
    env = production_env(args.database_url)
    results, callers = [], {}
    with Gunicorn(settings, args.database_url, app_dir, env) as server:
        log(f"gunicorn on {server.base_url} (log {server.log_path})")
        pg_pids = postgres_pids(args.database_url)
        scenarios = [("floor_healthz", "/healthz", {})]
        for caller, credentials in (("partner_admin", PARTNER_ADMIN), ("engineer", ENGINEER),
                                    ("programs", PROGRAMS)):
            token = issue_token(server.base_url, credentials)
            callers[caller] = {"email": credentials[0], **one_request(token, server.base_url, path)}
            log(f"{caller}: {callers[caller]}")
            scenarios.append((f"{caller}_dashboard", path, {"Authorization": f"Bearer {token}"}))
        for name, scenario_path, headers in scenarios:
            for concurrency in args.concurrency:
                result = loadgen.measure_get(server, name, scenario_path, concurrency, args, headers, pg_pids)
                results.append(result)
                log(loadgen.described(result))
    verdicts = loadgen.over_floor(results, TARGET_P95_MS)
    report = {
        "benchmark": "partner_dashboard",
        "date": started.isoformat(timespec="seconds"),
        "command": args.command,
        "machine": machine.describe(args.database_url),
        "deployment": {"gunicorn": settings.describe(), "redis": False,
                       "database": dataset.database_name(args.database_url) + " on 127.0.0.1"},
        "load_generator": {"tool": "wrk", "threads": 1, "timeout_s": 10},
        "settings": {"partners": args.partners, "engineers_per_partner": args.engineers, "sales_lines": args.sales,
                     "duration_s": args.duration, "warmup_s": args.warmup, "concurrency": args.concurrency,
                     "quiet_cores": args.quiet_cores, "quiet_timeout_s": args.quiet_timeout},
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
