"""The Procfile starts what the README's Production section describes: gunicorn on wsgi:app, an RQ
worker and the scheduler, through commands the application really has."""
from __future__ import annotations

import shlex
from pathlib import Path

from honcho.environ import parse_procfile

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def test_the_procfile_runs_the_web_a_worker_and_the_scheduler(app):
    processes = parse_procfile(PROCFILE.read_text()).processes
    assert set(processes) == {"web", "worker", "scheduler"}
    web = shlex.split(processes["web"])
    assert web[0] == "gunicorn" and web[-1] == "wsgi:app" and web[web.index("--worker-class") + 1] == "gthread"
    commands = app.cli.list_commands(None)
    for name in ("worker", "scheduler"):
        words = shlex.split(processes[name])
        assert words[:3] == ["flask", "--app", "wsgi"] and words[3] in commands, processes[name]
