"""Triage of one case: ranked known anomalies, duplicates, severity flags, and the engineer's rulings."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app import access
from app.accounts.models import User
from app.audit.services import record
from app.cases.models import Case
from app.clock import now
from app.uow import UnitOfWork, unit_of_work
from app.errors import RuleViolation
from app.extensions import db
from app.triage.duplicates import Duplicate, find_duplicates
from app.triage.findings import case_findings, scanned_attachments
from app.triage.flags import SeverityFlag, severity_flags
from app.triage.logscan import Findings
from app.triage.models import AppliedFix, KnownAnomaly, Ruling, RulingKind
from app.triage import calibration
from app.triage.ranking import IndexCache, Suggestion, rank
from app.triage.versions import VersionError, first_fix_after, parse_version

SUGGESTION_LIMIT = 10
RANKINGS_KEPT = 256  # rankings a process keeps: ten suggestions each, about 4 kB pickled, a few MB in all


def _index_cache() -> IndexCache:
    return current_app.extensions.setdefault("triage_indexes", IndexCache())


class RankingCache:
    """Rankings already computed by this process, by everything a ranking depends on.

    A ranking is a pure function of the family's index (named by its catalogue revision, which every
    import that changes the release notes replaces), the case's version and text, and its scanned logs
    (each named by attachment and scan time: a new scan stamps a new time). A key that differs in any
    of these is another ranking, so nothing here ever needs to be invalidated: old entries age out.
    """

    def __init__(self, size: int = RANKINGS_KEPT):
        self._size = size
        self._rankings: OrderedDict[tuple, list[Suggestion]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> list[Suggestion] | None:
        with self._lock:
            ranked = self._rankings.get(key)
            if ranked is not None:
                self._rankings.move_to_end(key)
            return ranked

    def put(self, key: tuple, ranked: list[Suggestion]) -> None:
        with self._lock:
            self._rankings[key] = ranked
            while len(self._rankings) > self._size:
                self._rankings.popitem(last=False)


def _ranking_cache() -> RankingCache:
    return current_app.extensions.setdefault("triage_rankings", RankingCache())


def case_text(case: Case) -> str:
    """What the case says about the problem: its title and description."""
    return "\n".join(part for part in (case.title, case.description) if part)


def suggestions(case: Case, scanned: list[tuple[int, str]] | None = None,
                findings: list[Findings] | None = None) -> list[Suggestion]:
    """The known anomalies affecting the case's product and version, best first.

    `scanned` (findings.scanned_attachments) and `findings` (the findings of those attachments) when the
    caller has already read them. Pages and the checklist ask again and again about a case that has not
    changed: a ranking already computed for the same catalogue revision, version, text and scanned logs
    is reused (RankingCache), so that only the catalogue's revision and the case's scanned attachments
    are read.
    """
    if scanned is None:
        scanned = scanned_attachments(case.id)
    index = _index_cache().get(db.session, case.product.family)
    text = case_text(case)
    key = (case.product.family.casefold(), index.revision, case.software_version, SUGGESTION_LIMIT,
           hashlib.blake2b(text.encode(), digest_size=16).digest(), tuple(scanned))
    cache = _ranking_cache()
    ranked = cache.get(key)
    if ranked is None:
        if findings is None:
            findings = case_findings(case.id, scanned)
        ranked = rank(index, case.software_version, text, findings, limit=SUGGESTION_LIMIT)
        cache.put(key, ranked)
    return ranked


def suggestions_needing_ruling(case: Case, scanned: list[tuple[int, str]] | None = None) -> list[str]:
    """IDs of the findings (suggestions confident enough to matter): checklist item 5 needs a ruling on each.

    Weaker matches are shown but ask for nothing. `scanned` (findings.scanned_attachments) when the
    caller has already read the case's attachments.
    """
    return [s.code for s in suggestions(case, scanned) if s.finding]


def rulings_for(case_id: int) -> list[Ruling]:
    """The rulings recorded on a case, in the order they were made. Callers check visibility first."""
    query = sa.select(Ruling).where(Ruling.case_id == case_id).order_by(Ruling.id)
    return list(db.session.scalars(query))


def applied_fixes(case_id: int) -> list[AppliedFix]:
    """The known fixes applied to a case, oldest first. Callers check visibility first."""
    query = sa.select(AppliedFix).where(AppliedFix.case_id == case_id).order_by(AppliedFix.id)
    return list(db.session.scalars(query))


def rulings_complete(case: Case) -> tuple[bool, str]:
    """Whether the engineer has ruled on every finding (checklist item 5).

    Returns (True, reason) when complete, else (False, reason) where the
    reason names the anomalies still waiting for a ruling. Suggestions change
    when logs are attached or release notes imported, so this is asked afresh
    each time rather than remembered.
    """
    return _completeness(suggestions_needing_ruling(case), rulings_for(case.id))


def _completeness(needed: list[str], rulings: list[Ruling]) -> tuple[bool, str]:
    ruled = {r.anomaly.code for r in rulings}
    missing = [code for code in needed if code not in ruled]
    if missing:
        return False, "Rule on each suggested known anomaly: " + ", ".join(missing) + "."
    if not needed:
        return True, "No known anomaly of this product and version matches confidently enough to need a ruling."
    return True, f"Every suggested known anomaly has a ruling ({len(needed)})."


def validate_rulings(case: Case, rulings: list[dict]) -> dict[str, KnownAnomaly]:
    """Check that every ruled anomaly is a current suggestion for the case (or already ruled); 422 otherwise."""
    codes = [str(r["anomaly_id"]) for r in rulings]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise RuleViolation("Each anomaly may be ruled on once per request.", code="duplicate_ruling",
                            details={"anomaly_ids": duplicates})
    allowed = {s.code: s.anomaly_pk for s in suggestions(case)}
    allowed.update({r.anomaly.code: r.anomaly_id for r in rulings_for(case.id)})
    unknown = [code for code in codes if code not in allowed]
    if unknown:
        raise RuleViolation("These anomalies are not suggested for this case.", code="unknown_anomaly",
                            details={"anomaly_ids": unknown})
    anomalies = db.session.scalars(sa.select(KnownAnomaly).where(
        KnownAnomaly.id.in_([allowed[c] for c in codes])))
    return {a.code: a for a in anomalies}


def record_rulings(actor: User, case_id: int, rulings: list[dict], uow: UnitOfWork | None = None) -> list[Ruling]:
    """Record the engineer's rulings ({"anomaly_id", "ruling"}); a new ruling replaces an earlier one.

    Refused with 422 when an anomaly is not a current suggestion for the case,
    or the ruling is neither "matches" nor "not_relevant".
    """
    if uow is None:  # a use case of its own, or part of the caller's (a checklist answer)
        with unit_of_work() as uow:
            return record_rulings(actor, case_id, rulings, uow)
    case = access.get_case(actor, case_id, for_update=True)
    access.require(actor, "triage.rule")
    bad = [r.get("ruling") for r in rulings if r.get("ruling") not in {k.value for k in RulingKind}]
    if bad:
        raise RuleViolation("A ruling is 'matches' or 'not_relevant'.", code="invalid_ruling",
                            details={"rulings": bad})
    anomalies = validate_rulings(case, rulings)
    existing = {r.anomaly_id: r for r in rulings_for(case.id)}
    recorded = []
    for item in rulings:
        anomaly = anomalies[str(item["anomaly_id"])]
        ruling = existing.get(anomaly.id)
        before = ruling.ruling.value if ruling else None
        if ruling is None:
            ruling = Ruling(case_id=case.id, anomaly_id=anomaly.id, ruled_by_id=actor.id,
                            ruling=RulingKind(item["ruling"]))
            uow.session.add(ruling)
        else:
            ruling.ruling, ruling.ruled_by_id = RulingKind(item["ruling"]), actor.id
        ruling.ruled_at = now()
        record(actor, "case", case.id, "triage.ruled",
               before={"anomaly_id": anomaly.code, "ruling": before},
               after={"anomaly_id": anomaly.code, "ruling": item["ruling"]})
        recorded.append(ruling)
    uow.session.flush()
    return recorded


@dataclass
class Advice:
    """What a 'matches' ruling tells the partner to do."""

    anomaly_id: str
    title: str
    fixed_in: str | None
    workaround: str | None

    @property
    def message(self) -> str:
        if self.fixed_in:
            return f"Upgrade to {self.fixed_in} or later, which fixes {self.anomaly_id}."
        if self.workaround:
            return f"No release fixes {self.anomaly_id} yet; apply the workaround."
        return f"No release fixes {self.anomaly_id} yet."


def upgrade_advice(case: Case, rulings: list[Ruling] | None = None) -> list[Advice]:
    """Advice from every anomaly ruled 'matches' on this case, with the first release that fixes it."""
    advice = []
    for ruling in rulings_for(case.id) if rulings is None else rulings:
        if ruling.ruling is not RulingKind.MATCHES:
            continue
        anomaly = ruling.anomaly
        try:
            fix = first_fix_after(parse_version(case.software_version),
                                  [parse_version(v) for v in anomaly.fixed_in])
        except VersionError:
            fix = None
        advice.append(Advice(anomaly.code, anomaly.title, str(fix) if fix else None, anomaly.workaround))
    return advice


def resolvable_without_escalation(case: Case) -> bool:
    """True when a 'matches' ruling points at a fixing release or a workaround the partner can apply."""
    return any(a.fixed_in or a.workaround for a in upgrade_advice(case))


@dataclass
class TriageReport:
    case: Case
    threshold: float
    log_findings: list[Findings]
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    severity_flags: list[SeverityFlag] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    applied_fixes: list[AppliedFix] = field(default_factory=list)
    needs_ruling: list[str] = field(default_factory=list)
    rulings_complete: bool = False
    rulings_reason: str = ""


def ranked_entries(ranked: list[Suggestion], ruled: dict[int, Ruling]) -> list[dict[str, Any]]:
    """Each suggestion with its anomaly and the ruling on it, if any, in ranking order."""
    details = {a.id: a for a in db.session.scalars(
        sa.select(KnownAnomaly).where(KnownAnomaly.id.in_([s.anomaly_pk for s in ranked])))}
    return [{"suggestion": s, "anomaly": details[s.anomaly_pk], "ruling": ruled.get(s.anomaly_pk)} for s in ranked]


@dataclass(frozen=True)
class AnomalyHeading:
    """What a page shows to name a suggested anomaly."""

    id: int
    code: str
    title: str


def headed_entries(ranked: list[Suggestion], ruled: dict[int, Ruling]) -> list[dict[str, Any]]:
    """ranked_entries() for a page, without reading the anomalies again: each is named by the code and title
    of the catalogue revision it was ranked on (an import that changes a title changes the revision)."""
    return [{"suggestion": s, "anomaly": AnomalyHeading(s.anomaly_pk, s.code, s.title), "ruling": ruled.get(s.anomaly_pk)}
            for s in ranked]


def triage_case(actor: User, case_id: int) -> TriageReport:
    """GET /cases/{id}/triage: ranked anomalies with evidence and rulings, duplicates, severity flags."""
    with unit_of_work():
        case = access.get_case(actor, case_id)
        access.require(actor, "triage.read")
        return report_of(actor, case)


def report_of(actor: User, case: Case) -> TriageReport:
    """triage_case() inside the caller's transaction, once the case is known visible and triage readable."""
    scanned = scanned_attachments(case.id)
    findings = case_findings(case.id, scanned)
    ranked = suggestions(case, scanned, findings)
    ruled = {r.anomaly_id: r for r in rulings_for(case.id)}
    report = TriageReport(case=case, threshold=calibration.shipped().cut, log_findings=findings)
    report.anomalies = ranked_entries(ranked, ruled)
    report.needs_ruling = [s.code for s in ranked if s.finding]
    report.rulings_complete, report.rulings_reason = _completeness(report.needs_ruling, list(ruled.values()))
    report.duplicates = find_duplicates(actor, case)
    report.severity_flags = severity_flags(case, findings)
    report.advice = upgrade_advice(case, list(ruled.values()))
    report.applied_fixes = applied_fixes(case.id)
    return report


class TriageSeam:
    """What the checklist module asks of triage (app.extensions["triage"])."""

    def suggestions_needing_ruling(self, case: Case, scanned: list[tuple[int, str]] | None = None) -> list[str]:
        return suggestions_needing_ruling(case, scanned)

    def validate_rulings(self, case: Case, rulings: list[dict]) -> None:
        validate_rulings(case, rulings)

    def record_rulings(self, uow: UnitOfWork, actor: User, case: Case, rulings: list[dict]) -> list[Ruling]:
        return record_rulings(actor, case.id, rulings, uow)

    def rulings_complete(self, case: Case) -> tuple[bool, str]:
        return rulings_complete(case)
