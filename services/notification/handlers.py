"""Notification's use cases and event handlers, free of Flask and kombu."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared import catalog
from shared.db import utcnow
from shared.envelope import CloudEvent
from shared.errors import NotFound
from shared.localtime import local_time

from .models import Notification, Recipient

# Title and body of each in-app message, by language. Formatted with the event's data.
MESSAGES = {
    catalog.ENROLLMENT_CONFIRMED.name: {
        "id": ("Kursi Anda terkonfirmasi", "Anda terdaftar di {title}, mulai {starts}."),
        "en": ("Your seat is confirmed", "You are enrolled in {title}, starting {starts}."),
    },
    catalog.ENROLLMENT_WAITLISTED.name: {
        "id": ("Anda dalam daftar tunggu", "{title} sudah penuh. Posisi Anda: {position}."),
        "en": ("You are on the waiting list", "{title} is full. Your position: {position}."),
    },
    catalog.ATTEMPT_GRADED.name: {
        "id": ("Hasil kuis: {title}", "Skor Anda {score:g} dari {max_score:g} ({percent:g}%)."),
        "en": ("Quiz result: {title}", "You scored {score:g} of {max_score:g} ({percent:g}%)."),
    },
}


def _language(session: Session, user_id: int, fallback: str) -> str:
    recipient = session.get(Recipient, user_id)
    return recipient.language if recipient else fallback


def _notify(session: Session, event: CloudEvent, user_id: int, fields: dict, link: str | None) -> None:
    language = _language(session, user_id, event.data.get("language", "id"))
    title, body = MESSAGES[event.type][language]
    session.add(
        Notification(
            user_id=user_id,
            event_id=event.id,
            event_type=event.type,
            title=title.format(**fields),
            body=body.format(**fields),
            link=link,
        )
    )


def on_user_registered(event: CloudEvent, session: Session) -> None:
    data = event.data
    session.merge(
        Recipient(user_id=data["user_id"], email=data["email"], name=data["name"], language=data["language"])
    )


def on_enrollment_changed(event: CloudEvent, session: Session) -> None:
    data = event.data
    language = _language(session, data["user_id"], data["language"])
    fields = {
        "title": data["programme_title"][language],
        "starts": local_time(data["starts_at"]),
        "position": data.get("waitlist_position"),
    }
    _notify(session, event, data["user_id"], fields, f"/enrollment/programmes/{data['programme_id']}")


def on_attempt_graded(event: CloudEvent, session: Session) -> None:
    data = event.data
    if data.get("user_id") is None:
        return  # an anonymous taker has no inbox
    language = _language(session, data["user_id"], data["language"])
    fields = {
        "title": data["quiz_title"][language],
        "score": data["score"],
        "max_score": data["max_score"],
        "percent": data["percent"],
    }
    _notify(session, event, data["user_id"], fields, f"/assessment/attempts/{data['attempt_id']}")


EVENT_HANDLERS = {
    catalog.USER_REGISTERED.name: on_user_registered,
    catalog.ENROLLMENT_CONFIRMED.name: on_enrollment_changed,
    catalog.ENROLLMENT_WAITLISTED.name: on_enrollment_changed,
    catalog.ATTEMPT_GRADED.name: on_attempt_graded,
}


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
