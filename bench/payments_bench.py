"""Benchmark of the payments pipeline: approval -> payout -> provider -> paid webhook.

    .venv/bin/python -m bench.payments_bench --worker-class simple                     # one claim per request
    .venv/bin/python -m bench.payments_bench --worker-class simple --approve-batch 100 # 100 per request
    .venv/bin/python -m bench.payments_bench --claims 1000                             # a quick look

Everything runs on this machine, on loopback: PostgreSQL (database
`payments_bench`, dropped and recreated), Redis (db 12, flushed), gunicorn in
production mode, two RQ workers, `flask outbox relay` and the sandbox provider
(`python -m sandbox`) settling each payout after 0.2 s and posting
signed webhooks back to gunicorn, up to `--webhook-batch` events per delivery
over two delivery connections.

It loads N submitted claims, funds the pre-funding balance, then approves the
claims from `--concurrency` threads, one per POST /api/v1/claims/{id}/approve
or `--approve-batch` per POST /api/v1/claims/approvals, and waits until every
payout is paid. It reports the time from the first approval to the last payout
marked paid (from the rows' own timestamps), payouts per second, approval
latencies, payouts and settlements in the ledger, the exit status of `flask ledger
check`, and what the provider really received and made, claim by claim: every
create attempt the sandbox recorded (refused ones included), the idempotency keys
each claim's attempts carried, and the provider payouts made for each claim. A
10,000-claim run writes bench/results/payments-<date>-<worker class>-<single|batchN>.json
(or --output). Target: 10,000 paid in under 60 s, exactly one provider payout per
claim, every claim's attempts under one key.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import requests
from redis import Redis

from app.payments.payouts import parse_reference
from bench import dataset, machine, provenance
from bench.server import Gunicorn, GunicornSettings, free_port

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
PROGRAMS = ("programs@vendor.example", "demo-password")
TARGET_SECONDS = 60.0


def environment(database_url: str, redis_url: str, sandbox_url: str) -> dict[str, str]:
    """One set of secrets for every process: the seed, gunicorn, the workers and the checker."""
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secrets.token_urlsafe(32),
            "PAYMENTS_WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "PAYEE_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "SR_WEBHOOK_SECRET_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "INTEGRATION_SECRET_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "PAYMENTS_PROVIDER": "sandbox", "PAYMENTS_SANDBOX_URL": sandbox_url,
            "PAYMENTS_SANDBOX_API_KEY": "bench-" + secrets.token_hex(8), "FLASK_APP": "wsgi.py",
            "RATE_LIMITS_ENABLED": "0"}  # one address approving thousands of claims: not what is measured


def run_flask(env: dict[str, str], *args: str, production: bool = True) -> subprocess.CompletedProcess:
    full = {**os.environ, **env, "GTAC_ENV": "production" if production else "development"}
    full.pop("JOBS_EAGER", None)
    if not production:  # the seed: no Redis, its few events run in the seeding process
        full.pop("REDIS_URL", None)
        full["JOBS_EAGER"] = "1"
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=REPO, env=full, capture_output=True,
                          text=True)


def load_claims(database_url: str, n: int) -> list[int]:
    """N submitted rebate claims of Northwind Networks, inserted in one statement."""
    with psycopg.connect(database_url) as conn:
        partner_id, admin_id = conn.execute(
            "SELECT o.id, u.id FROM organisations o JOIN users u ON u.organisation_id = o.id "
            "WHERE o.name = 'Northwind Networks' AND u.email = 'admin@northwind.example'").fetchone()
        rows = conn.execute(
            "INSERT INTO claims (partner_id, created_by_id, type, amount, currency, period, description, status,"
            " submitted_at, created_at, updated_at) "
            "SELECT %(p)s, %(u)s, 'rebate', 1000 + g %% 9000, 'USD', '2026-Q3', 'bench claim ' || g, 'submitted',"
            " now(), now(), now() FROM generate_series(1, %(n)s) AS g RETURNING id",
            {"p": partner_id, "u": admin_id, "n": n}).fetchall()
    return sorted(r[0] for r in rows)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    full = {**os.environ, **env, "GTAC_ENV": "production"}
    full.pop("JOBS_EAGER", None)
    return subprocess.Popen(command, cwd=REPO, env=full, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out waiting for {what}")


def approve_all(base_url: str, token: str, claim_ids: list[int], concurrency: int, batch: int) -> dict:
    """Approve every claim from `concurrency` threads: one request per claim (POST .../approve),
    or `batch` claims per POST /api/v1/claims/approvals. Latencies are per request."""
    work: queue.Queue[list[int]] = queue.Queue()
    for start in range(0, len(claim_ids), batch):
        work.put(claim_ids[start:start + batch])
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()

    def worker():
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            try:
                chunk = work.get_nowait()
            except queue.Empty:
                return
            began = time.perf_counter()
            if batch == 1:
                answer = session.post(f"{base_url}/api/v1/claims/{chunk[0]}/approve", headers=headers, timeout=60)
            else:
                answer = session.post(f"{base_url}/api/v1/claims/approvals", json={"claim_ids": chunk},
                                      headers=headers, timeout=120)
            spent = time.perf_counter() - began
            with lock:
                latencies.append(spent)
                statuses[answer.status_code] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {"claims_per_request": batch, "requests": len(latencies), "seconds": round(elapsed, 3),
            "per_second": round(len(claim_ids) / elapsed, 1), "status_codes": dict(statuses),
            "latency_ms": {"p50": round(1000 * statistics.median(latencies), 1),
                           "p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
                           "max": round(1000 * latencies[-1], 1)}}


def provider_per_claim(attempts: list[dict], provider_payouts: list[dict], claim_of_payout: dict[int, int],
                       claim_ids: list[int]) -> dict:
    """What the provider received and made, claim by claim, from the sandbox's own record.

    An idempotency key names its payout (PO<payout id>[-attempt]) and the payout its
    claim, so a claim sent under a second key, or paid out twice under two keys, shows
    here even though the provider merges repeats of one key. The benchmark's payouts
    never fail, so each claim has one attempt at paying it: one key. A key naming no
    payout of ours is counted apart.
    """
    def claim_of(key: str) -> int | None:
        parsed = parse_reference(key)
        return claim_of_payout.get(parsed[0]) if parsed else None

    keys: dict[int, set[str]] = defaultdict(set)
    tries: Counter = Counter()
    made: Counter = Counter()
    unattributed_attempts = unattributed_payouts = 0
    for attempt in attempts:
        claim = claim_of(attempt["idempotency_key"])
        if claim is None:
            unattributed_attempts += 1
            continue
        keys[claim].add(attempt["idempotency_key"])
        tries[claim] += 1
    for payout in provider_payouts:
        claim = claim_of(payout["reference"])
        if claim is None:
            unattributed_payouts += 1
            continue
        made[claim] += 1
    wanted = set(claim_ids)
    return {
        "create_attempts": len(attempts),
        "create_attempts_by_status": _histogram(a["status"] for a in attempts),
        "claims_by_create_attempts": _histogram(tries[c] for c in wanted),
        "claims_by_distinct_keys": _histogram(len(keys[c]) for c in wanted),
        "provider_payouts": len(provider_payouts),
        "claims_by_provider_payouts": _histogram(made[c] for c in wanted),
        "claims_without_a_provider_payout": sum(1 for c in wanted if made[c] == 0),
        "claims_with_more_than_one_provider_payout": sum(1 for c in wanted if made[c] > 1),
        "claims_sent_under_more_than_one_key": sum(1 for c in wanted if len(keys[c]) > 1),
        "create_attempts_for_no_claim_of_this_run": unattributed_attempts
                                                    + sum(n for c, n in tries.items() if c not in wanted),
        "provider_payouts_for_no_claim_of_this_run": unattributed_payouts
                                                     + sum(n for c, n in made.items() if c not in wanted),
    }


def one_payout_and_one_key_per_claim(provider: dict, claims: int) -> bool:
    """Provider payouts equal claims, one each and none missing, and each claim sent under one key."""
    return (provider["provider_payouts"] == claims
            and provider["claims_by_provider_payouts"] == {"1": claims}
            and provider["claims_by_distinct_keys"] == {"1": claims}
            and provider["create_attempts_for_no_claim_of_this_run"] == 0
            and provider["provider_payouts_for_no_claim_of_this_run"] == 0)


def _histogram(values) -> dict[str, int]:
    """{value: how many}, in value order; keys as strings, as JSON has them (None: not answered)."""
    counted = Counter(values)
    return {str(value): counted[value] for value in sorted(counted, key=lambda v: (v is None, v or 0))}


def paid_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM payouts WHERE status = 'paid'").fetchone()[0]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/payments_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--gunicorn-threads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--worker-class", choices=["fork", "simple"], default="fork",
                        help="fork: `flask worker` (a work-horse process per job, as deployed); "
                             "simple: RQ's SimpleWorker, jobs in the worker process itself")
    parser.add_argument("--approve-batch", type=int, default=1, choices=range(1, 101), metavar="1..100",
                        help="claims per approval request: 1 is POST /claims/{id}/approve, more is "
                             "POST /claims/approvals")
    parser.add_argument("--webhook-batch", type=int, default=50,
                        help="the sandbox sends up to this many status events per webhook delivery")
    parser.add_argument("--output", type=Path, default=None,
                        help="results file (default: bench/results/payments-<date>-<class>-<mode>.json, "
                             "written only for a 10,000-claim run)")
    args = parser.parse_args(argv)
    tracked = provenance.start(REPO, [dataset.database_name(args.database_url)])

    logs = Path(os.environ.get("TMPDIR", "/tmp")) / "payments-bench"
    logs.mkdir(parents=True, exist_ok=True)
    sandbox_port = free_port()
    env = environment(args.database_url, args.redis_url, f"http://127.0.0.1:{sandbox_port}")
    print(f"preparing {args.database_url} ...", flush=True)
    dataset.reset_database(args.database_url)
    Redis.from_url(args.redis_url).flushdb()
    for step in (("db", "upgrade"), ("demo", "seed")):
        done = run_flask(env, *step, production=False)
        if done.returncode:
            raise SystemExit(f"flask {' '.join(step)} failed:\n{done.stderr[-2000:]}")
    claim_ids = load_claims(args.database_url, args.claims)

    settings = GunicornSettings(workers=args.gunicorn_workers, worker_class="gthread",
                                threads=args.gunicorn_threads, redis_url=args.redis_url)
    processes: list[subprocess.Popen] = []
    with Gunicorn(settings, args.database_url, REPO, env={**env, "GTAC_ENV": "production"}) as server:
        try:
            processes.append(start([sys.executable, "-m", "sandbox", "--port", str(sandbox_port),
                                    "--webhook-url", f"{server.base_url}/webhooks/payments/sandbox",
                                    "--secret", env["PAYMENTS_WEBHOOK_SECRET"],
                                    "--api-key", env["PAYMENTS_SANDBOX_API_KEY"], "--settle-after", "0.2",
                                    "--webhook-concurrency", "2", "--webhook-batch", str(args.webhook_batch)],
                                   env, logs / "sandbox.log"))
            for n in range(args.rq_workers):
                if args.worker_class == "fork":
                    command = [sys.executable, "-m", "flask", "worker", "--queues", "payments,notifications,default"]
                else:
                    command = [sys.executable, "-m", "rq.cli", "worker", "--url", args.redis_url,
                               "--worker-class", "rq.worker.SimpleWorker", "--with-scheduler",
                               "payments", "notifications", "default"]
                processes.append(start(command, env, logs / f"worker-{n}.log"))
            processes.append(start([sys.executable, "-m", "flask", "outbox", "relay"], env, logs / "relay.log"))
            wait_for(lambda: _up(f"http://127.0.0.1:{sandbox_port}/healthz"), 120, "the sandbox")
            redis = Redis.from_url(args.redis_url)
            wait_for(lambda: len(redis.smembers("rq:workers")) >= args.rq_workers, 120, "the RQ workers")
            token = requests.post(f"{server.base_url}/api/v1/tokens", auth=PROGRAMS, timeout=30).json()["token"]
            funded = requests.post(f"{server.base_url}/api/v1/funding", headers={"Authorization": f"Bearer {token}"},
                                   json={"amount": 200_000_000, "currency": "USD", "reference": "BENCH-FUNDING"},
                                   timeout=30)
            funded.raise_for_status()

            print(f"approving {len(claim_ids)} claims at concurrency {args.concurrency} ...", flush=True)
            approvals = approve_all(server.base_url, token, claim_ids, args.concurrency, args.approve_batch)
            print(f"approvals done in {approvals['seconds']} s; waiting for the payouts ...", flush=True)
            expected = len(claim_ids)
            wait_for(lambda: paid_count(args.database_url) >= expected, args.timeout, "every payout paid", 0.5)
            state = requests.get(f"http://127.0.0.1:{sandbox_port}/v1/_state", timeout=60).json()
            attempts = requests.get(f"http://127.0.0.1:{sandbox_port}/v1/_attempts", timeout=120).json()["attempts"]
        finally:
            for process in processes:
                stop(process)

    with psycopg.connect(args.database_url) as conn:
        first, last, paid, payouts, settlements = conn.execute(
            "SELECT (SELECT min(approved_at) FROM claims WHERE id = ANY(%(ids)s)),"
            " (SELECT max(paid_at) FROM payouts), (SELECT count(*) FROM payouts WHERE status = 'paid'),"
            " (SELECT count(*) FROM payouts),"
            " (SELECT count(*) FROM ledger_transfers WHERE kind = 'settlement')", {"ids": claim_ids}).fetchone()
        claim_of_payout = dict(conn.execute("SELECT id, claim_id FROM payouts").fetchall())
    check = run_flask(env, "ledger", "check")
    provider = provider_per_claim(attempts, state["payouts"], claim_of_payout, claim_ids)
    seconds = (last - first).total_seconds()
    checks = {"all_paid": paid == expected, "under_target_s": seconds < TARGET_SECONDS,
              "one_payout_row_per_claim": payouts == expected, "one_settlement_per_claim": settlements == expected,
              "ledger_check_clean": check.returncode == 0,
              "one_provider_payout_and_one_key_per_claim": one_payout_and_one_key_per_claim(provider, expected)}
    result = {
        "benchmark": "payments_pipeline",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "claims": expected, "concurrency": args.concurrency, "rq_workers": args.rq_workers,
        "rq_worker_class": args.worker_class, "sandbox_webhook_batch": args.webhook_batch,
        "gunicorn": settings.describe(),
        "first_approval_to_last_paid_s": round(seconds, 3),
        "payouts_per_second": round(paid / seconds, 1) if seconds else None,
        "approvals": approvals,
        "paid": paid, "payouts": payouts, "settlement_transfers": settlements,
        "provider": provider,
        "webhooks_sent": state["webhooks_sent"], "webhooks_failed": state["webhooks_failed"],
        "ledger_check": {"exit_code": check.returncode, "output": check.stdout.strip()[-500:]},
        "target": {"all_paid_under_s": TARGET_SECONDS, "one_provider_payout_per_claim": True,
                   "one_key_per_claim": True},
        "target_checks": checks,
        "target_met": all(checks.values()),
        "machine": describe_machine(args.database_url, args.concurrency),
        **tracked.finish(),
    }
    mode = "single" if args.approve_batch == 1 else f"batch{args.approve_batch}"
    out = args.output or (RESULTS / f"payments-{datetime.now(timezone.utc).date().isoformat()}"
                                    f"-{args.worker_class}-{mode}.json" if expected == 10_000 else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"wrote {out}")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2, default=str))
    return result


def describe_machine(database_url: str, concurrency: int) -> dict:
    """The machine, with this benchmark's own load generator (it does not use wrk)."""
    try:
        described = machine.describe(database_url)
    except FileNotFoundError as exc:  # describe() asks `wrk --version`; wrk may not be installed
        described = {"error": str(exc)}
    described["load_generator"] = f"python requests, {concurrency} threads"
    return described


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()
