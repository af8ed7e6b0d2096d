"""Notification's use cases and event handlers, free of Flask and kombu.

An event becomes deliveries: each enabled rule for its type names recipients, a template and
channels; each (event, recipient, channel) is one row of the delivery log, unique. In-app
messages are written at once, in the consuming transaction; email and webhooks are queued
for the delivery loop (``delivery.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, bindparam, func, or_, select, text, update
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from shared import catalog
from shared.db import UTCDateTime, utcnow
from shared.envelope import CloudEvent
from shared.errors import Invalid, NotFound

from . import defaults
from .channels import Channel, ChannelContext
from .models import (
    ESSENTIAL_CATEGORIES,
    Delivery,
    MessageTemplate,
    Notification,
    Preference,
    ProgrammeCoordinator,
    Recipient,
    Reminder,
    Rule,
    SessionSeat,
    WebhookSubscription,
)
from .rendering import render

log = logging.getLogger(__name__)

# Which channels each category uses unless the person chose otherwise.
DEFAULT_CHANNELS = {
    "account": {"in_app", "email"},
    "enrollment": {"in_app", "email"},
    "reminders": {"in_app", "email"},
    "results": {"in_app", "email"},
    "programmes": {"in_app"},
}


@dataclass(frozen=True)
class Addressee:
    """Someone a message can reach: an account holder, or just an email address."""

    key: str
    user_id: int | None
    email: str | None
    name: str
    language: str
    profile: Recipient | None = None

    def fields(self) -> dict:
        """What templates may show: plain values, never the database object (the sandbox would
        let a template call its methods, such as its query's)."""
        return {
            "key": self.key,
            "user_id": self.user_id,
            "email": self.email,
            "name": self.name,
            "language": self.language,
        }


def addressee_for_user(session: Session, user_id: int, fallback_language: str = "id") -> Addressee:
    recipient = session.get(Recipient, user_id)
    if recipient is None:  # the account's event has not arrived yet: in-app works all the same
        return Addressee(f"user:{user_id}", user_id, None, "", fallback_language)
    return Addressee(
        f"user:{user_id}", user_id, recipient.email, recipient.name, recipient.language, recipient
    )


def addressee_for_email(email: str, language: str) -> Addressee:
    return Addressee(f"email:{email.lower()}", None, email.lower(), "", language)


def _resolve(session: Session, kind: str, data: Mapping) -> Iterator[Addressee]:
    language = data.get("language", "id")
    if kind == "subject" and data.get("user_id") is not None:
        yield addressee_for_user(session, data["user_id"], language)
    elif kind == "event_email" and data.get("email"):
        yield addressee_for_email(data["email"], language)
    elif kind == "session_roster" and data.get("session_id") is not None:
        seats = session.scalars(
            select(SessionSeat.user_id).where(SessionSeat.session_id == data["session_id"])
        )
        for user_id in seats:
            yield addressee_for_user(session, user_id, language)
    elif kind == "programme_participants" and data.get("programme_id") is not None:
        seats = session.scalars(
            select(SessionSeat.user_id)
            .where(SessionSeat.programme_id == data["programme_id"], SessionSeat.status == "confirmed")
            .distinct()
        )
        for user_id in seats:
            yield addressee_for_user(session, user_id, language)
    elif kind == "mentoring_pair":
        for role in ("mentor_id", "mentee_id"):
            if data.get(role) is not None:
                yield addressee_for_user(session, data[role], language)
    elif kind == "programme_coordinators" and data.get("programme_id") is not None:
        coordinators = session.scalars(
            select(ProgrammeCoordinator.user_id).where(
                ProgrammeCoordinator.programme_id == data["programme_id"]
            )
        )
        for user_id in coordinators:
            yield addressee_for_user(session, user_id, language)


def recipients_of(session: Session, rule: Rule, data: Mapping) -> list[Addressee]:
    found: dict[str, Addressee] = {}
    for kind in rule.recipients:
        for addressee in _resolve(session, kind, data):
            found.setdefault(addressee.key, addressee)
    return list(found.values())


# Preferences -----------------------------------------------------------------------------


def channel_enabled(session: Session, recipient_key: str, category: str, channel: str) -> bool:
    if category in ESSENTIAL_CATEGORIES:
        return True
    choice = session.get(Preference, (recipient_key, category, channel))
    return _enabled(choice.enabled if choice else None, category, channel)


def _enabled(choice: bool | None, category: str, channel: str) -> bool:
    """What the person chose (None: nothing), or the category's default."""
    if category in ESSENTIAL_CATEGORIES:
        return True
    return choice if choice is not None else channel in DEFAULT_CHANNELS.get(category, {"in_app"})


def _choices(session: Session, recipient_keys: list[str], category: str) -> dict[tuple[str, str], bool]:
    """(recipient, channel) → enabled, for what these people chose in a category: one query for all."""
    if category in ESSENTIAL_CATEGORIES or not recipient_keys:
        return {}
    rows = session.execute(
        select(Preference.recipient_key, Preference.channel, Preference.enabled).where(
            Preference.recipient_key.in_(recipient_keys), Preference.category == category
        )
    )
    return {(key, channel): enabled for key, channel, enabled in rows}


def preferences_of(session: Session, recipient_key: str) -> dict[str, dict[str, bool]]:
    """category → channel → enabled, defaults filled in."""
    return {
        category: {
            channel: channel_enabled(session, recipient_key, category, channel)
            for channel in ("in_app", "email")
        }
        for category in DEFAULT_CHANNELS
    }


def set_preference(session: Session, recipient_key: str, category: str, channel: str, enabled: bool) -> None:
    if category not in DEFAULT_CHANNELS:
        raise Invalid("Unknown category.", {"category": [f"One of: {', '.join(DEFAULT_CHANNELS)}."]})
    if category in ESSENTIAL_CATEGORIES and not enabled:
        raise Invalid("Account and security messages cannot be turned off.", {"category": ["Always on."]})
    session.merge(
        Preference(recipient_key=recipient_key, category=category, channel=channel, enabled=enabled)
    )


# Timing ----------------------------------------------------------------------------------


def _parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(profile: Recipient | None, now: datetime) -> datetime | None:
    """The end of the person's quiet hours if now is inside them, else None."""
    if profile is None or not (profile.quiet_start and profile.quiet_end):
        return None
    zone = ZoneInfo(profile.timezone or "Asia/Jakarta")
    local = now.astimezone(zone)
    start, end = _parse_clock(profile.quiet_start), _parse_clock(profile.quiet_end)
    if start == end:  # an empty window, not a whole day of quiet
        return None
    clock = local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


# Dispatch --------------------------------------------------------------------------------


def _target(addressee: Addressee, channel: str) -> str | None:
    if channel == "email":
        return addressee.email
    if channel == "in_app":
        return str(addressee.user_id) if addressee.user_id is not None else None
    return addressee.email  # a third-party channel addresses people by email


# What one transaction has read or done already, so that a batch of events handled in one
# transaction asks the database once: rules per event type, webhook subscriptions, and the
# (recipient, channel) pairs each event reached. Forgotten when the transaction ends.
MEMO = "notification_dispatch"


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_memo(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(MEMO, None)


def _memo(session: Session) -> dict:
    return session.info.setdefault(MEMO, {"rules": {}, "webhooks": None, "dispatched": {}})


def _rules_for(session: Session, event_type: str) -> list[tuple[Rule, MessageTemplate]]:
    """The enabled rules of an event type with their templates."""
    rules = _memo(session)["rules"]
    if event_type not in rules:
        rules[event_type] = session.execute(
            select(Rule, MessageTemplate)
            .join(MessageTemplate, MessageTemplate.key == Rule.template_key)
            .where(Rule.event_type == event_type, Rule.enabled.is_(True))
            .order_by(Rule.id)
        ).all()
    return rules[event_type]


def _active_subscriptions(session: Session) -> list[WebhookSubscription]:
    memo = _memo(session)
    if memo["webhooks"] is None:
        memo["webhooks"] = session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
        ).all()
    return memo["webhooks"]


def _dispatched(session: Session, event_id: str, new_event: bool) -> set[tuple[str, str]]:
    """(recipient, channel) pairs this event reached already: in the database (unless it is new),
    or earlier in this transaction (not flushed yet)."""
    dispatched = _memo(session)["dispatched"]
    if event_id not in dispatched:
        earlier = select(Delivery.recipient_key, Delivery.channel).where(Delivery.event_id == event_id)
        dispatched[event_id] = set() if new_event else set(session.execute(earlier).all())
    return dispatched[event_id]


def dispatch(
    session: Session,
    event_id: str,
    event_type: str,
    data: Mapping,
    channels: Mapping[str, Channel],
    config: Mapping,
    link: str | None = None,
    cloud_event: str | None = None,
    now: datetime | None = None,
    new_event: bool = False,
) -> list[Delivery]:
    """Turn one event (or due reminder) into its deliveries; in-app ones are delivered now.

    ``cloud_event`` is the event as published, the body webhook subscribers receive. ``new_event``:
    the consumer's inbox has just admitted it, so it reached nobody yet and that needs no look-up.

    The new rows are written when the transaction is flushed, not query by query, so that a
    batch of events in one transaction inserts them together."""
    now = now or utcnow()
    with session.no_autoflush:
        dispatched = _dispatched(session, event_id, new_event)  # each (recipient, channel) is delivered once
        deliveries = []
        for rule, template in _rules_for(session, event_type):
            addressees = recipients_of(session, rule, data)
            choices = _choices(session, [addressee.key for addressee in addressees], rule.category)
            for addressee in addressees:
                message = render(
                    template, addressee.language, {"event": dict(data), "recipient": addressee.fields()}
                )
                for channel_name in rule.channels:
                    target = _target(addressee, channel_name)
                    channel = channels.get(channel_name)
                    if target is None or channel is None:
                        continue
                    if (addressee.key, channel_name) in dispatched:
                        log.info("%s: already delivered to %s on %s", event_id, addressee.key, channel_name)
                        continue
                    dispatched.add((addressee.key, channel_name))
                    delivery = Delivery(
                        event_id=event_id, event_type=event_type, rule_id=rule.id, recipient_key=addressee.key,
                        channel=channel_name, category=rule.category, priority=rule.priority, target=target,
                        subject=message.subject[:300], text=message.text, html=message.html, link=link,
                        state="queued", next_attempt_at=now,
                    )  # fmt: skip
                    _schedule(session, delivery, addressee, channel, choices, config, now)
                    session.add(delivery)
                    deliveries.append(delivery)
        if cloud_event is not None:
            deliveries += _webhook_deliveries(session, event_id, event_type, cloud_event, now, dispatched)
    if not deliveries:
        log.info("%s %s: no rule or subscription sends anything", event_type, event_id)
    return deliveries


def _schedule(
    session: Session,
    delivery: Delivery,
    addressee: Addressee,
    channel: Channel,
    choices: Mapping[tuple[str, str], bool],
    config: Mapping,
    now: datetime,
) -> None:
    """Decide the delivery's first state: suppressed, sent now, waiting for the digest, or queued."""
    if not _enabled(choices.get((addressee.key, delivery.channel)), delivery.category, delivery.channel):
        delivery.state = "suppressed"
    elif channel.immediate:
        channel.send(delivery, ChannelContext(config, session))
        delivery.state, delivery.sent_at, delivery.attempts = "sent", now, 1
    elif delivery.priority == "low" and addressee.profile is not None and addressee.profile.daily_digest:
        delivery.state = "digest"
    elif delivery.priority != "urgent":
        delivery.next_attempt_at = quiet_until(addressee.profile, now) or now


def _webhook_deliveries(
    session: Session, event_id: str, event_type: str, cloud_event: str, now: datetime, done: set
) -> list[Delivery]:
    deliveries = []
    for subscription in _active_subscriptions(session):
        if event_type not in subscription.event_types:
            continue
        key = f"webhook:{subscription.id}"
        if (key, "webhook") in done:
            continue
        done.add((key, "webhook"))
        delivery = Delivery(
            event_id=event_id, event_type=event_type, recipient_key=key, channel="webhook",
            category="webhooks", priority="normal", state="queued", next_attempt_at=now,
            target=subscription.url, payload=cloud_event,
        )  # fmt: skip
        session.add(delivery)
        deliveries.append(delivery)
    return deliveries


# Statements that run at once, in SQL that PostgreSQL and SQLite both speak: they leave the rows
# the session holds unflushed (a batch's inserts wait for its commit), and, unlike a dialect's
# INSERT … ON CONFLICT construct, SQLAlchemy compiles them once, not at every execution.
UPSERT_SEAT = text(
    "INSERT INTO session_seats (session_id, user_id, programme_id, status)"
    " VALUES (:session_id, :user_id, :programme_id, :status)"
    " ON CONFLICT (session_id, user_id)"
    " DO UPDATE SET programme_id = excluded.programme_id, status = excluded.status"
)
ADD_REMINDER = text(
    "INSERT INTO reminders (\"key\", kind, due_at, data, state) VALUES (:key, :kind, :due_at, :data, 'pending')"
    # A reminder called off when its person left the session comes back if they return to it.
    " ON CONFLICT (\"key\") DO UPDATE SET state = 'pending', due_at = excluded.due_at, data = excluded.data"
    " WHERE reminders.state = 'cancelled'"
).bindparams(bindparam("due_at", type_=UTCDateTime()), bindparam("data", type_=JSON()))


# Event handlers ---------------------------------------------------------------------------


def event_handlers(channels: Mapping[str, Channel], config: Mapping) -> dict:
    """The consumer's handlers, each bound to the installed channels and the settings."""

    def deliver(event: CloudEvent, session: Session, link: str | None = None) -> None:
        dispatch(
            session, event.id, event.type, event.data, channels, config, link, event.to_json(), new_event=True
        )

    def on_user_registered(event: CloudEvent, session: Session) -> None:
        data = event.data
        recipient = session.get(Recipient, data["user_id"]) or Recipient(user_id=data["user_id"])
        recipient.email, recipient.name, recipient.language = data["email"], data["name"], data["language"]
        session.add(recipient)
        session.flush()
        deliver(event, session)

    def on_programme_published(event: CloudEvent, session: Session) -> None:
        data = event.data
        if data.get("coordinator_id") is not None:
            session.merge(
                ProgrammeCoordinator(programme_id=data["programme_id"], user_id=data["coordinator_id"])
            )
            session.flush()
        deliver(event, session, f"/enrollment/programmes/{data['programme_id']}")

    def on_enrollment_changed(event: CloudEvent, session: Session) -> None:
        data = event.data
        status = "confirmed" if event.type == catalog.ENROLLMENT_CONFIRMED.name else "waitlisted"
        session.execute(
            UPSERT_SEAT,
            {
                "session_id": data["session_id"],
                "user_id": data["user_id"],
                "programme_id": data["programme_id"],
                "status": status,
            },
        )
        if status == "confirmed":
            schedule_session_reminders(session, data)
        deliver(event, session, f"/enrollment/programmes/{data['programme_id']}")

    def on_enrollment_cancelled(event: CloudEvent, session: Session) -> None:
        data = event.data
        session.execute(
            update(SessionSeat)
            .where(SessionSeat.session_id == data["session_id"], SessionSeat.user_id == data["user_id"])
            .values(status="cancelled")
        )
        _cancel_session_reminders(session, data["session_id"], data["user_id"])
        deliver(event, session, f"/enrollment/programmes/{data['programme_id']}")

    def on_attempt_graded(event: CloudEvent, session: Session) -> None:
        deliver(event, session, f"/assessment/attempts/{event.data['attempt_id']}")

    def on_mentoring(event: CloudEvent, session: Session) -> None:
        deliver(event, session, "/enrollment/mentoring")

    def on_followup_due(event: CloudEvent, session: Session) -> None:
        slug = event.data.get("quiz_slug")
        deliver(event, session, f"/assessment/quizzes/{slug}" if slug else None)

    def on_quiz_scheduled(event: CloudEvent, session: Session) -> None:
        schedule_quiz_closing_reminder(session, event.data)
        deliver(event, session, f"/assessment/quizzes/{event.data['quiz_slug']}")

    def on_session_cancelled(event: CloudEvent, session: Session) -> None:
        # A session that will not take place is not reminded of.
        _cancel_session_reminders(session, event.data["session_id"])
        deliver(event, session, f"/enrollment/programmes/{event.data['programme_id']}")

    def on_activity_completed(event: CloudEvent, session: Session) -> None:
        deliver(event, session, "/enrollment/my-learning")

    return {
        catalog.USER_REGISTERED.name: on_user_registered,
        catalog.PROGRAMME_PUBLISHED.name: on_programme_published,
        catalog.ENROLLMENT_CONFIRMED.name: on_enrollment_changed,
        catalog.ENROLLMENT_WAITLISTED.name: on_enrollment_changed,
        catalog.ENROLLMENT_CANCELLED.name: on_enrollment_cancelled,
        catalog.ATTEMPT_GRADED.name: on_attempt_graded,
        catalog.MENTORING_PAIRED.name: on_mentoring,
        catalog.MENTORING_MEETING_LOGGED.name: on_mentoring,
        catalog.FOLLOWUP_DUE.name: on_followup_due,
        catalog.QUIZ_SCHEDULED.name: on_quiz_scheduled,
        catalog.SESSION_CANCELLED.name: on_session_cancelled,
        catalog.PUBLIC_ENROLLMENT_REQUESTED.name: deliver,
        catalog.PUBLIC_ENROLLMENT_CANCELLED.name: deliver,
        catalog.ACTIVITY_COMPLETED.name: on_activity_completed,
    }


def schedule_session_reminders(session: Session, data: Mapping, now: datetime | None = None) -> None:
    """A session 24 hours and 1 hour before it starts, for each confirmed person (once)."""
    now = now or utcnow()
    starts = datetime.fromisoformat(data["starts_at"])
    _add_reminders(
        session,
        [
            (f"{kind}:{data['session_id']}:{data['user_id']}", kind, starts - before, data)
            for kind, before in ((defaults.SESSION_REMINDER_24H, timedelta(hours=24)),
                                 (defaults.SESSION_REMINDER_1H, timedelta(hours=1)))
            if starts - before > now
        ],
    )  # fmt: skip


def _cancel_session_reminders(session: Session, session_id: int, user_id: int | None = None) -> None:
    """The session's pending reminders, of everyone or of one person, will not be sent."""
    kinds = (defaults.SESSION_REMINDER_24H, defaults.SESSION_REMINDER_1H)
    if user_id is None:
        which = or_(*(Reminder.key.startswith(f"{kind}:{session_id}:") for kind in kinds))
    else:
        which = Reminder.key.in_([f"{kind}:{session_id}:{user_id}" for kind in kinds])
    session.execute(update(Reminder).where(Reminder.state == "pending", which).values(state="cancelled"))


def schedule_quiz_closing_reminder(session: Session, data: Mapping, now: datetime | None = None) -> None:
    """A programme's quiz closes in 24 hours: its participants are reminded (once per window)."""
    if not data.get("closes_at") or data.get("programme_id") is None:
        return  # open-ended, or a public quiz whose takers are not known in advance
    due = datetime.fromisoformat(data["closes_at"]) - timedelta(hours=24)
    key = f"{defaults.QUIZ_CLOSING_REMINDER}:{data['quiz_slug']}:{data['closes_at']}"
    if due > (now or utcnow()):
        _add_reminders(session, [(key, defaults.QUIZ_CLOSING_REMINDER, due, data)])


def _add_reminders(session: Session, reminders: list[tuple[str, str, datetime, Mapping]]) -> None:
    """(key, kind, due, data) of each reminder; one whose key exists already is left as it is,
    unless it was cancelled."""
    if reminders:
        session.execute(
            ADD_REMINDER,
            [
                {"key": key, "kind": kind, "due_at": due, "data": dict(data)}
                for key, kind, due, data in reminders
            ],
        )


# The inbox -----------------------------------------------------------------------------


def inbox(session: Session, user_id: int, limit: int = 50) -> tuple[list[Notification], int]:
    """The person's newest notifications and how many are unread."""
    items = session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()
    unread = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return list(items), unread


def mark_read(session: Session, user_id: int, notification_id: int) -> Notification:
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("No such notification.")  # another person's item is not revealed
    notification.read_at = notification.read_at or utcnow()
    return notification


def mark_all_read(session: Session, user_id: int) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount
