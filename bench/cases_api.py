"""Benchmark of POST and GET /api/v1/cases under gunicorn on PostgreSQL.

    .venv/bin/python -m bench.cases_api            # the full run: 1,000,000 cases

Creates the database afresh (default gtac_bench), migrates it, seeds the demo
data, bulk-loads the cases, starts gunicorn on a free loopback port and measures
three scenarios at each concurrency with wrk, each followed by its floor (a bare
endpoint doing one ORM insert or one ORM keyset page, bench/floor_app.py, served by
a second gunicorn of the same settings on the same database), then writes
bench/results/cases_api-<date>.json with the service's figures as ratios to the
floor's. See bench/README.md.
"""
from __future__ import annotations

import argparse
import base64
import json
import shutil
import sys
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from bench import cpu, dataset, floor_app, loadgen, machine, probe, provenance
from bench.cases_checks import (TARGETS, probe_after_writes, probe_requests, shared_machine_load,
                                 verdicts)
from bench.server import Gunicorn, GunicornSettings, production_env, stop_cleanly_on_signals

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
DEMO_ENGINEER = ("engineer@northwind.example", "demo-password")
# The partner with a tenth of the cases: its first page shows the plan for a selective tenant filter.
OTHER_ENGINEER = ("engineer@contoso.example", "demo-password")
# Each scenario: how wrk drives it and which path it hits (the deep cursor is filled in later).
SCENARIOS = {
    "list_first_page": ("get.lua", "/api/v1/cases"),
    "list_deep_page": ("get.lua", "/api/v1/cases?cursor={cursor}"),
    "create_case": ("open_case.lua", "/api/v1/cases"),
}
# The floor of each scenario: the same kind of request with nothing but one ORM statement behind it.
FLOORS = {
    "list_first_page": ("floor_page", "get.lua", "/floor/rows"),
    "list_deep_page": ("floor_deep_page", "get.lua", f"/floor/rows?cursor={floor_app.ROWS // 2}"),
    "create_case": ("floor_insert", "open_case.lua", "/floor/rows"),
}
# The issue's targets as shares of the floor's throughput: (scenario, concurrency, least share).
FLOOR_TARGETS = (("create_case", 8, 0.40), ("list_first_page", 1, 0.75))
LOAD_GENERATOR_WHY = (
    "wrk (C, epoll, one thread) records every request's latency and uses a few percent of "
    "one core at these rates, leaving the 2 cores to gunicorn and PostgreSQL; an asyncio "
    "Python client would need a large share of a core for the same rate.")
NO_REDIS_WHY = (
    "Without REDIS_URL the outbox hands the case-opened notifications to a thread inside the "
    "gunicorn worker, which runs them in batches, so the figures include that work on the same 2 cores. With Redis the "
    "same work would run in an RQ worker, which on this machine would share the same 2 cores.")


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cases_api", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to bulk-load (default 1000000)")
    parser.add_argument("--other-tenant-cases", type=int, default=None,
                        help="cases of another partner interleaved with them (default: a tenth of --cases)")
    parser.add_argument("--duration", type=float, default=30, help="seconds measured per scenario and concurrency")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of unmeasured load before each measurement")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated connection counts")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated, from: " + ", ".join(SCENARIOS))
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--quiet-cores", type=float, default=0.3,
                        help="before each measurement, wait until other processes use at most this many cores")
    parser.add_argument("--quiet-timeout", type=float, default=20,
                        help="longest wait for that quiet moment, in seconds")
    parser.add_argument("--nice", type=int, default=-10,
                        help="scheduling priority of gunicorn and wrk (negative needs root; default -10 "
                             "so that other work on a shared machine takes less from the measurement)")
    parser.add_argument("--redis-url", default=None, help="give the service Redis (outbox via RQ); default none")
    parser.add_argument("--env", action="append", default=[], type=_setting, metavar="NAME=VALUE",
                        help="one more setting for the service (repeatable), e.g. DB_POOL_SIZE=10")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/gtac_bench",
                        help="the benchmark database; dropped and recreated (never 'test')")
    parser.add_argument("--reuse-database", action="store_true",
                        help="skip the reset and bulk load: measure the database as it is")
    parser.add_argument("--revision", default=None,
                        help="serve the application as of this git revision (exported to a temporary "
                             "folder) instead of the working tree")
    parser.add_argument("--output", type=Path, default=None,
                        help="results file (default bench/results/cases_api-<date>.json)")
    args = parser.parse_args(argv)
    args.command = "python -m bench.cases_api " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.other_tenant_cases is None:
        args.other_tenant_cases = args.cases // 10
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def issue_token(base_url: str, credentials: tuple[str, str] = DEMO_ENGINEER) -> str:
    """A personal API token of a demo user, through the public API."""
    basic = base64.b64encode(":".join(credentials).encode()).decode()
    request = urllib.request.Request(base_url + "/api/v1/tokens", method="POST", data=b"{}",
                                     headers={"Authorization": f"Basic {basic}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["token"]


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def measure(server: Gunicorn, scenario: str, path: str, script: str, concurrency: int,
            args: argparse.Namespace, headers: dict, pg_pids) -> dict:
    """Warm up, then one measured wrk run with CPU accounting."""
    url = server.base_url + path
    quiet = cpu.wait_for_quiet(args.quiet_cores, args.quiet_timeout)
    loadgen.run_wrk(url, script, concurrency, args.warmup, headers, nice=args.nice)
    def groups() -> dict[str, list[int]]:
        return {"gunicorn": server.pids(), "postgres": pg_pids()}

    before = cpu.snapshot(groups())
    raw = loadgen.run_wrk(url, script, concurrency, args.duration, headers, nice=args.nice)
    after = cpu.snapshot(groups())
    result = {"scenario": scenario, "concurrency": concurrency, **loadgen.summarise(raw),
              "cpu": cpu.cores_used(before, after), "gunicorn_processes_cores": cpu.spread(before, after, "gunicorn"),
              "before_start": quiet}
    if result["throughput_rps"]:
        # CPU per answered request: what caps throughput once the 2 cores are busy.
        result["cpu_ms_per_request"] = {
            side: round(result["cpu"][f"{side}_cores"] * 1000 / result["throughput_rps"], 2)
            for side in ("gunicorn", "postgres")}
    return result


def over_floor(results: list[dict]) -> list[dict]:
    """Each scenario against its floor at the same concurrency: throughput as a share of the floor's,
    latency and gunicorn CPU per request as multiples of the floor's."""
    by_key = {(r["scenario"], r["concurrency"]): r for r in results}
    ratios = []
    for (scenario, concurrency), result in by_key.items():
        floor = by_key.get((FLOORS.get(scenario, (None,))[0], concurrency))
        if floor is None or not floor["throughput_rps"] or not result["throughput_rps"]:
            continue
        service_cpu = result.get("cpu_ms_per_request", {}).get("gunicorn")
        floor_cpu = floor.get("cpu_ms_per_request", {}).get("gunicorn")
        ratios.append({
            "scenario": scenario, "floor": floor["scenario"], "concurrency": concurrency,
            "throughput_share_of_floor": round(result["throughput_rps"] / floor["throughput_rps"], 3),
            "p50_over_floor": round(result["latency_ms"]["p50"] / floor["latency_ms"]["p50"], 2),
            "p95_over_floor": round(result["latency_ms"]["p95"] / floor["latency_ms"]["p95"], 2),
            "gunicorn_cpu_ms_per_request": {"service": service_cpu, "floor": floor_cpu},
        })
    return ratios


def floor_verdicts(results: list[dict]) -> dict:
    """The issue's targets put as shares of the floor's throughput, measured in the same run."""
    shares = {(r["scenario"], r["concurrency"]): r["throughput_share_of_floor"] for r in over_floor(results)}
    return {f"{scenario}_c{concurrency}_at_least_{least}_of_floor": {
                "share": shares.get((scenario, concurrency)), "least": least,
                "met": shares.get((scenario, concurrency), 0) >= least}
            for scenario, concurrency, least in FLOOR_TARGETS if (scenario, concurrency) in shares}


def postgres_pids(database_url: str):
    """A function listing PostgreSQL's processes: the benchmark database's backends and the background ones."""
    def pids() -> list[int]:
        with psycopg.connect(database_url, autocommit=True) as conn:
            return [row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE (datname = current_database() "
                "OR backend_type <> 'client backend') AND pid <> pg_backend_pid()")]
    return pids


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_cleanly_on_signals()
    loadgen.require_wrk()
    started = datetime.now(timezone.utc)
    output = args.output or RESULTS / f"cases_api-{started:%Y-%m-%d}.json"

    tracked = provenance.start(REPO, [dataset.database_name(args.database_url)], args.revision)
    app_dir = machine.export_revision(REPO, args.revision) if args.revision else REPO
    try:
        return run(args, app_dir, started, output, tracked)
    finally:
        if app_dir != REPO:
            shutil.rmtree(app_dir, ignore_errors=True)


def run(args: argparse.Namespace, app_dir: Path, started: datetime, output: Path,
        tracked: provenance.Run) -> int:
    """Prepare, serve, probe, measure and write the results file."""
    if args.reuse_database:
        data = {"reused": True}
    else:
        log(f"preparing {dataset.database_name(args.database_url)} with {args.cases} cases")
        data = dataset.prepare(args.database_url, app_dir, args.cases, args.other_tenant_cases)
        log(f"database ready: {data}")

    settings = GunicornSettings(workers=args.workers, worker_class=args.worker_class,
                                threads=args.threads, redis_url=args.redis_url,
                                extra_env=dict(args.env), nice=args.nice)
    env = production_env(args.database_url, dict(args.env))
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    app = probe.make_app(env, app_dir)
    cursor, cursor_before_id = probe.deep_cursor(app)
    results = []
    floor_app.prepare(args.database_url)
    floor_server = Gunicorn(settings, args.database_url, app_dir, {"DATABASE_URL": args.database_url},
                            application="bench.floor_app:create_app()")
    with Gunicorn(settings, args.database_url, app_dir, env) as server, floor_server:
        log(f"gunicorn on {server.base_url} (log {server.log_path})")
        headers = {"Authorization": f"Bearer {issue_token(server.base_url)}"}
        other_headers = {"Authorization": f"Bearer {issue_token(server.base_url, OTHER_ENGINEER)}"}
        probes = probe_requests(app, headers, other_headers, cursor)
        for name in ("list_first_page", "list_deep_page", "list_first_page_other_partner"):
            plan = probes[name]["explain"]
            log(f"{name}: indexes {plan['indexes']}, {plan['execution_ms']} ms in PostgreSQL")
        pg_pids = postgres_pids(args.database_url)
        for scenario in args.scenarios:
            script, path = SCENARIOS[scenario]
            floor_scenario, floor_script, floor_path = FLOORS[scenario]
            for concurrency in args.concurrency:
                # The scenario, then its floor at once: both see the machine as it is in that minute.
                for measured in (measure(server, scenario, path.format(cursor=cursor), script, concurrency,
                                         args, headers, pg_pids),
                                 measure(floor_server, floor_scenario, floor_path, floor_script, concurrency,
                                         args, {}, pg_pids)):
                    results.append(measured)
                    log(f"{measured['scenario']} c={concurrency}: {measured['throughput_rps']} req/s, "
                        f"p50 {measured['latency_ms']['p50']} p95 {measured['latency_ms']['p95']} "
                        f"p99 {measured['latency_ms']['p99']} ms, errors {measured['errors']}, "
                        f"cpu {measured['cpu']}, ms/request {measured.get('cpu_ms_per_request')}")
        if "create_case" in args.scenarios:
            created = sum(r["requests"] for r in results if r["scenario"] == "create_case")
            probes["list_first_page_other_partner_after_creates"] = {
                "cases_created_before": created, **probe_after_writes(app, other_headers)}
            plan = probes["list_first_page_other_partner_after_creates"]["explain"]
            log(f"other partner's first page after {created} new cases: indexes {plan['indexes']}, "
                f"{plan['execution_ms']} ms in PostgreSQL")

    report = {
        "benchmark": "cases_api",
        "date": started.isoformat(timespec="seconds"),
        "command": args.command,
        "machine": machine.describe(args.database_url),
        "deployment": {"gunicorn": settings.describe(), "redis": bool(args.redis_url),
                       "redis_why": None if args.redis_url else NO_REDIS_WHY,
                       "database": dataset.database_name(args.database_url) + " on 127.0.0.1"},
        "load_generator": {"tool": "wrk", "threads": 1, "timeout_s": 10, "why": LOAD_GENERATOR_WHY},
        "settings": {"cases": args.cases, "other_tenant_cases": args.other_tenant_cases,
                     "duration_s": args.duration, "warmup_s": args.warmup,
                     "concurrency": args.concurrency, "page_size": 25,
                     "quiet_cores": args.quiet_cores, "quiet_timeout_s": args.quiet_timeout,
                     "deep_cursor_before_id": cursor_before_id, "caller": DEMO_ENGINEER[0]},
        "dataset": data,
        "targets": TARGETS,
        "requests": probes,
        "results": results,
        "floor": {"what": floor_app.__doc__.split("\n\n")[0], "rows": floor_app.ROWS, "page": floor_app.PAGE,
                  "scenarios": {scenario: floor for scenario, (floor, _script, _path) in FLOORS.items()},
                  "over_floor": over_floor(results)},
        "verdicts": {**verdicts(results), **floor_verdicts(results)},
        "shared_machine": shared_machine_load(results),
        **tracked.finish(),
        "elapsed_s": round((datetime.now(timezone.utc) - started).total_seconds()),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    log(f"results written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
