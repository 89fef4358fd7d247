"""The SLA watch as deployed: `flask scheduler` enqueues it, the Procfile's workers run it, over the loaded SRs.

Part `scheduler` of bench/srs.py. On the database the other parts measured, it:

1. runs the breach job directly in the harness process `slots` times (the same
   `alerts.scan()` the scheduled job calls, on the real clock, after one untimed
   pass has recorded every alert now due, as in the scheduled steady state), kept
   for the record;
2. starts the two workers of the Procfile on the private Redis (one for the queues
   of the outbox, one that does not fork for the periodic jobs' queue) and waits until
   they have drained what the earlier parts left queued (the notifications of their alerts);
3. starts two `flask scheduler` processes at once, with SR_WATCH_INTERVAL set to
   `interval` seconds (every other job keeps its production interval), and waits
   until both have registered with Redis;
4. lets `slots` whole slots of the SLA watch pass, reading every job record from
   Redis twice a second (a finished scheduled job's record lives two intervals);
   after each scheduled job has finished, the harness runs one direct pass in the
   rest of that slot: the reference, measured beside the scheduled runs;
5. reads each scheduled SLA watch job's queue wait (enqueued_at to started_at) and
   run time (started_at to ended_at), and the CPU both schedulers used over those
   slots, then stops the processes.

Verdicts: the median run time of the scheduled jobs is at most 1.2 times the median
direct pass; and each slot of the window ran exactly one SLA watch job, under its
deterministic id, however many schedulers were running.
"""
from __future__ import annotations

import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import cpu
from bench.cases_api import log

SLA_WATCH = "sla-watch"
SLA_WATCH_FUNC = "app.srs.jobs.watch_sla"
RUN_TIME_RATIO_MAX = 1.2  # "unchanged": within 20 % of the direct pass measured in the same run
SCHEDULERS = 2
WORKERS = ("worker", "scheduled")  # as the Procfile names them


def procfile_command(repo: Path, name: str, display: bool = False) -> list[str] | str:
    """The Procfile's command for a process, run with this interpreter's flask (FLASK_APP is set)."""
    from honcho.environ import parse_procfile

    words = shlex.split(parse_procfile((repo / "Procfile").read_text()).processes[name])
    if words[:3] != ["flask", "--app", "wsgi"]:
        raise SystemExit(f"scheduler part: the Procfile's {name} is not a flask command: {words}")
    return " ".join(words[3:]) if display else [sys.executable, "-m", "flask", *words[3:]]


def direct_pass(app) -> float:
    """Seconds of one breach-job pass in this process on the real clock (what the scheduled job runs)."""
    from app.srs import alerts

    with app.app_context():
        begun = time.perf_counter()
        alerts.scan()
        return time.perf_counter() - begun


def direct_passes(app, count: int) -> list[float]:
    direct_pass(app)  # untimed: records what is due, so that each timed pass finds the steady state
    return [direct_pass(app) for _ in range(count)]


def _start(command: list[str], env: dict[str, str], log: Path, nice: int, cwd: Path) -> subprocess.Popen:
    prefix = ["nice", "-n", str(nice)] if nice else []  # nice execs the command: the pid stays the same
    return subprocess.Popen([*prefix, *command], cwd=cwd, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _ticks_with_children(pid: int) -> int:
    """utime + stime of a process and of its children it has waited for (the worker's work-horses)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(value) for value in fields[11:15])


def _seconds(ticks: int) -> float:
    return round(ticks / cpu.TICKS, 3)


def _cpu_ns(pid: int) -> int:
    """Nanoseconds a process has run on a CPU (/proc/PID/schedstat): finer than clock ticks, which
    would round an idle scheduler's few milliseconds a slot to 0 or 10."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class JobLog:
    """Every RQ job record seen in Redis, kept as last read (records of finished jobs expire)."""

    def __init__(self, connection):
        self.connection = connection
        self.jobs: dict[str, dict] = {}

    def poll(self) -> None:
        from rq.exceptions import DeserializationError, NoSuchJobError
        from rq.job import Job

        ids = []
        for key in self.connection.scan_iter("rq:job:*", count=1000):
            parts = key.decode().split(":")
            if len(parts) == 3:
                ids.append(parts[2])
        for job in Job.fetch_many(ids, connection=self.connection):
            if job is None:
                continue
            try:
                func = job.func_name
            except (DeserializationError, NoSuchJobError):  # expired or half-written while read
                continue
            self.jobs[job.id] = {
                "id": job.id, "func": func, "status": _status(job),
                "enqueued_at": job.enqueued_at, "started_at": job.started_at, "ended_at": job.ended_at,
                "worker": job.worker_name}

    def sla_watch(self) -> list[dict]:
        return [job for job in self.jobs.values() if job["func"] == SLA_WATCH_FUNC]


def _status(job) -> str:
    status = job.get_status(refresh=False)
    return getattr(status, "value", status) or ""


def _slot_of_id(job_id: str) -> int | None:
    prefix = f"scheduled-{SLA_WATCH}-"
    return int(job_id[len(prefix):]) if job_id.startswith(prefix) else None


def _wait(predicate, timeout: float, what: str, every: float = 0.2, during=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if during is not None:
            during()
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise SystemExit(f"scheduler part: timed out waiting for {what}")


def _enqueued_by(log: Path) -> list[int]:
    """The SLA watch slots a scheduler's log says it enqueued."""
    marker = f"enqueued {SLA_WATCH} (slot "
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if marker in line:
            found.append(int(line.split(marker, 1)[1].split(")", 1)[0]))
    return found


def _spread(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}
    return {"count": len(ordered), "min": round(ordered[0], 4), "median": round(statistics.median(ordered), 4),
            "max": round(ordered[-1], 4)}


def scheduler_overhead(app, env: dict[str, str], redis_url: str, repo: Path, interval: int, slots: int,
                       nice: int = 0, breach_job: dict | None = None) -> dict:
    """See the module's docstring; returns the figures and the two verdicts' inputs."""
    from redis import Redis
    from rq import Worker, cron_scheduler_registry

    from app.outbox.dispatch import QUEUES
    from app.scheduling.on_rq import slot_of

    reference = direct_passes(app, slots)
    reference_median = statistics.median(reference)
    connection = Redis.from_url(redis_url)
    logs = Path(tempfile.mkdtemp(prefix="gtac-bench-scheduler-"))
    full_env = {**os.environ, **env, "REDIS_URL": redis_url, "FLASK_APP": "wsgi.py",
                "SR_WATCH_INTERVAL": str(interval)}
    full_env.pop("JOBS_EAGER", None)
    flask = [sys.executable, "-m", "flask"]
    workers = [_start(procfile_command(repo, name), full_env, logs / f"{name}.log", nice, repo)
               for name in WORKERS]
    schedulers: list[subprocess.Popen] = []
    jobs = JobLog(connection)
    try:
        _wait(lambda: len(Worker.all(connection=connection)) >= len(workers), 60, "the workers to register")
        _wait(lambda: all(connection.llen(f"rq:queue:{name}") == 0 for name in QUEUES), 300, "the queues to drain")
        launched = slot_of(datetime.now(UTC), interval)
        for n in range(SCHEDULERS):
            schedulers.append(_start([*flask, "scheduler"], full_env, logs / f"scheduler-{n}.log", nice, repo))
        _wait(lambda: len(cron_scheduler_registry.get_keys(connection)) >= SCHEDULERS, 60,
              "both schedulers to register", during=jobs.poll)
        for n, process in enumerate(schedulers):
            if process.poll() is not None:
                raise SystemExit(f"scheduler {n} exited: {(logs / f'scheduler-{n}.log').read_text()[-2000:]}")
        # The window: the slots that begin after both schedulers are up.
        first = slot_of(datetime.now(UTC), interval) + 1
        last = first + slots - 1
        _wait(lambda: time.time() >= first * interval, interval + 1, "the first slot", every=0.05,
              during=None)
        window_start = time.monotonic()
        ns_before = [_cpu_ns(p.pid) for p in schedulers]
        workers_before = sum(_ticks_with_children(worker.pid) for worker in workers)

        def last_done():
            job = jobs.jobs.get(f"scheduled-{SLA_WATCH}-{last}")
            return job is not None and job["ended_at"] is not None

        # A direct pass right after each scheduled one has finished (the slot's quiet rest), so that the
        # reference sees the same machine, the same processes and the same data as the scheduled runs.
        interleaved: list[float] = []
        passed: set[str] = set()

        def poll_and_pass():
            jobs.poll()
            for job in jobs.sla_watch():
                slot = _slot_of_id(job["id"])
                if slot is not None and first <= slot < last and job["ended_at"] and job["id"] not in passed:
                    passed.add(job["id"])
                    interleaved.append(direct_pass(app))

        _wait(last_done, (slots + 2) * interval + 120, f"the SLA watch of slot {last} to finish", every=0.5,
              during=poll_and_pass)
        jobs.poll()
        window_s = time.monotonic() - window_start
        ns_after = [_cpu_ns(p.pid) for p in schedulers]
        workers_after = sum(_ticks_with_children(worker.pid) for worker in workers)
        alive = [process.poll() is None for process in schedulers]
        worker_stats = {w.name: {"successful_jobs": w.successful_job_count, "failed_jobs": w.failed_job_count}
                        for w in Worker.all(connection=connection)}
    except BaseException:
        log(f"scheduler part failed; the processes' logs are kept in {logs}")
        raise
    finally:
        for process in schedulers:
            _stop(process)
        for worker in workers:
            _stop(worker)
    enqueued_by = [_enqueued_by(logs / f"scheduler-{n}.log") for n in range(len(schedulers))]
    shutil.rmtree(logs, ignore_errors=True)

    # Every slot since the schedulers were launched: the one they started in (each enqueues at once on
    # start, the later one finding the id taken) and the window's.
    per_slot: dict[int, list[dict]] = {slot: [] for slot in range(launched, last + 1)}
    stray = []  # SLA watch jobs not under a slot id: the doubling RQ's own random ids would cause
    for job in jobs.sla_watch():
        slot = _slot_of_id(job["id"])
        if slot is None:
            if job["enqueued_at"] and job["enqueued_at"].timestamp() >= launched * interval:
                stray.append(job["id"])
        elif launched <= slot <= last:
            per_slot[slot].append(job)
    runs = []
    for slot, found in sorted(per_slot.items()):
        for job in found:
            ran = job["started_at"] is not None and job["ended_at"] is not None
            runs.append({
                "slot": slot, "job_id": job["id"], "status": job["status"],
                "enqueued_after_slot_start_s": round(job["enqueued_at"].timestamp() - slot * interval, 4)
                if job["enqueued_at"] else None,
                "queue_wait_s": round((job["started_at"] - job["enqueued_at"]).total_seconds(), 4) if ran else None,
                "run_s": round((job["ended_at"] - job["started_at"]).total_seconds(), 4) if ran else None,
                "in_window": slot >= first,
                "enqueued_by_scheduler": [n for n, slots_of in enumerate(enqueued_by) if slot in slots_of]})
    measured = [r for r in runs if r["in_window"]]
    run_times = [r["run_s"] for r in measured if r["run_s"] is not None]
    waits = [r["queue_wait_s"] for r in measured if r["queue_wait_s"] is not None]
    scheduled_median = statistics.median(run_times) if run_times else None
    # The reference is the interleaved passes (same conditions); the passes before the window are kept
    # for the record.
    interleaved_median = statistics.median(interleaved) if interleaved else reference_median
    # The other scheduled jobs the workers ran in the window (at their production intervals), for comparison:
    # the SLA watch waits behind them when they fall due in the same second.
    others: dict[str, list[float]] = {}
    for job in jobs.jobs.values():
        if job["func"] != SLA_WATCH_FUNC and job["enqueued_at"] and job["enqueued_at"].timestamp() >= first * interval:
            ran = job["started_at"] is not None and job["ended_at"] is not None
            others.setdefault(job["func"], []).append(
                (job["ended_at"] - job["started_at"]).total_seconds() if ran else None)
    scheduler_cpu = [round((after - before) / 1e9, 4) for before, after in zip(ns_before, ns_after)]
    result = {
        "processes": f"{SCHEDULERS} x `flask scheduler` started together; the Procfile's workers: "
                     + "; ".join(f"`{procfile_command(repo, name, display=True)}`" for name in WORKERS),
        "sla_watch_interval_s": interval,
        "slots": slots,
        "launched_in_slot": launched,
        "window_slots": [first, last],
        "window_s": round(window_s, 2),
        "direct_passes_before_window_s": [round(s, 4) for s in reference],
        "direct_median_before_window_s": round(reference_median, 4),
        "direct_passes_s": [round(s, 4) for s in interleaved],
        "direct_median_s": round(interleaved_median, 4),
        "sla_watch_runs": runs,
        "run_s": _spread(run_times),
        "queue_wait_s": _spread(waits),
        "run_time_ratio_to_direct": round(scheduled_median / interleaved_median, 3) if scheduled_median else None,
        "run_time_added_s": round(scheduled_median - interleaved_median, 4) if scheduled_median else None,
        "stray_sla_watch_jobs": stray,
        "slots_enqueued_by_each_scheduler": [[s for s in found if launched <= s <= last] for found in enqueued_by],
        "schedulers_alive_at_end": alive,
        "scheduler_cpu_s": scheduler_cpu,
        "scheduler_cpu_ms_per_slot": [round(1000 * s / slots, 2) for s in scheduler_cpu],
        "scheduler_cpu_cores": [round(s / window_s, 5) for s in scheduler_cpu],
        "workers_cpu_s_with_work_horses": _seconds(workers_after - workers_before),
        "other_jobs_in_window_run_s": {func: _spread([t for t in times if t is not None]) | {"jobs": len(times)}
                                       for func, times in sorted(others.items())},
        "worker_totals": worker_stats,
    }
    if breach_job is not None:
        passes = {p["pass"]: p["seconds"] for p in breach_job["passes"]}
        result["breach_job_part_s"] = passes
        if scheduled_median and passes.get("repeat_pass"):
            result["run_time_ratio_to_breach_job_repeat_pass"] = round(scheduled_median / passes["repeat_pass"], 3)
    return result


def verdicts(found: dict) -> dict:
    launched, last = found["launched_in_slot"], found["window_slots"][1]
    jobs_in = {slot: len([r for r in found["sla_watch_runs"] if r["slot"] == slot]) for slot in range(launched, last + 1)}
    # Starting takes the schedulers about a second, which may carry them into the next slot: the slot they
    # were launched in has one job or none; every later one exactly one.
    one_each = jobs_in[launched] <= 1 and all(count == 1 for slot, count in jobs_in.items() if slot > launched)
    all_ran = all(r["run_s"] is not None and r["status"] == "finished" for r in found["sla_watch_runs"])
    # Each scheduler's log names the slots it enqueued: no slot in two logs.
    claimed = [slot for found_by in found["slots_enqueued_by_each_scheduler"] for slot in found_by]
    logs_agree = len(claimed) == len(set(claimed)) == len(found["sla_watch_runs"])
    ratio = found["run_time_ratio_to_direct"]
    return {
        "scheduled_sla_watch_run_time_within_20pct_of_direct": {
            "scheduled_median_s": found["run_s"].get("median"), "direct_median_s": found["direct_median_s"],
            "ratio": ratio, "max_ratio": RUN_TIME_RATIO_MAX,
            "met": ratio is not None and ratio <= RUN_TIME_RATIO_MAX},
        "one_sla_watch_job_per_slot_with_two_schedulers": {
            "slots": len(jobs_in), "jobs": len(found["sla_watch_runs"]), "stray": len(found["stray_sla_watch_jobs"]),
            "jobs_per_slot": list(jobs_in.values()), "all_finished": all_ran,
            "schedulers_logs_claim_each_job_once": logs_agree,
            "both_schedulers_alive": all(found["schedulers_alive_at_end"]),
            "met": one_each and all_ran and logs_agree and not found["stray_sla_watch_jobs"]
            and all(found["schedulers_alive_at_end"])},
    }
