"""The Procfile starts what the README's Production section describes: gunicorn on wsgi:app, RQ
workers for every queue (the periodic jobs' without forking) and the scheduler, through commands the
application really has."""
from __future__ import annotations

import shlex
from pathlib import Path

from honcho.environ import parse_procfile

from app.outbox.dispatch import QUEUES, SCHEDULED_QUEUE

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def test_the_procfile_runs_the_web_workers_for_every_queue_and_the_scheduler(app):
    processes = parse_procfile(PROCFILE.read_text()).processes
    assert set(processes) == {"web", "worker", "scheduled", "scheduler"}
    web = shlex.split(processes["web"])
    assert web[0] == "gunicorn" and web[-1] == "wsgi:app" and web[web.index("--worker-class") + 1] == "gthread"
    commands = app.cli.list_commands(None)
    for name in ("worker", "scheduled", "scheduler"):
        words = shlex.split(processes[name])
        assert words[:3] == ["flask", "--app", "wsgi"] and words[3] in commands, processes[name]
    queues = {name: shlex.split(processes[name]) for name in ("worker", "scheduled")}
    taken = {name: words[words.index("--queues") + 1].split(",") for name, words in queues.items()}
    assert taken["scheduled"] == [SCHEDULED_QUEUE] and "--no-fork" in queues["scheduled"]
    assert "--no-fork" not in queues["worker"]
    assert sorted(taken["worker"] + taken["scheduled"]) == sorted(QUEUES)
