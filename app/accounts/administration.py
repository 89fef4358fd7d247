"""User administration by a partner's admin or the vendor's admin: list, invite, edit, deactivate,
reactivate, invite again. Who may touch whom is app.access's (access.administered_users); the rules
here hold whoever acts: an organisation keeps at least one working admin, an admin does not lock
itself out, and every change is audited."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app import access
from app.accounts.invitations import check_role_fits, invite_user, send_invitation
from app.accounts.models import OrgKind, Role, User
from app.accounts.services import end_access
from app.audit.services import record
from app.errors import Conflict, InvalidInput
from app.pagination import Page, paginate
from app.uow import UnitOfWork, unit_of_work

# The role that administers each kind of organisation's users; customers are administered by their partner.
ADMIN_ROLE = {OrgKind.PARTNER: Role.PARTNER_ADMIN, OrgKind.VENDOR: Role.VENDOR_ADMIN}


def list_users(admin: User, *, limit: int, cursor: str | None = None, q: str | None = None,
               organisation_id: int | None = None, role: Role | None = None, active: bool | None = None) -> Page:
    """The users `admin` administers, newest first, with their certifications."""
    query = access.administered_users(admin).options(selectinload(User.certifications))
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(sa.func.lower(User.email).like(pattern, escape="\\"),
                                   sa.func.lower(User.name).like(pattern, escape="\\")))
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    with unit_of_work() as uow:
        return paginate(uow.session, query, User.id, limit, cursor)


def get_user(admin: User, user_id: int) -> User:
    with unit_of_work() as uow:
        return access.get_administered_user(admin, user_id, uow.session)


def invite(admin: User, *, email: str, name: str, role: Role, organisation_id: int | None = None) -> User:
    with unit_of_work() as uow:
        organisation = access.administered_organisation(admin, organisation_id, uow.session)
        return invite_user(uow, email=email, name=name, organisation=organisation, role=role, invited_by=admin)


def invite_again(admin: User, user_id: int) -> User:
    """A new invitation e-mail for a user who has not accepted yet (the earlier link stops working)."""
    with unit_of_work() as uow:
        user = access.get_administered_user(admin, user_id, uow.session)
        if not user.invitation_pending or not user.active:
            raise Conflict(f"{user.email} has no invitation waiting: " +
                           ("the account is deactivated." if not user.active else "they have set a password."),
                           code="not_invited")
        send_invitation(uow, user)
        record(admin, "user", user.id, "user.invited_again")
        return user


def change_user(admin: User, user_id: int, *, name: str | None = None, role: Role | None = None) -> User:
    with unit_of_work() as uow:
        user = access.get_administered_user(admin, user_id, uow.session)
        before, after = {}, {}
        if name is not None and not name.strip():
            raise InvalidInput("A name cannot be blank.", details={"fields": {"name": ["A name cannot be blank."]}})
        if name is not None and name.strip() != user.name:
            before["name"], after["name"] = user.name, name.strip()
            user.name = name.strip()
        if role is not None and role is not user.role:
            check_role_fits(user.organisation, role)
            if user.id == admin.id:
                raise Conflict("You cannot change your own role: ask another admin.", code="own_role")
            _keep_an_admin(uow, user, f"{user.email} is the last admin of {user.organisation.name}: "
                                      "make someone else admin first.")
            before["role"], after["role"] = user.role.value, role.value
            user.role = role
        if after:
            record(admin, "user", user.id, "user.changed", before=before, after=after)
        return user


def deactivate(admin: User, user_id: int) -> User:
    """The user can no longer sign in; their web sessions, API tokens and unused links end at once."""
    with unit_of_work() as uow:
        user = access.get_administered_user(admin, user_id, uow.session)
        if user.id == admin.id:
            raise Conflict("You cannot deactivate your own account: ask another admin.", code="own_account")
        if user.active:
            _keep_an_admin(uow, user, f"{user.email} is the last admin of {user.organisation.name}: "
                                      "make someone else admin first.")
            user.active = False
            record(admin, "user", user.id, "user.deactivated", before={"active": True}, after={"active": False})
        end_access(uow, user)
        return user


def reactivate(admin: User, user_id: int) -> User:
    """The user may sign in again; tokens revoked on deactivation stay revoked."""
    with unit_of_work() as uow:
        user = access.get_administered_user(admin, user_id, uow.session)
        if not user.active:
            user.active = True
            record(admin, "user", user.id, "user.reactivated", before={"active": False}, after={"active": True})
        return user


def _keep_an_admin(uow: UnitOfWork, member: User, message: str) -> None:
    """Refuse to take away the last working admin (active, with a password) of their organisation.

    The organisation's admins are locked (PostgreSQL), so that two admins removing each other at
    the same moment cannot both succeed; SQLite takes its write lock at BEGIN anyway.
    """
    admin_role = ADMIN_ROLE.get(member.organisation.kind)
    if admin_role is None or member.role is not admin_role or not member.active or member.invitation_pending:
        return
    working = uow.session.scalars(
        sa.select(User.id).where(User.organisation_id == member.organisation.id, User.role == admin_role,
                                 User.active.is_(True), User.password_hash.is_not(None))
        .with_for_update()).all()
    if set(working) <= {member.id}:
        raise Conflict(message, code="last_admin", details={"organisation": member.organisation.name})
