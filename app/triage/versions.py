"""The vendor's dotted software versions, their order, and version ranges.

Versions look like ``32.6.1.4``, ``32.6.1.4-patch1-5``, ``8.10.2.0`` or
``5.9.7.0-005R``. Order is numeric per dotted component (32.6.1.4 < 32.6.10.0),
missing trailing components count as zero (32.6 == 32.6.0.0), and a suffix is
a build on top of its base: 32.6.1.4 < 32.6.1.4-patch1-5 < 32.6.1.4-patch1-10
< 32.6.1.4-patch2-1 < 32.6.1.5. Inside a suffix, digit runs compare as numbers
and letter runs case-insensitively, a number before a word.

A range is written as one of:
- ``32.6.1.4`` (exactly that version, any patch of it excluded);
- ``32.6.1.1 - 32.6.2.0`` (both ends included);
- comparisons joined by commas: ``>=32.5.0.0, <32.6.3.1``;
- ``*`` (every version).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_VERSION = re.compile(r"^v?(?P<core>\d+(?:\.\d+)*)(?:[-_.]?(?P<suffix>[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*))?\Z")
_SUFFIX_PART = re.compile(r"\d+|[A-Za-z]+")
_COMPARISON = re.compile(r"^(?P<op><=|>=|<|>|==|=)?\s*(?P<version>\S+)\Z")
TRAIN_DEPTH = 2  # 32.6.x.y belongs to the 32.6 release train


class VersionError(ValueError):
    """A string that is not a software version or a version range."""


@total_ordering
@dataclass(frozen=True)
class Version:
    """A parsed software version; instances compare in the vendor's release order."""

    text: str
    core: tuple[int, ...]
    suffix: tuple[tuple[int, int | str], ...]

    @property
    def key(self) -> tuple:
        return (self.core, self.suffix)

    @property
    def train(self) -> tuple[int, ...]:
        """The release train (32.6 for 32.6.1.4): fixes are back-ported per train."""
        padded = self.core + (0,) * TRAIN_DEPTH
        return padded[:TRAIN_DEPTH]

    @property
    def base(self) -> Version:
        """The version without its patch suffix."""
        return Version(".".join(map(str, self.core)), self.core, ())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"


def parse_version(text: str) -> Version:
    """Parse a version string; raises VersionError when it is not one."""
    if not isinstance(text, str):
        raise VersionError(f"not a version: {text!r}")
    cleaned = text.strip()
    match = _VERSION.match(cleaned)
    if not match or len(cleaned) > 64:
        raise VersionError(f"not a version: {text!r}")
    core = [int(part) for part in match["core"].split(".")]
    while len(core) > 1 and core[-1] == 0:
        core.pop()
    suffix: tuple[tuple[int, int | str], ...] = ()
    if match["suffix"]:
        suffix = tuple((0, int(part)) if part.isdigit() else (1, part.lower())
                       for part in _SUFFIX_PART.findall(match["suffix"]))
    return Version(cleaned, tuple(core), suffix)


def is_version(text: str) -> bool:
    try:
        parse_version(text)
    except VersionError:
        return False
    return True


def sort_versions(texts) -> list[str]:
    """Version strings in release order."""
    return sorted(texts, key=lambda text: parse_version(text).key)


@dataclass(frozen=True)
class Bound:
    version: Version
    inclusive: bool


@dataclass(frozen=True)
class VersionRange:
    """A set of versions between two optional bounds."""

    text: str
    low: Bound | None
    high: Bound | None

    def __contains__(self, version: Version) -> bool:
        if self.low is not None:
            if version < self.low.version or (version == self.low.version and not self.low.inclusive):
                return False
        if self.high is not None:
            if version > self.high.version or (version == self.high.version and not self.high.inclusive):
                return False
        return True


def parse_range(text: str) -> VersionRange:
    """Parse one range expression (see the module docstring); raises VersionError."""
    if not isinstance(text, str) or not text.strip():
        raise VersionError(f"not a version range: {text!r}")
    cleaned = text.strip()
    if cleaned == "*":
        return VersionRange(cleaned, None, None)
    if " - " in cleaned:
        first, _, last = cleaned.partition(" - ")
        low, high = parse_version(first), parse_version(last)
        if high < low:
            raise VersionError(f"range ends before it starts: {text!r}")
        return VersionRange(cleaned, Bound(low, True), Bound(high, True))
    low = high = None
    for part in (p.strip() for p in cleaned.split(",")):
        match = _COMPARISON.match(part)
        if not match:
            raise VersionError(f"not a version range: {text!r}")
        op, version = match["op"] or "==", parse_version(match["version"])
        if op in ("=", "=="):
            if low or high:
                raise VersionError(f"an exact version cannot be combined with bounds: {text!r}")
            low = high = Bound(version, True)
        elif op in (">", ">="):
            if low:
                raise VersionError(f"two lower bounds in {text!r}")
            low = Bound(version, op == ">=")
        else:
            if high:
                raise VersionError(f"two upper bounds in {text!r}")
            high = Bound(version, op == "<=")
    if low and high and (high.version < low.version or (
            high.version == low.version and not (low.inclusive and high.inclusive))):
        raise VersionError(f"range holds no version: {text!r}")
    return VersionRange(cleaned, low, high)


def is_fixed(version: Version, fixed_in: list[Version]) -> bool:
    """Whether `version` already carries one of the fixes.

    A fix reaches later releases of its own train, and every release of a
    train newer than all the trains that received a fix.
    """
    if not fixed_in:
        return False
    if any(fix <= version and fix.train == version.train for fix in fixed_in):
        return True
    return version.train > max(fix.train for fix in fixed_in)


def is_affected(version: Version, ranges: list[VersionRange], fixed_in: list[Version]) -> bool:
    """Whether an anomaly affecting `ranges` and fixed in `fixed_in` is present in `version`."""
    return any(version in r for r in ranges) and not is_fixed(version, fixed_in)


def first_fix_after(version: Version, fixed_in: list[Version]) -> Version | None:
    """The first release that fixes the anomaly for a system now on `version`.

    A fix on the system's own train is preferred (the smallest one above it);
    otherwise the smallest fix on a newer train.
    """
    later = sorted(fix for fix in fixed_in if fix > version)
    same_train = [fix for fix in later if fix.train == version.train]
    if same_train:
        return same_train[0]
    return later[0] if later else None
