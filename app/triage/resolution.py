"""Resolving a case without escalating: the partner applies the known fix of an anomaly it ruled 'matches'.

This is the pay-off of checklist item 5 (SPEC §7): when the release notes
already hold the answer, the partner tells the customer to upgrade (or apply
the workaround) and the case ends without costing GTAC anything. If the fix
does not help, the partner reopens the case and may then escalate; the
applied fix stays on record for GTAC to see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app import access
from app.accounts.models import Person, User
from app.audit.services import record
from app.cases.models import Case, CaseStatus, Channel, Message
from app.clock import now
from app.uow import UnitOfWork, unit_of_work
from app.errors import Conflict, RuleViolation
from app.extensions import db
from app.triage.models import AppliedFix, FixAction, KnownAnomaly, Ruling, RulingKind
from app.triage.ranking import Suggestion
from app.triage.services import Advice, applied_fixes, headed_entries, rulings_for, suggestions, upgrade_advice


def _advice_for(case: Case, anomaly_code: str) -> tuple[int, Advice]:
    """The matched anomaly's id and the advice its ruling gives; 422 when there is none to apply."""
    matching = [r for r in rulings_for(case.id) if r.anomaly.code == anomaly_code]
    advice = upgrade_advice(case, matching)
    if not advice:
        raise RuleViolation(f"Rule {anomaly_code} as 'matches' on this case before resolving with its fix.",
                            code="anomaly_not_matched", details={"anomaly_id": anomaly_code})
    if not (advice[0].fixed_in or advice[0].workaround):
        raise RuleViolation(f"No release fixes {anomaly_code} after {case.software_version} and it has no "
                            "workaround: escalate to GTAC instead.",
                            code="no_known_fix", details={"anomaly_id": anomaly_code})
    return matching[0].anomaly_id, advice[0]


def _tell_customer(uow: UnitOfWork, actor: User, case: Case, advice: Advice, note: str | None) -> None:
    if advice.fixed_in:
        body = f"Resolved: upgrade to {advice.fixed_in} or later. It fixes {advice.anomaly_id}, {advice.title}."
    else:
        body = f"Resolved with a workaround for {advice.anomaly_id}, {advice.title}: {advice.workaround}"
    if note:
        body += "\n\n" + note
    message = Message(case_id=case.id, channel=Channel.CUSTOMER, author_id=actor.id, body=body)
    uow.session.add(message)
    uow.session.flush()
    uow.emit("notify.message_posted", {"case_id": case.id, "message_id": message.id})


def resolve_with_known_fix(actor: User, case_id: int, anomaly_code: str, note: str | None = None) -> AppliedFix:
    """Resolve an open case with the fix of an anomaly ruled 'matches', and tell the customer what to do.

    409 when the case is not open (an escalated case is resolved by GTAC on its
    SR); 422 when the anomaly was not ruled 'matches' or has no fix or
    workaround for the case's version.
    """
    with unit_of_work() as uow:
        case = access.get_case(actor, case_id, for_update=True)
        access.require(actor, "triage.resolve")
        if case.status is not CaseStatus.OPEN:
            raise Conflict(f"A {case.status.value} case cannot be resolved with a known fix.",
                           code="case_not_open", details={"status": case.status.value})
        anomaly_id, advice = _advice_for(case, anomaly_code)
        at = now()
        fix = AppliedFix(case_id=case.id, anomaly_id=anomaly_id,
                         action=FixAction.UPGRADE if advice.fixed_in else FixAction.WORKAROUND,
                         target_release=advice.fixed_in, note=note, resolved_by_id=actor.id, resolved_at=at)
        uow.session.add(fix)
        case.status, case.updated_at = CaseStatus.RESOLVED, at
        _tell_customer(uow, actor, case, advice, note)
        uow.session.flush()
        record(actor, "case", case.id, "case.resolved_with_known_fix", before={"status": "open"},
               after={"status": "resolved", "anomaly_id": anomaly_code, "action": fix.action.value,
                      "target_release": fix.target_release})
        return fix


def reopen_case(actor: User, case_id: int, reason: str) -> Case:
    """Reopen a case resolved with a known fix that did not help; it can then be escalated. 409 otherwise."""
    with unit_of_work() as uow:
        case = access.get_case(actor, case_id, for_update=True)
        access.require(actor, "triage.resolve")
        current = next((f for f in reversed(applied_fixes(case.id)) if f.reopened_at is None), None)
        if case.status is not CaseStatus.RESOLVED or current is None:
            raise Conflict("Only a case resolved with a known fix can be reopened here.",
                           code="case_not_resolved", details={"status": case.status.value})
        at = now()
        current.reopened_at, current.reopen_reason = at, reason
        case.status, case.updated_at = CaseStatus.OPEN, at
        uow.session.flush()
        record(actor, "case", case.id, "case.reopened", before={"status": "resolved"},
               after={"status": "open", "reason": reason, "anomaly_id": current.anomaly.code})
        return case


@dataclass
class ResolutionPanel:
    """What the case page shows of triage: the known anomalies suggested for the case (findings first, then
    weaker matches, each with why), the advice of each 'matches' ruling, and the fixes already tried."""

    advice: list[Advice]
    applied_fixes: list[FixLine]
    may_resolve: bool
    may_reopen: bool
    findings: list[dict] = field(default_factory=list)
    weaker: list[dict] = field(default_factory=list)


def resolution_panel(actor: User, case_id: int) -> ResolutionPanel:
    with unit_of_work():
        case = access.get_case(actor, case_id)
        access.require(actor, "triage.read")
        return panel_of(actor, case)


@dataclass(frozen=True)
class _AnomalyFacts:
    code: str
    title: str
    fixed_in: list
    workaround: str | None


@dataclass(frozen=True)
class RulingLine:
    """A ruling as the panel reads it (Ruling's fields with its anomaly's and its author's, as plain columns)."""

    anomaly_id: int
    ruling: RulingKind
    ruled_by: Person
    anomaly: _AnomalyFacts


@dataclass(frozen=True)
class FixLine:
    """An applied fix as the panel shows it (AppliedFix's fields, as plain columns)."""

    action: FixAction
    target_release: str | None
    resolved_at: datetime
    resolved_by: Person
    reopened_at: datetime | None
    reopen_reason: str | None
    anomaly: _AnomalyFacts


_RULINGS = (sa.select(Ruling.anomaly_id, Ruling.ruling, User.name, KnownAnomaly.code, KnownAnomaly.title,
                      KnownAnomaly.fixed_in, KnownAnomaly.workaround)
            .join(User, User.id == Ruling.ruled_by_id).join(KnownAnomaly, KnownAnomaly.id == Ruling.anomaly_id)
            .where(Ruling.case_id == sa.bindparam("case_id")).order_by(Ruling.id))
_FIXES = (sa.select(AppliedFix.action, AppliedFix.target_release, AppliedFix.resolved_at, User.name,
                    AppliedFix.reopened_at, AppliedFix.reopen_reason, KnownAnomaly.code, KnownAnomaly.title,
                    KnownAnomaly.fixed_in, KnownAnomaly.workaround)
          .join(User, User.id == AppliedFix.resolved_by_id).join(KnownAnomaly, KnownAnomaly.id == AppliedFix.anomaly_id)
          .where(AppliedFix.case_id == sa.bindparam("case_id")).order_by(AppliedFix.id))


def _ruling_lines(case_id: int) -> list[RulingLine]:
    """rulings_for() as the panel reads them, oldest first."""
    return [RulingLine(anomaly_id, ruling, Person(name), _AnomalyFacts(code, title, fixed_in, workaround))
            for anomaly_id, ruling, name, code, title, fixed_in, workaround
            in db.session.execute(_RULINGS, {"case_id": case_id})]


def _fix_lines(case_id: int) -> list[FixLine]:
    """applied_fixes() as the panel shows them, oldest first."""
    return [FixLine(action, target, resolved_at, Person(name), reopened_at, reason,
                    _AnomalyFacts(code, title, fixed_in, workaround))
            for action, target, resolved_at, name, reopened_at, reason, code, title, fixed_in, workaround
            in db.session.execute(_FIXES, {"case_id": case_id})]


def panel_of(actor: User, case: Case, ranked: list[Suggestion] | None = None) -> ResolutionPanel:
    """Inside the caller's transaction, once the case is known visible and triage readable; `ranked` if the
    caller has already ranked the case's suggestions. Rulings and fixes are read as plain rows: a page only
    shows them."""
    fixes = _fix_lines(case.id)
    may_act = access.allowed(actor, "triage.resolve")
    rulings = _ruling_lines(case.id)
    advice = upgrade_advice(case, rulings)
    entries = headed_entries(suggestions(case) if ranked is None else ranked,
                             {r.anomaly_id: r for r in rulings})
    return ResolutionPanel(
        findings=[e for e in entries if e["suggestion"].finding],
        weaker=[e for e in entries if not e["suggestion"].finding],
        advice=advice, applied_fixes=fixes,
        may_resolve=may_act and case.status is CaseStatus.OPEN and any(a.fixed_in or a.workaround
                                                                       for a in advice),
        may_reopen=may_act and case.status is CaseStatus.RESOLVED and any(f.reopened_at is None for f in fixes))
