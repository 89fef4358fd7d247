"""Contracts import benchmark: 100,000 covered serials from one ERP file, then the same file again.

    .venv/bin/python -m bench.import_contracts --database-url postgresql://postgres@127.0.0.1:5432/bench_imports

Targets (issue 13): importing 100,000 covered serials takes under 30 s with the
importer's peak memory under 150 MB, and a re-import of the same file takes
under 15 s and changes nothing.

The database named is dropped and created again, migrated and seeded with the
demo data; the file (10 serials per contract, a thousand customers new to the
service, split between the two demo partners) is written to a temporary folder.
Each import is `flask import contracts FILE` in a process of its own, as an
operator runs it: its time is the whole command's (start-up included) and its
peak memory the process's maximum resident set (wait4's rusage of that child),
the application's start-up included; the start-up alone (`--help` of the same
command) is measured too, and what the import adds over it is recorded beside.
Results go to bench/results/import_contracts-<date>.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import dataset, machine, provenance

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
PARTNERS = ("Northwind Networks", "Contoso Integrators")
MODELS = ("X465-48T", "X695-48Y", "VSP4900-48P", "AP5020")
COUNTS = re.compile(r"(\d+) added, (\d+) changed, (\d+) unchanged, (\d+) refused")


def write_file(path: Path, serials: int, per_contract: int, customers: int) -> int:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(("contract_number", "level", "customer", "partner", "starts_on", "ends_on", "serial_number",
                      "product_model"))
        for n in range(serials):
            contract = n // per_contract
            customer = contract % customers
            out.writerow((f"BENCH-{contract:07d}", "PWP" if contract % 3 else "PW", f"Bench Customer {customer:05d}",
                          PARTNERS[customer % 2], "2026-01-01", "2028-12-31", f"BSN{n:09d}",
                          MODELS[n % len(MODELS)]))
    return path.stat().st_size


def flask_command(database_url: str, *args: str) -> tuple[str, str, float, os.struct_rusage | None, int]:
    """Run `flask ARGS` as a process of its own: (stdout, stderr, seconds, its rusage, exit code)."""
    env = {**os.environ, "DATABASE_URL": database_url, "GTAC_ENV": "development", "JOBS_EAGER": "1",
           "FLASK_APP": "wsgi.py"}
    env.pop("REDIS_URL", None)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "flask", *args], cwd=REPO,
                                 env=env, stdout=out, stderr=err, text=True)
        # wait4: this one process's own peak resident set, not the largest of every child so far.
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0), err.seek(0)
        return out.read(), err.read(), seconds, usage, os.waitstatus_to_exitcode(status)


def start_up_peak_mb(database_url: str) -> float:
    """The peak resident set of the command that only starts the application (its help)."""
    *_, usage, _ = flask_command(database_url, "import", "contracts", "--help")
    return round(usage.ru_maxrss / 1024, 1)


def run_import(database_url: str, path: Path) -> dict:
    stdout, stderr, seconds, usage, code = flask_command(database_url, "import", "contracts", str(path))
    if code != 0:
        raise SystemExit(f"the import failed ({code}):\n{stdout}\n{stderr[-3000:]}")
    added, changed, unchanged, refused = map(int, COUNTS.search(stdout).groups())
    return {"seconds": round(seconds, 2), "added": added, "changed": changed, "unchanged": unchanged,
            "refused": refused, "output": stdout.strip(), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "user_cpu_s": round(usage.ru_utime, 2), "system_cpu_s": round(usage.ru_stime, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database of the benchmark's own")
    parser.add_argument("--serials", type=int, default=100_000)
    parser.add_argument("--per-contract", type=int, default=10)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--note", help="recorded with the results, e.g. that the machine was busy")
    args = parser.parse_args()
    started = datetime.now(timezone.utc)
    args.output = args.output or RESULTS / f"import_contracts-{started:%Y-%m-%d}.json"
    tracked = provenance.start(REPO, [dataset.database_name(args.database_url)])
    dataset.reset_database(args.database_url)
    dataset.flask(args.database_url, REPO, "db", "upgrade")
    dataset.flask(args.database_url, REPO, "demo", "seed")
    result = {"measured_at": started.isoformat(timespec="seconds"), "machine": machine.describe(args.database_url),
              "python": platform.python_version(), "database": "postgresql",
              "parameters": {k: v for k, v in vars(args).items() if k not in ("database_url", "output", "note")}}
    if args.note:
        result["note"] = args.note
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contracts.csv"
        result["file_bytes"] = write_file(path, args.serials, args.per_contract, args.customers)
        result["start_up_peak_rss_mb"] = start_up_peak_mb(args.database_url)
        result["first_import"] = run_import(args.database_url, path)
        print("first import", result["first_import"], flush=True)
        result["second_import"] = run_import(args.database_url, path)
        print("second import", result["second_import"], flush=True)
    first, second = result["first_import"], result["second_import"]
    for run in (first, second):  # what the import itself adds to the application's start-up
        run["peak_rss_growth_over_start_up_mb"] = round(run["peak_rss_mb"] - result["start_up_peak_rss_mb"], 1)
    result["targets"] = {
        "import_under_30_s": first["seconds"] < 30 and first["added"] == args.serials,
        "importer_peak_under_150_mb": first["peak_rss_mb"] < 150,
        "reimport_under_15_s_with_0_changes": second["seconds"] < 15 and second["added"] + second["changed"] == 0,
    }
    result.update(tracked.finish())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["targets"]))


if __name__ == "__main__":
    main()
