"""Outbox, inbox and dead-letter tables, present in every service's own database.

They live on their own metadata so that each service's migrations include them and each
service's session writes them in the same transaction as its own state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, select
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


def add_to_outbox(session: Session, event: CloudEvent, destination_queue: str | None = None) -> OutboxMessage:
    """Stage an event in the caller's transaction; the relay publishes it after commit."""
    message = OutboxMessage(
        event_id=event.id,
        event_type=event.type,
        destination_queue=destination_queue,
        body=event.to_json(),
    )
    session.add(message)
    return message


def replay_dead_letter(session: Session, letter: DeadLetter, queue: str) -> None:
    """Send a dead letter back to its consumer's queue, through the outbox."""
    message = OutboxMessage(
        event_id=letter.event_id or f"dead-letter-{letter.id}",
        event_type=letter.event_type or "unknown",
        destination_queue=queue,
        body=letter.body,
    )
    session.add(message)
    letter.replayed_at = utcnow()


def dead_letters(session: Session, consumer: str) -> list[DeadLetter]:
    return list(
        session.scalars(select(DeadLetter).where(DeadLetter.consumer == consumer).order_by(DeadLetter.id))
    )
