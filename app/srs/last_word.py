"""What GTAC last said to the partner where the SR waits on them: the question it asked with its move
to awaiting the partner, or the solution it provided. The partner's case page shows it in its SR box,
next to "waiting for you" or "solution provided", so that nobody has to look for it in the timeline."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.srs.models import HistoryKind, ServiceRequest, SRHistory, SRSolution, SRStatus


@dataclass(frozen=True)
class LastWord:
    by: str
    note: str | None  # what came with the move: the question itself, or a word with the solution
    solution_kind: str | None = None
    solution: str | None = None


def last_word(session: Session, sr: ServiceRequest) -> LastWord | None:
    """GTAC's question while the SR awaits the partner, or its solution once provided; else None."""
    if sr.status not in (SRStatus.AWAITING_PARTNER, SRStatus.SOLUTION_PROVIDED):
        return None
    move = session.scalars(sa.select(SRHistory).where(
        SRHistory.sr_id == sr.id, SRHistory.kind == HistoryKind.STATUS, SRHistory.to_status == sr.status.value)
        .order_by(SRHistory.id.desc()).limit(1)).first()
    if sr.status is SRStatus.AWAITING_PARTNER:
        if move is None or not move.note:
            return None
        return LastWord(_name(move), move.note)
    solution = session.scalars(sa.select(SRSolution).where(SRSolution.sr_id == sr.id)
                               .order_by(SRSolution.id.desc()).limit(1)).first()
    if solution is None:
        return None
    return LastWord(solution.provided_by.name, move.note if move else None,
                    solution.kind.value, solution.content)


def _name(entry: SRHistory) -> str:
    return entry.actor.name if entry.actor else "GTAC"
