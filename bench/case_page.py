"""Benchmark of the case page, GET /cases/{id}: the partner engineer's workspace, under gunicorn on PostgreSQL.

    .venv/bin/python -m bench.case_page                  # 100,000 other cases in the database

Target (issue 14): the case page, with its whole checklist, triage and thread, renders in p95 under
50 ms at one client on PostgreSQL, in one read transaction. Creates the database afresh (default
bench_case_page), migrates it, seeds the demo and bulk-loads `--cases` other cases (bench.dataset);
starts gunicorn in production mode; through the API, as Northwind's engineer, opens two cases with an
error log, every checklist item answered (the release-note item with a ruling on every suggested
anomaly) and `--messages` messages on the thread, and escalates one of them. Then signs in through
the sign-in form and measures with wrk, at one client: /healthz (the floor: no database), the case
ready to escalate (readiness panel, the checklist form, triage's findings, the thread) and the
escalated case (the SR box instead of the form). PostgreSQL's transaction count over each scenario,
divided by the requests wrk made, gives the transactions a page takes. Writes
bench/results/case_page-<date>.json. See bench/README.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from bench import dataset, loadgen, machine, provenance
from bench.cases_api import issue_token, log, postgres_pids
from bench.escalation_flow import Client, ready_case
from bench.server import (
    Gunicorn,
    GunicornSettings,
    production_env,
    stop_cleanly_on_signals,
)
from bench.srs import web_session

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
ENGINEER = ("engineer@northwind.example", "demo-password")
TARGET_P95_MS = 50.0
TARGET = "the case page, with its whole checklist, triage and thread, p95 under 50 ms at one client"
# What the measured answer must hold, so that wrk (which counts only 4xx and 5xx as errors) never
# measures a redirect to the sign-in page or a page without its parts.
READY_MARKERS = (b'id="readiness"', b'id="checklist-form"', b'id="thread-h"')
ESCALATED_MARKERS = (b'id="thread-h"',)  # and its SR number
STATS_SETTLE_S = 11


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.case_page", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000, help="other cases in the database (default 100000)")
    parser.add_argument("--messages", type=int, default=30, help="messages on each measured case's thread")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of unmeasured load before each")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--quiet-cores", type=float, default=0.3)
    parser.add_argument("--quiet-timeout", type=float, default=20)
    parser.add_argument("--nice", type=int, default=-10, help="priority of gunicorn and wrk (see bench/README.md)")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/bench_case_page",
                        help="the benchmark database; dropped and recreated (never 'test')")
    parser.add_argument("--output", type=Path, default=None,
                        help="results file (default bench/results/case_page-<date>.json)")
    args = parser.parse_args(argv)
    args.command = "python -m bench.case_page " + " ".join(sys.argv[1:] if argv is None else argv)
    args.concurrency = 1
    return args


def prepare_cases(base_url: str, messages: int) -> dict:
    """The two measured cases, through the API: one ready to escalate, one escalated."""
    port = urlsplit(base_url).port
    client = Client(port, issue_token(base_url), {}, threading.Lock())
    cases = {}
    for name in ("ready", "escalated"):
        case_id = ready_case(client)
        for n in range(messages):
            channel = "customer" if n % 2 else "internal"
            status, body = client.json("message", "POST", f"/api/v1/cases/{case_id}/messages",
                                       {"channel": channel, "body": f"Update {n}: port 1:49 still flaps. " * 4})
            assert status == 201, body
        cases[name] = case_id
    status, sr = client.json("escalate", "POST", f"/api/v1/cases/{cases['escalated']}/escalation", {},
                             extra={"Idempotency-Key": f"bench-case-page-{cases['escalated']}"})
    assert status == 201, sr
    cases["sr_number"] = sr["sr_number"]
    return cases


def check_page(base_url: str, database_url: str, path: str, cookie: str, markers: tuple[bytes, ...],
               requests: int = 50) -> dict:
    """The page holds its parts, and the database transactions it takes (over `requests` requests in a row)."""
    host = urlsplit(base_url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    before = transactions(database_url)
    for n in range(requests):
        connection.request("GET", path, headers={"Cookie": cookie})
        answer = connection.getresponse()
        body = answer.read()
        missing = [m.decode() for m in markers if m not in body]
        if answer.status != 200 or missing:
            raise SystemExit(f"{path} answered {answer.status} without {missing}")
    taken = transactions(database_url) - before - 1  # less the reading of `before` itself
    return {"path": path, "bytes": len(body), "transactions_per_request": round(taken / requests, 2)}


def transactions(database_url: str) -> int:
    """The database's committed and rolled-back transactions so far, once every backend has reported.

    A backend reports its counts at most once a second while busy, and within 10 s once idle."""
    time.sleep(STATS_SETTLE_S)
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                            "WHERE datname = current_database()").fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_cleanly_on_signals()
    loadgen.require_wrk()
    started = datetime.now(UTC)
    output = args.output or RESULTS / f"case_page-{started:%Y-%m-%d}.json"
    tracked = provenance.start(REPO, [dataset.database_name(args.database_url)])
    log(f"preparing {dataset.database_name(args.database_url)} with {args.cases} other cases")
    data = dataset.prepare(args.database_url, REPO, args.cases, args.cases // 10)
    settings = GunicornSettings(workers=args.workers, nice=args.nice)
    results, pages = [], {}
    with Gunicorn(settings, args.database_url, REPO, production_env(args.database_url)) as server:
        log(f"gunicorn on {server.base_url} (log {server.log_path})")
        cases = prepare_cases(server.base_url, args.messages)
        cookie = web_session(server.base_url, ENGINEER, check=f"/cases/{cases['ready']}",
                             marker=READY_MARKERS[1])
        pg_pids = postgres_pids(args.database_url)
        scenarios = [("floor_healthz", "/healthz", {}, ()),
                     ("case_ready_to_escalate", f"/cases/{cases['ready']}", {"Cookie": cookie}, READY_MARKERS),
                     ("case_escalated", f"/cases/{cases['escalated']}", {"Cookie": cookie},
                      (*ESCALATED_MARKERS, cases["sr_number"].encode()))]
        for name, path, headers, markers in scenarios:
            if markers:
                pages[name] = check_page(server.base_url, args.database_url, path, cookie, markers)
                log(f"{name}: {pages[name]}")
            result = loadgen.measure_get(server, name, path, args.concurrency, args, headers, pg_pids)
            results.append(result)
            log(loadgen.described(result))
    verdicts = loadgen.over_floor(results, TARGET_P95_MS)
    report = {
        "benchmark": "case_page",
        "date": started.isoformat(timespec="seconds"),
        "command": args.command,
        "machine": machine.describe(args.database_url),
        "deployment": {"gunicorn": settings.describe(), "redis": False,
                       "database": dataset.database_name(args.database_url) + " on 127.0.0.1"},
        "load_generator": {"tool": "wrk", "threads": 1, "connections": 1},
        "settings": {"other_cases": args.cases, "messages_per_case": args.messages, "duration_s": args.duration,
                     "warmup_s": args.warmup, "quiet_cores": args.quiet_cores,
                     "quiet_timeout_s": args.quiet_timeout},
        "dataset": data,
        "cases": cases,
        "pages": pages,
        "target": {"text": TARGET, "p95_ms_under": TARGET_P95_MS},
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
