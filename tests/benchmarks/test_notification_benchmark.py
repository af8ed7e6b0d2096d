"""Notification throughput: events from enrollment's outbox to in-app messages stored and to
emails accepted by a local SMTP server, distributed mode on RabbitMQ, against raw kombu."""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from services.enrollment.models import User
from services.notification.models import Notification
from shared import catalog
from shared.messaging import OutboxMessage
from tests.benchmarks.conftest import FULL, Table
from tests.benchmarks.test_benchmarks import WRITERS, enroll_each, raw_kombu_rate, staff_with_sessions
from tests.processes import ProcessSystem, distributed_processes, free_port
from tests.support import wait_for

EVENTS = 1000 if FULL else 20
SUBJECT = "Your seat is confirmed"


class Inbox:
    """An aiosmtpd handler that notes when each seat-confirmation email was accepted."""

    def __init__(self):
        self.accepted: dict[str, datetime] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if SUBJECT in envelope.content.decode("utf-8", "replace"):
            with self.lock:
                for address in envelope.rcpt_tos:
                    self.accepted[address] = datetime.now(UTC)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def distributed_with_email(real_servers, smtp, tmp_path_factory) -> Iterator[ProcessSystem]:
    smtp_settings = {
        "PUSTAKA_SMTP_HOST": "127.0.0.1",
        "PUSTAKA_SMTP_PORT": str(smtp[1]),
        "PUSTAKA_DELIVERY_INTERVAL": "0.02",
    }
    with distributed_processes(tmp_path_factory.mktemp("bench-notification"), smtp_settings) as system:
        yield system


def test_events_to_inbox_and_email(distributed_with_email: ProcessSystem, smtp, bench_table: Table) -> None:
    running, (inbox, _) = distributed_with_email, smtp
    user_ids, session_ids = staff_with_sessions(running, EVENTS)
    emails = running.query(
        "enrollment",
        lambda s: dict(s.execute(select(User.id, User.email).where(User.id.in_(user_ids))).all()),
    )
    committed_at = enroll_each(running, session_ids, user_ids)

    def stored():
        return running.query(
            "notification",
            lambda s: dict(
                s.execute(
                    select(Notification.user_id, Notification.created_at).where(
                        Notification.user_id.in_(user_ids),
                        Notification.event_type == catalog.ENROLLMENT_CONFIRMED.name,
                    )
                ).all()
            ),
        )

    in_app = wait_for(
        lambda: (found := stored()) and len(found) == EVENTS and found, timeout=120, what="in-app"
    )
    wait_for(lambda: len(inbox.accepted) >= EVENTS, timeout=300, what="emails accepted by the SMTP server")
    assert sorted(inbox.accepted) == sorted(emails[user_id] for user_id in user_ids)

    first = min(committed_at)
    commits = dict(zip(user_ids, committed_at, strict=True))
    in_app_rate = EVENTS / (max(in_app.values()) - first).total_seconds()
    email_rate = EVENTS / (max(inbox.accepted.values()) - first).total_seconds()
    email_latency = [(inbox.accepted[emails[u]] - commits[u]).total_seconds() * 1000 for u in user_ids]
    in_app_latency = [(in_app[u] - commits[u]).total_seconds() * 1000 for u in user_ids]

    payload = running.query(
        "enrollment",
        lambda s: s.scalar(
            select(OutboxMessage.body)
            .where(OutboxMessage.event_type == catalog.ENROLLMENT_CONFIRMED.name)
            .limit(1)
        ),
    )
    raw = raw_kombu_rate(EVENTS, payload.encode())
    label = f"5. notification, {EVENTS} enrollments by {WRITERS} writers"
    bench_table.add(f"{label} -> in-app stored (/s)", f"{in_app_rate:.0f}", f"{raw:.0f} raw kombu",
                    f"{in_app_rate / raw:.2f}x", "-")  # fmt: skip
    bench_table.add(f"{label} -> emails accepted (/s)", f"{email_rate:.0f}", f"{raw:.0f} raw kombu",
                    f"{email_rate / raw:.2f}x", "-")  # fmt: skip
    for name, values in (("in-app", in_app_latency), ("email", email_latency)):
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        bench_table.add(f"   commit -> {name}: p50 / p99 (ms)", f"{cuts[49]:.0f} / {cuts[98]:.0f}")
