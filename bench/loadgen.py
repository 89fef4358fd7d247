"""Driving load with wrk: one process, one event-loop thread, N connections kept busy.

wrk is written in C and spends a few percent of one core at the rates this
service reaches, so nearly all of the 2 cores are left to gunicorn and PostgreSQL.
It records the latency of every request (not a sample) in a histogram.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from bench import cpu

WRK_DIR = Path(__file__).resolve().parent / "wrk"


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (Debian's package), then run again")


def run_wrk(url: str, script: str, connections: int, seconds: float, headers: dict[str, str],
            timeout_s: int = 10, nice: int = 0) -> dict:
    """Run wrk for `seconds` at `connections` concurrent connections; wrk's summary as a dict."""
    command = ["nice", "-n", str(nice), "wrk", "--threads", "1", "--connections", str(connections),
               "--duration", f"{int(seconds)}s", "--timeout", f"{timeout_s}s",
               "--script", str(WRK_DIR / script)]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    command.append(url)
    env = {**os.environ, "BENCH_WRK_DIR": str(WRK_DIR)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, start_new_session=True)
    cpu.prioritise(process.pid, nice)
    try:
        stdout, stderr = process.communicate(timeout=seconds + timeout_s + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    raise RuntimeError(f"wrk gave no summary (exit {process.returncode}):\n{stdout}\n{stderr}")


def summarise(raw: dict) -> dict:
    """Throughput and latency in the units the results file uses (requests/s, milliseconds)."""
    seconds = raw["duration_us"] / 1e6
    errors = raw["errors"]
    error_count = sum(errors.values())
    answered_ok = raw["requests"] - errors["status"]
    latency = {key: round(value / 1000, 2) for key, value in raw["latency_us"].items()}
    return {
        "duration_s": round(seconds, 2),
        "requests": raw["requests"],
        "errors": error_count,
        "error_kinds": {kind: count for kind, count in errors.items() if count},
        # Only requests that got a 2xx answer count towards throughput.
        "throughput_rps": round(answered_ok / seconds, 1) if seconds else 0.0,
        "latency_ms": {key: latency[key] for key in ("p50", "p95", "p99", "max", "mean", "min", "p90")},
    }


def measure_get(server, name: str, path: str, concurrency: int, args, headers: dict, pg_pids) -> dict:
    """One GET scenario on a bench.server.Gunicorn: wait for a quiet machine, warm up, then measure
    with wrk, with the CPU the server and PostgreSQL used meanwhile."""
    from bench import cpu

    url = server.base_url + path
    quiet = cpu.wait_for_quiet(args.quiet_cores, args.quiet_timeout)
    run_wrk(url, "get.lua", concurrency, args.warmup, headers, nice=args.nice)

    def groups() -> dict[str, list[int]]:
        return {"gunicorn": server.pids(), "postgres": pg_pids()}

    before = cpu.snapshot(groups())
    raw = run_wrk(url, "get.lua", concurrency, args.duration, headers, nice=args.nice)
    after = cpu.snapshot(groups())
    return {"scenario": name, "path": path, "concurrency": concurrency, **summarise(raw),
            "cpu": cpu.cores_used(before, after), "before_start": quiet}


FLOOR = "floor_healthz"


def over_floor(results: list[dict], target_p95_ms: float) -> dict:
    """Each scenario's p50 and p95 as multiples of the floor's at the same concurrency (how much of
    the latency is the endpoint's own work rather than HTTP, gunicorn and Flask), and the verdicts
    of the scenarios measured at one client: p95 under the target, no errors."""
    floors = {r["concurrency"]: r["latency_ms"] for r in results if r["scenario"] == FLOOR}
    for result in results:
        floor = floors.get(result["concurrency"])
        if floor and result["scenario"] != FLOOR:
            result["p50_over_floor"] = round(result["latency_ms"]["p50"] / floor["p50"], 2)
            result["p95_over_floor"] = round(result["latency_ms"]["p95"] / floor["p95"], 2)
    return {f"{r['scenario']} c={r['concurrency']}": {
                "p95_ms": r["latency_ms"]["p95"], "errors": r["errors"],
                "met": r["latency_ms"]["p95"] < target_p95_ms and r["errors"] == 0}
            for r in results if r["concurrency"] == 1 and r["scenario"] != FLOOR}


def described(result: dict) -> str:
    """One measured scenario in a line of the harness's log."""
    latency = result["latency_ms"]
    return (f"{result['scenario']} c={result['concurrency']}: {result['throughput_rps']} req/s, p50 {latency['p50']} "
            f"p95 {latency['p95']} p99 {latency['p99']} ms, errors {result['errors']}, cpu {result['cpu']}")
