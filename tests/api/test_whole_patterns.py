"""Patterns that check input match the whole value: `$` also matches before a trailing newline,
so "2026-Q3\\n" passed `^...$` and made a second MDF allocation for the same quarter.

The source is scanned so that the class cannot come back: no pattern literal in app/ ends in
`$`, and no validator matches a prefix (marshmallow's and WTForms' Regexp call re.match).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import marshmallow as ma
import pytest

from app.bounds import WholeMatch

APP = Path(__file__).resolve().parents[2] / "app"
# Calls whose first argument is a regular expression.
PATTERN_CALLS = {"compile", "match", "fullmatch", "search", "Regexp", "WholeMatch", "sub", "split", "findall",
                 "finditer"}
# Where a pattern ends with `$` on purpose, with the reason (none today).
ALLOWED: dict[str, str] = {}


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _ends_with_dollar(pattern: str) -> bool:
    # A `$` that is not escaped: \$ is a literal dollar sign.
    stripped = pattern.rstrip(")")
    return stripped.endswith("$") and not stripped.endswith("\\$")


def pattern_literals():
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called_name(node) not in PATTERN_CALLS or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield path.relative_to(APP.parent), node.lineno, _called_name(node), first.value


def test_no_pattern_in_the_source_is_anchored_with_a_dollar():
    found = [f"{path}:{line} {name}({pattern!r})" for path, line, name, pattern in pattern_literals()
             if _ends_with_dollar(pattern) and f"{path}:{line}" not in ALLOWED]
    assert found == [], "end patterns with \\Z or use fullmatch / WholeMatch:\n" + "\n".join(found)


def test_the_scan_finds_patterns():
    """The scan above cannot pass by finding nothing."""
    names = {name for _, _, name, _ in pattern_literals()}
    assert {"compile", "WholeMatch"} <= names


def test_marshmallow_regexp_is_not_used_for_input():
    """validate.Regexp matches a prefix; WholeMatch is the one to use."""
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"\bvalidate\.Regexp\(", line):
                offenders.append(f"{path.relative_to(APP.parent)}:{number}")
    assert offenders == []


def _schemas():
    seen, todo = set(), [ma.Schema]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return [s for s in seen if s.__module__.startswith("app.")]


def test_every_schema_pattern_validator_matches_whole_values():
    import app  # noqa: F401  (imports every schema through the blueprints)
    from app import create_app  # noqa: F401

    schemas = _schemas()
    assert len(schemas) > 20
    prefix_matchers = []
    for schema in schemas:
        for name, field in schema._declared_fields.items():
            inner = [field, getattr(field, "inner", None)]
            for candidate in filter(None, inner):
                for validator in candidate.validators:
                    if isinstance(validator, ma.validate.Regexp) and not isinstance(validator, WholeMatch):
                        prefix_matchers.append(f"{schema.__module__}.{schema.__name__}.{name}")
    assert prefix_matchers == []


@pytest.mark.parametrize("value", ["2026-Q3\n", "2026-Q3\r\n", "x2026-Q3", "2026-Q3x", ""])
def test_whole_match_refuses_anything_around_the_pattern(value):
    from app.payments.money import PERIOD

    with pytest.raises(ma.ValidationError):
        WholeMatch(PERIOD)(value)
    assert WholeMatch(PERIOD)("2026-Q3") == "2026-Q3"


def test_whole_match_documents_an_ecma_pattern():
    """JSON Schema reads `pattern` as ECMA-262, where `$` is the very end and \\Z means nothing."""
    assert WholeMatch(r"(20[0-9]{2})-Q([1-4])\Z").regex.pattern == "^(20[0-9]{2})-Q([1-4])$"
    assert WholeMatch("a|b").regex.pattern == "^(?:a|b)$"
