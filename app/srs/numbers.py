"""SR numbers: SR + 8 digits, unique and increasing across every process and machine.

PostgreSQL draws them from a sequence. SQLite (the single-machine embedded
default) bumps a one-row counter inside the escalating transaction, which
SQLite's single writer serialises. Never max()+1.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.srs.models import SR_NUMBER_SEQUENCE, SRNumberCounter


def next_sr_number(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(sa.text(f"SELECT nextval('{SR_NUMBER_SEQUENCE}')")).scalar_one()
    else:
        value = session.execute(
            sa.update(SRNumberCounter).where(SRNumberCounter.id == 1)
            .values(value=SRNumberCounter.value + 1).returning(SRNumberCounter.value)
        ).scalar_one_or_none()
        if value is None:
            session.add(SRNumberCounter(id=1, value=1))
            session.flush()
            value = 1
    if value > 99_999_999:
        raise RuntimeError("SR numbers are exhausted")
    return f"SR{value:08d}"
