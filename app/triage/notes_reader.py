"""Release notes from disk: one file, or every file of a folder; a text file (app.triage.notes_file)
or a vendor's PDF or HTML document (app.triage.vendor_notes)."""
from __future__ import annotations

from pathlib import Path

from app.triage.notes_file import Problem, ReleaseNotes, ReleaseNotesError, parse_notes
from app.triage.vendor_notes import read_document

SUFFIXES = (".yaml", ".yml", ".json")
DOCUMENT_SUFFIXES = (".pdf", ".html", ".htm")  # vendors' own release-notes documents
MAX_FILE_BYTES = 20 * 1024 * 1024


def read_notes(path: Path, family: str | None = None, release: str | None = None) -> ReleaseNotes:
    """Read one file from disk; raises ReleaseNotesError (also for unreadable or oversized files).

    A vendor's PDF or HTML document is read for its issue tables (app.triage.vendor_notes); `family` and
    `release` then stand in for what its title does not say.
    """
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES + DOCUMENT_SUFFIXES:
        raise ReleaseNotesError([Problem(source, None, "not a .yaml, .yml, .json, .pdf, .html or .htm file")])
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ReleaseNotesError([Problem(source, None, f"larger than {MAX_FILE_BYTES} bytes")])
        raw = path.read_bytes()
    except OSError as exc:
        raise ReleaseNotesError([Problem(source, None, f"cannot read: {exc.strerror}")]) from exc
    if suffix in DOCUMENT_SUFFIXES:
        return read_document(raw, source, suffix, family, release)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ReleaseNotesError([Problem(source, line, "not UTF-8 text")]) from exc
    return parse_notes(text, source)


def notes_files(path: Path) -> list[Path]:
    """The release-notes files at `path`: the file itself, or every one under a folder."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES + DOCUMENT_SUFFIXES)
    return [path]
