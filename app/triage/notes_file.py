"""Release notes as checked, plain data: a YAML or JSON text, or what vendor_notes reads from a document.

Every refusal names the file, the line and the reason, so that whoever wrote
the file can fix it without guessing. The structure is checked against
release-notes.schema.json; the meaning (versions, ranges, duplicate IDs, an
anomaly listed as open in a release that it does not affect) is checked here.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from app.triage.versions import VersionError, is_affected, parse_range, parse_version

SCHEMA_PATH = Path(__file__).with_name("release-notes.schema.json")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None  # the line of a text file or HTML document; the page of a PDF (see unit)
    reason: str
    unit: str = "line"  # "line" or "page"

    def __str__(self) -> str:
        if not self.line:
            where = self.path
        else:
            where = f"{self.path}:page {self.line}" if self.unit == "page" else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"


class ReleaseNotesError(Exception):
    """One or more files refused; `problems` lists each with its line."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass
class Entry:
    """One anomaly as one release's notes state it."""

    section: str  # "known" (open in the release) or "fixed" (fixed by it)
    code: str
    title: str
    description: str
    affected: list[str]
    fixed_in: list[str]
    workaround: str | None
    severity: str | None
    signatures: list[str]


@dataclass
class ReleaseNotes:
    product_family: str
    release: str
    released_on: date | None
    summary: str | None
    entries: list[Entry] = field(default_factory=list)
    source: str = ""
    digest: str = ""


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _plain(node: yaml.Node, lines: dict[tuple, int], path: tuple = ()) -> Any:
    """Build data from a YAML node tree, remembering each value's line.

    Unquoted scalars stay strings unless they are null, booleans or integers:
    YAML would otherwise read `fixed_in: 8.10` as the float 8.1.
    """
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = _plain(key_node, {}, ())
            if key in result:
                raise _LineError(key_node.start_mark.line + 1, f"duplicate key {key!r}")
            result[key] = _plain(value_node, lines, path + (key,))
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, lines, path + (i,)) for i, item in enumerate(node.value)]
    if node.style is not None and node.style != "":  # quoted: always a string
        return node.value
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "null":
        return None
    if tag == "bool":
        return node.value.lower() in ("true", "yes", "on", "y")
    if tag == "int":
        try:
            return int(node.value, 0)
        except ValueError:
            return node.value
    return node.value


class _LineError(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _load(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    if source.endswith(".json"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReleaseNotesError([Problem(source, exc.lineno, f"not valid JSON: {exc.msg}")]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ReleaseNotesError([Problem(source, line, f"not valid YAML: {reason}")]) from exc
    if node is None:
        raise ReleaseNotesError([Problem(source, 1, "the file is empty")])
    lines: dict[tuple, int] = {}
    try:
        return _plain(node, lines), lines
    except _LineError as exc:
        raise ReleaseNotesError([Problem(source, exc.line, exc.reason)]) from exc


def _line_of(lines: dict[tuple, int], path: tuple) -> int | None:
    path = tuple(path)
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def _schema_problems(data: Any, lines: dict[tuple, int], source: str) -> list[Problem]:
    problems = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(map(str, error.absolute_path)) or "document"
        problems.append(Problem(source, _line_of(lines, tuple(error.absolute_path)), f"{where}: {error.message}"))
    problems.sort(key=lambda p: p.line or 0)
    return problems


def parse_notes(text: str, source: str = "<release notes>") -> ReleaseNotes:
    """Parse and check the text of one release-notes file; raises ReleaseNotesError."""
    data, lines = _load(text, source)
    return notes_from_data(data, lines, source, hashlib.sha256(text.encode()).hexdigest())


def notes_from_data(data: Any, lines: dict[tuple, int], source: str, digest: str,
                    unit: str = "line") -> ReleaseNotes:
    """Check release-notes data (as a file of the project's format holds it) and turn it into ReleaseNotes.

    `lines` maps paths into the data to where they were written (lines, or pages when `unit` is "page"),
    so that every refusal says where; raises ReleaseNotesError listing every problem.
    """
    problems = [Problem(p.path, p.line, p.reason, unit) for p in _schema_problems(data, lines, source)]
    if problems:
        raise ReleaseNotesError(problems)

    def problem(path: tuple, reason: str) -> None:
        problems.append(Problem(source, _line_of(lines, path), reason, unit))

    release_text = data["release"]  # the schema's pattern guarantees it parses as a version
    released_on = None
    if "released_on" in data:
        try:
            released_on = date.fromisoformat(data["released_on"])
        except ValueError:
            problem(("released_on",), f"released_on: {data['released_on']!r} is not a date")
    notes = ReleaseNotes(product_family=data["product_family"], release=release_text,
                         released_on=released_on, summary=data.get("summary"), source=source, digest=digest)
    seen: dict[str, int | None] = {}
    for section, key in (("known", "known_anomalies"), ("fixed", "fixed_issues")):
        for index, item in enumerate(data.get(key, [])):
            path = (key, index)
            code = item["id"]
            if code in seen:
                problem(path + ("id",), f"{key}/{index}: anomaly {code} is listed twice "
                                        f"(first at line {seen[code]})")
                continue
            seen[code] = _line_of(lines, path + ("id",))
            entry = _entry(section, item, release_text, path, problem)
            if entry is None:
                continue
            if section == "known" and not _affects(entry, release_text):
                problem(path + ("affected",), f"{key}/{index}: {code} is listed as open in {release_text}, "
                                              f"but its affected versions and fixes exclude {release_text}")
            notes.entries.append(entry)
    if problems:
        raise ReleaseNotesError(sorted(problems, key=lambda p: p.line or 0))
    return notes


def _entry(section: str, item: dict, release: str, path: tuple, problem) -> Entry | None:
    ok = True
    affected = item.get("affected") or [f"<{release}"]
    for i, text in enumerate(affected):
        try:
            parse_range(text)
        except VersionError as exc:
            problem(path + ("affected", i), f"{'/'.join(map(str, path))}/affected/{i}: {exc}")
            ok = False
    fixed_in = list(item.get("fixed_in", []))
    for i, text in enumerate(fixed_in):
        try:
            parse_version(text)
        except VersionError as exc:
            problem(path + ("fixed_in", i), f"{'/'.join(map(str, path))}/fixed_in/{i}: {exc}")
            ok = False
    if section == "fixed" and release not in fixed_in:
        fixed_in.append(release)
    if not ok:
        return None
    return Entry(section=section, code=item["id"], title=item["title"].strip(),
                 description=item["description"].strip(), affected=list(affected), fixed_in=fixed_in,
                 workaround=(item.get("workaround") or "").strip() or None,
                 severity=item.get("severity"), signatures=list(item.get("signatures", [])))


def _affects(entry: Entry, release: str) -> bool:
    return is_affected(parse_version(release), [parse_range(r) for r in entry.affected],
                       [parse_version(f) for f in entry.fixed_in])
