"""Files on the SR's partner<->GTAC thread.

GTAC reads the case's files through the SR and adds its own; a file added
through the SR (by GTAC or by the partner) belongs to the thread, so the
customer never sees it. Storage, limits and hashing are app.attachments'.

A file added through the SR is an event of the SR: an `attachment` entry of its
timeline, written in the attachment's transaction, streamed live, sent to the
partner's webhooks and e-mailed to the other side. It does not move the SLA
clocks (app.srs.clocks says why).
"""
from __future__ import annotations



from app import access
from app.accounts.models import GTAC_ROLES, User
from app.attachments import services as attachments
from app.attachments.models import Attachment, AttachmentVisibility
from app.attachments.services import UploadReader
from app.cases.models import Case
from app.uow import UnitOfWork, unit_of_work
from app.errors import Conflict
from app.srs.models import ServiceRequest, SRStatus
from app.srs import timeline
from app.srs.models import HistoryKind, SRHistory


def _refuse_closed(sr: ServiceRequest) -> None:
    if sr.status is SRStatus.CLOSED:
        raise Conflict("The SR is closed; reopen it to add files.", code="sr_closed")


def upload(actor: User, number: str, read_upload: UploadReader) -> Attachment:
    """Add one file to the SR's thread and its timeline; the body is read only once the caller is authorised."""
    def authorise() -> Case:
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.attachment.upload")
        _refuse_closed(sr)
        return sr.case

    def announce(uow: UnitOfWork, attachment: Attachment) -> None:
        # Locked only once the body is in, so a slow upload does not hold up the SR's other changes;
        # the lock keeps the SR's timeline ids in commit order, which live streams rely on.
        sr = access.get_sr(actor, number, for_update=True)
        uow.session.refresh(sr)  # as it is now, not as authorise() read it before the lock
        _refuse_closed(sr)  # closed while the file was arriving
        _announce(uow, sr, actor, attachment)

    return attachments.receive(actor, authorise, read_upload, AttachmentVisibility.GTAC_THREAD, announce)


def _announce(uow: UnitOfWork, sr: ServiceRequest, actor: User, attachment: Attachment) -> SRHistory:
    return timeline.write(uow, sr, actor, HistoryKind.ATTACHMENT,
                          data={"attachment_id": attachment.id, "filename": attachment.filename,
                                "kind": attachment.kind.value, "size": attachment.size,
                                "side": "gtac" if actor.role in GTAC_ROLES else "partner"})


def list_attachments(actor: User, number: str) -> list[Attachment]:
    """The case's files the caller may see (GTAC and the partner: all of them), oldest first."""
    with unit_of_work():
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.read")
        return attachments.case_attachments(actor, sr.case_id)


def get_attachment(actor: User, number: str, attachment_id: int) -> Attachment:
    with unit_of_work():
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.read")
        return attachments.case_attachment(actor, sr.case_id, attachment_id)
