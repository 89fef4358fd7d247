"""The log findings of a case, as the attachments module stored them after scanning.

Triage keeps nothing about attachments itself: it reads the findings JSON
that scanning left on each scanned attachment of the case. A scanned log's
findings never change (a new scan stamps a new scanned_at), and a varied
10 MB log leaves about 200 kB of them, so each process keeps the last ones it
read, parsed, and asks the database only which attachments a case has.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

import sqlalchemy as sa

from app.attachments.models import Attachment
from app.extensions import db
from app.triage.logscan import Findings

MAX_CACHED = 64  # attachments whose parsed findings a process keeps

_cache: OrderedDict[tuple[int, str], Findings] = OrderedDict()
_lock = threading.Lock()


_SCANNED = (sa.select(Attachment.id, Attachment.scanned_at)
            .where(Attachment.case_id == sa.bindparam("case_id"), Attachment.scanned_at.is_not(None))
            .order_by(Attachment.id))


def case_findings(case_id: int, scanned: list[tuple[int, datetime]] | None = None) -> list[Findings]:
    """Findings of every scanned attachment of the case, oldest upload first.

    `scanned`: the case's scanned attachments as (id, scanned_at), oldest upload first, when the
    caller has already read them in this transaction (the checklist reads its attachments anyway).
    """
    if scanned is None:
        scanned = db.session.execute(_SCANNED, {"case_id": case_id}).all()
    keys = [(attachment_id, scanned_at.isoformat()) for attachment_id, scanned_at in scanned]
    with _lock:
        found = {key: _cache[key] for key in keys if key in _cache}
        for key in found:
            _cache.move_to_end(key)
    missing = {attachment_id: key for key, (attachment_id, _) in zip(keys, scanned) if key not in found}
    if missing:
        rows = db.session.execute(sa.select(Attachment.id, Attachment.findings)
                                  .where(Attachment.id.in_(list(missing))))
        parsed = {missing[attachment_id]: Findings.from_dict(data) for attachment_id, data in rows
                  if isinstance(data, dict)}
        found.update(parsed)
        with _lock:
            _cache.update(parsed)
            while len(_cache) > MAX_CACHED:
                _cache.popitem(last=False)
    return [found[key] for key in keys if key in found]
