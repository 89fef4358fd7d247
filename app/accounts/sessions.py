"""Server-side web sessions: the cookie holds a random id, the database holds the session.

A signed cookie (Flask's default) stays valid until it expires, whatever happens on the server:
signing out could not end a copied cookie, nor could deactivating its user. Here the session is
a row of `web_sessions`, so that

- signing out deletes its row, and a cookie captured before then opens nothing afterwards;
- a password change or a deactivation deletes every row of the user (services.end_sessions);
- signing in moves the session to a new id, so an id planted in a browser before sign-in
  (session fixation) is worth nothing after it.

The cookie's id is stored only as its SHA-256 digest, like API tokens, so that reading the
table gives nobody a live cookie. The database serves every web process, on the embedded
default and in production alike, with one primary-key lookup per request that carries a cookie
(API requests carry none) and a write only when the session changed. Rows last
SESSION_LIFETIME_HOURS from sign-in; expired ones are purged whenever a session starts.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, Request, Response, session
from flask.sessions import SecureCookieSession, SessionInterface, session_json_serializer
from flask_login import user_logged_in, user_logged_out

from app.accounts.models import User, WebSession
from app.clock import now
from app.extensions import db
from app.uow import unit_of_work

# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
_MAX_ID_LENGTH = 64


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ServerSession(SecureCookieSession):
    """The session's data, the id it was loaded under, and whether it moves to a new id."""

    def __init__(self, initial=None, session_id: str | None = None, user: User | None = None):
        super().__init__(initial)
        self.session_id = session_id
        self.renew = False
        # The user row read with the session (not the signed-in user: sign-in and sign-out change
        # that within a request). Held for the request because the identity map, where the user
        # loader finds it, keeps only weak references.
        self._held_user = user

    def renew_id(self) -> None:
        """Keep the data under a new id; the old id is revoked when the answer is sent."""
        self.renew = True
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        session_id = request.cookies.get(self.get_cookie_name(app))
        if session_id and len(session_id) <= _MAX_ID_LENGTH:
            row = _read_session(_digest(session_id))
            if row is not None and row.expires_at > now():
                return ServerSession(session_json_serializer.loads(row.data), session_id, row.User)
        return ServerSession()

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session.accessed:
            response.vary.add("Cookie")
        if not session.modified:
            return
        cookie = {"domain": self.get_cookie_domain(app), "path": self.get_cookie_path(app),
                  "secure": self.get_cookie_secure(app), "httponly": self.get_cookie_httponly(app),
                  "samesite": self.get_cookie_samesite(app)}
        name = self.get_cookie_name(app)
        with unit_of_work() as uow:
            old = session.session_id
            if old is not None and (session.renew or not session):
                uow.session.execute(sa.delete(WebSession).where(WebSession.id == _digest(old)))
            if not session:
                if old is not None:
                    response.delete_cookie(name, **cookie)
                return
            data = session_json_serializer.dumps(dict(session))
            user_id = _user_id(session)
            if old is not None and not session.renew:
                # An update, never a re-insert: a session ended meanwhile stays ended.
                uow.session.execute(sa.update(WebSession).where(WebSession.id == _digest(old))
                                    .values(data=data, user_id=user_id))
                return
            started = now()
            uow.session.execute(sa.delete(WebSession).where(WebSession.expires_at <= started))
            new = secrets.token_urlsafe(32)
            uow.session.add(WebSession(
                id=_digest(new), user_id=user_id, data=data, created_at=started,
                expires_at=started + timedelta(hours=app.config["SESSION_LIFETIME_HOURS"])))
        session.session_id, session.renew = new, False
        response.set_cookie(name, new, **cookie)


# The session and its user in one statement: flask-login's user_loader then finds the user in the
# request's identity map instead of asking the database again.
_SESSION_WITH_USER = (sa.select(WebSession.data, WebSession.expires_at, User)
                      .outerjoin(User, User.id == WebSession.user_id)
                      .where(WebSession.id == sa.bindparam("digest")))


# One statement needs no transaction around it. On PostgreSQL it runs without one: one round trip
# where BEGIN and COMMIT would make three, on every page. (SQLite's transactions are its locking.)
_NO_TRANSACTION = {"isolation_level": "AUTOCOMMIT"}


def _read_session(digest: str):
    session = db.session()
    ours = not session.in_transaction()
    if ours and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options=_NO_TRANSACTION)
    row = session.execute(_SESSION_WITH_USER, {"digest": digest}).first()
    if ours:
        # Nothing of the request's work is in it yet; a request that calls the outside world before
        # its first unit of work must find no transaction open. Committing keeps the user loaded.
        session.commit()
    return row


def _user_id(data) -> int | None:
    try:
        return int(data["_user_id"])
    except (KeyError, TypeError, ValueError):
        return None


def _renew_on_sign_in(sender, user, **extra) -> None:
    if isinstance(session, ServerSession):
        session.renew_id()


def _end_on_sign_out(sender, user, **extra) -> None:
    if isinstance(session, ServerSession):
        session.clear()  # the CSRF token and whatever else the signed-in user left in it
        session.renew_id()


def init_app(app: Flask) -> None:
    app.session_interface = DatabaseSessionInterface()
    user_logged_in.connect(_renew_on_sign_in, app)
    user_logged_out.connect(_end_on_sign_out, app)
