"""CPU time spent by each side of a measurement, read from /proc (Linux).

The machine is shared, so the harness records who used the cores while it
measured: the gunicorn processes, the PostgreSQL processes, the load generator,
and the machine as a whole (the rest is somebody else's).
"""
from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_ticks(pid: int) -> int:
    """utime + stime of one process in clock ticks; 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all cores since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


def prioritise(pid: int, nice: int) -> None:
    """Give the session `pid` leads (its own autogroup) the scheduling weight of `nice`.

    With autogroup scheduling (the Linux default on desktops and here), a process's
    own nice value only counts against its session; between sessions the group's
    nice decides. Best effort: without the file or the right, nothing changes.
    """
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError:
        pass


@dataclass
class CpuSnapshot:
    at: float
    machine: tuple[int, int]
    processes: dict[str, dict[int, int]]
    children: float


def snapshot(groups: dict[str, list[int]]) -> CpuSnapshot:
    """CPU counters now, for each named group of process ids."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(
        at=time.monotonic(), machine=machine_ticks(),
        processes={name: {pid: process_ticks(pid) for pid in pids} for name, pids in groups.items()},
        children=usage.ru_utime + usage.ru_stime)


def cores_used(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """Average cores busy between two snapshots, per group, for the load generator and in total.

    A process that appears only in `after` started in between: all its time counts.
    The load generator is a finished child process, so it shows in RUSAGE_CHILDREN.
    """
    wall = after.at - before.at
    used = {}
    for name, pids in after.processes.items():
        start = before.processes.get(name, {})
        ticks = sum(max(0, now - start.get(pid, 0)) for pid, now in pids.items())
        used[f"{name}_cores"] = round(ticks / TICKS / wall, 2)
    used["load_generator_cores"] = round((after.children - before.children) / wall, 2)
    busy = after.machine[0] - before.machine[0]
    total = after.machine[1] - before.machine[1]
    used["machine_busy_cores"] = round(busy / total * (os.cpu_count() or 1), 2) if total else 0.0
    ours = sum(value for key, value in used.items() if key != "machine_busy_cores")
    used["other_processes_cores"] = round(max(0.0, used["machine_busy_cores"] - ours), 2)
    return used


def spread(before: CpuSnapshot, after: CpuSnapshot, name: str) -> list[float]:
    """Cores each process of a group used between two snapshots, busiest first.

    gunicorn's workers take connections as they come: a load generator's few keep-alive
    connections can all land on one or two of them, whose threads then share one GIL while
    the other workers idle. The spread shows where a run's requests went.
    """
    wall = after.at - before.at
    start = before.processes.get(name, {})
    return sorted((round(max(0, now - start.get(pid, 0)) / TICKS / wall, 2)
                   for pid, now in after.processes.get(name, {}).items()), reverse=True)


def wait_for_quiet(max_busy_cores: float, timeout_s: float, window_s: float = 2.0) -> dict:
    """Wait until the machine (idle on our side) is nearly idle, for at most `timeout_s`.

    Other people's work on a shared machine takes cores from the service under
    test; starting a measurement in a quiet moment makes runs comparable.
    """
    started = time.monotonic()
    while True:
        busy0, total0 = machine_ticks()
        time.sleep(window_s)
        busy1, total1 = machine_ticks()
        busy = (busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1)
        waited = time.monotonic() - started
        if busy <= max_busy_cores or waited >= timeout_s:
            return {"waited_s": round(waited, 1), "busy_cores_before": round(busy, 2)}
