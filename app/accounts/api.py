"""/api/v1/tokens and /api/v1/me."""
from __future__ import annotations

from flask import request

from app.accounts import services
from app.accounts.api_auth import api_user
from app.accounts.schemas import IssuedTokenSchema, MeSchema, TokenRequestSchema, TokenSchema
from app.api_base import Blueprint
from app.errors import InvalidInput, Unauthorized

blp = Blueprint("tokens", __name__, url_prefix="/api/v1", description="Authentication and the caller")


@blp.route("/tokens", methods=["POST"], endpoint="issue")
@blp.operation("issue_token", refuses=(403, 429))
@blp.arguments(TokenRequestSchema, required=False, example={"name": "PSA integration", "expires_in_days": 90})
@blp.response(201, IssuedTokenSchema)
@blp.doc(security=[{"basicAuth": []}])
def issue_token(body):
    """Issue a personal API token (HTTP Basic with e-mail and password).

    A deactivated user, or one whose organisation is suspended, is refused with 403 and the reason.
    """
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        raise Unauthorized("Send your e-mail and password with HTTP Basic authentication.",
                           code="missing_credentials")
    email = credentials.username or ""
    if "\x00" in email:
        # No account can have one, and PostgreSQL refuses to compare text with one.
        raise InvalidInput("The e-mail address contains a NUL character.",
                           details={"fields": {"email": ["Contains a NUL character."]}})
    user = services.authenticate(email, credentials.password or "", request.remote_addr)
    secret, token = services.issue_token(user, body.get("name"), body.get("expires_in_days"))
    return {"id": token.id, "name": token.name, "created_at": token.created_at, "expires_at": token.expires_at,
            "last_used_at": None, "token": secret}


@blp.route("/tokens", methods=["GET"], endpoint="list")
@blp.operation("list_tokens")
@blp.response(200, TokenSchema(many=True))
def list_tokens():
    """The caller's tokens (never their secrets)."""
    return services.list_tokens(api_user())


@blp.route("/tokens/<int:token_id>", methods=["DELETE"], endpoint="revoke")
@blp.operation("revoke_token")
@blp.response(204)
def revoke_token(token_id):
    """Revoke one of the caller's tokens."""
    services.revoke_token(api_user(), token_id)


@blp.route("/me", methods=["GET"], endpoint="me")
@blp.operation("get_current_user")
@blp.response(200, MeSchema)
def me():
    """The caller: id, e-mail, role and organisation."""
    return api_user()
