"""The figures read at scrape time: queue depths, the outbox's oldest waiting event, SRs open and
breached per queue, payouts per state and the pre-funding balances. One short read-only unit of work
per scrape; a database or Redis that does not answer leaves its figures out rather than fail the scrape."""
from __future__ import annotations

import logging

from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from app.clock import now
from app.outbox.dispatch import QUEUES
from app.outbox.services import oldest_unprocessed
from app.payments.figures import payouts_per_state, prefunding_balances
from app.srs.figures import open_and_breached
from app.uow import unit_of_work

log = logging.getLogger(__name__)


class OperationsCollector:
    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        with self.app.app_context():
            yield from self._from_database()
            yield from self._from_redis()

    def _from_database(self):
        try:
            with unit_of_work() as uow:
                at = now()
                oldest = oldest_unprocessed(uow.session)
                srs = open_and_breached(uow.session, at)
                payouts = payouts_per_state(uow.session)
                balances = prefunding_balances(uow.session)
        except Exception:
            log.exception("metrics: the database did not answer")
            return
        age = GaugeMetricFamily("gtac_outbox_oldest_unprocessed_seconds",
                                "Age of the oldest outbox event not yet processed (0 when none waits).")
        age.add_metric([], max(0.0, (at - oldest).total_seconds()) if oldest else 0.0)
        yield age
        open_srs = GaugeMetricFamily("gtac_srs_open", "Open service requests per queue.", labels=["queue"])
        breached = GaugeMetricFamily("gtac_srs_breached", "Open service requests past their SLA due time, per queue.",
                                     labels=["queue"])
        for queue, (count, late) in sorted(srs.items()):
            open_srs.add_metric([queue], count)
            breached.add_metric([queue], late)
        yield open_srs
        yield breached
        states = GaugeMetricFamily("gtac_payouts", "Payouts per state.", labels=["state"])
        for state, count in sorted(payouts.items()):
            states.add_metric([state], count)
        yield states
        funds = GaugeMetricFamily("gtac_prefunding_available_minor",
                                  "What the pre-funding account can still pay out, in minor units of its currency.",
                                  labels=["currency"])
        for currency, amount in sorted(balances.items()):
            funds.add_metric([currency], amount)
        yield funds

    def _from_redis(self):
        url = self.app.config["REDIS_URL"]
        if not url:
            return  # the embedded default: jobs run in-process, there is no queue to measure
        depth = GaugeMetricFamily("gtac_rq_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"])
        try:
            connection = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
            for name in QUEUES:
                depth.add_metric([name], Queue(name, connection=connection).count)
        except RedisError:
            log.warning("metrics: Redis did not answer")
            return
        yield depth
