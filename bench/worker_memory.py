"""Where a gunicorn web worker's memory goes: its RSS, peak and proportional share at each stage.

    .venv/bin/python -m bench.worker_memory --database-url postgresql://postgres@127.0.0.1:5432/bench_memory
    .venv/bin/python -m bench.worker_memory --database-url ... --store s3 --upload-mib 64 --output /tmp/m.json

Starts gunicorn in production mode (one gthread worker, 4 threads, as bench/attachments.py does;
`--preload` adds gunicorn's flag) on the database given, which must hold the demo data
(`flask db upgrade`, `flask demo seed`), and reads the worker's /proc/<pid>/status (VmRSS, VmHWM)
and smaps_rollup (Pss, shared and private pages) at each stage: once its application is loaded
(gunicorn's post_worker_init hook writes a marker), after its first request (/healthz), after every
demo user signed in on the web pages and followed the links of their home page (one level deep,
at most --pages-per-user), after the API lists as each of them, and, with --upload-mib, after one
upload of that size to a case. With --store s3 it starts moto's S3 API with a fresh bucket, as
bench/attachments.py does. The master's figures are read too: with --preload the worker shares
the master's pages until either writes them (copy-on-write), and then Pss, not RSS, is the
worker's own cost (a page shared by n processes counts 1/n in each).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
import tempfile
import time
import urllib.parse
from base64 import b64encode
from datetime import datetime, timezone
from pathlib import Path

from bench import machine, provenance
from bench.attachments import S3Store, stream_upload
from bench.server import Gunicorn, GunicornSettings, production_env

REPO = Path(__file__).resolve().parent.parent
USERS = ("engineer@northwind.example", "admin@northwind.example", "customer@acme.example",
         "engineer@contoso.example", "customer@fabrikam.example", "gtac@vendor.example",
         "manager@vendor.example", "programs@vendor.example", "vendor-admin@vendor.example")
PASSWORD = "demo-password"
API_LISTS = ("/api/v1/me", "/api/v1/cases", "/api/v1/srs", "/api/v1/claims", "/api/v1/payouts",
             "/api/v1/ledger/balances", "/api/v1/openapi.json")
# Links not followed: they sign out, stream for minutes, or answer files.
SKIPPED = re.compile(r"/logout|/events|/feed|/static/|/download|/api-reference/|\.(csv|pdf|json)$")


def sockets(pid: int) -> int:
    """How many sockets the process holds open (the master's: its listener, and nothing else)."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return count


def memory(pid: int) -> dict:
    """The process's resident set and its split, in MiB; its threads and sockets."""
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"}:
            status[key] = int(value.split()[0])
    rollup = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        rollup[key] = int(value.split()[0])
    mib = lambda kib: round(kib / 1024, 1)  # noqa: E731
    return {"rss": mib(status["VmRSS"]), "hwm": mib(status["VmHWM"]),
            "rss_anon": mib(status["RssAnon"]), "rss_file": mib(status["RssFile"]),
            "pss": mib(rollup["Pss"]),
            "shared": mib(rollup["Shared_Clean"] + rollup["Shared_Dirty"]),
            "private": mib(rollup["Private_Clean"] + rollup["Private_Dirty"]),
            "threads": status["Threads"], "sockets": sockets(pid)}


class Client:
    """One connection to the server; the web session's cookie read from the raw answers (the
    production cookie is Secure, which a cookie jar would not send back over plain HTTP)."""

    watched: int | None = None  # a worker pid: each request's peak and growth recorded (--per-request)
    trace: list[dict] = []

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookie: str | None = None

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        before = memory(self.watched)["rss"] if self.watched else 0
        if self.watched:
            Path(f"/proc/{self.watched}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
        self.connection.request("GET", path, headers=headers)
        answer = self.connection.getresponse()
        body = answer.read()
        self._keep_cookie(answer)
        if self.watched:
            after = memory(self.watched)
            self.trace.append({"path": path, "status": answer.status, "rss_before": before,
                               "rss_after": after["rss"], "peak": after["hwm"]})
        return answer.status, body, answer

    def _keep_cookie(self, answer) -> None:
        for name, value in answer.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]

    def sign_in(self, email: str) -> None:
        status, form, _ = self.get("/login")
        field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', form.decode())
        token = re.search(r'value="([^"]+)"', field.group(0)).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD})
        self.connection.request("POST", "/login", body=body, headers={
            "Cookie": self.cookie or "", "Content-Type": "application/x-www-form-urlencoded"})
        answer = self.connection.getresponse()
        answer.read()
        self._keep_cookie(answer)
        if answer.status not in (302, 303):
            raise SystemExit(f"sign-in as {email} failed: {answer.status}")

    def token(self, email: str) -> str:
        basic = b64encode(f"{email}:{PASSWORD}".encode()).decode()
        self.connection.request("POST", "/api/v1/tokens", headers={"Authorization": f"Basic {basic}"})
        answer = self.connection.getresponse()
        return json.loads(answer.read())["token"]


def visit_pages(port: int, email: str, limit: int) -> dict[str, int]:
    """Sign in on the web pages, open the home page and the pages it links to; statuses by path."""
    client = Client(port)
    client.sign_in(email)
    status, body, _ = client.get("/home")
    seen = {"/home": status}
    for link in re.findall(r'href="(/[^"#]*)"', body.decode()):
        link = link.replace("&amp;", "&")
        if len(seen) >= limit or link in seen or SKIPPED.search(link):
            continue
        seen[link] = client.get(link)[0]
    return seen


def visit_api(port: int, email: str) -> dict[str, int]:
    client = Client(port)
    bearer = {"Authorization": f"Bearer {client.token(email)}"}
    statuses = {path: client.get(path, bearer)[0] for path in API_LISTS}
    status, body, _ = client.get("/api/v1/cases?limit=5", bearer)
    for case in json.loads(body).get("items", [])[:2] if status == 200 else []:
        for tail in ("", "/checklist", "/triage", "/messages"):
            path = f"/api/v1/cases/{case['id']}{tail}"
            statuses[path] = client.get(path, bearer)[0]
    return statuses


def config_file(folder: Path, marker: Path) -> Path:
    """gunicorn settings that mark the moment the worker's application is loaded."""
    path = folder / "gunicorn_marker.py"
    path.write_text(f"def post_worker_init(worker):\n    open({str(marker)!r} + str(worker.pid), 'w').close()\n")
    return path


class MarkedGunicorn(Gunicorn):
    def __init__(self, *args, config: Path, preload: bool, **kwargs):
        super().__init__(*args, **kwargs)
        extra = ["--config", str(config)] + (["--preload"] if preload else [])
        original = self.settings.args
        self.settings.args = lambda port: original(port) + extra

    def _wait_ready(self, timeout: float = 60) -> None:  # no request before the first stage
        marker = Path(self.env["MEMORY_MARKER"])  # one file per worker: <marker><pid>
        deadline = time.monotonic() + timeout
        while len(list(marker.parent.glob(marker.name + "*"))) < self.settings.workers:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; see {self.log_path}")
            time.sleep(0.05)
        time.sleep(0.5)  # the worker's threads settle


def run(store: str, database_url: str, preload: bool, per_request: bool, pages_per_user: int, upload_mib: int,
        extra_env: dict[str, str], secret_env: dict[str, str], store_pid: int | None, workers: int = 1,
        redis_url: str | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="gtac-bench-memory-") as folder:
        folder = Path(folder)
        marker = folder / "loaded"
        env = production_env(database_url, {**extra_env, **secret_env, "MEMORY_MARKER": str(marker)})
        settings = GunicornSettings(workers=workers, worker_class="gthread", threads=4, extra_env=extra_env,
                                    redis_url=redis_url)
        if store == "local":
            env["ATTACHMENTS_DIR"] = str(folder / "attachments")
        with MarkedGunicorn(settings, database_url, REPO, env=env, config=config_file(folder, marker),
                            preload=preload) as server:
            worker = server.worker_pids()[0]
            statuses: dict[str, dict] = {}
            stages: dict[str, dict] = {}

            def stage(name: str) -> None:
                every = [memory(pid) for pid in server.worker_pids()]
                master = memory(server.process.pid)
                # The first worker's figures; with several, the traffic spreads over them, and what
                # the machine holds for the whole server is the sum of every process's Pss.
                stages[name] = {"worker": every[0], "master": master,
                                "workers_rss_max": max(m["rss"] for m in every),
                                "total_pss": round(master["pss"] + sum(m["pss"] for m in every), 1)}
                print(f"{store}{' preload' if preload else ''} {name}: {json.dumps(stages[name]['worker'])} "
                      f"master {master['rss']} total_pss {stages[name]['total_pss']}", flush=True)

            stage("loaded")
            if per_request:
                Client.watched = worker
            Client(server.port).get("/healthz")
            stage("first_request")
            for email in USERS:
                statuses[f"pages {email}"] = visit_pages(server.port, email, pages_per_user)
            stage("pages")
            for email in USERS:
                statuses[f"api {email}"] = visit_api(server.port, email)
            stage("api")
            upload = None
            if upload_mib:
                client = Client(server.port)
                upload = stream_upload(server.port, client.token(USERS[0]), worker, upload_mib * 1024**2,
                                       store_pid)
                stage("upload")
            failures = {who: {p: s for p, s in seen.items() if s >= 500} for who, seen in statuses.items()}
            trace, Client.trace, Client.watched = Client.trace, [], None
            return {"store": store, "preload": preload, "stages": stages, "per_request": trace,
                    "requests": sum(len(seen) for seen in statuses.values()),
                    "server_errors": {who: bad for who, bad in failures.items() if bad},
                    "upload": upload and {k: upload[k] for k in ("status", "seconds", "worker_rss_mib_before",
                                                                   "worker_rss_mib_peak_during",
                                                                   "worker_peak_rss_mib_lifetime")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a database holding the demo data")
    parser.add_argument("--store", choices=("local", "s3", "both"), default="both")
    parser.add_argument("--preload", action="store_true", help="gunicorn --preload")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis-url", help="REDIS_URL for the service (default: none, the embedded jobs)")
    parser.add_argument("--pages-per-user", type=int, default=30)
    parser.add_argument("--upload-mib", type=int, default=0)
    parser.add_argument("--per-request", action="store_true",
                        help="each request's peak and growth (resets the worker's VmHWM before each)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    tracked = provenance.start(REPO, [args.database_url.rsplit("/", 1)[1]])
    runs = []

    def measure(store: str, env: dict[str, str], secrets: dict[str, str], store_pid: int | None) -> None:
        runs.append(run(store, args.database_url, args.preload, args.per_request, args.pages_per_user,
                        args.upload_mib, env, secrets, store_pid, args.workers, args.redis_url))

    if args.store in ("local", "both"):
        measure("local", {"ATTACHMENTS_STORAGE": "local"}, {}, None)
    if args.store in ("s3", "both"):
        with S3Store("moto") as s3:
            measure("s3", {"ATTACHMENTS_STORAGE": "s3", "S3_BUCKET": s3.bucket, "S3_ENDPOINT_URL": s3.url,
                           "S3_REGION": "us-east-1"}, s3.credentials, s3.process.pid)
    report = {"benchmark": "worker_memory", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": "python -m bench.worker_memory " + " ".join(argv if argv is not None else sys.argv[1:]),
              "machine": machine.describe(args.database_url), "runs": runs, **tracked.finish()}
    text = json.dumps(report, indent=2)
    if args.output:
        args.output.write_text(text + "\n")
    print(json.dumps([{"store": r["store"], "preload": r["preload"], "requests": r["requests"],
                       "server_errors": r["server_errors"],
                       **{name: {k: s["worker"][k] for k in ("rss", "hwm", "pss", "private")}
                          for name, s in r["stages"].items()}} for r in runs], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
