"""Benchmark of the programme platform's integration: claims pushed -> paid -> callbacks.

    .venv/bin/python -m bench.claims_push                 # 1,000 claims at concurrency 8 (the target)
    .venv/bin/python -m bench.claims_push --claims 20     # a quick look

Everything runs on this machine, on loopback, as bench/payments_bench.py runs it:
PostgreSQL (database `claims_push_bench`, dropped and recreated), Redis (db 11,
flushed), gunicorn in production mode, two RQ workers, `flask outbox relay` and the
sandbox provider settling each payout after 0.2 s with signed webhooks back to
gunicorn. The benchmark is the platform: it registers an integration through the
API (as the programmes team), serves the integration's callback URL itself over
TLS on loopback (production asks for https; the service trusts the run's throw-away
CA through INTEGRATION_CALLBACK_CA_BUNDLE), and pushes N approved claims, each
signed and under its own reference, from `--concurrency` threads. One push in
`--replay-every` is sent a second time (a platform retrying a push whose answer it
lost), to check that replays make no second claim. Rate limits are off, as in the
payments benchmark: one address and one integration sending a thousand requests
is the load, not what is measured.

Right before the pushes, the same client measures the floor on the same gunicorn:
`GET /healthz` (no database, no signature) from `--concurrency` threads for
`--floor-seconds`; the push latencies are also given as multiples of the floor's.

It reports the time from the last push to the last payout marked paid (from the
rows' own timestamps; target: under 60 s), pushes per second and their latencies,
claims, payouts and pushed-claim rows against the references pushed (0 duplicates),
what the provider received and made per claim, the callbacks the platform received
(each verified against the signature), and the exit status of `flask ledger check`.
A 1,000-claim run writes bench/results/claims_push-<date>.json (or --output).
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import requests
from redis import Redis

from app.payments import signing
from bench import dataset, provenance
from bench.payments_bench import (PROGRAMS, _up, describe_machine, environment, one_payout_and_one_key_per_claim,
                                  provider_per_claim, run_flask, start, stop, wait_for)
from bench.server import Gunicorn, GunicornSettings, free_port
from tests.certificates import throwaway_certificate

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
TARGET_SECONDS = 60.0
FULL_SIZE = 1_000


class Platform:
    """The platform's callback endpoint over TLS: counts verified callbacks by type and reference."""

    def __init__(self, folder: Path):
        ca_file, context = throwaway_certificate(folder, "localhost")
        self.ca_file = ca_file
        self.secret = ""
        self.callbacks: Counter = Counter()
        self.by_reference: dict[str, set[str]] = {}
        self.bad_signatures = 0
        self.last_at: float | None = None
        self.lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ok = platform.receive(self.headers, body)
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"https://localhost:{self.server.server_port}/gtac/callbacks"

    def receive(self, headers, body: bytes) -> bool:
        try:
            valid = signing.verify(self.secret, body, headers.get("X-GTAC-Signature"))
        except signing.MalformedSignature:
            valid = False
        with self.lock:
            if not valid:
                self.bad_signatures += 1
                return False
            event = json.loads(body)
            self.callbacks[event["type"]] += 1
            self.by_reference.setdefault(event["data"]["reference"], set()).add(event["id"])
            self.last_at = time.time()
        return True

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def partner_id(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT id FROM organisations WHERE name = 'Northwind Networks'").fetchone()[0]


def _latency_ms(latencies: list[float]) -> dict:
    latencies = sorted(latencies)
    return {"p50": round(1000 * statistics.median(latencies), 2),
            "p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 2),
            "max": round(1000 * latencies[-1], 2)}


def measure_floor(base_url: str, concurrency: int, seconds: float, warmup: float = 1.0) -> dict:
    """GET /healthz from `concurrency` threads for `seconds`, through the client the pushes use
    (a requests.Session per thread): the floor and the pushes carry the same client-side cost."""
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    start_at = time.perf_counter() + warmup
    stop_at = start_at + seconds

    def worker():
        session = requests.Session()
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                return
            answer = session.get(f"{base_url}/healthz", timeout=60)
            spent = time.perf_counter() - began
            if began >= start_at:  # the warm-up opens the connections and is not counted
                with lock:
                    latencies.append(spent)
                    statuses[answer.status_code] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start_at
    return {"path": "/healthz", "concurrency": concurrency, "requests": len(latencies),
            "seconds": round(elapsed, 3), "per_second": round(len(latencies) / elapsed, 1),
            "status_codes": dict(statuses), "latency_ms": _latency_ms(latencies)}


def push_all(base_url: str, integration_id: int, secret: str, claims: list[dict], concurrency: int,
             replay_every: int) -> dict:
    """Push every claim from `concurrency` threads, signed; every `replay_every`-th is pushed twice."""
    work: queue.Queue[tuple[dict, bool]] = queue.Queue()
    for n, claim in enumerate(claims, start=1):
        work.put((claim, False))
        if replay_every and n % replay_every == 0:
            work.put((claim, True))
    latencies: list[float] = []
    statuses: Counter = Counter()
    replays = {"sent": 0, "answered_the_same": 0}
    first_answers: dict[str, dict] = {}
    lock = threading.Lock()
    last_push_at = [0.0]

    def worker():
        session = requests.Session()
        while True:
            try:
                claim, replay = work.get_nowait()
            except queue.Empty:
                return
            if replay:  # after the first push of the same reference has been answered
                while claim["reference"] not in first_answers:
                    time.sleep(0.01)
            raw = json.dumps(claim).encode()
            headers = {"Content-Type": "application/json", "X-GTAC-Integration": str(integration_id),
                       "X-GTAC-Signature": signing.sign(secret, raw)}
            began = time.perf_counter()
            answer = session.post(f"{base_url}/api/v1/integrations/claims", data=raw, headers=headers, timeout=60)
            spent = time.perf_counter() - began
            with lock:
                latencies.append(spent)
                statuses[answer.status_code] += 1
                last_push_at[0] = max(last_push_at[0], time.time())
                if replay:
                    replays["sent"] += 1
                    replays["answered_the_same"] += int(answer.status_code == 201
                                                        and answer.json() == first_answers[claim["reference"]])
                elif answer.status_code == 201:
                    first_answers[claim["reference"]] = answer.json()
                else:
                    first_answers[claim["reference"]] = {"refused": answer.status_code}

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"requests": len(latencies), "seconds": round(elapsed, 3),
            "per_second": round(len(latencies) / elapsed, 1), "status_codes": dict(statuses), "replays": replays,
            "last_push_at": datetime.fromtimestamp(last_push_at[0], timezone.utc),
            "latency_ms": _latency_ms(latencies)}


def paid_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM payouts p JOIN integration_claims i ON i.claim_id = p.claim_id"
                            " WHERE p.status = 'paid'").fetchone()[0]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=FULL_SIZE)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--replay-every", type=int, default=10,
                        help="push one claim in this many a second time (0: none)")
    parser.add_argument("--floor-seconds", type=float, default=5,
                        help="how long to measure the GET /healthz floor before the pushes")
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/claims_push_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--gunicorn-threads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--output", type=Path, default=None,
                        help="results file (default: bench/results/claims_push-<date>.json, written only for a "
                             f"{FULL_SIZE:,}-claim run)")
    args = parser.parse_args(argv)
    tracked = provenance.start(REPO, [dataset.database_name(args.database_url)])

    logs = Path(os.environ.get("TMPDIR", "/tmp")) / "claims-push-bench"
    logs.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="claims-push-bench-"))
    platform = Platform(folder)
    sandbox_port = free_port()
    env = {**environment(args.database_url, args.redis_url, f"http://127.0.0.1:{sandbox_port}"),
           # The platform's callback endpoint is on loopback, behind the throw-away CA.
           "SR_WEBHOOK_ALLOW_PRIVATE": "1", "INTEGRATION_CALLBACK_CA_BUNDLE": platform.ca_file}
    print(f"preparing {args.database_url} ...", flush=True)
    dataset.reset_database(args.database_url)
    Redis.from_url(args.redis_url).flushdb()
    for step in (("db", "upgrade"), ("demo", "seed")):
        done = run_flask(env, *step, production=False)
        if done.returncode:
            raise SystemExit(f"flask {' '.join(step)} failed:\n{done.stderr[-2000:]}")
    northwind = partner_id(args.database_url)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    claims = [{"reference": f"BENCH-{stamp}-{n:06d}", "partner_id": northwind, "type": "rebate",
               "amount": 1000 + n % 9000, "currency": "USD", "period": "2026-Q3",
               "description": f"bench claim {n}"} for n in range(1, args.claims + 1)]

    settings = GunicornSettings(workers=args.gunicorn_workers, worker_class="gthread",
                                threads=args.gunicorn_threads, redis_url=args.redis_url)
    processes: list[subprocess.Popen] = []
    try:
        with Gunicorn(settings, args.database_url, REPO, env={**env, "GTAC_ENV": "production"}) as server:
            try:
                processes.append(start([sys.executable, "-m", "sandbox", "--port", str(sandbox_port),
                                        "--webhook-url", f"{server.base_url}/webhooks/payments/sandbox",
                                        "--secret", env["PAYMENTS_WEBHOOK_SECRET"],
                                        "--api-key", env["PAYMENTS_SANDBOX_API_KEY"], "--settle-after", "0.2",
                                        "--webhook-concurrency", "2", "--webhook-batch", "50"],
                                       env, logs / "sandbox.log"))
                for n in range(args.rq_workers):
                    processes.append(start([sys.executable, "-m", "flask", "worker", "--queues",
                                            "payments,notifications,default"], env, logs / f"worker-{n}.log"))
                processes.append(start([sys.executable, "-m", "flask", "outbox", "relay"], env, logs / "relay.log"))
                wait_for(lambda: _up(f"http://127.0.0.1:{sandbox_port}/healthz"), 120, "the sandbox")
                redis = Redis.from_url(args.redis_url)
                wait_for(lambda: len(redis.smembers("rq:workers")) >= args.rq_workers, 120, "the RQ workers")
                token = requests.post(f"{server.base_url}/api/v1/tokens", auth=PROGRAMS, timeout=30).json()["token"]
                programs = {"Authorization": f"Bearer {token}"}
                requests.post(f"{server.base_url}/api/v1/funding", headers=programs, timeout=30, json={
                    "amount": 200_000_000, "currency": "USD", "reference": "BENCH-FUNDING"}).raise_for_status()
                registered = requests.post(f"{server.base_url}/api/v1/integrations", headers=programs, timeout=30,
                                           json={"name": "Bench platform", "callback_url": platform.url})
                if registered.status_code != 201:
                    raise SystemExit(f"registering the integration failed: {registered.text[:500]}")
                integration = registered.json()
                platform.secret = integration["secret"]

                print(f"floor: GET /healthz at concurrency {args.concurrency} for {args.floor_seconds:g} s ...",
                      flush=True)
                floor = measure_floor(server.base_url, args.concurrency, args.floor_seconds)
                print(f"floor: p50 {floor['latency_ms']['p50']} ms, p95 {floor['latency_ms']['p95']} ms, "
                      f"{floor['per_second']} requests/s", flush=True)
                print(f"pushing {len(claims)} claims at concurrency {args.concurrency} ...", flush=True)
                pushes = push_all(server.base_url, integration["id"], integration["secret"], claims,
                                  args.concurrency, args.replay_every)
                print(f"pushes done in {pushes['seconds']} s; waiting for the payouts ...", flush=True)
                expected = len(claims)
                wait_for(lambda: paid_count(args.database_url) >= expected, args.timeout, "every payout paid", 0.5)
                # The callbacks trail the payments by a moment; they are counted, not waited for long.
                deadline = time.monotonic() + 30
                while platform.callbacks["claim.paid"] < expected and time.monotonic() < deadline:
                    time.sleep(0.2)
                state = requests.get(f"http://127.0.0.1:{sandbox_port}/v1/_state", timeout=60).json()
                attempts = requests.get(f"http://127.0.0.1:{sandbox_port}/v1/_attempts", timeout=120).json()["attempts"]
            finally:
                for process in processes:
                    stop(process)
    finally:
        platform.stop()

    with psycopg.connect(args.database_url) as conn:
        first_push, last_paid, paid, payouts, pushed_rows, claim_rows, settlements = conn.execute(
            "SELECT (SELECT min(created_at) FROM integration_claims), (SELECT max(paid_at) FROM payouts),"
            " (SELECT count(*) FROM payouts WHERE status = 'paid'),"
            " (SELECT count(*) FROM payouts p JOIN integration_claims i ON i.claim_id = p.claim_id),"
            " (SELECT count(*) FROM integration_claims),"
            " (SELECT count(*) FROM claims c JOIN integration_claims i ON i.claim_id = c.id),"
            " (SELECT count(*) FROM ledger_transfers WHERE kind = 'settlement')").fetchone()
        claim_of_payout = dict(conn.execute("SELECT id, claim_id FROM payouts").fetchall())
        pushed_claim_ids = [row[0] for row in conn.execute("SELECT claim_id FROM integration_claims")]
        callbacks_owed = dict(conn.execute("SELECT status, count(*) FROM integration_callbacks GROUP BY status"))
        distinct_references = conn.execute("SELECT count(DISTINCT reference) FROM integration_claims").fetchone()[0]
    check = run_flask(env, "ledger", "check")
    provider = provider_per_claim(attempts, state["payouts"], claim_of_payout, pushed_claim_ids)
    last_push = pushes["last_push_at"]
    after_last_push = (last_paid - last_push).total_seconds()
    duplicates = (claim_rows - distinct_references) + (payouts - pushed_rows)
    over_floor = {f"{key}_over_floor": round(pushes["latency_ms"][key] / floor["latency_ms"][key], 1)
                  for key in ("p50", "p95") if floor["latency_ms"][key]}
    checks = {"all_paid": paid >= expected and payouts == expected,
              "paid_within_target_of_the_last_push": after_last_push < TARGET_SECONDS,
              "no_duplicates": duplicates == 0 and pushed_rows == expected and claim_rows == expected,
              "replays_answered_the_same": pushes["replays"]["answered_the_same"] == pushes["replays"]["sent"],
              "every_push_accepted": set(pushes["status_codes"]) == {201},
              "ledger_check_clean": check.returncode == 0,
              "one_provider_payout_and_one_key_per_claim": one_payout_and_one_key_per_claim(provider, expected)}
    result = {
        "benchmark": "claims_push",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "claims": expected, "concurrency": args.concurrency, "rq_workers": args.rq_workers,
        "gunicorn": settings.describe(),
        "last_push_to_last_paid_s": round(after_last_push, 3),
        "first_push_to_last_paid_s": round((last_paid - first_push).total_seconds(), 3),
        "pushes": {**pushes, "last_push_at": last_push.isoformat(), **over_floor},
        "floor": floor,
        "paid": paid, "payouts_of_pushed_claims": payouts, "pushed_claim_rows": pushed_rows,
        "claims_of_pushed_claims": claim_rows, "distinct_references": distinct_references,
        "duplicates": duplicates, "settlement_transfers": settlements,
        "provider": provider,
        "callbacks_received": dict(platform.callbacks), "callbacks_with_a_bad_signature": platform.bad_signatures,
        "references_with_more_than_one_paid_callback_id": sum(1 for ids in platform.by_reference.values()
                                                              if len(ids) > 1),
        "callback_rows_by_status": callbacks_owed,
        "webhooks_sent": state["webhooks_sent"], "webhooks_failed": state["webhooks_failed"],
        "ledger_check": {"exit_code": check.returncode, "output": check.stdout.strip()[-500:]},
        "target": {"claims": FULL_SIZE, "concurrency": 8, "all_paid_within_s_of_the_last_push": TARGET_SECONDS,
                   "duplicates": 0, "ledger_check": "clean"},
        "target_checks": checks,
        "target_met": all(checks.values()) and expected == FULL_SIZE and args.concurrency == 8,
        "machine": describe_machine(args.database_url, args.concurrency),
        **tracked.finish(),
    }
    out = args.output or (RESULTS / f"claims_push-{datetime.now(timezone.utc).date().isoformat()}.json"
                          if expected == FULL_SIZE else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"wrote {out}")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2, default=str))
    print(f"push p50 {pushes['latency_ms']['p50']} ms / p95 {pushes['latency_ms']['p95']} ms; floor GET /healthz "
          f"p50 {floor['latency_ms']['p50']} ms / p95 {floor['latency_ms']['p95']} ms ({floor['per_second']} "
          f"requests/s): {over_floor.get('p50_over_floor')} and {over_floor.get('p95_over_floor')} times the floor")
    return result


if __name__ == "__main__":
    main()
