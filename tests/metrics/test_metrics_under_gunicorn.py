"""The metrics of every gunicorn worker in each scrape (prometheus_client's multi-process mode)."""
from __future__ import annotations

import os
from pathlib import Path

import requests

from tests.metrics.test_metrics import TOKEN, value
from tests.served import served_by_gunicorn

PATIENCE = 400  # requests sent at most before both workers have taken some


def _parent(pid: int) -> int | None:
    """The process that started `pid` (None once it has exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


def test_any_worker_answers_a_scrape_with_every_workers_requests(app, tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    with served_by_gunicorn(app, workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(folder),
                                                 "METRICS_TOKEN": TOKEN}) as base:
        def workers_files() -> int:
            """Each worker keeps its own file once it has served a request. The master, which built
            the application before forking (--preload), may hold one too, with nothing counted."""
            return sum(1 for path in folder.glob("histogram_*.db")
                       if _parent(int(path.stem.removeprefix("histogram_"))) != os.getpid())

        sent = 0
        while sent < 20 or (workers_files() < 2 and sent < PATIENCE):
            with requests.Session() as fresh:  # a new connection each time, for either worker to take
                assert fresh.get(f"{base}/readyz", timeout=10).status_code == 200
            sent += 1
        assert workers_files() == 2, f"one worker took all {sent} requests"
        for _ in range(6):  # whichever worker takes the scrape, it counts both workers' requests
            with requests.Session() as fresh:
                scrape = fresh.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            assert scrape.status_code == 200
            assert value(scrape.text, "gtac_http_request_duration_seconds_count",
                         endpoint="health.readyz", method="GET", status="200") == sent
