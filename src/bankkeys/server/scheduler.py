"""The periodic step inside the server: the bank's tick (renewal window, expiry, retirement, CRL)
and the e-mail queue. Several server processes may share a database: a lease row names the one
process that runs the step now; the tick and the mail queue are safe even without it."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError

from bankkeys.bank.tick import tick
from bankkeys.server import metrics
from bankkeys.server.context import ServerContext
from bankkeys.server.mail import SmtpSender, deliver_pending
from bankkeys.server.store.models import Lease

log = logging.getLogger("bankkeys.server.scheduler")
LEASE = "scheduler"


class Scheduler:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        settings = ctx.settings
        self.sender = (
            SmtpSender(settings.smtp_url, settings.mail_from) if settings.smtp_url else None
        )

    def acquire(self) -> bool:
        """Take or renew the lease for three intervals; False if another process holds it."""
        now = self.ctx.clock()
        until = now + timedelta(seconds=max(3 * self.ctx.settings.tick_interval, 5))
        with self.ctx.db.transaction() as session:
            result = session.execute(
                update(Lease)
                .where(
                    Lease.name == LEASE,
                    (Lease.expires_at < now) | (Lease.holder == self.holder),
                )
                .values(holder=self.holder, expires_at=until)
            )
            if cast(CursorResult[Any], result).rowcount:
                return True
            if session.get(Lease, LEASE) is not None:
                return False
        try:
            with self.ctx.db.transaction() as session:
                session.add(Lease(name=LEASE, holder=self.holder, expires_at=until))
            return True
        except IntegrityError:
            return False

    def run_once(self) -> bool:
        """One step if this process holds the lease; returns whether it ran."""
        if not self.acquire():
            return False
        ctx = self.ctx
        tick(ctx.db, ctx.clock(), ctx.workflow.policy, ctx.workflow.ca)
        metrics.TICKS.inc()
        if self.sender is not None:
            while deliver_pending(
                ctx.db, self.sender, ctx.settings.resolved_public_url, ctx.clock()
            ):
                pass
        return True

    async def run_forever(self) -> None:
        interval = self.ctx.settings.tick_interval
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception as exc:
                log.exception(
                    "scheduler step failed", extra={"fields": {"error": type(exc).__name__}}
                )
            # Jitter keeps several processes from waking in step.
            await asyncio.sleep(interval * random.uniform(0.8, 1.2))  # noqa: S311
