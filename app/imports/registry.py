"""The kinds of file the import takes: a name, its columns, and what holds a batch of its lines
to the domain's rules.

A new kind (users, say: `email,name,organisation,role`, each new user invited) is a module of this
package that calls register(ImportKind("users", COLUMNS, UserLines, "...")), imported from
kinds.py; its taker checks each line with the feature's own rules and writes through the session it
is given, inside the import's one transaction, and refuses a record the file gives twice
(app/imports/file_keys.py). The CLI command, the API path and the web page follow from the registry."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app.imports.reading import Line
from app.uow import UnitOfWork


class Refuse(Protocol):
    def __call__(self, line: int, reason: str) -> None: ...


class Tally(Protocol):
    """Where a kind reports each line it took: refused ones go to Refuse instead."""

    def count(self, outcome: str) -> None: ...  # "added", "changed" or "unchanged"


class Batches(Protocol):
    """One import's state for one kind: takes its batches in file order, writing through the session."""

    def take(self, lines: list[Line]) -> None: ...


@dataclass(frozen=True)
class ImportContext:
    """What a kind's batches work with: the import's one unit of work, where bad lines and the
    others are counted, and who imports (None from the command line)."""

    uow: UnitOfWork
    refuse: Refuse
    tally: Tally
    actor: object | None = None


@dataclass(frozen=True)
class ImportKind:
    name: str
    columns: tuple[str, ...]
    # context -> the import's batch taker; everything it writes stays in the one transaction.
    start: Callable[[ImportContext], Batches]
    description: str = ""


KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> None:
    if kind.name in KINDS:
        raise ValueError(f"import kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind


def kind_names() -> tuple[str, ...]:
    return tuple(sorted(KINDS))
