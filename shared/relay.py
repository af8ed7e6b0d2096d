"""The outbox relay: publishes committed outbox rows, then marks them sent.

Several relays may run against one database: rows are claimed with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so no row is published by two relays at once. A crash between the
broker's confirm and the commit republishes a row; consumers' inboxes drop the copy.

An idle relay sleeps until a transaction with outbox rows commits: on PostgreSQL it listens
for their ``NOTIFY``, so writers in other processes wake it at once, and looks by itself only
every ``LISTENING_INTERVAL`` in case a notification was missed; elsewhere (SQLite, written by
this same process) it is woken in-process and looks every ``interval``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .bus import BROKER_ERRORS, EventBus, backoff_delay
from .db import utcnow
from .messaging import OUTBOX, OUTBOX_CHANNEL, outbox_committed

log = logging.getLogger(__name__)

LISTENING_INTERVAL = 1.0  # seconds


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
        rows = session.execute(
            select(OUTBOX.c.id, OUTBOX.c.body, OUTBOX.c.event_type, OUTBOX.c.destination_queue)
            .where(OUTBOX.c.published_at.is_(None))
            .order_by(OUTBOX.c.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        published: list[int] = []
        try:
            for row in rows:
                self.bus.publish(producer, row.body, row.event_type, row.destination_queue)
                published.append(row.id)
        finally:
            # Keep what the broker already confirmed, even when a later publish failed.
            if published:
                session.execute(
                    OUTBOX.update().where(OUTBOX.c.id.in_(published)).values(published_at=utcnow())
                )
            session.commit()
        return len(published)

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
        with self.session_factory() as probe:
            engine = probe.get_bind()
        # One connection for good: no pool checkout (and its ping) for every batch.
        with engine.connect() as connection, _waiting(engine, self.interval) as wait_for_commits:
            while not stop.is_set():
                with Session(bind=connection) as session:
                    try:
                        sent = self.publish_pending(session, producer)
                    except BaseException:
                        session.rollback()
                        raise
                if sent < self.batch_size:
                    wait_for_commits()


@contextlib.contextmanager
def _waiting(engine: Engine, interval: float) -> Iterator[Callable[[], None]]:
    """A function that returns once outbox rows may have been committed."""
    if engine.dialect.name != "postgresql":

        def wait_in_process() -> None:
            with outbox_committed:
                outbox_committed.wait(interval)

        yield wait_in_process
        return
    with _listening(engine) as wait_for_notify:
        yield lambda: wait_for_notify(LISTENING_INTERVAL)


@contextlib.contextmanager
def _listening(engine: Engine) -> Iterator[Callable[[float], None]]:
    """A connection that LISTENs for committed outbox rows, and a function waiting for them."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql(f"LISTEN {OUTBOX_CHANNEL}")
        driver = connection.connection.driver_connection
        errors = engine.dialect.loaded_dbapi.Error

        def wait(timeout: float) -> None:
            try:
                for _ in driver.notifies(timeout=timeout, stop_after=1):
                    pass
                for _ in driver.notifies(timeout=0):  # those that came meanwhile need no second look
                    pass
            except errors as error:
                raise SQLAlchemyError(f"listening for outbox rows: {error}") from error

        yield wait
