"""Outbox, inbox and dead-letter tables, present in every service's own database.

They live on their own metadata so that each service's migrations include them and each
service's session writes them in the same transaction as its own state.

A transaction that writes outbox rows wakes the relays when it commits: those of its own
process through a condition, those of other processes by a PostgreSQL ``NOTIFY``, which the
database delivers only if the transaction commits.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Integer, String, Text, select
from sqlalchemy import event as orm_event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from .db import UTCDateTime, utcnow
from .envelope import CloudEvent


class MessagingBase(DeclarativeBase):
    pass


class OutboxMessage(MessagingBase):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(120))
    # Empty: to the topic exchange, routed by event type. Set: straight to that queue (replays).
    destination_queue: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class InboxEntry(MessagingBase):
    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(120))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeadLetter(MessagingBase):
    """The service's dead-letter queue: kept in its database so the CLI sees it in both modes."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consumer: Mapped[str] = mapped_column(String(100), index=True)
    event_id: Mapped[str | None] = mapped_column(String(200))
    event_type: Mapped[str | None] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Both written on every event, as plain rows: the ORM's unit of work would only add its bookkeeping
# to rows nothing reads back.
OUTBOX = OutboxMessage.__table__
INBOX = InboxEntry.__table__


def add_to_outbox(session: Session, event: CloudEvent, destination_queue: str | None = None) -> None:
    """Stage an event in the caller's transaction; the relay publishes it after commit."""
    _stage(session, event.id, event.type, event.to_json(), destination_queue)


def replay_dead_letter(session: Session, letter: DeadLetter, queue: str) -> None:
    """Send a dead letter back to its consumer's queue, through the outbox."""
    event_id = letter.event_id or f"dead-letter-{letter.id}"
    _stage(session, event_id, letter.event_type or "unknown", letter.body, queue)
    letter.replayed_at = utcnow()


def _stage(
    session: Session, event_id: str, event_type: str, body: str, destination_queue: str | None
) -> None:
    session.execute(
        OUTBOX.insert(),
        {
            "event_id": event_id,
            "event_type": event_type,
            "destination_queue": destination_queue,
            "body": body,
        },
    )
    session.info["outbox_written"] = True


def dead_letters(session: Session, consumer: str) -> list[DeadLetter]:
    return list(
        session.scalars(select(DeadLetter).where(DeadLetter.consumer == consumer).order_by(DeadLetter.id))
    )


# Waking the relays. The channel they LISTEN on: each service has a database of its own, so
# one name does. Savepoints are left alone: only the outermost transaction's commit counts.
OUTBOX_CHANNEL = "pustaka_outbox"
outbox_committed = threading.Condition()


@orm_event.listens_for(Session, "before_commit")
def _notify_relays(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.info.get("outbox_written") and session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(f"NOTIFY {OUTBOX_CHANNEL}")


@orm_event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    if not session.in_nested_transaction() and session.info.pop("outbox_written", False):
        with outbox_committed:
            outbox_committed.notify_all()


@orm_event.listens_for(Session, "after_rollback")
def _forget_outbox_rows(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop("outbox_written", None)
