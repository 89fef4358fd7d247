"""Everything one case page shows, read in one transaction.

The page shows the case, what stands between it and GTAC, its thread, the
checklist, triage's suggestions and the files. Read through each feature's own use case, that was five transactions, five
visibility checks, two checklist evaluations and four readings of triage's
findings; here the case is read and checked once and each part is built from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app import access
from app.accounts.models import Person, User
from app.attachments.models import Attachment, AttachmentKind, AttachmentVisibility
from app.cases.models import CaseStatus
from app.cases.services import CasePage, page_of
from app.checklists import services as checklists
from app.checklists.services import ChecklistView
from app.escalation.readiness import Blocker, blockers
from app.extensions import db
from app.srs.last_word import LastWord, last_word
from app.srs.models import case_sr_with_newest_entry
from app.triage.resolution import ResolutionPanel, panel_of
from app.triage.services import suggestions
from app.uow import unit_of_work


@dataclass(frozen=True)
class CaseFile:
    """One attachment of the case, as the page lists it and the checklist evaluates it (Attachment's fields and
    its uploader's, read as plain columns). `findings` only when the reader may see the file."""

    id: int
    kind: AttachmentKind
    filename: str
    size: int
    sha256: str
    uploaded_at: datetime
    scanned_at: datetime | None
    findings: dict[str, Any] | None
    visibility: AttachmentVisibility
    uploaded_by: Person
    crash: Any  # the crash signatures the scan found (checklists.attachment_facts)
    visible: bool  # the reader may see it (access.attachment_scope)


def _case_files(actor: User, case_id: int) -> list[CaseFile]:
    """Every attachment of the case in one statement, oldest first: the checklist evaluates them all, the page
    lists those the reader may see."""
    visible = access.attachment_scope(actor)
    rows = db.session.execute(
        sa.select(Attachment.id, Attachment.kind, Attachment.filename, Attachment.size, Attachment.sha256,
                  Attachment.uploaded_at, Attachment.scanned_at,
                  sa.type_coerce(sa.case((visible, Attachment.findings), else_=sa.null()), Attachment.findings.type),
                  Attachment.visibility, User.name, User.role, Attachment.findings["crash_signatures"], visible)
        .join(User, User.id == Attachment.uploaded_by_id)
        .where(Attachment.case_id == case_id).order_by(Attachment.id))
    return [CaseFile(*row[:9], Person(row[9], row[10]), row[11], bool(row[12])) for row in rows]


@dataclass
class CaseOverview:
    page: CasePage
    checklist: ChecklistView | None
    resolution: ResolutionPanel | None
    attachments: list[CaseFile]
    # What GTAC would refuse the case for now; None when the reader cannot escalate it.
    blockers: list[Blocker] | None = None
    # GTAC's question or solution, where the SR waits on the partner; for those who may read the SR.
    gtac_said: LastWord | None = None


def case_overview(actor: User, case_id: int) -> CaseOverview:
    with unit_of_work() as uow:
        # With its SR (or none), which the page and the escalation's readiness both ask for, and where the
        # page's live SR sections pick up.
        case = access.get_case(actor, case_id, options=(case_sr_with_newest_entry(),))
        reads_checklist, reads_triage = access.allowed(actor, "checklist.read"), access.allowed(actor, "triage.read")
        # The attachments read once: for the page, the checklist and naming triage's log findings.
        files = _case_files(actor, case.id)
        facts = files if reads_checklist else None
        # Ranked once, for the checklist's ruling item and for the triage panel.
        ranked = (suggestions(case, checklists.scanned(facts) if facts is not None else None)
                  if reads_checklist or reads_triage else [])
        checklist = (checklists.checklist_of(case, [s.code for s in ranked if s.finding], facts)
                     if reads_checklist else None)
        may_escalate = (case.status is CaseStatus.OPEN and case.service_request is None
                         and access.allowed(actor, "case.escalate"))
        return CaseOverview(
            page=(page_of(actor, case, checklist.evaluation, checklist.responses) if checklist
                  else page_of(actor, case)),
            checklist=checklist,
            resolution=panel_of(actor, case, ranked) if reads_triage else None,
            attachments=[file for file in files if file.visible],
            blockers=blockers(actor, case, checklist.evaluation if checklist else None) if may_escalate else None,
            gtac_said=(last_word(uow.session, case.service_request)
                       if case.service_request is not None and access.allowed(actor, "sr.read") else None))
