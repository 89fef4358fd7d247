"""Checklist definitions: versioned YAML files in checklists/, validated by checklists/schema.json.

A malformed file is refused with its path, line and reason, at start-up and by
`flask checklist validate`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import yaml

FILE_NAME = re.compile(r"^(?P<name>[a-z][a-z0-9-]*)-v(?P<version>[0-9]+)\.ya?ml\Z")


class ChecklistFileError(Exception):
    """One problem in one checklist file."""

    def __init__(self, path: Path, line: int | None, reason: str):
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}:{line or 1}: {reason}")


class ChecklistDirectoryError(Exception):
    """Every problem found in a checklist directory."""

    def __init__(self, errors: list[ChecklistFileError]):
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class CaseFacts:
    """What conditions of applicability look at."""

    product_family: str
    severity: str
    hardware_issue: bool
    crash: bool


@dataclass(frozen=True)
class Condition:
    product_families: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    hardware_issue: bool | None = None
    crash: bool | None = None

    def holds(self, facts: CaseFacts) -> bool:
        return ((self.product_families is None
                 or facts.product_family.casefold() in {f.casefold() for f in self.product_families})
                and (self.severities is None or facts.severity in self.severities)
                and (self.hardware_issue is None or facts.hardware_issue == self.hardware_issue)
                and (self.crash is None or facts.crash == self.crash))


@dataclass(frozen=True)
class ItemDefinition:
    code: str
    title: str
    kind: str
    help: str = ""
    required: bool = True
    allow_not_applicable: bool = False
    min_length: int | None = None
    options: tuple[str, ...] = ()
    reason_required_for: tuple[str, ...] = ()
    attachment_kinds: tuple[str, ...] = ()
    min_count: int | None = None
    applies_when: Condition | None = None

    def applies_to(self, facts: CaseFacts) -> bool:
        return self.applies_when is None or self.applies_when.holds(facts)


@dataclass(frozen=True)
class ChecklistDefinition:
    name: str
    version: int
    title: str
    items: tuple[ItemDefinition, ...]
    effective_from: date | None = None
    source: str = ""
    by_code: dict[str, ItemDefinition] = field(default_factory=dict, compare=False, repr=False)

    def item(self, code: str) -> ItemDefinition | None:
        return self.by_code.get(code)


def _schema() -> dict:
    path = Path(__file__).resolve().parents[2] / "checklists" / "schema.json"
    return json.loads(path.read_text())


def _line_of(node: yaml.Node, path: list[Any]) -> int:
    """The 1-based line of the YAML node at a JSON path (the nearest existing ancestor)."""
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next((value for k, value in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            match = node.value[key]
        else:
            match = None
        if match is None:
            break
        node = match
    return node.start_mark.line + 1


def load_file(path: Path, schema: dict | None = None) -> ChecklistDefinition:
    """Parse and validate one checklist file; raise ChecklistFileError on the first problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        # The context mark names where an unclosed construct began, which is what needs fixing.
        mark = exc.context_mark or exc.problem_mark
        raise ChecklistFileError(path, mark.line + 1 if mark else None, f"not valid YAML: {exc.problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChecklistFileError(path, None, f"cannot read the file: {exc}") from None
    if root is None or not isinstance(data, dict):
        raise ChecklistFileError(path, 1, "the file must hold a mapping with checklist, version, title and items")

    validator = jsonschema.Draft202012Validator(schema or _schema(),
                                                format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: _line_of(root, list(e.absolute_path)))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ChecklistFileError(path, _line_of(root, list(error.absolute_path)), f"{where}: {error.message}")

    match = FILE_NAME.match(path.name)
    if not match or match["name"] != data["checklist"] or int(match["version"]) != data["version"]:
        raise ChecklistFileError(path, _line_of(root, ["version"]),
                                 f"file name must be {data['checklist']}-v{data['version']}.yaml")

    items: list[ItemDefinition] = []
    seen: set[str] = set()
    for index, raw in enumerate(data["items"]):
        if raw["code"] in seen:
            raise ChecklistFileError(path, _line_of(root, ["items", index, "code"]),
                                     f"item code {raw['code']!r} appears twice")
        seen.add(raw["code"])
        unknown = set(raw.get("reason_required_for", ())) - set(raw.get("options", ()))
        if unknown:
            raise ChecklistFileError(path, _line_of(root, ["items", index, "reason_required_for"]),
                                     f"reason_required_for names values that are not options: {sorted(unknown)}")
        items.append(_item(raw))
    effective = data.get("effective_from")
    return ChecklistDefinition(
        name=data["checklist"], version=data["version"], title=data["title"], items=tuple(items),
        effective_from=date.fromisoformat(str(effective)) if effective else None,
        source=str(path), by_code={item.code: item for item in items},
    )


def _item(raw: dict) -> ItemDefinition:
    condition = raw.get("applies_when")
    return ItemDefinition(
        code=raw["code"], title=raw["title"], kind=raw["kind"], help=raw.get("help", ""),
        required=raw.get("required", True), allow_not_applicable=raw.get("allow_not_applicable", False),
        min_length=raw.get("min_length"), options=tuple(raw.get("options", ())),
        reason_required_for=tuple(raw.get("reason_required_for", ())),
        attachment_kinds=tuple(raw.get("attachment_kinds", ())), min_count=raw.get("min_count"),
        applies_when=Condition(
            product_families=tuple(condition["product_families"]) if "product_families" in condition else None,
            severities=tuple(condition["severities"]) if "severities" in condition else None,
            hardware_issue=condition.get("hardware_issue"), crash=condition.get("crash"),
        ) if condition else None,
    )


class ChecklistRegistry:
    """Every published version of every checklist, loaded once at start-up."""

    def __init__(self, definitions: list[ChecklistDefinition]):
        self._by_key = {(d.name, d.version): d for d in definitions}

    def get(self, name: str, version: int) -> ChecklistDefinition | None:
        return self._by_key.get((name, version))

    def versions(self, name: str) -> list[ChecklistDefinition]:
        return sorted((d for (n, _), d in self._by_key.items() if n == name), key=lambda d: d.version)

    def current(self, name: str, on: date) -> ChecklistDefinition | None:
        """The newest version in force on a date."""
        in_force = [d for d in self.versions(name) if d.effective_from is None or d.effective_from <= on]
        return in_force[-1] if in_force else None


def load_directory(directory: Path) -> ChecklistRegistry:
    """Load every *.yaml file; raise ChecklistDirectoryError listing every bad file."""
    schema = _schema()
    definitions, errors = [], []
    for path in sorted(Path(directory).glob("*.y*ml")):
        try:
            definitions.append(load_file(path, schema))
        except ChecklistFileError as exc:
            errors.append(exc)
    keys: dict[tuple[str, int], str] = {}
    for definition in definitions:
        key = (definition.name, definition.version)
        if key in keys:
            errors.append(ChecklistFileError(Path(definition.source), 1,
                                             f"{definition.name} v{definition.version} is also defined in {keys[key]}"))
        keys[key] = definition.source
    if errors:
        raise ChecklistDirectoryError(errors)
    return ChecklistRegistry(definitions)
