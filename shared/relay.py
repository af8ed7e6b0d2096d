"""The outbox relay: publishes committed outbox rows, then marks them sent.

Several relays may run against one database: rows are claimed with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so no row is published by two relays at once. A crash between the
broker's confirm and the commit republishes a row; consumers' inboxes drop the copy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .bus import BROKER_ERRORS, EventBus, backoff_delay
from .db import utcnow
from .messaging import OutboxMessage

log = logging.getLogger(__name__)

# Relays of this process wake up as soon as a transaction with outbox rows commits.
_outbox_committed = threading.Condition()


@orm_event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    if session.info.pop("outbox_written", False):
        with _outbox_committed:
            _outbox_committed.notify_all()


@orm_event.listens_for(Session, "before_flush")
def _note_outbox_rows(session: Session, flush_context, instances) -> None:
    if any(isinstance(obj, OutboxMessage) for obj in session.new):
        session.info["outbox_written"] = True


class OutboxRelay:
    def __init__(
        self,
        bus: EventBus,
        session_factory: Callable[[], Session],
        interval: float = 0.05,
        batch_size: int = 200,
    ):
        self.bus = bus
        self.session_factory = session_factory
        self.interval = interval
        self.batch_size = batch_size

    def publish_pending(self, session: Session, producer) -> int:
        """Publish one batch of unsent rows; returns how many were sent."""
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        try:
            for row in rows:
                self.bus.publish(producer, row.body, row.event_type, row.destination_queue)
                row.published_at = utcnow()
        finally:
            # Keep what the broker already confirmed, even when a later publish failed.
            session.commit()
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                with self.bus.connection() as connection:
                    connection.ensure_connection(max_retries=1, timeout=3)
                    self.bus.exchange(connection.default_channel).declare()
                    producer = connection.Producer()
                    failures = 0
                    self._drain_forever(producer, stop)
            except (SQLAlchemyError, *BROKER_ERRORS) as error:
                failures += 1
                log.warning("outbox relay: %s; retrying", error)
                stop.wait(backoff_delay(failures))
            except Exception:
                failures += 1
                log.exception("outbox relay failed; retrying")
                stop.wait(backoff_delay(failures))

    def _drain_forever(self, producer, stop: threading.Event) -> None:
        while not stop.is_set():
            session = self.session_factory()
            try:
                sent = self.publish_pending(session, producer)
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
            if sent < self.batch_size:
                with _outbox_committed:
                    _outbox_committed.wait(self.interval)
