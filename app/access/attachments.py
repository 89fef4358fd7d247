"""Case attachments: who may upload, and which kinds of a visible case's files each role sees."""
from __future__ import annotations

import sqlalchemy as sa

from app.access.roles import ALL_ROLES, PERMISSIONS
from app.accounts.models import GTAC_ROLES, PARTNER_ROLES, Role, User
from app.attachments.models import Attachment, AttachmentVisibility

PERMISSIONS.update({
    "attachment.upload": PARTNER_ROLES | {Role.CUSTOMER},
})

# Who may see each kind of attachment of a case they can see. The SR's thread is the
# partner's and GTAC's: GTAC never reaches the customer, nor do its files.
ATTACHMENT_READERS: dict[AttachmentVisibility, frozenset[Role]] = {
    AttachmentVisibility.CASE: ALL_ROLES,
    AttachmentVisibility.GTAC_THREAD: PARTNER_ROLES | GTAC_ROLES,
}


def attachment_scope(user: User) -> sa.ColumnElement[bool]:
    """The attachments, of cases this user sees, that the user's role may see."""
    return Attachment.visibility.in_([visibility for visibility, roles in ATTACHMENT_READERS.items()
                                      if user.role in roles])
