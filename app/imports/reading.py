"""A CSV file as batches of lines, read as a stream: never more than one batch in memory.

What makes the whole file unreadable (empty, not UTF-8, broken quoting, wrong
columns) refuses the file; what is wrong with one line refuses that line only.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from app.errors import InvalidInput

BATCH_LINES = 2000
# Longer than any field the imports know: a bigger one means the quoting is broken.
FIELD_MAX = 4096


class FileRefused(InvalidInput):
    """The file as a whole cannot be read: nothing of it is written."""

    code = "import_file_refused"


@dataclass(frozen=True)
class Line:
    number: int
    values: dict[str, str]
    problem: str | None = None  # set when the line could not even be split into its columns


class _Counted(io.RawIOBase):
    """The caller's stream, counting the bytes read from it (the import's progress)."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


class CsvFile:
    """The lines of one file with the columns `columns` (any order, each exactly once)."""

    def __init__(self, stream: BinaryIO, filename: str, columns: tuple[str, ...]):
        self.filename = filename
        self.columns = columns
        self._raw = _Counted(stream)

    @property
    def bytes_read(self) -> int:
        return self._raw.count

    def batches(self, size: int | None = None) -> Iterator[list[Line]]:
        size = size or BATCH_LINES
        text = io.TextIOWrapper(io.BufferedReader(self._raw, 64 * 1024), encoding="utf-8-sig", newline="")
        reader = csv.reader(self._bounded(text), strict=True)
        header = self._header(reader)
        batch: list[Line] = []
        while True:
            try:
                row = next(reader, None)
            except UnicodeDecodeError:
                raise self._not_utf8() from None
            except csv.Error as exc:
                raise self._refused(reader.line_num, f"malformed CSV ({exc})") from None
            if row is None:
                break
            if not row or row == [""]:
                continue  # a blank line
            batch.append(self._line(reader.line_num, header, row))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _bounded(self, text: Iterator[str]) -> Iterator[str]:
        """The file's lines, refused whole at the first one longer than any good line can be: parsed, a
        line of a million commas would take some ten times its size in fields before its count is checked."""
        # Every field at its longest, quoted, each of its characters a doubled quote.
        longest = len(self.columns) * (2 * FIELD_MAX + 3) + 2
        for number, line in enumerate(text, start=1):
            if len(line) > longest:
                raise self._refused(number, f"the line is longer than {longest} characters")
            yield line

    def _header(self, reader) -> list[str]:
        try:
            header = next(reader, None)
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except csv.Error as exc:
            raise self._refused(1, f"malformed CSV ({exc})") from None
        if header is None:
            if self._raw.count == 0:
                raise FileRefused(f"{self.filename}: the file is empty (0 bytes).", code="import_file_empty")
            raise self._refused(1, "the file has no header row")
        names = [name.strip() for name in header]
        unknown = [name or "(one with no name)" for name in names if name not in self.columns]
        if unknown:
            raise self._refused(1, f"unknown column(s) {', '.join(unknown)} "
                                   f"(the columns are {','.join(self.columns)})")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise self._refused(1, f"column(s) given twice: {', '.join(repeated)}")
        missing = [name for name in self.columns if name not in names]
        if missing:
            raise self._refused(1, f"missing column(s) {', '.join(missing)}")
        return names

    def _line(self, number: int, header: list[str], row: list[str]) -> Line:
        if len(row) != len(header):
            return Line(number, {}, f"{len(row)} field(s) where the header has {len(header)}")
        if any(len(value) > FIELD_MAX for value in row):
            return Line(number, {}, f"a field is longer than {FIELD_MAX} characters")
        if any("\x00" in value for value in row):
            return Line(number, {}, "a field contains a NUL character")
        return Line(number, {name: value.strip() for name, value in zip(header, row)})

    def _not_utf8(self) -> FileRefused:
        # Decoding runs ahead of the lines in chunks: which line holds the bad byte is not known.
        return FileRefused(f"{self.filename}: the file is not UTF-8 text (save it as UTF-8 and send it again).",
                           code="import_file_not_utf8")

    def _refused(self, line: int, reason: str) -> FileRefused:
        return FileRefused(f"{self.filename}:{line}: {reason}.", details={"line": line, "reason": reason})
