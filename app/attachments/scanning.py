"""Reading a text log for what triage needs: versions, crash signatures, error lines.

Reads line by line, so memory stays flat whatever the file size.
"""
from __future__ import annotations

import re
from typing import BinaryIO

VERSION = re.compile(rb"\b(?:version|Version|VERSION|ExtremeXOS|EXOS|VOSS)[^0-9\n]{0,20}(\d+\.\d+\.\d+\.\d+(?:-patch\d+-\d+)?)")
CRASH = re.compile(rb"(crash(?:ed)?\b|core dump|signal \d+|SIGSEGV|SIGABRT|Kernel panic|watchdog (?:reset|timeout)|Oops:)",
                   re.IGNORECASE)
ERROR = re.compile(rb"(<Erro:|<Crit:|<Emer:|<Alert:|\bERROR\b|\bCRITICAL\b)")
MAX_LINE = 4096
KEEP = 20


def scan_log(stream: BinaryIO) -> dict:
    """Findings of one log: software versions seen, crash signature lines, first error lines."""
    versions: dict[str, int] = {}
    crashes: list[str] = []
    errors: list[str] = []
    error_count = 0
    lines = 0
    while True:
        line = stream.readline(MAX_LINE)
        if not line:
            break
        lines += 1
        for match in VERSION.finditer(line):
            version = match.group(1).decode("ascii")
            versions[version] = versions.get(version, 0) + 1
        if CRASH.search(line) and len(crashes) < KEEP:
            crashes.append(line.decode("utf-8", "replace").strip()[:300])
        if ERROR.search(line):
            error_count += 1
            if len(errors) < KEEP:
                errors.append(line.decode("utf-8", "replace").strip()[:300])
    return {"lines": lines, "software_versions": sorted(versions, key=versions.get, reverse=True),
            "crash_signatures": crashes, "error_lines": errors, "error_count": error_count}
