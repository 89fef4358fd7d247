"""Uploading, listing, reading and scanning case attachments."""
from __future__ import annotations

import logging
import mimetypes
import re
from typing import BinaryIO, Callable

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import FileStorage

from app import access
from app.accounts.models import User
from app.attachments.models import SCANNABLE_KINDS, Attachment, AttachmentKind, AttachmentVisibility
from app.audit.services import record
from app.cases.models import Case
from app.clock import now
from app.uow import UnitOfWork, unit_of_work
from app.errors import Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.files import moving
from app.files.storage import Incoming
from app.files.uploads import forget, release_uploads
from app.telemetry import LOG_SCAN_SECONDS

CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\Z")
log = logging.getLogger(__name__)
UploadReader = Callable[[], tuple[str | None, FileStorage | None]]


def storage():
    return current_app.extensions["attachment_storage"]


def display_name(raw: str | None) -> str:
    """A name to show and offer on download; never used as a path."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>').strip(" .")
    return name[:255] or "attachment"


def upload(actor: User, case_id: int, read_upload: UploadReader) -> Attachment:
    """Receive one file for a case. The body is read only after the caller is authorised."""
    def authorise() -> Case:
        case = access.get_case(actor, case_id)
        access.require(actor, "attachment.upload")
        return case

    return receive(actor, authorise, read_upload, AttachmentVisibility.CASE)


def receive(actor: User, authorise: Callable[[], Case], read_upload: UploadReader,
            visibility: AttachmentVisibility,
            on_stored: Callable[[UnitOfWork, Attachment], None] | None = None) -> Attachment:
    """Store one upload on the case `authorise` returns (or refuses).

    `authorise` runs before a byte of the body is read, and again in the unit of
    work that records the file, since things may change while a large body
    arrives; the body itself is read with no transaction open, so a slow upload
    holds no lock. `on_stored` adds to that unit. Whatever fails after the bytes
    were kept removes them again.
    """
    with unit_of_work():
        authorise()
    try:
        kind, file = read_upload()
        if file is None or not isinstance(file.stream, Incoming):
            raise InvalidInput("Send the file as multipart/form-data in the field 'file'.", code="file_missing")
        try:
            attachment_kind = AttachmentKind(kind or "")
        except ValueError:
            raise InvalidInput("Field 'kind' must be one of: " + ", ".join(k.value for k in AttachmentKind) + ".",
                               code="invalid_kind", details={"kind": kind}) from None
        if file.stream.size == 0:
            raise InvalidInput("The file is empty.", code="file_empty")
        name = display_name(file.filename)
        content_type = (file.mimetype or "").lower()
        if not CONTENT_TYPE.match(content_type) or content_type == "application/octet-stream":
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        kept_key = storage().keep(file.stream)
    finally:
        release_uploads()  # whatever was received and not kept, this one on failure
    try:
        with unit_of_work() as uow:
            # The uploader as they are now, not as the request began (`authorise` reads the same object):
            # a large body can take minutes, long enough for an administrator to deactivate them or change
            # their role. Deactivation ends their sessions and tokens, so only an upload under way meets it.
            uploader = uow.session.get(User, actor.id, populate_existing=True)
            if uploader is None or not uploader.active:
                raise Forbidden("Your account was deactivated while the file arrived; the file was not kept.",
                                code="account_deactivated")
            case = authorise()
            attachment = Attachment(
                case_id=case.id, kind=attachment_kind, filename=name, storage_key=kept_key,
                content_type=content_type, size=file.stream.size, sha256=file.stream.sha256,
                uploaded_by_id=actor.id, visibility=visibility,
            )
            uow.session.add(attachment)
            uow.session.flush()
            record(actor, "case", case.id, "attachment.added",
                   after={"attachment_id": attachment.id, "kind": attachment_kind.value,
                          "filename": name, "size": attachment.size, "sha256": attachment.sha256,
                          "visibility": visibility.value})
            if attachment_kind in SCANNABLE_KINDS:
                uow.emit("attachments.scan", {"attachment_id": attachment.id})
            if on_stored is not None:
                on_stored(uow, attachment)
            return attachment
    except BaseException:
        forget(kept_key)
        raise


def kept_files():
    """Every attachment's (key, sha256, size), for moving them to another store."""
    return moving.named_files(Attachment.id, Attachment.storage_key, Attachment.sha256, Attachment.size)


def list_attachments(actor: User, case_id: int) -> list[Attachment]:
    """The case's files the caller may see, oldest first."""
    with unit_of_work():
        access.get_case(actor, case_id)
        return case_attachments(actor, case_id)


def case_attachments(actor: User, case_id: int) -> list[Attachment]:
    """Inside the caller's transaction, once the case is known visible: the files the caller may see."""
    return list(db.session.scalars(sa.select(Attachment).where(
        Attachment.case_id == case_id, access.attachment_scope(actor)).order_by(Attachment.id)))


def get_attachment(actor: User, case_id: int, attachment_id: int) -> Attachment:
    """One file of the case; a file the caller's role may not see is not found, like another case's."""
    with unit_of_work():
        access.get_case(actor, case_id)
        return case_attachment(actor, case_id, attachment_id)


def case_attachment(actor: User, case_id: int, attachment_id: int) -> Attachment:
    attachment = db.session.scalars(sa.select(Attachment).where(
        Attachment.id == attachment_id, Attachment.case_id == case_id,
        access.attachment_scope(actor))).one_or_none()
    if attachment is None:
        raise NotFound(f"Attachment {attachment_id} not found.", code="attachment_not_found")
    return attachment


def scan(attachment_id: int, scanner: Callable[[BinaryIO], dict]) -> None:
    """Read a text log once and store what it shows. The reading (seconds for a large log) holds
    no transaction: the file never changes, and a second scan of the same file stores the same."""
    with unit_of_work() as uow:
        attachment = uow.session.get(Attachment, attachment_id)
        if attachment is None or attachment.scanned_at is not None:
            return
        key = attachment.storage_key
    with storage().open(key) as stream, LOG_SCAN_SECONDS.time():
        findings = scanner(stream)
    with unit_of_work() as uow:
        attachment = uow.session.get(Attachment, attachment_id)
        if attachment is not None and attachment.scanned_at is None:
            attachment.findings, attachment.scanned_at = findings, now()
