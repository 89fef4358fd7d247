"""Two admins of one partner deactivating each other at the same moment: one of them stays."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from app.accounts import administration
from app.accounts.models import Role, User
from app.errors import Conflict
from app.extensions import db


def test_two_admins_removing_each_other_leave_one(app, postgres, demo, monkeypatch):
    admin, engineer = demo["admin"].id, demo["engineer"].id
    with app.app_context():
        db.session.get(User, engineer).role = Role.PARTNER_ADMIN
        db.session.commit()
    checked = {admin: threading.Event(), engineer: threading.Event()}
    original = administration._keep_an_admin

    def check_then_linger(uow, member, message):
        original(uow, member, message)
        # Each waits (briefly) until the other has checked too, so that without a lock both
        # would pass their check before either writes.
        checked[member.id].set()
        checked[admin if member.id == engineer else engineer].wait(timeout=1)

    monkeypatch.setattr(administration, "_keep_an_admin", check_then_linger)

    def deactivate(actor_id: int, target_id: int):
        with app.app_context():  # each thread its own session and connection
            try:
                return administration.deactivate(db.session.get(User, actor_id), target_id).active
            except Conflict as refused:
                return refused.code

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(deactivate, admin, engineer), pool.submit(deactivate, engineer, admin)]
        outcomes = sorted(str(run.result(timeout=20)) for run in runs)
    assert outcomes == ["False", "last_admin"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.role == Role.PARTNER_ADMIN, User.active.is_(True))) == 1
