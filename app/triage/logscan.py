"""Reading a text log for what triage needs: the software version, every kind of line it holds, and
the crash and fault signatures among them.

Logs come in many dialects: each family's own (EXOS, VOSS, WiNG, IQ Engine, Java services), syslog
as RFC 3164 and RFC 5424 lines or as a syslog server writes them, kernel console output, JSON lines
from a SIEM. The formats and the crash and fault wordings are data (logformats.yaml), not code.

scan_log reads a binary stream a block of lines at a time, so a 100 MB log costs the same memory as a
small one. Every line is counted under its template (the line with its digits masked), found with
bytes.translate and a Counter at memory speed; only a line whose template is new is read closely
(format, severity, component, fault signatures). A bounded number of distinct templates is kept with
their counts: crash signatures, error and warning lines, and the other lines, so that every kind of
line can take part in ranking. The function is pure: it stores nothing and needs no application.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Iterable

import yaml

from app.bounds import ascii_digits

LANGUAGE_PATH = Path(__file__).with_name("logformats.yaml")
MAX_LINE = 8192  # bytes kept of one line; the rest of an over-long line is skipped
BLOCK = 1024 * 1024  # bytes read at a time
MAX_DISTINCT = 300  # distinct templates kept per kind: crash signatures, error lines, other lines
MAX_NEW_PER_BLOCK = 2000  # templates read closely per block; a log of nothing but unique lines is sampled
MAX_KNOWN_BYTES = 4 * 1024 * 1024  # memory for recognising already-read templates
MAX_VERSIONS = 20
SAMPLE_CHARS = 300
SEVERITIES = ("crit", "error", "warning", "info", "debug")
_SYSLOG_SEVERITY = ("crit", "crit", "crit", "error", "warning", "info", "info", "debug")
_DIGITS = bytes.maketrans(b"0123456789", b"##########")


@dataclass(frozen=True)
class LogFormat:
    name: str
    pattern: re.Pattern | None
    severities: dict[str, str]
    family: str | None = None
    wrapper: bool = False
    fields: dict[str, tuple[str, ...]] | None = None  # JSON lines: keys tried for each part


@dataclass(frozen=True)
class Signature:
    kind: str
    label: str
    crash: bool
    pattern: re.Pattern


@dataclass(frozen=True, eq=False)
class LogLanguage:
    formats: tuple[LogFormat, ...]
    signatures: tuple[Signature, ...]
    severity_words: tuple[tuple[str, re.Pattern], ...]
    version: re.Pattern  # over bytes
    version_words: tuple[bytes, ...]

    @property
    def crash_kinds(self) -> frozenset[str]:
        return frozenset(s.kind for s in self.signatures if s.crash)

    def kinds(self, text: str) -> list[str]:
        """The crash and fault signature kinds found in `text`, in the order of the language file."""
        return [s.kind for s in self.signatures if s.pattern.search(text)]

    def label(self, kind: str) -> str:
        return next((s.label for s in self.signatures if s.kind == kind), kind.replace("_", " "))


def load_language(path: Path = LANGUAGE_PATH) -> LogLanguage:
    """Read and compile a log language file (formats, signatures, version words)."""
    data = yaml.safe_load(path.read_text())
    formats = []
    for item in data["formats"]:
        severities = {str(k).lower(): v for k, v in (item.get("severities") or {}).items()}
        if item.get("kind") == "json":
            fields = {part: tuple(keys) for part, keys in item["fields"].items()}
            formats.append(LogFormat(item["name"], None, severities, item.get("family"), False, fields))
        else:
            formats.append(LogFormat(item["name"], re.compile(item["pattern"]), severities, item.get("family"),
                                     bool(item.get("wrapper"))))
    signatures = tuple(Signature(s["kind"], s["label"], bool(s.get("crash")), re.compile(s["pattern"]))
                       for s in data["signatures"])
    severity_words = tuple((severity, re.compile(pattern, re.I))
                           for severity, pattern in data["severity_words"].items())
    words = tuple(w.lower().encode() for w in data["version_words"])
    alternatives = b"|".join(re.escape(w).replace(b"\\ ", rb"\s+") for w in words)
    version = re.compile(
        rb"(?i)(?:" + alternatives + rb")\b[^0-9\n]{0,24}?\bv?(\d{1,3}\.\d{1,3}(?:\.\d{1,4}){1,3}"
        rb"(?:-[A-Za-z0-9]+(?:-\d+)?)?|\d{1,3}\.\d{1,3}r\d{1,2}[a-z]?)\b")
    return LogLanguage(tuple(formats), signatures, severity_words, version,
                       tuple(w.split(b" ")[0] for w in words))


@lru_cache(maxsize=1)
def log_language() -> LogLanguage:
    """The shipped log language (logformats.yaml)."""
    return load_language()


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


def template(line: str) -> str:
    """A log line with its variable parts (times, numbers, addresses) masked."""
    for pattern, replacement in _MASKS:
        line = pattern.sub(replacement, line)
    return _LEADING_NOISE.sub("", line).strip()


@dataclass
class LineFinding:
    """One distinct line template: how often it was seen, the first raw line of it, and what it is."""

    text: str
    count: int
    sample: str
    first_line: int
    severity: str = ""  # crit, error, warning, info, debug; "" when nothing says
    kinds: list[str] = field(default_factory=list)  # crash and fault signature kinds
    format: str = ""  # the log format the line was read in


@dataclass
class Findings:
    """What one log showed. JSON-friendly through to_dict / from_dict."""

    software_version: str | None = None
    software_versions: dict[str, int] = field(default_factory=dict)
    crash_signatures: list[LineFinding] = field(default_factory=list)
    error_lines: list[LineFinding] = field(default_factory=list)  # errors, warnings and non-crash faults
    other_lines: list[LineFinding] = field(default_factory=list)  # everything else, by template
    formats: dict[str, int] = field(default_factory=dict)  # distinct lines read in each format
    fault_kinds: dict[str, int] = field(default_factory=dict)  # lines showing each signature kind
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
                    out.append(LineFinding(template(item), 1, item[:SAMPLE_CHARS], 0,
                                           kinds=log_language().kinds(item)))
                elif isinstance(item, dict) and isinstance(item.get("text"), str):
                    kinds = item.get("kinds")
                    if "kinds" not in item:  # stored by an earlier scanner: read the signatures again
                        kinds = log_language().kinds(str(item.get("sample") or item["text"]))
                    out.append(LineFinding(
                        item["text"], int(item.get("count") or 1), str(item.get("sample") or item["text"]),
                        int(item.get("first_line") or 0), str(item.get("severity") or ""),
                        [str(k) for k in kinds] if isinstance(kinds, list) else [], str(item.get("format") or "")))
            return out

        versions = data.get("software_versions") or {}
        if isinstance(versions, list):
            versions = {str(v): 1 for v in versions}
        version = data.get("software_version") or next(iter(versions), None)

        def counts(key):
            value = data.get(key)
            return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}

        return cls(software_version=version, software_versions=dict(versions),
                   crash_signatures=lines("crash_signatures"), error_lines=lines("error_lines"),
                   other_lines=lines("other_lines"), formats=counts("formats"), fault_kinds=counts("fault_kinds"),
                   lines=int(data.get("lines") or 0), bytes=int(data.get("bytes") or 0),
                   long_lines=int(data.get("long_lines") or 0),
                   dropped_distinct=int(data.get("dropped_distinct") or 0))

    def texts(self) -> Iterable[str]:
        """Every kept crash signature and error line template, crash signatures first."""
        for item in self.crash_signatures:
            yield item.text
        for item in self.error_lines:
            yield item.text

    def all_lines(self) -> Iterable[LineFinding]:
        """Every kept template: crash signatures, then errors and warnings, then the other lines."""
        yield from self.crash_signatures
        yield from self.error_lines
        yield from self.other_lines


@dataclass(frozen=True)
class ReadLine:
    """One line as its format reads it."""

    format: str
    severity: str
    component: str
    message: str


def _severity(fmt: LogFormat, groups: dict) -> str:
    if groups.get("severity"):
        return fmt.severities.get(groups["severity"].lower(), "")
    for key in ("pri", "sevnum"):
        value = groups.get(key)
        if value and ascii_digits(value, 6):
            return _SYSLOG_SEVERITY[int(value) % 8]
    return ""


def _lookup(data: dict, key: str):
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _read_json(fmt: LogFormat, text: str) -> ReadLine | None:
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    parts = {}
    for part, keys in (fmt.fields or {}).items():
        values = (_lookup(data, k) for k in keys)
        parts[part] = next((str(v) for v in values if isinstance(v, (str, int, float)) and v != ""), "")
    if not parts.get("message"):
        return None
    raw = parts.get("severity", "")
    severity = (_SYSLOG_SEVERITY[int(raw) % 8] if ascii_digits(raw, 6) else fmt.severities.get(raw.lower(), "")) if raw else ""
    return ReadLine(fmt.name, severity, parts.get("component", ""), parts["message"])


class LineReader:
    """Reads lines in whatever format they are written, preferring the formats that matched before."""

    def __init__(self, language: LogLanguage | None = None):
        self.language = language or log_language()
        self.hits: Counter[str] = Counter()
        self._order = list(self.language.formats)

    def _try(self, fmt: LogFormat, text: str) -> ReadLine | None:
        if fmt.pattern is None:
            return _read_json(fmt, text)
        match = fmt.pattern.search(text)
        if match is None:
            return None
        groups = match.groupdict()
        return ReadLine(fmt.name, _severity(fmt, groups), groups.get("component") or "", groups["message"] or "")

    def read(self, text: str) -> ReadLine:
        """The line read in the best-fitting format: a syslog wrapper around a device's own line first,
        then a device's own format, then a bare wrapper; with no format, the whole line as the message."""
        wrapped = None
        for fmt in self._order:
            if not fmt.wrapper:
                continue
            outer = self._try(fmt, text)
            if outer is None:
                continue
            inner = next((i for i in (self._try(f, outer.message) for f in self._order if not f.wrapper)
                          if i is not None), None) if outer.message else None
            if inner is not None:
                return self._found(fmt, ReadLine(f"{fmt.name}+{inner.format}", inner.severity or outer.severity,
                                                 inner.component or outer.component, inner.message))
            wrapped = wrapped or (fmt, outer)
        for fmt in self._order:
            if not fmt.wrapper and (found := self._try(fmt, text)) is not None:
                return self._found(fmt, found)
        if wrapped is not None:
            return self._found(*wrapped)
        return self._with_severity(ReadLine("", "", "", text))

    def _found(self, fmt: LogFormat, line: ReadLine) -> ReadLine:
        self.hits[fmt.name] += 1
        self._order.sort(key=lambda f: -self.hits[f.name])  # stable: ties keep the file's order
        return self._with_severity(line)

    def _with_severity(self, line: ReadLine) -> ReadLine:
        if line.severity:
            return line
        said = f"{line.component} {line.message}"
        for severity, pattern in self.language.severity_words:
            if pattern.search(said):
                return ReadLine(line.format, severity, line.component, line.message)
        return line


class _Scan:
    """State of one scan: the counters and kept templates, fed block by block."""

    def __init__(self, language: LogLanguage | None = None):
        self.language = language or log_language()
        self.reader = LineReader(self.language)
        self.findings = Findings()
        self.versions: Counter[str] = Counter()
        self.formats: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.entries: dict[str, LineFinding] = {}
        self.buckets: dict[str, list[LineFinding]] = {"crash": [], "error": [], "other": []}
        self.known: dict[bytes, LineFinding | None] = {}
        self.known_bytes = 0
        self.dropped = 0

    def block(self, data: bytes) -> None:
        """Scan complete lines (data ends with a newline, or is the log's last line)."""
        self._versions(data)
        keys = data.translate(_DIGITS).split(b"\n")
        if data.endswith(b"\n"):
            keys.pop()
        counts = Counter(keys)
        new = [key for key in counts if key not in self.known]
        if new:
            self._read_new(data, keys, new)
        for key, count in counts.items():
            entry = self.known.get(key)
            if entry is not None:
                entry.count += count
                if entry.kinds:
                    for kind in entry.kinds:
                        self.kinds[kind] += count
        self.findings.lines += len(keys)

    def _versions(self, data: bytes) -> None:
        lowered = data.lower()
        for start in _line_starts(lowered, self.language.version_words):
            end = data.find(b"\n", start)
            match = self.language.version.search(data, start, min(len(data) if end == -1 else end, start + MAX_LINE))
            if match is not None:
                version = match.group(1).decode()
                if version in self.versions or len(self.versions) < MAX_VERSIONS:
                    self.versions[version] += 1

    def _read_new(self, data: bytes, keys: list[bytes], new: list[bytes]) -> None:
        wanted = set(new)
        first: dict[bytes, int] = {}
        for position, key in enumerate(keys):
            if key in wanted and key not in first:
                first[key] = position
                if len(first) == len(wanted):
                    break
        raw_lines = data.split(b"\n")
        base = self.findings.lines
        if self.known_bytes > MAX_KNOWN_BYTES:  # forget how lines looked; the kept templates stay
            self.known.clear()
            self.known_bytes = 0
        for n, key in enumerate(sorted(new, key=first.__getitem__)):
            if n >= MAX_NEW_PER_BLOCK:
                self.dropped += 1
                continue
            self.known[key] = self._entry(raw_lines[first[key]][:MAX_LINE], base + first[key] + 1)
            self.known_bytes += len(key) + 64

    def _entry(self, raw: bytes, number: int) -> LineFinding | None:
        text = _CONTROL.sub("", raw.decode("utf-8", errors="replace")).strip()
        if not text:
            return None
        read = self.reader.read(text)
        said = f"{read.component} {read.message}".strip() if read.component else read.message
        key = template(said)
        if not key:
            return None
        existing = self.entries.get(key)
        if existing is not None:
            return existing
        kinds = self.language.kinds(said)
        crash_kinds = self.language.crash_kinds
        bucket = ("crash" if any(k in crash_kinds for k in kinds)
                  else "error" if kinds or read.severity in ("crit", "error", "warning") else "other")
        if len(self.buckets[bucket]) >= MAX_DISTINCT:
            self.dropped += 1
            return None
        entry = LineFinding(key, 0, text[:SAMPLE_CHARS], number, read.severity, kinds, read.format)
        self.entries[key] = entry
        self.buckets[bucket].append(entry)
        if read.format:
            self.formats[read.format.split("+")[-1]] += 1
        return entry

    def result(self) -> Findings:
        findings = self.findings
        findings.software_versions = dict(self.versions.most_common())
        findings.software_version = self.versions.most_common(1)[0][0] if self.versions else None
        findings.crash_signatures = self.buckets["crash"]
        findings.error_lines = self.buckets["error"]
        findings.other_lines = self.buckets["other"]
        findings.formats = dict(self.formats.most_common())
        findings.fault_kinds = dict(self.kinds.most_common())
        findings.dropped_distinct = self.dropped
        return findings


def _line_starts(lowered: bytes, words: tuple[bytes, ...]) -> set[int]:
    """Offsets of the lines of `lowered` that contain any of `words` (bytes.find runs at memory speed)."""
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


def scan_log(stream: BinaryIO, language: LogLanguage | None = None) -> Findings:
    """Scan a binary log stream in bounded memory (BLOCK bytes at a time); returns its findings.

    A line longer than MAX_LINE is cut there and the rest of it skipped, so
    even a log without line breaks stays bounded.
    """
    scan = _Scan(language)
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
