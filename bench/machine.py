"""What the figures were measured on: hardware, software versions and database settings."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import psycopg

# PostgreSQL settings that move the figures most (commit cost, cache size, pool limits).
PG_SETTINGS = ("shared_buffers", "effective_cache_size", "work_mem", "synchronous_commit", "fsync",
               "max_connections", "wal_level", "max_wal_size")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def wrk_version() -> str:
    """The first line of `wrk --version` (wrk prints it with its usage and exits 1)."""
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (result.stdout or result.stderr).splitlines()[0].split(" Copyright")[0].strip()


def export_revision(repo: Path, revision: str) -> Path:
    """The files of `revision` in a new temporary folder (git archive: the repository is untouched)."""
    target = Path(tempfile.mkdtemp(prefix="gtac-bench-src-"))
    archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=repo,
                             capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def describe(database_url: str) -> dict:
    """Machine, Python, PostgreSQL and library versions, plus the database settings in force."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        server_version = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(conn.execute(
            "SELECT name, setting || COALESCE(unit, '') FROM pg_settings WHERE name = ANY(%s)",
            [list(PG_SETTINGS)]).fetchall())
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "postgres": server_version,
        "postgres_settings": settings,
        "packages": {name: _version(name) for name in
                     ("flask", "sqlalchemy", "psycopg", "marshmallow", "flask-smorest", "gunicorn")},
        "load_generator": wrk_version(),
    }
