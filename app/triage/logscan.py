"""Reading a text log for what triage needs: the software version, crash signatures and error lines.

scan_log reads a binary stream a block of lines at a time, so a 100 MB log
costs the same memory as a small one: lines are cut at MAX_LINE bytes, and only a bounded
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
BLOCK = 1024 * 1024  # bytes read at a time
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

# A cheap first pass: lines of a lower-cased block holding one of these are looked at closely
# (_CRASH and _ERROR decide). bytes.find runs at memory speed; a regex alternation would not.
_INTERESTING = (b"panic", b"oops", b"segmentation", b"sig", b"core", b"assert", b"crash", b"watchdog",
                b"backtrace", b"call trace", b"pc is at", b"null pointer", b"not responding", b"#", b"err",
                b"crit", b"fatal", b"alert", b"emerg", b"warn", b"%", b"fail", b"denied", b"exceed",
                b"mismatch", b"timeout", b"unreachable", b"threshold")
_VERSION_WORDS = (b"version", b"release", b"image", b"firmware", b"software", b"extremexos", b"voss", b"wing")


def _line_starts(lowered: bytes, words: tuple[bytes, ...]) -> set[int]:
    """Offsets of the lines of `lowered` that contain any of `words`."""
    starts = set()
    for word in words:
        position = lowered.find(word)
        while position != -1:
            start = lowered.rfind(b"\n", 0, position) + 1
            starts.add(start)
            end = lowered.find(b"\n", position)
            if end == -1:
                break
            position = lowered.find(word, end)
    return starts


_MASKS = [
    (re.compile(r"\b(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}\b"), "<mac>"),
    (re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"),
     ""),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.:,]\d+)?\b"), ""),
    (re.compile(r"^(?:[A-Z][a-z]{2}\s+\d{1,2}\s+)"), ""),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\b\d+\b"), "#"),
    (re.compile(r"\s+"), " "),
]
_LEADING_NOISE = re.compile(r"^[\s\[\]#:.<>-]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # PostgreSQL text and JSON refuse NUL


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
    long_lines: int = 0  # lines longer than MAX_LINE that ran past a block
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


class _Scan:
    """State of one scan: the counters and kept lines, fed block by block."""

    def __init__(self):
        self.findings = Findings()
        self.versions: Counter[str] = Counter()
        self.crashes, self.errors = _Bucket(), _Bucket()

    def block(self, data: bytes) -> None:
        """Scan complete lines (data ends with a newline, or is the log's last line)."""
        lowered = data.lower()
        for start in _line_starts(lowered, _VERSION_WORDS):
            match = _VERSION.search(data, start, self._end(data, start))
            if match is not None:
                version = match.group(1).decode()
                if version in self.versions or len(self.versions) < MAX_VERSIONS:
                    self.versions[version] += 1
        counted, line_number = 0, self.findings.lines + 1
        for start in sorted(_line_starts(lowered, _INTERESTING)):
            line_number += data.count(b"\n", counted, start)
            counted = start
            self.line(data[start:self._end(data, start)], line_number)
        self.findings.lines += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)

    @staticmethod
    def _end(data: bytes, start: int) -> int:
        end = data.find(b"\n", start)
        return min(len(data) if end == -1 else end, start + MAX_LINE)

    def line(self, line: bytes, number: int) -> None:
        crash = _CRASH.search(line) is not None
        if not crash and _ERROR.search(line) is None:
            return
        text = _CONTROL.sub("", line.decode("utf-8", errors="replace")).strip()
        (self.crashes if crash else self.errors).add(text, number)

    def result(self) -> Findings:
        findings = self.findings
        findings.software_versions = dict(self.versions.most_common())
        findings.software_version = self.versions.most_common(1)[0][0] if self.versions else None
        findings.crash_signatures = self.crashes.ordered()
        findings.error_lines = self.errors.ordered()
        findings.dropped_distinct = self.crashes.dropped + self.errors.dropped
        return findings


def scan_log(stream: BinaryIO) -> Findings:
    """Scan a binary log stream in bounded memory (BLOCK bytes at a time); returns its findings.

    Regular expressions run over whole blocks of complete lines, which keeps a
    100 MB log to a few seconds; a line longer than MAX_LINE is cut there and
    the rest of it skipped, so even a log without line breaks stays bounded.
    """
    scan = _Scan()
    pending = b""  # the start of a line whose end has not been read yet (at most MAX_LINE bytes)
    skipping = False  # inside an over-long line, dropping bytes until its end
    while chunk := stream.read(BLOCK):
        scan.findings.bytes += len(chunk)
        if skipping:
            newline = chunk.find(b"\n")
            if newline == -1:
                continue
            chunk, skipping = chunk[newline + 1:], False
        data = pending + chunk
        last = data.rfind(b"\n")
        complete, pending = (data[:last + 1], data[last + 1:]) if last != -1 else (b"", data)
        if complete:
            scan.block(complete)
        if len(pending) > MAX_LINE:
            scan.findings.long_lines += 1
            scan.block(pending[:MAX_LINE] + b"\n")
            pending, skipping = b"", True
    if pending:
        scan.block(pending)
    return scan.result()
