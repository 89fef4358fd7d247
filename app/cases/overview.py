"""Everything one case page shows, read in one transaction.

The page shows the case, what stands between it and GTAC, its thread, the
checklist, triage's suggestions and the files. Read through each feature's own use case, that was five transactions, five
visibility checks, two checklist evaluations and four readings of triage's
findings; here the case is read and checked once and each part is built from it.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.attachments.models import Attachment
from app.attachments.services import case_attachments
from app.cases.models import Case, CaseStatus
from app.cases.services import CasePage, page_of
from app.checklists import services as checklists
from app.checklists.services import ChecklistView
from app.escalation.readiness import Blocker, blockers
from app.triage.resolution import ResolutionPanel, panel_of
from app.triage.services import suggestions
from app.uow import unit_of_work


@dataclass
class CaseOverview:
    page: CasePage
    checklist: ChecklistView | None
    resolution: ResolutionPanel | None
    attachments: list[Attachment]
    # What GTAC would refuse the case for now; None when the reader cannot escalate it.
    blockers: list[Blocker] | None = None


def case_overview(actor: User, case_id: int) -> CaseOverview:
    with unit_of_work():
        # With its SR (or none), which the page and the escalation's readiness both ask for.
        case = access.get_case(actor, case_id, options=(sa.orm.joinedload(Case.service_request),))
        reads_checklist, reads_triage = access.allowed(actor, "checklist.read"), access.allowed(actor, "triage.read")
        # The attachments read once, for the checklist and for naming triage's log findings.
        facts = checklists.attachment_facts(case) if reads_checklist else None
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
            attachments=case_attachments(actor, case.id),
            blockers=blockers(actor, case, checklist.evaluation if checklist else None) if may_escalate else None)
