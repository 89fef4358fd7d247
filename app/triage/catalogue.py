"""Importing release notes into the anomaly catalogue: idempotent, all files or none."""
from __future__ import annotations

import functools

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from app.clock import now
from app.uow import unit_of_work
from app.triage.models import (AnomalyCatalogue, AnomalySeverity, EntrySection, KnownAnomaly, Release,
                               ReleaseEntry)
from app.triage.notes_file import Problem, ReleaseNotes, ReleaseNotesError
from app.triage.notes_reader import notes_files, read_notes
from app.triage.versions import parse_version, sort_versions

SAMPLE_NOTES = Path(__file__).with_name("sample")
_ENTRY_FIELDS = ("title", "description", "workaround", "affected", "fixed_in", "signatures")


@dataclass
class ReleaseImport:
    """What importing one release's notes did."""

    source: str
    product_family: str
    release: str
    status: str  # "new", "updated" or "unchanged"
    anomalies_added: int = 0
    entries: int = 0

    def __str__(self) -> str:
        if self.status == "unchanged":
            return f"{self.product_family} {self.release}: unchanged ({self.source})"
        listed = f"{self.entries} anomal{'y' if self.entries == 1 else 'ies'} listed"
        return (f"{self.product_family} {self.release}: {self.status}, {listed}, "
                f"{self.anomalies_added} new to the catalogue ({self.source})")


@dataclass
class ImportReport:
    releases: list[ReleaseImport] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(r.status != "unchanged" for r in self.releases)


def read_path(path: Path, family: str | None = None, release: str | None = None) -> list[ReleaseNotes]:
    """Read and check every release-notes file at `path`; raises ReleaseNotesError listing all problems.

    `family` and `release` stand in for what a vendor's PDF or HTML document does not say in its title.
    """
    files = notes_files(path)
    if not files:
        raise ReleaseNotesError([Problem(str(path), None, "no release-notes file here (.yaml, .yml, .json, "
                                                          ".pdf, .html or .htm)")])
    problems, notes = [], []
    for file in files:
        try:
            notes.append(read_notes(file, family, release))
        except ReleaseNotesError as exc:
            problems.extend(exc.problems)
    problems.extend(_duplicate_releases(notes))
    if problems:
        raise ReleaseNotesError(problems)
    return notes


def _duplicate_releases(notes: list[ReleaseNotes]):
    seen: dict[tuple[str, object], str] = {}
    for item in notes:
        key = (item.product_family.casefold(), parse_version(item.release))
        if key in seen:
            yield Problem(item.source, None, f"{item.product_family} {item.release} is also described by {seen[key]}")
        seen[key] = item.source


def import_path(path: Path, family: str | None = None, release: str | None = None) -> ImportReport:
    """Import every release-notes file at `path` in one transaction (nothing is written if any is bad)."""
    return import_notes(read_path(path, family, release))


def import_notes(all_notes: list[ReleaseNotes]) -> ImportReport:
    """Store checked release notes; importing the same notes again changes nothing."""
    report = ImportReport()
    with unit_of_work() as uow:
        touched_families: set[str] = set()
        spellings: dict[str, str] = {}
        for notes in all_notes:
            family = _family_spelling(uow.session, notes.product_family, spellings)
            result = _import_release(uow.session, notes, family)
            report.releases.append(result)
            if result.status != "unchanged":
                touched_families.add(family)
        for family in touched_families:
            _bump_revision(uow.session, family)
    return report


def _family_spelling(session, family: str, known: dict[str, str]) -> str:
    """The family as the catalogue already spells it, matched without regard to case; else as written.

    Vendors spell families their own way ("WiNG"); a file written "WING" is
    the same family and must not start a second catalogue.
    """
    key = family.casefold()
    if key not in known:
        existing = session.scalars(sa.select(AnomalyCatalogue.product_family).where(
            sa.func.lower(AnomalyCatalogue.product_family) == family.lower())).first()
        known[key] = existing or family
    return known[key]


def _import_release(session, notes: ReleaseNotes, family: str) -> ReleaseImport:
    release = _find_release(session, family, notes.release)
    result = ReleaseImport(notes.source, family, notes.release, "new" if release is None else "updated",
                           entries=len(notes.entries))
    if release is not None and release.source_digest == notes.digest:
        result.status = "unchanged"
        return result
    if release is None:
        release = Release(product_family=family, version=notes.release)
        session.add(release)
    release.released_on, release.summary = notes.released_on, notes.summary
    release.source_digest, release.imported_at = notes.digest, now()
    session.flush()

    codes = [entry.code for entry in notes.entries]
    anomalies = _anomalies_by_code(session, family, codes)
    for code in codes:
        if code not in anomalies:
            anomalies[code] = KnownAnomaly(product_family=family, code=code, title=code, description="",
                                           affected=[], fixed_in=[], signatures=[])
            session.add(anomalies[code])
            result.anomalies_added += 1
    session.flush()

    existing = {e.anomaly_id: e for e in session.scalars(
        sa.select(ReleaseEntry).where(ReleaseEntry.release_id == release.id))}
    touched = set(existing)
    for entry in notes.entries:
        anomaly = anomalies[entry.code]
        row = existing.pop(anomaly.id, None)
        if row is None:
            row = ReleaseEntry(release_id=release.id, anomaly_id=anomaly.id)
            session.add(row)
        row.section = EntrySection(entry.section)
        row.severity = AnomalySeverity(entry.severity) if entry.severity else None
        for name in _ENTRY_FIELDS:
            setattr(row, name, getattr(entry, name))
        touched.add(anomaly.id)
    for row in existing.values():  # dropped from this release's notes since the last import
        session.delete(row)
    session.flush()
    _recompute(session, touched)
    return result


def _find_release(session, family: str, version: str) -> Release | None:
    # Versions equal in release order ("32.6" and "32.6.0.0") are one release.
    exact = session.scalars(sa.select(Release).filter_by(product_family=family, version=version)).one_or_none()
    if exact is not None:
        return exact
    wanted = parse_version(version)
    base = ".".join(map(str, wanted.core))
    candidates = session.scalars(sa.select(Release).where(
        Release.product_family == family, Release.version.startswith(base.split(".")[0] + ".")))
    return next((r for r in candidates if parse_version(r.version) == wanted), None)


def _anomalies_by_code(session, family: str, codes: list[str]) -> dict[str, KnownAnomaly]:
    found: dict[str, KnownAnomaly] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        query = sa.select(KnownAnomaly).where(KnownAnomaly.product_family == family,
                                              KnownAnomaly.code.in_(chunk))
        found.update((a.code, a) for a in session.scalars(query))
    return found


def _recompute(session, anomaly_ids: set[int]) -> None:
    """Merge what every release says of each anomaly into its catalogue row.

    Texts come from the newest release that lists it as open (else the newest
    that fixed it); affected ranges and fixes are the union over all releases.
    """
    ids = sorted(anomaly_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        entries: dict[int, list[ReleaseEntry]] = {i: [] for i in chunk}
        for entry in session.scalars(sa.select(ReleaseEntry).where(ReleaseEntry.anomaly_id.in_(chunk))):
            entries[entry.anomaly_id].append(entry)
        for anomaly in session.scalars(sa.select(KnownAnomaly).where(KnownAnomaly.id.in_(chunk))):
            _merge(anomaly, entries[anomaly.id])


def _merge(anomaly: KnownAnomaly, entries: list[ReleaseEntry]) -> None:
    if not entries:
        anomaly.listed = False
        return
    by_release = sorted(entries, key=lambda e: parse_version(e.release.version).key)
    preferred = sorted(by_release, key=lambda e: e.section is EntrySection.KNOWN)[::-1]
    main = preferred[0]
    anomaly.listed = True
    anomaly.title, anomaly.description = main.title, main.description
    anomaly.workaround = next((e.workaround for e in preferred if e.workaround), None)
    anomaly.severity = next((e.severity for e in preferred if e.severity), None)
    anomaly.affected = list(dict.fromkeys(r for e in by_release for r in e.affected))
    anomaly.fixed_in = sort_versions(set(f for e in by_release for f in e.fixed_in))
    anomaly.signatures = list(dict.fromkeys(s for e in preferred for s in e.signatures))


def _bump_revision(session, family: str) -> None:
    catalogue = session.get(AnomalyCatalogue, family)
    if catalogue is None:
        catalogue = AnomalyCatalogue(product_family=family)
        session.add(catalogue)
    # A random revision, not a counter: an emptied and refilled database must not reuse one.
    catalogue.revision = uuid.uuid4().hex
    catalogue.updated_at = now()


def seed_sample_notes() -> ImportReport:
    """Import the demo release notes shipped in app/triage/sample (idempotent)."""
    return import_notes(list(_sample_notes()))


@functools.cache
def _sample_notes() -> tuple[ReleaseNotes, ...]:
    # The shipped files never change under a running process; parsing them is most of a seed's time.
    return tuple(read_path(SAMPLE_NOTES))
