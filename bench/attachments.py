"""Benchmark: one very large upload to the local folder and to an S3 API, in the same run.

    .venv/bin/python -m bench.attachments                      # 1 GiB to each store
    .venv/bin/python -m bench.attachments --size-mib 64 --output /tmp/attachments.json   # a quick look

Target (issue 17): a 1 GiB upload to the S3 back end with the worker's resident
memory flat, and its throughput at least half of the local back end's.

Starts moto's S3 API (`python -m moto.server`) on a free loopback port with a
fresh bucket, then, for each store in turn, gunicorn in production mode (one
gthread worker, PostgreSQL database gtac_bench_attachments, recreated) and
streams one multipart upload of --size-mib MiB to POST /api/v1/cases/{id}/attachments
from this process, sampling the worker's RSS every 0.1 s meanwhile. The figures
for S3 include moto's own work on the same machine (it keeps the parts in
memory and hashes them), so they are pessimistic for a real store. Results:
bench/results/attachments-<date>.json.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from bench import cpu, dataset, machine, provenance
from bench.escalation_flow import CASE, issue_token, send_upload, vm_hwm_kib
from bench.server import Gunicorn, GunicornSettings, free_port, production_env

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
TARGETS = {"s3_throughput_share_of_local_min": 0.5, "worker_rss_growth_mib_max": 64}
PART_SIZE = 8 * 1024 * 1024
S3RVER = REPO / "bench" / "s3rver"


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class S3Store:
    """An S3 API on a free loopback port, with one bucket: moto (Python, the tests' store) or
    s3rver (Node, parts as files on disk, joined by streaming them).

    The store runs in a session of its own, so that on a shared machine the kernel schedules it as
    a group of its own beside the worker (as a store elsewhere would be), not as a share of this
    client's.
    """

    KINDS = ("moto", "s3rver")

    def __init__(self, kind: str):
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.bucket = f"bench-{uuid.uuid4().hex[:8]}"
        # s3rver checks signatures against its one fixed key pair.
        key = "S3RVER" if kind == "s3rver" else "bench"
        self.credentials = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": key, "AWS_DEFAULT_REGION": "us-east-1"}

    def command(self, folder: str) -> list[str]:
        if self.kind == "moto":
            return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        binary = S3RVER / "node_modules" / ".bin" / "s3rver"
        if not binary.exists():
            raise SystemExit(f"s3rver is not installed: run `npm ci` in {S3RVER}")
        return [str(binary), "--silent", "-d", folder, "-a", "127.0.0.1", "-p", str(self.port)]

    def __enter__(self) -> "S3Store":
        import boto3

        self.folder = tempfile.TemporaryDirectory(prefix=f"gtac-bench-{self.kind}-")
        self.process = subprocess.Popen(self.command(self.folder.name),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        env={**os.environ, **self.credentials}, start_new_session=True)
        cpu.prioritise(self.process.pid, 0)
        deadline = time.monotonic() + 30
        client = boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                              aws_access_key_id=self.credentials["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=self.credentials["AWS_SECRET_ACCESS_KEY"])
        while True:
            try:
                client.create_bucket(Bucket=self.bucket)
                return self
            except Exception:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit(f"{self.kind}'s S3 API did not start")
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.folder.cleanup()


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu.process_ticks(pid) / cpu.TICKS for name, pid in pids.items()}


def thread_ticks(pid: int) -> dict[int, int]:
    """utime + stime of each live thread of a process, by thread id."""
    ticks = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        ticks[int(task.name)] = int(fields[11]) + int(fields[12])
    return ticks


def stream_upload(port: int, token: str, worker: int, size: int, store_pid: int | None = None) -> dict:
    """One multipart upload of `size` bytes, sent as it is made; the worker's RSS sampled meanwhile,
    and the CPU time of each process taking part (worker, store, this client) counted."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nsupport_bundle\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bundle.tgz\"\r\n"
            f"Content-Type: application/gzip\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunk = os.urandom(1024 * 1024)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
    connection.request("POST", "/api/v1/cases", body=json.dumps(CASE).encode(),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    case_id = json.loads(connection.getresponse().read())["id"]
    rss_before = vm_rss_kib(worker)
    samples: list[int] = []
    done = threading.Event()
    threads_before = thread_ticks(worker)
    threads_seen = dict(threads_before)

    def sample() -> None:
        while not done.wait(0.1):
            samples.append(vm_rss_kib(worker))
            threads_seen.update(thread_ticks(worker))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    digest = hashlib.sha256()
    # Who spent the machine's CPU while the upload ran: on one shared machine, the store's own work
    # (moto) competes with the worker for the same cores, which a real store would not.
    processes = {"worker": worker, "client": os.getpid(), **({"store": store_pid} if store_pid else {})}
    cpu_before, machine_before = cpu_seconds(processes), cpu.machine_ticks()
    timings: dict[str, float] = {}
    response, answer, elapsed = send_upload(connection, case_id, token, boundary, head, tail, chunk, size, digest,
                                            timings)
    cpu_after, machine_after = cpu_seconds(processes), cpu.machine_ticks()
    done.set()
    sampler.join()
    busy = machine_after[0] - machine_before[0]
    total = machine_after[1] - machine_before[1]
    cpu_used = {f"{name}_cpu_s": round(cpu_after[name] - cpu_before[name], 2) for name in processes}
    # The request's own thread is the worker's busiest one: it parses the body, hashes it and hands
    # it on, and bounds the throughput once the store keeps up; the rest ran on the sending threads.
    threads_seen.update(thread_ticks(worker))
    busiest = max(now - threads_before.get(tid, 0) for tid, now in threads_seen.items()) / cpu.TICKS
    cpu_used["worker_request_thread_cpu_s"] = round(busiest, 2)
    cpu_used["worker_other_threads_cpu_s"] = round(cpu_used["worker_cpu_s"] - busiest, 2)
    cpu_used["machine_busy_cores"] = round(busy / total * (os.cpu_count() or 1), 2) if total else 0.0
    peak = max(samples or [rss_before])
    return {"bytes": size, "status": response.status, "seconds": round(elapsed, 2),
            # From the last byte sent to the answer: the last part and the completion at the store.
            "seconds_after_body_sent": round(elapsed - timings["body_sent_s"], 2),
            "mib_per_s": round(size / 1024**2 / elapsed, 1),
            "stored_size": answer.get("size"), "sha256_matches": answer.get("sha256") == digest.hexdigest(),
            "worker_rss_mib_before": round(rss_before / 1024, 1),
            "worker_rss_mib_peak_during": round(peak / 1024, 1),
            "worker_rss_growth_mib": round((peak - rss_before) / 1024, 1),
            "worker_rss_samples": len(samples),
            "worker_peak_rss_mib_lifetime": round(vm_hwm_kib(worker) / 1024, 1),
            "cpu": cpu_used}


def measure(store: str, database_url: str, size: int, extra_env: dict[str, str], secret_env: dict[str, str],
            store_pid: int | None = None) -> dict:
    settings = GunicornSettings(workers=1, worker_class="gthread", threads=4, extra_env=extra_env)
    env = production_env(database_url, {**extra_env, **secret_env})
    with Gunicorn(settings, database_url, REPO, env=env) as server:
        token = issue_token(server.port)
        result = stream_upload(server.port, token, server.worker_pids()[0], size, store_pid)
    print(f"{store}: {json.dumps(result)}", flush=True)
    return {"gunicorn": settings.describe(), **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/gtac_bench_attachments")
    parser.add_argument("--part-size-mib", type=int, default=PART_SIZE // 1024**2, help="S3_PART_SIZE")
    parser.add_argument("--parts-in-flight", type=int, default=2, help="S3_PARTS_IN_FLIGHT")
    parser.add_argument("--s3", nargs="+", choices=S3Store.KINDS, default=list(S3Store.KINDS),
                        help="the S3 APIs to measure, each after the local folder (default: both)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc)
    output = args.output or RESULTS / f"attachments-{started:%Y-%m-%d}.json"
    tracked = provenance.start(REPO, [dataset.database_name(args.database_url)])
    size = args.size_mib * 1024 * 1024
    part_size = args.part_size_mib * 1024 * 1024

    dataset.reset_database(args.database_url)
    dataset.flask(args.database_url, REPO, "db", "upgrade")
    dataset.flask(args.database_url, REPO, "demo", "seed")
    runs = {}
    with tempfile.TemporaryDirectory(prefix="gtac-bench-attachments-") as folder:
        runs["local"] = measure("local", args.database_url, size,
                                {"ATTACHMENTS_STORAGE": "local", "ATTACHMENTS_DIR": folder}, {})
    for kind in args.s3:
        with S3Store(kind) as s3:
            runs[f"s3_{kind}"] = measure(f"s3 on {kind}", args.database_url, size,
                                         {"ATTACHMENTS_STORAGE": "s3", "S3_BUCKET": s3.bucket,
                                          "S3_ENDPOINT_URL": s3.url, "S3_REGION": "us-east-1",
                                          "S3_PART_SIZE": str(part_size),
                                          "S3_PARTS_IN_FLIGHT": str(args.parts_in_flight)},
                                         s3.credentials, store_pid=s3.process.pid)

    shares = {kind: round(runs[f"s3_{kind}"]["mib_per_s"] / runs["local"]["mib_per_s"], 2) for kind in args.s3}
    report = {
        "benchmark": "attachments",
        "date": started.isoformat(timespec="seconds"),
        "command": "python -m bench.attachments " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine.describe(args.database_url),
        "deployment": {"database": "PostgreSQL on 127.0.0.1",
                       "s3": {"moto": f"moto {version('moto')} server on 127.0.0.1 (same machine)",
                              "s3rver": "s3rver 3.7.1 (Node) on 127.0.0.1 (same machine), files on disk"},
                       "store_own_session": True,
                       "s3_part_size": part_size, "s3_parts_in_flight": args.parts_in_flight},
        "settings": {"size_mib": args.size_mib, "part_size_mib": args.part_size_mib,
                     "parts_in_flight": args.parts_in_flight},
        "targets": TARGETS,
        "results": runs,
        "s3_throughput_share_of_local": shares,
        **tracked.finish(),
    }
    report["verdicts"] = {
        "all_stored_whole": all(r["status"] == 201 and r["stored_size"] == size and r["sha256_matches"]
                                for r in runs.values()),
        **{f"s3_on_{kind}_at_least_half_of_local": share >= TARGETS["s3_throughput_share_of_local_min"]
           for kind, share in shares.items()},
        **{f"s3_on_{kind}_worker_rss_flat":
           runs[f"s3_{kind}"]["worker_rss_growth_mib"] <= TARGETS["worker_rss_growth_mib_max"] for kind in args.s3},
        "full_size": args.size_mib >= 1024,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({"results": runs, "shares": shares,
                      "verdicts": report["verdicts"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
