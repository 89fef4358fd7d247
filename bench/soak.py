"""Soak: mixed traffic from every role for a long while, with workers and Redis failing under it.

    .venv/bin/python -m bench.soak [--duration 1800] [--kill-every 120] [--redis-restarts 2]

Everything runs on this machine, on loopback: PostgreSQL (database `bench_soak`, dropped and
recreated), a Redis server of its own (`redis-server` on port 6390, no persistence, so that a
restart loses every queued job, and the shared server is never touched), gunicorn in production
mode (2 gthread workers x 8 threads), `--rq-workers` `flask worker` processes, `flask outbox relay`,
the sandbox payments provider, and a partner's SR webhook receiver that answers one byte every 2 s.

16 client threads work as every role at once (bench/soak_traffic.py) for `--duration` seconds.
Meanwhile one RQ worker, with the job it is running, is SIGKILLed every `--kill-every` seconds and
started again, and Redis is stopped and started `--redis-restarts` times. After the traffic stops
the run waits (up to `--drain-timeout`) for every outbox event to be processed and every approved
claim to be paid, then checks: answers with a 5xx, outbox events never processed, SRs per case and
payouts per claim (in the database and at the provider), `flask ledger check`, and the web
processes' resident memory at the start of the traffic and at its end. Results:
bench/results/soak-<date>.json (or --output).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import requests
from redis import Redis
from redis.exceptions import RedisError

from bench import dataset, provenance
from bench.payments_bench import (
    _up,
    describe_machine,
    environment,
    provider_per_claim,
    run_flask,
    start,
    stop,
    wait_for,
)
from bench.server import Gunicorn, GunicornSettings, free_port, stop_cleanly_on_signals
from bench.soak_traffic import CLIENTS, Record, Shared, issue_tokens, run_clients

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
TARGETS = {"server_errors": 0, "outbox_events_unprocessed": 0, "cases_with_more_than_one_sr": 0,
           "claims_with_more_than_one_payout": 0, "ledger_check_clean": True, "web_rss_growth_at_most": 0.10}


class TricklingReceiver:
    """A partner's SR webhook receiver that reads the request, then answers one byte every 2 s."""

    def __init__(self, every_s: float = 2.0):
        self.every_s = every_s
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hooks/gtac"
        self.connections = 0
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn):
        with conn:
            try:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000:
                    if self.stopped.wait(self.every_s):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return  # the sender gave up: its deadline

    def close(self):
        self.stopped.set()
        self.listener.close()


class RedisServer:
    """A redis-server of the benchmark's own, without persistence: a restart empties it."""

    def __init__(self, port: int, log: Path):
        self.port, self.log, self.process = port, log, None
        self.restarts: list[dict] = []

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=self.log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self._ping, 20, f"redis-server on port {self.port}", 0.05)

    def _ping(self) -> bool:
        try:
            return Redis(port=self.port, socket_timeout=1).ping()
        except RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def restart(self, down_s: float, at_s: float) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()
        self.restarts.append({"at_s": round(at_s, 1), "down_s": down_s})


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            children = []
        for child in map(int, children):
            found.append(child)
            todo.append(child)
    return found


class Workers:
    """The RQ workers (`flask worker`), kept at their number: one killed or exited is started again."""

    def __init__(self, count: int, env: dict[str, str], logs: Path):
        self.env, self.logs = env, logs
        self.processes: list[subprocess.Popen | None] = [None] * count
        self.kills: list[dict] = []
        self.unplanned_exits: list[dict] = []
        self.next_victim = 0

    def start_missing(self, at_s: float | None = None) -> None:
        for n, process in enumerate(self.processes):
            if process is not None and process.poll() is None:
                continue
            if process is not None and at_s is not None:
                self.unplanned_exits.append({"at_s": round(at_s, 1), "worker": n, "exit_code": process.returncode})
            self.processes[n] = start([sys.executable, "-m", "flask", "worker"], self.env,
                                      self.logs / f"worker-{n}-{int(time.time())}.log")

    def kill_one(self, at_s: float) -> None:
        """SIGKILL one worker and the work-horse of the job it runs, if any, then start it again."""
        n = self.next_victim % len(self.processes)
        self.next_victim += 1
        process = self.processes[n]
        victims = [process.pid, *descendants(process.pid)]
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()
        self.kills.append({"at_s": round(at_s, 1), "worker": n, "processes_killed": len(victims)})
        self.processes[n] = start([sys.executable, "-m", "flask", "worker"], self.env,
                                  self.logs / f"worker-{n}-{int(time.time())}.log")

    def stop(self) -> None:
        for process in self.processes:
            if process is not None:
                stop(process)


def register_webhook(base_url: str, token: str, url: str, database_url: str) -> requests.Response:
    """Northwind's admin registers the receiver. Production takes https addresses only and the
    receiver speaks plain http on loopback, so the address is registered as https and the row
    then rewritten to http: deliveries go through the same checks and deadline either way."""
    hook = requests.post(f"{base_url}/api/v1/webhooks", json={"url": url.replace("http://", "https://", 1)},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if hook.status_code != 201:
        raise SystemExit(f"webhook not registered: {hook.status_code} {hook.text[:500]}")
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE partner_webhooks SET url = %s WHERE id = %s", (url, hook.json()["id"]))
    return hook


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}
    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)
    return {"count": len(ordered), "p50": round(statistics.median(ordered), 2), "p95": at(0.95),
            "p99": at(0.99), "max": round(ordered[-1], 2)}


def floor(base_url: str, seconds: float) -> dict:
    """GET /healthz from one client: gunicorn and Flask, no database, no authentication."""
    latencies = []
    session = requests.Session()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        began = time.perf_counter()
        session.get(base_url + "/healthz", timeout=10)
        latencies.append((time.perf_counter() - began) * 1000)
    return percentiles(latencies)


def health_probe(base_url: str, until: float, samples: list[float], errors: list[str]) -> None:
    """One GET /healthz a second through the whole run: a stalled service shows here."""
    while time.monotonic() < until:
        began = time.perf_counter()
        try:
            answer = requests.get(base_url + "/healthz", timeout=30)
            if answer.status_code != 200:
                errors.append(f"{answer.status_code}")
        except requests.RequestException as exc:
            errors.append(repr(exc)[:200])
        samples.append((time.perf_counter() - began) * 1000)
        time.sleep(max(0.0, 1 - (time.perf_counter() - began)))


def database_state(database_url: str) -> dict:
    with psycopg.connect(database_url) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]
        return {
            "outbox_events": one("SELECT count(*) FROM outbox_events"),
            "outbox_events_unprocessed": one("SELECT count(*) FROM outbox_events WHERE processed_at IS NULL"),
            "outbox_events_given_up": one("SELECT count(*) FROM outbox_events WHERE processed_at IS NULL "
                                          "AND attempts >= 8"),
            "outbox_unprocessed_by_topic": dict(conn.execute(
                "SELECT topic, count(*) FROM outbox_events WHERE processed_at IS NULL GROUP BY topic").fetchall()),
            "outbox_events_by_attempts": {str(k): v for k, v in conn.execute(
                "SELECT attempts, count(*) FROM outbox_events GROUP BY attempts ORDER BY attempts").fetchall()},
            "cases": one("SELECT count(*) FROM cases"),
            "srs": one("SELECT count(*) FROM service_requests"),
            "cases_with_more_than_one_sr": one(
                "SELECT count(*) FROM (SELECT case_id FROM service_requests GROUP BY case_id HAVING count(*) > 1) d"),
            "claims_by_status": dict(conn.execute("SELECT status, count(*) FROM claims GROUP BY status").fetchall()),
            "payouts_by_status": dict(conn.execute("SELECT status, count(*) FROM payouts GROUP BY status").fetchall()),
            "claims_with_more_than_one_payout": one(
                "SELECT count(*) FROM (SELECT claim_id FROM payouts GROUP BY claim_id HAVING count(*) > 1) d"),
            "approved_claims_without_paid_payout": one(
                "SELECT count(*) FROM claims c WHERE c.approved_at IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM payouts p WHERE p.claim_id = c.id AND p.status = 'paid')"),
            "webhook_deliveries_by_status": dict(conn.execute(
                "SELECT status, count(*) FROM webhook_deliveries GROUP BY status").fetchall()),
            "webhook_delivery_attempts": one("SELECT coalesce(sum(attempts), 0) FROM webhook_deliveries"),
        }


def drain_until_empty(database_url: str, timeout_s: float, every_s: float = 2.0) -> dict:
    """Poll until no outbox event is unprocessed and no approved claim unpaid (or `timeout_s`): when
    each reached zero, and what was left every 10 s, so a drain that falls short shows its trend."""
    began = time.monotonic()
    samples: list[dict] = []
    zero_at: dict[str, float | None] = {"outbox_events_unprocessed": None, "approved_claims_without_paid_payout": None}
    while True:
        at = time.monotonic() - began
        with psycopg.connect(database_url) as conn:
            left = {"outbox_events_unprocessed": conn.execute(
                        "SELECT count(*) FROM outbox_events WHERE processed_at IS NULL").fetchone()[0],
                    "approved_claims_without_paid_payout": conn.execute(
                        "SELECT count(*) FROM claims c WHERE c.approved_at IS NOT NULL AND NOT EXISTS "
                        "(SELECT 1 FROM payouts p WHERE p.claim_id = c.id AND p.status = 'paid')").fetchone()[0]}
        for what, count in left.items():
            if count == 0 and zero_at[what] is None:
                zero_at[what] = round(at, 1)
            elif count:
                zero_at[what] = None
        if not samples or at >= samples[-1]["at_s"] + 10 or not any(left.values()):
            samples.append({"at_s": round(at, 1), **left})
        if not any(left.values()) or at >= timeout_s:
            break
        time.sleep(every_s)
    complete = not any(left.values())
    return {"complete": complete, "seconds": round(time.monotonic() - began, 1),
            "seconds_to_zero": round(at, 1) if complete else None,
            "outbox_zero_after_s": zero_at["outbox_events_unprocessed"],
            "claims_paid_after_s": zero_at["approved_claims_without_paid_payout"],
            "left_at_end": left, "samples": samples}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=1800, help="seconds of traffic")
    parser.add_argument("--kill-every", type=float, default=120, help="seconds between RQ worker SIGKILLs")
    parser.add_argument("--redis-restarts", type=int, default=2, help="spread evenly over the run")
    parser.add_argument("--redis-down", type=float, default=3, help="seconds Redis stays down each time")
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--rq-workers", type=int, default=3)
    parser.add_argument("--escalate-every", type=float, default=10, help="seconds between escalations (all clients)")
    parser.add_argument("--move-every", type=float, default=10, help="seconds between GTAC moves (all clients)")
    parser.add_argument("--engineer-think", type=float, default=9,
                        help="mean seconds each engineer client thinks between actions (bench/soak_traffic.py)")
    parser.add_argument("--customer-open-every", type=float, default=20,
                        help="seconds between cases opened by customers (all clients)")
    parser.add_argument("--warmup", type=float, default=30, help="seconds of traffic before the start RSS is read")
    parser.add_argument("--drain-timeout", type=float, default=1200,
                        help="seconds to wait after the traffic for every event processed and claim paid")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/bench_soak")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--note", default=None, help="how the run was made, recorded in the file")
    args = parser.parse_args(argv)
    stop_cleanly_on_signals()
    started = datetime.now(UTC)
    output = args.output or RESULTS / f"soak-{started:%Y-%m-%d}.json"
    probe = socket.socket()
    if probe.connect_ex(("127.0.0.1", args.redis_port)) == 0:
        raise SystemExit(f"something already listens on port {args.redis_port}: the soak needs a Redis of its own")
    probe.close()
    tracked = provenance.start(REPO, [dataset.database_name(args.database_url)])

    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"soak-bench-{started:%Y%m%dT%H%M%S}"
    logs.mkdir(parents=True, exist_ok=True)
    redis_url = f"redis://127.0.0.1:{args.redis_port}/0"
    sandbox_port = free_port()
    env = {**environment(args.database_url, redis_url, f"http://127.0.0.1:{sandbox_port}"),
           "SR_WEBHOOK_ALLOW_PRIVATE": "1"}  # the receiver is on loopback
    print(f"preparing {args.database_url} (logs in {logs}) ...", flush=True)
    dataset.reset_database(args.database_url)
    for step in (("db", "upgrade"), ("demo", "seed")):
        done = run_flask(env, *step, production=False)
        if done.returncode:
            raise SystemExit(f"flask {' '.join(step)} failed:\n{done.stderr[-2000:]}")

    redis_server = RedisServer(args.redis_port, logs / "redis.log")
    receiver = TricklingReceiver()
    workers = Workers(args.rq_workers, env, logs)
    helpers: list[subprocess.Popen] = []
    record = Record()
    settings = GunicornSettings(workers=2, worker_class="gthread", threads=8, redis_url=redis_url)
    redis_server.start()
    try:
        with Gunicorn(settings, args.database_url, REPO, env={**env, "GTAC_ENV": "production"}) as server:
            helpers.append(start([sys.executable, "-m", "sandbox", "--port", str(sandbox_port),
                                  "--webhook-url", f"{server.base_url}/webhooks/payments/sandbox",
                                  "--secret", env["PAYMENTS_WEBHOOK_SECRET"],
                                  "--api-key", env["PAYMENTS_SANDBOX_API_KEY"], "--settle-after", "0.2",
                                  "--webhook-concurrency", "2", "--webhook-batch", "20"], env, logs / "sandbox.log"))
            helpers.append(start([sys.executable, "-m", "flask", "outbox", "relay"], env, logs / "relay.log"))
            workers.start_missing()
            wait_for(lambda: _up(f"http://127.0.0.1:{sandbox_port}/healthz"), 120, "the sandbox")
            wait_for(lambda: len(Redis.from_url(redis_url).smembers("rq:workers")) >= args.rq_workers, 120,
                     "the RQ workers")
            tokens = issue_tokens(server.port)
            auth = {"Authorization": f"Bearer {tokens['programs']}"}
            requests.post(f"{server.base_url}/api/v1/funding", headers=auth, timeout=30,
                          json={"amount": 2_000_000_000, "currency": "USD", "reference": "SOAK-FUNDING"}
                          ).raise_for_status()
            hook = register_webhook(server.base_url, tokens["partner_admin"], receiver.url, args.database_url)
            floor_before = floor(server.base_url, 10)

            shared = Shared(args.escalate_every, args.move_every, args.engineer_think, args.customer_open_every)
            shared.webhook_id = hook.json()["id"]
            began = time.monotonic()
            until = began + args.duration
            print(f"traffic for {args.duration:.0f} s at concurrency {len(CLIENTS)} ...", flush=True)
            threads = run_clients(server.port, tokens, shared, record, until, began)
            health_samples: list[float] = []
            health_errors: list[str] = []
            threading.Thread(target=health_probe, args=(server.base_url, until, health_samples, health_errors),
                             daemon=True).start()
            web_pids_start = server.pids()
            rss_samples: list[dict] = []
            restarts_at = [began + args.duration * (n + 1) / (args.redis_restarts + 1)
                           for n in range(args.redis_restarts)]
            next_kill = began + args.kill_every
            rss_start = None
            while time.monotonic() < until:
                now = time.monotonic()
                if rss_start is None and now >= began + args.warmup:
                    rss_start = rss_kib(server.pids())
                if now >= next_kill:
                    workers.kill_one(now - began)
                    next_kill += args.kill_every
                if restarts_at and now >= restarts_at[0]:
                    restarts_at.pop(0)
                    print(f"  {now - began:.0f} s: restarting Redis", flush=True)
                    redis_server.restart(args.redis_down, now - began)
                workers.start_missing(now - began)
                if not rss_samples or now - began >= rss_samples[-1]["at_s"] + 10:
                    rss_samples.append({"at_s": round(now - began, 1), "rss_kib": rss_kib(server.pids())})
                time.sleep(0.2)
            for thread in threads:
                thread.join(timeout=120)
            rss_end = rss_kib(server.pids())
            web_pids_end = server.pids()
            traffic_s = time.monotonic() - began

            print("traffic done; waiting for every outbox event processed and every approved claim paid ...",
                  flush=True)
            drain = drain_until_empty(args.database_url, args.drain_timeout)
            print(f"drain: {json.dumps({k: v for k, v in drain.items() if k != 'samples'})}", flush=True)
            floor_after = floor(server.base_url, 10)
            state = requests.get(f"http://127.0.0.1:{sandbox_port}/v1/_state", timeout=60).json()
            attempts = requests.get(f"http://127.0.0.1:{sandbox_port}/v1/_attempts", timeout=120).json()["attempts"]
    finally:
        workers.stop()
        for process in helpers:
            stop(process)
        redis_server.stop()
        receiver.close()

    database = database_state(args.database_url)
    with psycopg.connect(args.database_url) as conn:
        claim_of_payout = dict(conn.execute("SELECT id, claim_id FROM payouts").fetchall())
        approved = [r[0] for r in conn.execute("SELECT id FROM claims WHERE approved_at IS NOT NULL")]
    provider = provider_per_claim(attempts, state["payouts"], claim_of_payout, approved)
    check = run_flask(env, "ledger", "check")
    server_errors = len(record.server_errors)
    requests_total = sum(sum(c.values()) for c in record.statuses.values())
    latency = {step: percentiles(values) for step, values in sorted(record.latencies.items())}
    for figures in latency.values():
        if figures.get("count"):
            figures["p50_over_floor"] = round(figures["p50"] / floor_before["p50"], 1)
            figures["p95_over_floor"] = round(figures["p95"] / floor_before["p95"], 1)
    everything = [ms for values in record.latencies.values() for ms in values]
    rss_growth = (rss_end - rss_start) / rss_start if rss_start else None
    checks = {
        "no_5xx": server_errors == 0,
        "no_connection_errors": not record.connection_errors,
        "every_outbox_event_processed": database["outbox_events_unprocessed"] == 0,
        "every_approved_claim_paid": database["approved_claims_without_paid_payout"] == 0,
        "one_sr_per_case": database["cases_with_more_than_one_sr"] == 0,
        "replayed_escalations_gave_the_same_sr": set(record.idempotent_replays) <= {"same_sr"},
        "one_payout_per_claim": database["claims_with_more_than_one_payout"] == 0,
        "one_provider_payout_per_approved_claim": (provider["claims_with_more_than_one_provider_payout"] == 0
                                                   and provider["claims_without_a_provider_payout"] == 0),
        "ledger_check_clean": check.returncode == 0,
        "web_rss_flat_within_10_percent": rss_growth is not None and abs(rss_growth) <= 0.10,
        "same_web_processes_start_to_end": web_pids_start == web_pids_end,
        "other_tenant_always_404": set(record.tenancy) <= {"404"},
    }
    result = {
        "benchmark": "soak",
        "date": started.isoformat(timespec="seconds"),
        "command": "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:]),
        "note": args.note,
        "settings": {"duration_s": args.duration, "concurrency": len(CLIENTS), "clients_by_role":
                     {role: CLIENTS.count(role) for role in dict.fromkeys(CLIENTS)},
                     "kill_every_s": args.kill_every, "redis_restarts": args.redis_restarts,
                     "redis_down_s": args.redis_down, "rq_workers": args.rq_workers,
                     "escalate_every_s": args.escalate_every, "gtac_move_every_s": args.move_every,
                     "engineer_think_s": args.engineer_think, "customer_open_every_s": args.customer_open_every,
                     "webhook_receiver": "one byte every 2 s (SR_WEBHOOK_TIMEOUT_SECONDS 5, default)",
                     "warmup_s": args.warmup, "drain_timeout_s": args.drain_timeout},
        "deployment": {"gunicorn": settings.describe(), "database": "PostgreSQL on 127.0.0.1",
                       "redis": f"redis-server of its own on port {args.redis_port}, --save '' --appendonly no",
                       "jobs": f"{args.rq_workers} x `flask worker` (forked work-horse per job), `flask outbox relay`",
                       "not_run": "`flask scheduler`: webhook deliveries get their first attempt only (no retries),"
                                  " SLA alerts are not scanned"},
        "targets": TARGETS,
        "results": {
            "traffic_s": round(traffic_s, 1),
            "requests": requests_total,
            "requests_per_s": round(requests_total / traffic_s, 1),
            "server_errors": server_errors,
            "server_errors_first": record.server_errors[:20],
            "connection_errors": len(record.connection_errors),
            "connection_errors_first": record.connection_errors[:20],
            "statuses_by_step": {step: {str(k): v for k, v in sorted(c.items())}
                                 for step, c in sorted(record.statuses.items())},
            "unexpected_refusals_first": record.unexpected[:20],
            "escalations": record.escalations,
            "escalation_replays": dict(record.idempotent_replays),
            "other_tenant_probes": dict(record.tenancy),
            "latency_ms": {"all_requests": percentiles(everything), **latency},
            "floor_healthz_ms": {"before": floor_before, "after": floor_after},
            "healthz_during_run_ms": {**percentiles(health_samples), "errors": health_errors[:20]},
            "web_rss_kib": {"start_after_warmup": rss_start, "end": rss_end,
                            "growth": round(rss_growth, 4) if rss_growth is not None else None,
                            "samples": rss_samples,
                            "processes_start": web_pids_start, "processes_end": web_pids_end},
            "worker_kills": workers.kills,
            "worker_unplanned_exits": workers.unplanned_exits,
            "redis_restarts": redis_server.restarts,
            "webhook_receiver_connections": receiver.connections,
            "drain": drain,
            "database": database,
            "provider": provider,
            "ledger_check": {"exit_code": check.returncode, "output": check.stdout.strip()[-500:]},
        },
        "checks": checks,
        "target_met": all(checks.values()),
        "machine": describe_machine(args.database_url, len(CLIENTS)),
        **tracked.finish(),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"wrote {output}")
    print(json.dumps({"checks": checks, "server_errors": server_errors, "requests": requests_total,
                      "web_rss_kib": result["results"]["web_rss_kib"]["growth"],
                      "drain": {k: v for k, v in drain.items() if k != "samples"}, "database": database},
                     indent=2, default=str))
    return result


if __name__ == "__main__":
    main()
