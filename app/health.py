"""Liveness and readiness probes."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz():
    """The database answers, and Redis does when it is configured."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    finally:
        db.session.rollback()
    redis_url = current_app.config["REDIS_URL"]
    if redis_url:
        try:
            Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except RedisError as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    if ready:
        return {"status": "ready", "checks": checks}
    return {"error": {"code": "not_ready", "message": "A dependency is unavailable.",
                      "details": checks}}, 503
