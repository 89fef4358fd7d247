"""The kinds of file the import takes: a name, its columns, and what holds a batch of its lines
to the domain's rules. Another feature adds its kind with register() (users, for one)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from app.imports.reading import Line


class Refuse(Protocol):
    def __call__(self, line: int, reason: str) -> None: ...


class Tally(Protocol):
    """Where a kind reports each line it took: refused ones go to Refuse instead."""

    def count(self, outcome: str) -> None: ...  # "added", "changed" or "unchanged"


class Batches(Protocol):
    """One import's state for one kind: takes its batches in file order, writing through the session."""

    def take(self, lines: list[Line]) -> None: ...


@dataclass(frozen=True)
class ImportKind:
    name: str
    columns: tuple[str, ...]
    # (session, refuse, tally) -> the import's batch taker; everything it writes stays in the one transaction.
    start: Callable[[Session, Refuse, Tally], Batches]
    description: str = ""


KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> None:
    if kind.name in KINDS:
        raise ValueError(f"import kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind


def kind_names() -> tuple[str, ...]:
    return tuple(sorted(KINDS))
