"""The SR state machine of SPEC §6, as plain data: no database, no Flask.

    new -> assigned -> in_progress <-> awaiting_partner -> solution_provided -> closed
                                   ^                                 |            |
                                   +------------ reopen -------------+------------+

Each legal move has a name; who may make it is app/access.py's business
(permission "sr.move.<name>"). Each move also says what it does to the SLA
clocks, which app/srs/sla.py turns into due times.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

NEW = "new"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
AWAITING_PARTNER = "awaiting_partner"
SOLUTION_PROVIDED = "solution_provided"
CLOSED = "closed"
STATES = (NEW, ASSIGNED, IN_PROGRESS, AWAITING_PARTNER, SOLUTION_PROVIDED, CLOSED)

# The SLA clocks run in these states, pause in awaiting_partner and stop once a solution is given.
RUNNING_STATES = frozenset({NEW, ASSIGNED, IN_PROGRESS})
OPEN_STATES = RUNNING_STATES | {AWAITING_PARTNER}


class SolutionKind(str, enum.Enum):
    FIX = "fix"
    PATCH = "patch"
    WORKAROUND = "workaround"
    RMA = "rma"


class ClockEffect(str, enum.Enum):
    """What a move does to the SLA clocks (see app/srs/sla.py)."""

    RESPOND = "respond"  # the initial response is given (first time only)
    UPDATE = "update"  # the partner got an update: a new update period starts
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    RESTART = "restart"  # reopened: clocks run again, with a fresh update period


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset[str]
    target: str
    clock: tuple[ClockEffect, ...] = ()
    needs_solution: bool = False
    # Moves limited in time after the SR left the working states (the reopen window).
    windowed: bool = False


E = ClockEffect
MOVES: tuple[Move, ...] = (
    Move("take", frozenset({NEW}), ASSIGNED),
    Move("start", frozenset({ASSIGNED}), IN_PROGRESS, (E.RESPOND, E.UPDATE)),
    Move("request_info", frozenset({IN_PROGRESS}), AWAITING_PARTNER, (E.RESPOND, E.UPDATE, E.PAUSE)),
    # The ball is back with GTAC: a new update period starts from here.
    Move("resume", frozenset({AWAITING_PARTNER}), IN_PROGRESS, (E.RESUME, E.UPDATE)),
    Move("provide_solution", frozenset({IN_PROGRESS}), SOLUTION_PROVIDED, (E.RESPOND, E.STOP),
         needs_solution=True),
    Move("close", frozenset({SOLUTION_PROVIDED}), CLOSED, (E.STOP,)),
    Move("reopen", frozenset({SOLUTION_PROVIDED, CLOSED}), IN_PROGRESS, (E.RESTART,), windowed=True),
)
MOVES_BY_NAME = {move.name: move for move in MOVES}


def move_between(source: str, target: str) -> Move | None:
    """The move from one state to another, or None when SPEC §6 has no such transition."""
    for move in MOVES:
        if source in move.sources and move.target == target:
            return move
    return None


def legal_targets(source: str) -> list[str]:
    """The states an SR in `source` can move to, in workflow order."""
    return [move.target for move in MOVES if source in move.sources]


def within_window(left_work_at: datetime | None, at: datetime, window: timedelta) -> bool:
    """Whether `at` is still inside the reopen window that opened at `left_work_at`."""
    return left_work_at is not None and at - left_work_at <= window
