"""The log findings of a case, as the attachments module stored them after scanning.

Triage keeps nothing about attachments itself: it reads the findings JSON
that scanning left on each scanned attachment of the case.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.attachments.models import Attachment
from app.extensions import db
from app.triage.logscan import Findings


def case_findings(case_id: int) -> list[Findings]:
    """Findings of every scanned attachment of the case, oldest upload first."""
    query = (sa.select(Attachment.findings)
             .where(Attachment.case_id == case_id, Attachment.scanned_at.is_not(None))
             .order_by(Attachment.id))
    return [Findings.from_dict(data) for data in db.session.scalars(query) if isinstance(data, dict)]
