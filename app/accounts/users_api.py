"""/api/v1/users (an admin's user administration) and /api/v1/me/password (everyone's own)."""
from __future__ import annotations

from app.accounts import administration, credentials
from app.accounts.api_auth import api_user
from app.accounts.models import Role
from app.accounts.user_schemas import (PasswordChangeSchema, UserChangeSchema, UserInviteSchema, UserListQuerySchema,
                                       UserPageSchema, UserSchema)
from app.api_base import Blueprint

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="User administration and your own password")


def _role(value: str | None) -> Role | None:
    return Role(value) if value is not None else None


@blp.route("/users", methods=["GET"], endpoint="list")
@blp.operation("list_users", refuses=(403,))
@blp.arguments(UserListQuerySchema, location="query")
@blp.response(200, UserPageSchema)
def list_users(args):
    """The users the caller administers (a partner admin: its own and its customers'; the vendor
    admin: everyone's), newest first, with their certifications."""
    return administration.list_users(api_user(), limit=args["limit"], cursor=args.get("cursor"), q=args.get("q"),
                                     organisation_id=args.get("organisation_id"), role=_role(args.get("role")),
                                     active=args.get("active"))


@blp.route("/users", methods=["POST"], endpoint="invite")
@blp.operation("invite_user", refuses=(403, 409, 422))
@blp.arguments(UserInviteSchema, example={"email": "new.engineer@northwind.example", "name": "Nina Newcomer",
                                          "role": "partner_engineer"})
@blp.response(201, UserSchema)
def invite_user(body):
    """Create a user without a password and e-mail them a single-use link to choose one."""
    return administration.invite(api_user(), email=body["email"], name=body["name"], role=Role(body["role"]),
                                 organisation_id=body.get("organisation_id"))


@blp.route("/users/<int:user_id>", methods=["GET"], endpoint="get")
@blp.operation("get_user", refuses=(403,))
@blp.response(200, UserSchema)
def get_user(user_id):
    """One user the caller administers."""
    return administration.get_user(api_user(), user_id)


@blp.route("/users/<int:user_id>", methods=["PATCH"], endpoint="change")
@blp.operation("change_user", refuses=(403, 409, 422))
@blp.arguments(UserChangeSchema, example={"role": "partner_admin"})
@blp.response(200, UserSchema)
def change_user(body, user_id):
    """Change a user's name or role (a role their organisation's kind allows)."""
    return administration.change_user(api_user(), user_id, name=body.get("name"), role=_role(body.get("role")))


@blp.route("/users/<int:user_id>/deactivation", methods=["POST"], endpoint="deactivate")
@blp.operation("deactivate_user", refuses=(403, 409))
@blp.response(200, UserSchema)
def deactivate_user(user_id):
    """The user can no longer sign in; their sessions end and their API tokens are revoked at once."""
    return administration.deactivate(api_user(), user_id)


@blp.route("/users/<int:user_id>/reactivation", methods=["POST"], endpoint="reactivate")
@blp.operation("reactivate_user", refuses=(403,))
@blp.response(200, UserSchema)
def reactivate_user(user_id):
    """The user may sign in again (with new tokens: the old ones stay revoked)."""
    return administration.reactivate(api_user(), user_id)


@blp.route("/users/<int:user_id>/invitation", methods=["POST"], endpoint="invite_again")
@blp.operation("invite_user_again", refuses=(403, 409))
@blp.response(200, UserSchema)
def invite_again(user_id):
    """E-mail a new invitation link to a user who has not accepted yet; the earlier link stops working."""
    return administration.invite_again(api_user(), user_id)


@blp.route("/me/password", methods=["PUT"], endpoint="change_password")
@blp.operation("change_password")
@blp.arguments(PasswordChangeSchema, example={"current_password": "the-current-password",
                                              "new_password": "a-new-long-passphrase"})
@blp.response(204)
def change_password(body):
    """Change the caller's own password; every web session of theirs ends, API tokens stay."""
    credentials.change_password(api_user(), body["current_password"], body["new_password"])
