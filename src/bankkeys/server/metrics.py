"""Prometheus metrics: requests and latencies (counted by the middleware), and the bank's queues
read from the database when scraped."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import Certificate, Notification, RekeyRequest

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "bankkeys_http_requests_total",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "bankkeys_http_request_seconds",
    "HTTP request latency by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
MAIL_SENT = Counter(
    "bankkeys_mail_sent_total", "E-mail notifications sent", ["kind"], registry=REGISTRY
)
MAIL_FAILED = Counter(
    "bankkeys_mail_failed_total", "E-mail notifications that failed to send", registry=REGISTRY
)
TICKS = Counter("bankkeys_scheduler_ticks_total", "Scheduler ticks run here", registry=REGISTRY)
CONTENT_TYPE = CONTENT_TYPE_LATEST
EXPIRING_WITHIN_DAYS = (7, 30)


class BankCollector(Collector):
    """Request queue sizes by state, unsent notifications, certificates expiring soon."""

    def __init__(self, db: Database, clock: object) -> None:
        self.db = db
        self.clock = clock

    def collect(self) -> list[GaugeMetricFamily]:
        now = self.clock()  # type: ignore[operator]
        queue = GaugeMetricFamily(
            "bankkeys_requests", "Re-key requests by stored state", labels=["state"]
        )
        unsent = GaugeMetricFamily("bankkeys_notifications_unsent", "Notifications not sent yet")
        expiring = GaugeMetricFamily(
            "bankkeys_certificates_expiring",
            "Valid, unrevoked client certificates expiring within N days",
            labels=["days"],
        )
        with self.db.transaction() as session:
            for state, count in session.execute(
                select(RekeyRequest.state, func.count()).group_by(RekeyRequest.state)
            ):
                queue.add_metric([state], count)
            unsent.add_metric(
                [],
                session.execute(
                    select(func.count())
                    .select_from(Notification)
                    .where(Notification.sent_at.is_(None))
                ).scalar_one(),
            )
            for days in EXPIRING_WITHIN_DAYS:
                count = session.execute(
                    select(func.count())
                    .select_from(Certificate)
                    .where(
                        Certificate.is_ca.is_(False),
                        Certificate.revoked_at.is_(None),
                        Certificate.not_after > now,
                        Certificate.not_after <= now + timedelta(days=days),
                    )
                ).scalar_one()
                expiring.add_metric([str(days)], count)
        return [queue, unsent, expiring]


def render(db_registry: CollectorRegistry) -> bytes:
    return generate_latest(REGISTRY) + generate_latest(db_registry)
