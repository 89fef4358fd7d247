"""Set-up shared by the triage tests."""
from __future__ import annotations

import io
import uuid

from app.attachments.models import Attachment, AttachmentKind
from app.cases.models import Case, CaseStatus
from app.clock import now
from app.extensions import db
from app.triage.logscan import scan_log

CRASH_LOG = (b"11/22/2026 07:45:01.02 <Info:System.Startup> ExtremeXOS version 32.6.1.4 by release-manager\n"
             b"11/22/2026 07:45:01.02 <Warn:HAL.Mcast.TableFull> Slot-2: mcmgr IGMP group table full (4096 entries)\n"
             b"11/22/2026 07:45:31.90 <Crit:EPM.Process.NotResponding> Slot-2: Process mcmgr not responding\n"
             b"11/22/2026 07:45:32.00 <Crit:EPM.Reboot> Slot-2: Node rebooted by process watchdog\n")


def open_case(client, headers, **overrides) -> dict:
    body = {"serial_number": "ACME-0002", "software_version": "32.6.1.4", "severity": "S2",
            "title": "Switch unavailable for a few minutes", "description": "Please check what happened.",
            **overrides}
    answer = client.post("/api/v1/cases", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def attach_scanned_log(app, case_id: int, uploader_id: int, content: bytes = CRASH_LOG) -> None:
    """A log attachment as the attachments module leaves it once scanned."""
    with app.app_context():
        db.session.add(Attachment(
            case_id=case_id, kind=AttachmentKind.ERROR_LOG, filename="error.log",
            storage_key=uuid.uuid4().hex, content_type="text/plain", size=len(content), sha256="0" * 64,
            uploaded_by_id=uploader_id, scanned_at=now(), findings=scan_log(io.BytesIO(content)).to_dict()))
        db.session.commit()
        db.session.remove()


def mark_escalated(app, case_id: int) -> None:
    with app.app_context():
        case = db.session.get(Case, case_id)
        case.escalated_at, case.status = now(), CaseStatus.ESCALATED
        db.session.commit()
        db.session.remove()
