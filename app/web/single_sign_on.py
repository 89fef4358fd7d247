"""Signing in through the vendor's identity provider (OpenID Connect), beside the password form.

GET /login/sso sends the browser to the provider; the provider sends it back to
/login/sso/callback, which signs the user in exactly as the password form does (a new server-side
session, the same start page) or shows the sign-in page with the reason it did not.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request, session, url_for
from flask_login import login_user

from app.accounts import identity_provider
from app.accounts.single_sign_on import user_for_claims
from app.errors import DomainError
from app.web.views import home_for, login_page, safe_next

blp = Blueprint("single_sign_on", __name__)

# Where to go after signing in, kept in the session across the trip to the provider.
_NEXT = "single_sign_on_next"


def _refused(error: DomainError):
    return login_page(error=error.message, status=error.status)


@blp.get("/login/sso")
def start():
    """A link, not a form: the pages' Content-Security-Policy lets forms post only here, and a
    browser applies that to the redirects after a post too. Starting is harmless: an answer comes
    back only for the state kept in this browser's session, and signs in whoever the provider knows
    this browser as."""
    if not identity_provider.configured():
        abort(404)
    session[_NEXT] = safe_next(request.args.get("next"))
    try:
        return identity_provider.redirect_to_provider(url_for("single_sign_on.callback", _external=True))
    except DomainError as error:
        return _refused(error)


@blp.get("/login/sso/callback")
def callback():
    if not identity_provider.configured():
        abort(404)
    try:
        user = user_for_claims(identity_provider.claims_from_callback())
    except DomainError as error:
        return _refused(error)
    target = session.pop(_NEXT, None)
    login_user(user)
    return redirect(safe_next(target) or home_for(user))
