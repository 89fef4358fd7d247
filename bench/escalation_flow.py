"""Benchmark: cases taken from open to SR through the API, and one very large upload.

    .venv/bin/python -m bench.escalation_flow [--cases 1000] [--concurrency 8] [--upload-gib 1]

Against PostgreSQL (database gtac_bench_escalation, recreated) and gunicorn on loopback.
Each worker thread takes cases one at a time through the whole flow: open the case (with its
scope), upload a small log, read the checklist (for the known anomalies to rule on), answer
every item, then escalate with an Idempotency-Key. Reported: escalations per second over the whole run, and
latency percentiles of the escalation call itself and of every step. Right after, the floor
(bench/floor_app.py: one ORM insert behind a bare endpoint, the same gunicorn settings) is driven by
the same client threads at the same concurrency for as many requests as the flow sent; each step's
latency is also reported as a multiple of the floor's, which this shared machine's drift from day to
day does not move as it moves the absolute figures. Then one upload of
--upload-gib GiB, streamed as multipart, while the gunicorn worker's peak resident memory
(VmHWM) is read before and after. Results: bench/results/escalation_flow-<date>.json.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid
from base64 import b64encode
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from bench import cpu, dataset, floor_app, machine, provenance
from bench.server import Gunicorn, GunicornSettings

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
TARGETS = {"escalation_p95_ms": 50}
LOG = (b"<Info:System> ExtremeXOS version 32.6.1.4 booted\n"
       b"<Erro:HAL.Port> Port 1:49 link flap detected\n") * 20
ANSWERS = {
    "customer_informed": {"value": True},
    "problem_isolation": {"value": "Swapped optics and cable, moved the uplink: the flap follows the port."},
    "specifications_checked": {"value": "Port speed and optic are supported per the data sheet."},
    "lab_simulation": {"not_applicable": True, "reason": "No lab equipment for this model."},
    "problem_duplicated": {"value": "yes"},
    "action_plan": {"value": "Collect debug output during a flap and ask GTAC to confirm a defect."},
    "logs_analysed": {"value": "error.log shows HAL.Port link flap every few minutes since upgrade."},
}
CASE = {"serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S2",
        "title": "Uplink flaps on core switch", "description": "Port 1:49 flaps.",
        "scope_what": "Uplink 1:49 to the core flaps every few minutes, users lose sessions.",
        "scope_when": "Since the upgrade on Monday, every 5 to 10 minutes.",
        "scope_how": "Happens under normal load; clearing counters does not help."}


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {}
    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)
    return {"count": len(ordered), "p50": round(statistics.median(ordered), 2), "p95": at(0.95),
            "p99": at(0.99), "max": round(ordered[-1], 2)}


class Client:
    """One keep-alive connection per thread; records each step's latency in ms."""

    def __init__(self, port: int, token: str, timings: dict[str, list[float]], lock: threading.Lock):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timings, self.lock = timings, lock

    def call(self, step: str, method: str, path: str, body: bytes | None = None,
             content_type: str = "application/json", extra: dict | None = None) -> tuple[int, dict]:
        headers = {**self.headers, **(extra or {})}
        if body is not None:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.timings.setdefault(step, []).append(elapsed)
        return response.status, (json.loads(data) if data else {})

    def json(self, step, method, path, payload, extra=None):
        return self.call(step, method, path, json.dumps(payload).encode(), extra=extra)


def multipart(kind: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def run_threads(concurrency: int, count: int, make_client, work) -> float:
    """`count` calls of work(client) spread over `concurrency` threads, each with a client of its
    own (one keep-alive connection); returns the wall-clock seconds."""
    local = threading.local()

    def one(_):
        if not hasattr(local, "client"):
            local.client = make_client()
        return work(local.client)

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - began


def floor_inserts(server: Gunicorn, concurrency: int, count: int) -> dict:
    """The floor: `count` single-row inserts through the same client threads as the flow."""
    timings: dict[str, list[float]] = {}
    lock = threading.Lock()

    def insert(client: Client) -> None:
        status, _row = client.json("floor_insert", "POST", "/floor/rows", {"title": "Uplink flaps on core switch"})
        assert status == 201

    wall = run_threads(concurrency, count, lambda: Client(server.port, "", timings, lock), insert)
    return {"what": floor_app.__doc__.split("\n\n")[0], "requests": count, "wall_s": round(wall, 1),
            "requests_per_s": round(count / wall, 1), "latency_ms": percentiles(timings["floor_insert"])}


def over_floor(latency: dict[str, dict], floor: dict) -> dict:
    """Each step's p50 and p95 as multiples of the floor insert's."""
    return {step: {"p50_over_floor": round(values["p50"] / floor["p50"], 2),
                   "p95_over_floor": round(values["p95"] / floor["p95"], 2)}
            for step, values in latency.items()}


def take_case_to_sr(client: Client) -> str:
    case_id = ready_case(client)
    status, sr = client.json("escalate", "POST", f"/api/v1/cases/{case_id}/escalation", {},
                             extra={"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, sr
    return sr["sr_number"]


def ready_case(client: Client) -> int:
    """A case opened with a log uploaded and every checklist item answered: ready to escalate."""
    status, case = client.json("open_case", "POST", "/api/v1/cases", CASE)
    assert status == 201, case
    base = f"/api/v1/cases/{case['id']}"
    body, content_type = multipart("error_log", "error.log", LOG)
    status, attachment = client.call("upload_log", "POST", base + "/attachments", body, content_type)
    assert status == 201, attachment
    status, checklist = client.call("checklist_get", "GET", base + "/checklist")
    assert status == 200, checklist
    suggested = next(i["suggestions"] for i in checklist["items"] if i["code"] == "release_notes_reviewed")
    rulings = {"value": {"rulings": [{"anomaly_id": a, "ruling": "not_relevant"} for a in suggested]}}
    answers = {**ANSWERS, "logs_gathered": {"value": {"attachment_ids": [attachment["id"]]}},
               "release_notes_reviewed": rulings if suggested else {"value": True}}
    for code, answer in answers.items():
        status, result = client.json("checklist_put", "PUT", f"{base}/checklist/{code}", answer)
        if status == 422 and result["error"]["code"] == "rulings_required":
            # The log's scan finished after the checklist was read and added suggestions.
            status, checklist = client.call("checklist_get", "GET", base + "/checklist")
            suggested = next(i["suggestions"] for i in checklist["items"] if i["code"] == code)
            answer = {"value": {"rulings": [{"anomaly_id": a, "ruling": "not_relevant"} for a in suggested]}}
            status, result = client.json("checklist_put", "PUT", f"{base}/checklist/{code}", answer)
        assert status == 200, (code, result)
    return case["id"]


def issue_token(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    basic = b64encode(b"engineer@northwind.example:demo-password").decode()
    connection.request("POST", "/api/v1/tokens", headers={"Authorization": f"Basic {basic}"})
    return json.loads(connection.getresponse().read())["token"]


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def large_upload(server: Gunicorn, token: str, gib: float) -> dict:
    """Stream one multipart upload of `gib` GiB and read the worker's peak RSS around it."""
    size = int(gib * 1024**3)
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nsupport_bundle\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bundle.tgz\"\r\n"
            f"Content-Type: application/gzip\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunk = os.urandom(1024 * 1024)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    connection.request("POST", "/api/v1/cases", body=json.dumps(CASE).encode(),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    case_id = json.loads(connection.getresponse().read())["id"]
    worker = server.worker_pids()[0]
    before = vm_hwm_kib(worker)
    response, answer, elapsed = send_upload(connection, case_id, token, boundary, head, tail, chunk, size)
    return {"bytes": size, "status": response.status, "seconds": round(elapsed, 1),
            "mib_per_s": round(size / 1024**2 / elapsed, 1), "stored_size": answer.get("size"),
            "worker_peak_rss_mib_before": round(before / 1024, 1),
            "worker_peak_rss_mib_after": round(vm_hwm_kib(worker) / 1024, 1)}



def send_upload(connection, case_id: int, token: str, boundary: str, head: bytes, tail: bytes, chunk: bytes,
                size: int, digest=None, timings: dict | None = None):
    """POST `size` bytes of `chunk` repeated as a case attachment, streamed (never whole in memory);
    `digest` sees every byte sent; `timings` gets "body_sent_s", when the last byte left. Returns
    (response, its JSON, seconds from first byte to answer)."""
    connection.putrequest("POST", f"/api/v1/cases/{case_id}/attachments")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    started = time.perf_counter()
    connection.send(head)
    sent = 0
    while sent < size:
        piece = chunk[: min(len(chunk), size - sent)]
        if digest is not None:
            digest.update(piece)
        connection.send(piece)
        sent += len(piece)
    connection.send(tail)
    if timings is not None:
        timings["body_sent_s"] = time.perf_counter() - started
    response = connection.getresponse()
    answer = json.loads(response.read())
    return response, answer, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--upload-gib", type=float, default=1.0, help="0 skips the large upload")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/gtac_bench_escalation")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc)
    output = args.output or RESULTS / f"escalation_flow-{started:%Y-%m-%d}.json"
    tracked = provenance.start(REPO, [dataset.database_name(args.database_url)])

    dataset.reset_database(args.database_url)
    dataset.flask(args.database_url, REPO, "db", "upgrade")
    dataset.flask(args.database_url, REPO, "demo", "seed")
    settings = GunicornSettings(workers=args.workers)
    timings: dict[str, list[float]] = {}
    lock = threading.Lock()
    numbers: list[str] = []
    with Gunicorn(settings, args.database_url, REPO) as server:
        token = issue_token(server.port)
        wall = run_threads(args.concurrency, args.cases, lambda: Client(server.port, token, timings, lock),
                           lambda client: numbers.append(take_case_to_sr(client)))
        upload = large_upload(server, token, args.upload_gib) if args.upload_gib > 0 else None
    flow_requests = sum(len(values) for values in timings.values())
    floor_app.prepare(args.database_url)
    # The web workers' outbox threads may still be scanning logs and sending mail: the floor starts
    # on a machine as quiet as the flow found it.
    quiet = cpu.wait_for_quiet(0.3, 60)
    with Gunicorn(settings, args.database_url, REPO, {"DATABASE_URL": args.database_url},
                  application="bench.floor_app:create_app()") as floor_server:
        floor = {**floor_inserts(floor_server, args.concurrency, flow_requests), "before_start": quiet}
    latency = {step: percentiles(values) for step, values in timings.items()}

    assert len(set(numbers)) == len(numbers) == args.cases
    report = {
        "benchmark": "escalation_flow",
        "date": started.isoformat(timespec="seconds"),
        "command": "python -m bench.escalation_flow " + " ".join(argv or sys.argv[1:]),
        "machine": machine.describe(args.database_url),
        "deployment": {"gunicorn": settings.describe(), "database": "PostgreSQL on 127.0.0.1",
                       "jobs": "in-process (no REDIS_URL): log scans and notifications run in the web workers"},
        "settings": {"cases": args.cases, "concurrency": args.concurrency,
                     "requests_per_case": 6 + len(ANSWERS)},
        "targets": TARGETS,
        "results": {
            "wall_s": round(wall, 1),
            "escalations_per_s": round(args.cases / wall, 1),
            "distinct_sr_numbers": len(set(numbers)),
            "requests": flow_requests,
            "requests_per_s": round(flow_requests / wall, 1),
            "latency_ms": latency,
        },
        "floor": floor,
        "over_floor": {"requests_per_s_share_of_floor": round(flow_requests / wall / floor["requests_per_s"], 3),
                       "steps": over_floor(latency, floor["latency_ms"])},
        "large_upload": upload,
        **tracked.finish(),
    }
    report["verdicts"] = {"escalation_p95_under_50ms": report["results"]["latency_ms"]["escalate"]["p95"] < 50}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({key: report[key] for key in ("results", "floor", "over_floor", "large_upload")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
