"""Files on the SR's partner<->GTAC thread.

GTAC reads the case's files through the SR and adds its own; a file added
through the SR (by GTAC or by the partner) belongs to the thread, so the
customer never sees it. Storage, limits and hashing are app.attachments'.
"""
from __future__ import annotations

from typing import BinaryIO

from app import access
from app.accounts.models import User
from app.attachments import services as attachments
from app.attachments.models import Attachment, AttachmentVisibility
from app.attachments.services import UploadReader
from app.cases.models import Case
from app.db import transaction
from app.errors import Conflict
from app.escalation.models import SRStatus


def upload(actor: User, number: str, read_upload: UploadReader) -> Attachment:
    """Add one file to the SR's thread; the body is read only once the caller is authorised."""
    def authorise() -> Case:
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.attachment.upload")
        if sr.status is SRStatus.CLOSED:
            raise Conflict("The SR is closed; reopen it to add files.", code="sr_closed")
        return sr.case

    return attachments.receive(actor, authorise, read_upload, AttachmentVisibility.GTAC_THREAD)


def list_attachments(actor: User, number: str) -> list[Attachment]:
    """The case's files the caller may see (GTAC and the partner: all of them), oldest first."""
    with transaction():
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.read")
        return attachments.case_attachments(actor, sr.case_id)


def get_attachment(actor: User, number: str, attachment_id: int) -> Attachment:
    with transaction():
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.read")
        return attachments.case_attachment(actor, sr.case_id, attachment_id)


def open_content(actor: User, number: str, attachment_id: int) -> tuple[Attachment, BinaryIO]:
    attachment = get_attachment(actor, number, attachment_id)
    return attachment, attachments.storage().open(attachment.storage_key)
