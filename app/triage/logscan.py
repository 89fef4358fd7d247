"""Reading a text log for what triage needs: the software version, crash signatures and error lines.

scan_log reads a binary stream line by line, so a 100 MB log costs the same
memory as a small one: lines are cut at MAX_LINE bytes, and only a bounded
number of distinct signatures and error lines are kept (with their counts).
Lines are reduced to templates (numbers, addresses and timestamps masked),
so that ten thousand repeats of one error are one finding seen ten thousand
times. The function is pure: it stores nothing and needs no application.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import BinaryIO, Iterable

MAX_LINE = 8192  # bytes kept of one line; the rest of an over-long line is skipped
MAX_DISTINCT = 300  # distinct crash signatures, and distinct error lines, kept
MAX_VERSIONS = 20
SAMPLE_CHARS = 300

_VERSION = re.compile(
    rb"(?i)(?:ExtremeXOS|VOSS|WiNG|software|firmware|image|release|version)\b[^0-9\n]{0,24}?"
    rb"\bv?(\d{1,3}\.\d{1,3}(?:\.\d{1,4}){1,3}(?:-[A-Za-z0-9]+(?:-\d+)?)?)")
_CRASH = re.compile(
    rb"(?i)kernel panic|\boops\b|segmentation fault|\bsig(?:segv|abrt|bus|ill|fpe)\b|died with signal"
    rb"|signal \d+|core ?dump|assert(?:ion)?(?: failed)?\b|\bcrash(?:ed)?\b|watchdog|backtrace|call trace"
    rb"|\bpc is at\b|null pointer|not responding|\bpanic\b|traceback|^\s*#\d+\s+0x")
_ERROR = re.compile(
    rb"<(?:Crit|Erro|Alert|Emerg|Warn):|\b(?:ERROR|ERR|CRITICAL|CRIT|FATAL|ALERT|EMERG|WARNING|WARN)\b"
    rb"|%[A-Z0-9_]+-[0-4]-[A-Z0-9_]+|(?i:\bfail(?:ed|ure)?\b|\bdenied\b|\bexceed|\bmismatch|\btimeout\b"
    rb"|\bunreachable\b|\bnot responding\b|\bthreshold\b)")

_MASKS = [
    (re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"),
     ""),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.:,]\d+)?\b"), ""),
    (re.compile(r"^(?:[A-Z][a-z]{2}\s+\d{1,2}\s+)"), ""),
    (re.compile(r"\b(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}\b"), "<mac>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\b\d+\b"), "#"),
    (re.compile(r"\s+"), " "),
]
_LEADING_NOISE = re.compile(r"^[\s\[\]#:.<>-]*")


@dataclass
class LineFinding:
    """One distinct line template with how often it was seen and the first raw line of it."""

    text: str
    count: int
    sample: str
    first_line: int


@dataclass
class Findings:
    """What one log showed. JSON-friendly through to_dict / from_dict."""

    software_version: str | None = None
    software_versions: dict[str, int] = field(default_factory=dict)
    crash_signatures: list[LineFinding] = field(default_factory=list)
    error_lines: list[LineFinding] = field(default_factory=list)
    lines: int = 0
    bytes: int = 0
    long_lines: int = 0
    dropped_distinct: int = 0  # distinct lines not kept once MAX_DISTINCT was reached

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Findings:
        """Rebuild findings stored as JSON; unknown keys are ignored, missing ones take defaults."""
        data = data or {}

        def lines(key):
            out = []
            for item in data.get(key) or []:
                if isinstance(item, str) and item.strip():  # plain lines, as simpler scanners store them
                    out.append(LineFinding(template(item), 1, item[:SAMPLE_CHARS], 0))
                elif isinstance(item, dict) and isinstance(item.get("text"), str):
                    out.append(LineFinding(item["text"], int(item.get("count") or 1),
                                           str(item.get("sample") or item["text"]), int(item.get("first_line") or 0)))
            return out

        versions = data.get("software_versions") or {}
        if isinstance(versions, list):
            versions = {str(v): 1 for v in versions}
        version = data.get("software_version") or next(iter(versions), None)
        return cls(software_version=version, software_versions=dict(versions),
                   crash_signatures=lines("crash_signatures"), error_lines=lines("error_lines"),
                   lines=int(data.get("lines") or 0), bytes=int(data.get("bytes") or 0),
                   long_lines=int(data.get("long_lines") or 0),
                   dropped_distinct=int(data.get("dropped_distinct") or 0))

    def texts(self) -> Iterable[str]:
        """Every kept signature and error line template, crash signatures first."""
        for item in self.crash_signatures:
            yield item.text
        for item in self.error_lines:
            yield item.text


def template(line: str) -> str:
    """A log line with its variable parts (times, numbers, addresses) masked."""
    for pattern, replacement in _MASKS:
        line = pattern.sub(replacement, line)
    return _LEADING_NOISE.sub("", line).strip()


class _Bucket:
    def __init__(self):
        self.items: dict[str, LineFinding] = {}
        self.dropped = 0

    def add(self, raw: str, number: int) -> None:
        key = template(raw)
        if not key:
            return
        item = self.items.get(key)
        if item is not None:
            item.count += 1
        elif len(self.items) < MAX_DISTINCT:
            self.items[key] = LineFinding(key, 1, raw[:SAMPLE_CHARS], number)
        else:
            self.dropped += 1

    def ordered(self) -> list[LineFinding]:
        return sorted(self.items.values(), key=lambda item: item.first_line)


def _lines(stream: BinaryIO) -> Iterable[tuple[bytes, int]]:
    """(line, bytes read) for each line; an over-long line is read past in chunks, never held whole."""
    while True:
        line = stream.readline(MAX_LINE)
        if not line:
            return
        size = len(line)
        rest = line
        while len(rest) == MAX_LINE and not rest.endswith(b"\n"):
            rest = stream.readline(MAX_LINE)
            size += len(rest)
        yield line, size


def scan_log(stream: BinaryIO) -> Findings:
    """Scan a binary log stream line by line, in bounded memory; returns its findings."""
    findings = Findings()
    versions: Counter[str] = Counter()
    crashes, errors = _Bucket(), _Bucket()
    for number, (line, size) in enumerate(_lines(stream), start=1):
        findings.lines = number
        findings.bytes += size
        findings.long_lines += size > len(line)
        if b"ersion" in line or b"ERSION" in line or b"elease" in line or b"mage" in line or b"XOS" in line:
            match = _VERSION.search(line)
            if match and (match.group(1).decode() in versions or len(versions) < MAX_VERSIONS):
                versions[match.group(1).decode()] += 1
        crash = _CRASH.search(line)
        if crash is None and _ERROR.search(line) is None:
            continue
        text = line.decode("utf-8", errors="replace").strip()
        (crashes if crash is not None else errors).add(text, number)
    findings.software_versions = dict(versions.most_common())
    findings.software_version = versions.most_common(1)[0][0] if versions else None
    findings.crash_signatures = crashes.ordered()
    findings.error_lines = errors.ordered()
    findings.dropped_distinct = crashes.dropped + errors.dropped
    return findings
