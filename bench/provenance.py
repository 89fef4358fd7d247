"""What every results file records besides its figures: the source measured, and how much of the
shared machine other work took while the benchmark ran.

    run = provenance.start(REPO, databases=["payments_bench"])
    ...                                   # prepare, measure
    report.update(run.finish())           # "source" and "cpu_during_run"

CPU is read from /proc (Linux), no extra dependency:
- the machine's busy time, from /proc/stat;
- this benchmark's own: this process, and every process it started, exited ones included (their
  time is added to the parent that waited for them: RUSAGE_CHILDREN, or cutime/cstime in
  /proc/<pid>/stat of a live descendant). The benchmark becomes a child subreaper, so that a
  process whose parent was killed before waiting for it (a gunicorn worker, when its master is
  SIGKILLed) is adopted by the benchmark, not by init: its time stays in the tree;
- PostgreSQL backends connected to the benchmark's databases: they work for it but are not its
  descendants. They are sampled every half second, so a backend that exits between samples
  loses at most that much of its time;
- the rest is somebody else's: other processes, and PostgreSQL's shared background processes
  (WAL writer, checkpointer), a little of which is this benchmark's writes.
"""
from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from bench import cpu

TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_S = 0.5
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    return result.stdout.rstrip("\n") if result.returncode == 0 else ""


def source(repo: Path, revision: str | None = None) -> dict:
    """The commit checked out (git rev-parse HEAD), whether tracked files differ from it, and what
    the service was served from (`revision` exported with git archive, or the working tree)."""
    head = _git(repo, "rev-parse", "HEAD") or None
    changed = _git(repo, "status", "--porcelain", "--untracked-files=no").splitlines()
    return {"commit": head, "dirty": bool(changed), "changed_files": [line[3:] for line in changed[:20]],
            "served_from": "git archive" if revision else "working tree",
            "served_commit": (_git(repo, "rev-parse", revision) or None) if revision else head}


def _read_stat(pid: str) -> tuple[int, int, int] | None:
    """(parent pid, own ticks, ticks of the children it waited for) of one process, or None once gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def _processes() -> dict[int, tuple[int, int, int]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read_stat(entry)
            if stat is not None:
                found[int(entry)] = stat
    return found


def _own_seconds() -> float:
    """CPU seconds of this process and all its descendants so far, live or exited."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _own, _waited) in processes.items():
        children.setdefault(parent, []).append(pid)
    ticks, todo = 0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        ticks += processes[pid][1] + processes[pid][2]
        todo.extend(children.get(pid, []))
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return ticks / TICKS + sum(u.ru_utime + u.ru_stime for u in usage)


def _backend_database(pid: int) -> str | None:
    """The database a PostgreSQL client backend serves, from its process title
    ("postgres: [cluster: ]user database host(port) activity"), else None."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return None
    if len(words) < 4 or words[0] != "postgres:":
        return None
    if words[1].endswith(":"):  # cluster_name
        words = words[1:]
    if len(words) < 4 or not ("(" in words[3] or words[3] == "[local]"):
        return None
    return words[2]


class Run:
    """Started with the benchmark; finish() gives what its results file records."""

    def __init__(self, repo: Path, databases: Iterable[str] = (), revision: str | None = None):
        self.source = source(repo, revision)
        self.databases = set(databases)
        # Orphaned descendants come to this process (they stay zombies here, their time readable).
        self.subreaper = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        self._backends: dict[int, list[int]] = {}  # pid -> [ticks when first seen, ticks when last seen]
        self._stop = threading.Event()
        self._sample_backends(at_start=True)
        self._started = time.monotonic(), cpu.machine_ticks(), _own_seconds()
        self._sampler = threading.Thread(target=self._sample_loop, name="cpu-sampler", daemon=True)
        if self.databases:
            self._sampler.start()

    def _sample_backends(self, at_start: bool = False) -> None:
        if not self.databases:
            return
        for pid, (_parent, own, _waited) in _processes().items():
            if _backend_database(pid) not in self.databases:
                continue
            if pid in self._backends and own >= self._backends[pid][1]:
                self._backends[pid][1] = own
            elif pid not in self._backends:
                # A backend already there at the start counts from then; a new one from its beginning.
                self._backends[pid] = [own if at_start else 0, own]

    def _sample_loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample_backends()

    def finish(self) -> dict:
        """{"source": ..., "cpu_during_run": ...} from the start until now."""
        self._stop.set()
        if self._sampler.is_alive():
            self._sampler.join()
        self._sample_backends()
        began, (busy0, total0), own0 = self._started
        wall = time.monotonic() - began
        busy1, total1 = cpu.machine_ticks()
        cores = os.cpu_count() or 1
        machine_busy = (busy1 - busy0) / (total1 - total0) * cores if total1 > total0 else 0.0
        own = (_own_seconds() - own0) / wall
        postgres = sum(last - first for first, last in self._backends.values()) / TICKS / wall
        return {"source": self.source, "cpu_during_run": {
            "wall_s": round(wall, 1), "cores": cores, "orphans_counted": self.subreaper,
            "machine_busy_cores": round(machine_busy, 2),
            "benchmark_cores": round(own, 2),
            "benchmark_postgres_backends_cores": round(postgres, 2) if self.databases else None,
            "other_processes_cores": round(max(0.0, machine_busy - own - postgres), 2),
            "how": "from /proc: machine busy time, minus this benchmark's process tree (exited "
                   "processes included)"
                   + (f", minus the PostgreSQL backends of {', '.join(sorted(self.databases))} sampled "
                      f"every {SAMPLE_S} s" if self.databases else "")
                   + "; the rest is other work on the shared machine, PostgreSQL's background "
                     "processes included"}}


def start(repo: Path, databases: Iterable[str] = (), revision: str | None = None) -> Run:
    return Run(repo, databases, revision)
