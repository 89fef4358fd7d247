"""Moving kept files from the local folder to the bucket (`flask attachments migrate --to s3`).

Every file a row names is read from the folder, hashed on the way and sent to
the bucket under the same key, so no row changes. The rows come from each
feature that keeps files (app.extensions["kept_files"]: case attachments, MDF
proofs), through `named_files`. The object is completed only when the bytes hash to the row's SHA-256
and have its size; otherwise the upload is aborted and the file reported. An
object already in the bucket with the row's size and SHA-256 is skipped, so an
interrupted move is simply run again. Nothing here holds a transaction while it
talks to the bucket: the features read their rows in short units of work.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import sqlalchemy as sa

from app.files.storage import LocalStorage
from app.uow import unit_of_work

if TYPE_CHECKING:
    from app.files.s3 import S3Storage

BATCH = 500


@dataclass
class MoveReport:
    moved: int = 0
    present: int = 0  # already in the bucket with the right size and checksum
    removed_locally: int = 0
    failures: list[str] = field(default_factory=list)


def named_files(row_id, key, sha256, size) -> Iterator[tuple[str, str, int]]:
    """(key, sha256, size) of every row of one table, from the columns given, a batch per short
    transaction."""
    last = 0
    while True:
        with unit_of_work() as uow:
            batch = uow.session.execute(sa.select(row_id, key, sha256, size).where(row_id > last)
                                        .order_by(row_id).limit(BATCH)).all()
        if not batch:
            return
        last = batch[-1][0]
        yield from ((row[1], row[2], row[3]) for row in batch)


def move_to_bucket(source: LocalStorage, target: S3Storage, files: Iterable[tuple[str, str, int]], *,
                   delete_local: bool = False,
                   progress: Callable[[str, str], None] = lambda key, outcome: None) -> MoveReport:
    report = MoveReport()
    for key, sha256, size in files:
        path = source.path(key)
        found = target.stat(key)
        if found is not None and found["size"] == size and found["sha256"] == sha256:
            report.present += 1
            outcome = "present"
        elif not path.exists():
            report.failures.append(f"{key}: not in {source.objects} nor in the bucket")
            progress(key, "missing")
            continue
        else:
            try:
                with path.open("rb") as stream:
                    target.keep_as(key, stream, size, sha256)
            except ValueError as exc:  # the local bytes are not what the row recorded
                report.failures.append(f"{key}: {exc}")
                progress(key, "mismatch")
                continue
            report.moved += 1
            outcome = "moved"
        if delete_local and path.exists():
            path.unlink()
            report.removed_locally += 1
        progress(key, outcome)
    return report
