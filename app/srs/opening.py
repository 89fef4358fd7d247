"""Opening an SR (today only escalation does): its number, its clocks and the first entry of its timeline."""
from __future__ import annotations

from app.accounts.models import User
from app.cases.models import Case
from app.clock import now
from app.srs import clocks, sla, timeline
from app.srs.models import HistoryKind, ServiceRequest, SRStatus
from app.srs.numbers import next_sr_number
from app.uow import UnitOfWork


def open_service_request(uow: UnitOfWork, case: Case, actor: User, queue: str) -> ServiceRequest:
    """A new SR for the case in `queue`, with its SLA clocks started from now on the configured
    calendars and targets, and an `opened` entry that GTAC's live queue pages and the partner's
    webhooks receive once the unit commits."""
    at = now()
    sr = ServiceRequest(number=next_sr_number(uow.session), case_id=case.id, partner_id=case.partner_id,
                        severity=case.severity, product_family=case.product.family, region=case.partner.region,
                        queue=queue, status=SRStatus.NEW, escalated_by_id=actor.id, created_at=at)
    clocks.store(sr, sla.plan(at, sr.severity.value, [], clocks.policy_for(sr)))
    uow.session.add(sr)
    uow.session.flush()
    timeline.write(uow, sr, actor, HistoryKind.OPENED, at=at, notify=False, to_status=sr.status.value,
                   data={"queue": sr.queue, "severity": sr.severity.value})
    return sr
