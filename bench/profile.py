"""Where the time of each hot path goes: pyinstrument over the request in-process, on PostgreSQL.

    .venv/bin/python -m bench.profile [--database-url postgresql://postgres@127.0.0.1:5432/gtac_profile]
                                      [--repeat 200] [--path open_case ...]
    .venv/bin/python -m bench.profile --plain --output bench/results/profile-<date>.json

Creates the database afresh, migrates it, seeds the demo data and a few hundred
cases (their jobs run in-process while preparing; while measuring, committed outbox
events are only handed over, as to a worker queue), then runs each hot path --repeat times through the Flask test client
(no HTTP server, so what is measured is the application's own CPU), with
pyinstrument sampling the thread's CPU clock (waiting for PostgreSQL is not counted). Prints, per path: CPU milliseconds per request (process
time), SQL statements per request, and the share of samples by where the time
is spent (our code by package, SQLAlchemy, marshmallow, Flask/Werkzeug, the
database driver, JSON). The account in bench/README.md is read off its output.

With --plain there is no profiler: each request's CPU time is taken alone (the
thread's CPU clock), and --output writes their median, p95 and mean per path with
the targets of app CPU per request that have one, as JSON with the machine and the
run's provenance.

With --calls each path's Python function calls per request are counted (cProfile) instead: on a
shared machine whose speed moves by a quarter within an hour, the count tells two revisions apart
where a cut of a tenth is lost in the timings' scatter.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
PATHS = ("open_case", "list_cases", "answer_checklist", "escalate", "approve_claim", "case_page", "sr_queue_page",
         "partner_sr_list")
# App CPU per request, median, in milliseconds: the hot paths' targets (the GTAC queue page's is a
# latency under load, measured by bench.srs).
CPU_TARGETS_MS = {"open_case": 3.5, "list_cases": 2.0, "escalate": 8.0, "approve_claim": 5.0, "case_page": 10.0}
BUCKETS = (("app/", None), ("sqlalchemy/", "SQLAlchemy"), ("marshmallow/", "marshmallow"),
           ("flask_smorest/", "flask-smorest"), ("apispec/", "flask-smorest"), ("webargs/", "marshmallow"),
           ("psycopg/", "psycopg (driver)"), ("jinja2/", "Jinja2"), ("werkzeug/", "Flask/Werkzeug"),
           ("flask/", "Flask/Werkzeug"), ("flask_login/", "Flask/Werkzeug"), ("flask_wtf/", "Flask/Werkzeug"),
           ("wtforms/", "Flask/Werkzeug"), ("json/", "JSON"), ("argon2", "password hashing"))


def bucket(filename: str) -> str:
    for marker, name in BUCKETS:
        if marker in filename:
            if name is None:  # ours: by package
                part = filename.split("app/", 1)[1]
                return "app." + part.split("/", 1)[0].removesuffix(".py")
            return name
    if "/lib/python3" in filename and "site-packages" not in filename:
        return "stdlib: " + filename.rsplit("/", 1)[-1].removesuffix(".py")
    return "other"


def fresh_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def build_app(url: str):
    os.environ.update({"GTAC_ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "profile",
                       "JOBS_EAGER": "1", "PASSWORD_TIME_COST": "1", "PASSWORD_MEMORY_COST": "8192"})
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(REPO))
    from app import create_app

    app = create_app(instance_path=tempfile.mkdtemp(prefix="gtac-profile-"))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(REPO / "migrations"))
        from app.demo.seed import seed_demo

        seed_demo()
    # Payouts would call the sandbox provider; profiling measures the approval, not the payout.
    app.extensions["outbox_handlers"]["payments.execute"] = lambda uow, payload: None
    return app


def basic(email: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:demo-password".encode()).decode()}


def token(client, email: str) -> dict:
    answer = client.post("/api/v1/tokens", headers=basic(email))
    return {"Authorization": f"Bearer {answer.json['token']}"}


def complete_checklist(client, headers, case_id: int) -> None:
    sys.path.insert(0, str(REPO))
    from tests.case_helpers import complete_checklist as complete

    complete(client, headers, case_id)


def new_case(client, headers, n: int) -> int:
    answer = client.post("/api/v1/cases", headers=headers, json={
        "serial_number": f"ACME-{(n % 10) + 1:04d}", "software_version": "32.6.1.4", "severity": "S2",
        "title": f"Uplink flaps on core switch {n}", "description": "Port 1:49 flaps every few minutes."})
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def prepare(app, repeat: int) -> dict:
    """Tokens, a case book, escalation-ready cases, submitted claims and a signed-in page client."""
    client = app.test_client()
    engineer, gtac = token(client, "engineer@northwind.example"), token(client, "gtac@vendor.example")
    admin, programs = token(client, "admin@northwind.example"), token(client, "programs@vendor.example")
    for n in range(300):
        new_case(client, engineer, n)
    ready = []
    for n in range(repeat):
        case_id = new_case(client, engineer, 1000 + n)
        complete_checklist(client, engineer, case_id)
        ready.append(case_id)
    # bench.escalation_flow answers nine items a case: the request it sends most.
    open_cases = [new_case(client, engineer, 3000 + n) for n in range(repeat)]
    claims = []
    for n in range(repeat):
        claim = client.post("/api/v1/claims", headers=admin, json={
            "type": "rebate", "amount": 1000 + n, "currency": "USD", "period": "2026-Q3",
            "description": "Profiling rebate"}).json
        assert client.post(f"/api/v1/claims/{claim['id']}/submit", headers=admin).status_code == 200
        claims.append(claim["id"])
    # The page clients sign in through the form (a failed sign-in would profile the redirect to /login);
    # the pages themselves are drawn with their forms' CSRF tokens, as for a browser.
    app.config["WTF_CSRF_ENABLED"] = False
    pages, queue_pages = app.test_client(), app.test_client()
    for page_client, email in ((pages, "engineer@northwind.example"), (queue_pages, "gtac@vendor.example")):
        signed_in = page_client.post("/login", data={"email": email, "password": "demo-password"})
        assert signed_in.status_code == 302 and "/login" not in signed_in.location, signed_in.status
    app.config["WTF_CSRF_ENABLED"] = True
    page_case = new_case(client, engineer, 999)
    complete_checklist(client, engineer, page_case)
    return {"client": client, "engineer": engineer, "gtac": gtac, "programs": programs, "ready": ready,
            "open_cases": open_cases, "page_case": page_case,
            "claims": claims, "pages": pages, "queue_pages": queue_pages}


def _page(client, path: str):
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer


def operations(ctx: dict) -> dict:
    client, counter = ctx["client"], iter(range(10**6))
    return {
        "open_case": lambda: new_case(client, ctx["engineer"], 5000 + next(counter)),
        "list_cases": lambda: client.get("/api/v1/cases", headers=ctx["engineer"]),
        "answer_checklist": lambda: client.put(
            f"/api/v1/cases/{ctx['open_cases'].pop()}/checklist/problem_isolation", headers=ctx["engineer"],
            json={"value": "Swapped optics and cable, moved the uplink: the flap follows the port."}),
        "escalate": lambda: client.post(f"/api/v1/cases/{ctx['ready'].pop()}/escalation", json={},
                                        headers=ctx["engineer"]),
        "approve_claim": lambda: client.post(f"/api/v1/claims/{ctx['claims'].pop()}/approve",
                                             headers=ctx["programs"]),
        "case_page": lambda: _page(ctx["pages"], f"/cases/{ctx['page_case']}"),
        "sr_queue_page": lambda: _page(ctx["queue_pages"], "/srs"),
        # A partner's first page of its SRs (newest first), the escalate path's SRs among them.
        "partner_sr_list": lambda: client.get("/api/v1/srs", headers=ctx["engineer"]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/gtac_profile")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--path", action="append", choices=PATHS)
    parser.add_argument("--sql", action="store_true", help="also print the SQL statements of one request per path")
    parser.add_argument("--tree", action="store_true", help="also print pyinstrument's call tree per path")
    parser.add_argument("--plain", action="store_true",
                        help="measure the CPU time without the profiler (its overhead grows with the depth of "
                             "the calls, so it weighs on SQLAlchemy more than on the rest)")
    parser.add_argument("--calls", action="store_true",
                        help="count the Python function calls per request instead (cProfile): a figure that "
                             "does not move with the machine's load, for comparing two revisions")
    parser.add_argument("--output", type=Path, help="with --plain: write the figures as JSON to this file")
    args = parser.parse_args(argv)
    if args.output and not args.plain:
        parser.error("--output needs --plain: the profiler's own cost would be in the figures")
    if args.calls and (args.plain or args.tree):
        parser.error("--calls counts calls: it goes without --plain and --tree")
    from bench import provenance

    started = time.time()
    tracked = provenance.start(REPO, [args.database_url.rsplit("/", 1)[1]]) if args.output else None
    measured: dict[str, dict] = {}
    from pyinstrument import Profiler
    from pyinstrument.stack_sampler import get_stack_sampler

    # Sample on this thread's CPU clock: time spent waiting for PostgreSQL is not the app's CPU.
    get_stack_sampler().timer_func = time.thread_time

    fresh_database(args.database_url)
    app = build_app(args.database_url)
    ctx = prepare(app, args.repeat)
    statements, shown = Counter(), []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.update(["n"])
        shown.append((statement, executemany))

    with app.app_context():
        from app.extensions import db

        sa.event.listen(db.engine, "before_cursor_execute", count)
    # From here on committed events are handed over as a worker queue would take them, not run in the
    # request: what is measured is what a web worker spends (outbox rows included, their jobs not).
    app.extensions["outbox_dispatch"] = len
    ops = operations(ctx)
    for name in args.path or PATHS:
        op = ops[name]
        for _ in range(5):  # warm-up: plans, caches, first-use imports
            shown.clear()
            op()
        if args.sql:  # the last warm-up request's statements
            print(f"\n{name}: the statements of one request")
            for statement, executemany in shown:
                print("   ", " ".join(statement.split())[:300], "(executemany)" if executemany else "")
        statements.clear()
        shown.clear()
        runs = args.repeat - 5 if name in ("answer_checklist", "escalate", "approve_claim") else args.repeat
        if args.calls:
            import cProfile
            import pstats

            counting = cProfile.Profile()
            counting.enable()
            for _ in range(runs):
                op()
            counting.disable()
            print(f"\n{name}: {pstats.Stats(counting).total_calls / runs:.0f} Python function calls per request, "
                  f"{statements['n'] / runs:.1f} SQL statements per request")
            continue
        if args.plain:
            each = []
            for _ in range(runs):
                cpu_started = time.thread_time()
                op()
                each.append((time.thread_time() - cpu_started) * 1000)
            measured[name] = {"requests": runs, "median_ms": round(statistics.median(each), 3),
                              "p95_ms": round(statistics.quantiles(each, n=20)[-1], 3),
                              "mean_ms": round(statistics.fmean(each), 3),
                              "sql_statements_per_request": round(statements["n"] / runs, 2)}
            print(f"\n{name}: {measured[name]['median_ms']:.2f} ms CPU per request, median "
                  f"(p95 {measured[name]['p95_ms']:.2f}, no profiler), "
                  f"{statements['n'] / runs:.1f} SQL statements per request")
            continue
        profiler = Profiler(interval=0.0005)
        cpu_started = time.process_time()
        profiler.start()
        for _ in range(runs):
            op()
        profiler.stop()
        cpu_ms = (time.process_time() - cpu_started) * 1000 / runs
        shares, leaves = Counter(), Counter()
        for stack, seconds in profiler.last_session.frame_records:
            leaf = stack[-1].split("\x00")
            function, filename = leaf[0], leaf[1] if len(leaf) > 1 else ""
            shares[bucket(filename)] += seconds
            if os.environ.get("PROFILE_LEAVES") and "psycopg" in filename:
                leaves[(function, filename.rsplit("/", 2)[-1])] += seconds
        total = sum(shares.values()) or 1
        print(f"\n{name}: {cpu_ms:.2f} ms CPU per request (profiled), "
              f"{statements['n'] / runs:.1f} SQL statements per request")
        for where, seconds in shares.most_common(12):
            print(f"  {100 * seconds / total:5.1f}%  {where}")
        for where, seconds in leaves.most_common(8):
            print(f"      {100 * seconds / total:5.1f}%  {where}")
        if args.tree:
            print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False))
    if args.output:
        write_report(args, measured, started, tracked)


def write_report(args, measured: dict[str, dict], started: float, tracked) -> None:
    """The --plain figures as JSON, with the targets they meet or miss."""
    from bench import machine

    report = {
        "benchmark": "profile",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(started)),
        "command": "python -m bench.profile " + " ".join(sys.argv[1:]),
        "machine": machine.describe(args.database_url),
        "how": ("each hot path run in-process through the Flask test client on PostgreSQL, after 5 "
                "warm-up requests; each request's CPU time on the thread's clock (waiting for "
                "PostgreSQL not counted); no HTTP server, and committed outbox events only handed "
                "over, as to a worker queue, so their jobs are not counted"),
        "settings": {"repeat": args.repeat, "database": args.database_url.rsplit("/", 1)[1]},
        "results": measured,
        "targets": {f"{name}_cpu_ms_median_max": limit for name, limit in CPU_TARGETS_MS.items()},
        "verdicts": {name: {"median_ms": measured[name]["median_ms"], "max_ms": limit,
                            "met": measured[name]["median_ms"] <= limit}
                     for name, limit in CPU_TARGETS_MS.items() if name in measured},
        **tracked.finish(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
