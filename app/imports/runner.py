"""One import: a file of one kind, read in batches, written in one transaction.

Every line is checked, whatever came before, so that the report names every
bad line. A file with a bad line writes nothing unless skip_bad is asked for;
a dry run writes nothing either, but counts exactly what applying would do,
since it makes the same writes and rolls them back.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.errors import Conflict, NotFound
from app.imports.reading import CsvFile
from app.imports.registry import KINDS, ImportContext, ImportKind
from app.uow import begin, run_effects

# The bad lines a report keeps (a CLI run prints every one as it goes; `refused` counts them all).
REPORTED_ERRORS = 1000


@dataclass
class Report:
    kind: str
    filename: str
    dry_run: bool
    skip_bad: bool
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    applied: bool = False
    on_error: Callable[[str], None] | None = None
    _batch: list[tuple[int, str]] = field(default_factory=list)

    @property
    def errors_truncated(self) -> bool:
        return self.refused > len(self.errors)

    @property
    def changes(self) -> int:
        return self.added + self.changed

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def refuse(self, line: int, reason: str) -> None:
        self.refused += 1
        self._batch.append((line, reason))

    def end_batch(self) -> None:
        """Report the batch's bad lines in file order (the checks find them in several passes)."""
        for line, reason in sorted(self._batch):
            message = f"{self.filename}:{line}: {reason}"
            if len(self.errors) < REPORTED_ERRORS:
                self.errors.append(message)
            if self.on_error:
                self.on_error(message)
        self._batch.clear()

    def as_dict(self) -> dict:
        return {"kind": self.kind, "filename": self.filename, "dry_run": self.dry_run, "skip_bad": self.skip_bad,
                "applied": self.applied, "added": self.added, "changed": self.changed,
                "unchanged": self.unchanged, "refused": self.refused, "errors": self.errors,
                "errors_truncated": self.errors_truncated}


def kind_of(name: str) -> ImportKind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(f"There is no import of {name!r} (there are: {', '.join(sorted(KINDS))}).",
                       code="import_kind_not_found")
    return kind


def run_import(kind_name: str, stream: BinaryIO, filename: str, *, actor=None, dry_run: bool = False,
               skip_bad: bool = False, on_error: Callable[[str], None] | None = None,
               on_progress: Callable[[int, Report], None] | None = None,
               before_commit: Callable[[Report], None] | None = None) -> Report:
    """Import the file; the report says what was (or, dry or refused, would have been) written."""
    kind = kind_of(kind_name)
    report = Report(kind.name, filename, dry_run, skip_bad, on_error=on_error)
    csv_file = CsvFile(stream, filename, kind.columns)
    uow = begin()
    try:
        taker = kind.start(ImportContext(uow, report.refuse, report, actor))
        for lines in csv_file.batches():
            for line in lines:
                if line.problem:
                    report.refuse(line.number, line.problem)
            taker.take([line for line in lines if not line.problem])
            report.end_batch()
            if on_progress:
                on_progress(csv_file.bytes_read, report)
        if dry_run or (report.refused and not skip_bad):
            uow.rollback()
            return report
        record(actor, "import", kind.name, "applied",
               after={"filename": filename[:255], "added": report.added, "changed": report.changed,
                      "unchanged": report.unchanged, "refused": report.refused})
        if before_commit:
            before_commit(report)
        uow.commit()
        report.applied = True
    except IntegrityError as exc:
        # Another import, or someone at the pages, wrote one of these records meanwhile.
        uow.rollback()
        raise Conflict("Some of these records were written by someone else while the file was read; "
                       "nothing was written: send the file again.", code="import_collided") from exc
    except BaseException:
        if not uow.committed:
            uow.rollback()
        raise
    run_effects(uow.effects)
    return report
