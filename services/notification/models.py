"""Notification's own data: recipients and their preferences, rules and templates, the
delivery log, webhook subscriptions, reminders, and the in-app inbox."""

from __future__ import annotations

from datetime import datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import UTCDateTime, utcnow

db = SQLAlchemy()

CATEGORIES = ("account", "enrollment", "reminders", "results", "programmes")
# Account and security messages reach people whatever they chose.
ESSENTIAL_CATEGORIES = ("account",)
PRIORITIES = ("urgent", "normal", "low")
DELIVERY_STATES = ("queued", "sending", "sent", "failed", "suppressed", "deduplicated", "digest")
RECIPIENT_KINDS = (
    "subject",
    "event_email",
    "session_roster",
    "programme_participants",
    "programme_coordinators",
    "mentoring_pair",
)


class Recipient(db.Model):
    """A person known from enrollment's events, so messages need no call to enrollment."""

    __tablename__ = "recipients"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(2), default="id")
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Jakarta")
    # Local "HH:MM"; when both are set, non-urgent email waits until the quiet hours end.
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    daily_digest: Mapped[bool] = mapped_column(default=False)


class Preference(db.Model):
    """One choice of one person (``user:<id>`` or ``email:<address>``) for a category on a channel."""

    __tablename__ = "preferences"

    recipient_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    category: Mapped[str] = mapped_column(String(30), primary_key=True)
    channel: Mapped[str] = mapped_column(String(30), primary_key=True)
    enabled: Mapped[bool] = mapped_column()


class MessageTemplate(db.Model):
    """Jinja text (sandboxed) in Indonesian and English; emails get the HTML and text parts."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    subject_id: Mapped[str] = mapped_column(String(300))
    subject_en: Mapped[str] = mapped_column(String(300))
    text_id: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    html_id: Mapped[str] = mapped_column(Text, default="")
    html_en: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Rule(db.Model):
    """Which event (or reminder) reaches whom, with which template, on which channels."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(120), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    template_key: Mapped[str] = mapped_column(String(100))
    channels: Mapped[list[str]] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(30))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    enabled: Mapped[bool] = mapped_column(default=True)
    builtin: Mapped[bool] = mapped_column(default=False)


class Delivery(db.Model):
    """One message to one recipient on one channel: the delivery log."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("event_id", "recipient_key", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), index=True)
    event_type: Mapped[str] = mapped_column(String(120))
    rule_id: Mapped[int | None] = mapped_column(Integer)
    recipient_key: Mapped[str] = mapped_column(String(300), index=True)
    channel: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(30))
    priority: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(15), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where it goes (an email address, a URL, a user id) and what it says, rendered once.
    target: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))

    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(order_by="DeliveryAttempt.id")


class DeliveryAttempt(db.Model):
    """Every try of an email or webhook delivery, with what came of it."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded: Mapped[bool] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)


class WebhookSubscription(db.Model):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_user_id: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reminder(db.Model):
    """A message due later, kept in the database so that no restart loses it."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    data: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)


class SessionSeat(db.Model):
    """Who holds or waits for a seat in a session, from enrollment's events (for roster rules)."""

    __tablename__ = "session_seats"

    session_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    programme_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(12))


class ProgrammeCoordinator(db.Model):
    __tablename__ = "programme_coordinators"

    programme_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class Notification(db.Model):
    """An in-app message in one person's inbox."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
