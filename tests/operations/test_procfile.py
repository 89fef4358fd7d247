"""The Procfile starts what the README's Production section describes: gunicorn on wsgi:app, RQ
workers for every queue (the periodic jobs' without forking) and the scheduler, through commands the
application really has."""
from __future__ import annotations

import shlex
import threading
import time
from pathlib import Path

from honcho.environ import parse_procfile
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app import create_app
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


def test_the_web_preloads_the_application_which_keeps_nothing_a_fork_must_not_share(app, tmp_path):
    """gunicorn --preload builds the application once in its master and forks the workers from it:
    building it must open no database connection and leave no thread running, since neither would
    survive a fork in working order."""
    web = shlex.split(parse_procfile(PROCFILE.read_text()).processes["web"])
    assert "--preload" in web
    connections = []

    def connected(*_args) -> None:
        connections.append(1)

    threads_before = set(threading.enumerate())
    event.listen(Engine, "connect", connected)
    try:
        create_app(instance_path=str(tmp_path))
    finally:
        event.remove(Engine, "connect", connected)
    time.sleep(0.2)  # the rate limiter's memory store starts a one-shot timer of 10 ms
    assert connections == []
    assert [thread for thread in threading.enumerate() if thread not in threads_before] == []
