"""The delivery loop of the notification worker: sends queued email and webhooks with retries,
fires due reminders and sends daily digests.

Every step claims its rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) inside a short
transaction, so two workers never send the same message; a row left in ``sending`` by a
crashed worker is taken again once its lease runs out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from markupsafe import escape
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shared.bus import backoff_delay
from shared.db import utcnow

from .channels import Channel, ChannelContext, DeliveryFailed, load_channels
from .handlers import dispatch
from .models import Delivery, DeliveryAttempt, Notification, Recipient, Reminder, WebhookSubscription

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
DIGEST_CHECK_INTERVAL = 60.0  # seconds


def claim_due(session: Session, now: datetime, limit: int = 20) -> list[Delivery]:
    """Queued deliveries that are due, and ``sending`` ones whose lease ran out, now leased."""
    rows = session.scalars(
        select(Delivery)
        .where(
            or_(Delivery.state == "queued", Delivery.state == "sending"),
            Delivery.next_attempt_at <= now,
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for delivery in rows:
        delivery.state, delivery.attempts = "sending", delivery.attempts + 1
        delivery.next_attempt_at = now + LEASE
    session.commit()
    return list(rows)


def send_one(session: Session, delivery: Delivery, channels: Mapping[str, Channel], config: Mapping) -> None:
    channel = channels.get(delivery.channel)
    try:
        if channel is None:
            raise DeliveryFailed(f"no channel {delivery.channel!r} is installed", retryable=False)
        _send(channel, delivery, ChannelContext(config, session))
    except DeliveryFailed as failure:
        delivery.last_error = str(failure)
        if failure.retryable and delivery.attempts < config["PUSTAKA_DELIVERY_MAX_ATTEMPTS"]:
            delivery.state = "queued"
            delay = backoff_delay(delivery.attempts, config["PUSTAKA_DELIVERY_BACKOFF"], cap=6 * 3600)
            delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
            log.warning(
                "delivery %s to %s failed (attempt %d), retrying in %gs: %s",
                delivery.id, delivery.target, delivery.attempts, delay, failure,
            )  # fmt: skip
        else:
            delivery.state = "failed"
            log.error("delivery %s to %s failed for good: %s", delivery.id, delivery.target, failure)
        if delivery.channel == "webhook":
            _count_webhook_failure(session, delivery, config)
    else:
        delivery.state, delivery.sent_at, delivery.last_error = "sent", utcnow(), None
        if delivery.channel == "webhook":
            subscription = session.get(WebhookSubscription, int(delivery.recipient_key.split(":")[1]))
            if subscription:
                subscription.consecutive_failures = 0
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            succeeded=delivery.state == "sent",
            error=None if delivery.state == "sent" else delivery.last_error,
        )
    )
    session.commit()


def _send(channel: Channel, delivery: Delivery, context: ChannelContext) -> None:
    """Whatever else a channel (a plugin) raises is a failed attempt: it never stops the loop."""
    try:
        channel.send(delivery, context)
    except (DeliveryFailed, SQLAlchemyError):
        raise
    except Exception as error:
        log.exception("delivery %s: the %r channel raised", delivery.id, delivery.channel)
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from error


def _count_webhook_failure(session: Session, delivery: Delivery, config: Mapping) -> None:
    """After a run of failures the subscription is disabled and its owner told, in the inbox."""
    # Locked and read afresh: another worker may be counting a failure of the same subscription.
    subscription = session.get(
        WebhookSubscription,
        int(delivery.recipient_key.split(":")[1]),
        with_for_update=True,
        populate_existing=True,
    )
    if subscription is None or not subscription.active:
        return
    subscription.consecutive_failures += 1
    if subscription.consecutive_failures >= config["PUSTAKA_WEBHOOK_DISABLE_AFTER"]:
        subscription.active = False
        subscription.disabled_reason = (
            f"{subscription.consecutive_failures} failures in a row; last: {delivery.last_error}"
        )
        session.add(
            Notification(
                user_id=subscription.owner_user_id,
                event_id=f"webhook-disabled:{subscription.id}:{delivery.id}",
                event_type="webhook.disabled",
                title=f"Webhook dinonaktifkan / Webhook disabled: {subscription.url}",
                body=subscription.disabled_reason,
                link=f"/notification/admin/webhooks/{subscription.id}",
            )
        )


def send_due(sessions, channels: Mapping[str, Channel], config: Mapping) -> int:
    with sessions() as session:
        claimed = claim_due(session, utcnow())
        for delivery in claimed:
            send_one(session, delivery, channels, config)
        return len(claimed)


def fire_due_reminders(sessions, channels: Mapping[str, Channel], config: Mapping, limit: int = 50) -> int:
    """Turn due reminders into deliveries, each reminder exactly once."""
    with sessions() as session:
        due = session.scalars(
            select(Reminder)
            .where(Reminder.state == "pending", Reminder.due_at <= utcnow())
            .order_by(Reminder.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for reminder in due:
            link = (
                f"/enrollment/programmes/{reminder.data['programme_id']}"
                if "programme_id" in reminder.data
                else None
            )
            event_id = f"reminder:{reminder.key}"
            try:
                with session.begin_nested():  # a reminder that fails leaves the others be
                    dispatch(session, event_id, reminder.kind, reminder.data, channels, config, link)
            except SQLAlchemyError:
                raise
            except Exception as error:  # e.g. a template that fails on this reminder's data
                log.error("reminder %s failed: %s: %s", reminder.key, type(error).__name__, error)
                reminder.state = "failed"
                continue
            reminder.state = "done"
        session.commit()
        return len(due)


def send_digests(sessions, config: Mapping, now: datetime | None = None) -> int:
    """Once a day at PUSTAKA_DIGEST_HOUR (the person's time), the waiting low-priority emails in one."""
    now = now or utcnow()
    sent = 0
    with sessions() as session:
        waiting = session.scalars(
            select(Delivery).where(Delivery.state == "digest").order_by(Delivery.recipient_key, Delivery.id)
            .with_for_update(skip_locked=True)
        ).all()  # fmt: skip
        by_recipient: dict[str, list[Delivery]] = {}
        for delivery in waiting:
            by_recipient.setdefault(delivery.recipient_key, []).append(delivery)
        for key, items in by_recipient.items():
            profile = session.get(Recipient, int(key.split(":")[1])) if key.startswith("user:") else None
            local = now.astimezone(ZoneInfo(profile.timezone if profile else "Asia/Jakarta"))
            if local.hour < config["PUSTAKA_DIGEST_HOUR"]:
                continue
            digest_id = f"digest:{local.date().isoformat()}:{key}"
            if session.scalar(select(Delivery.id).where(Delivery.event_id == digest_id)):
                continue  # today's digest went out already; the rest waits for tomorrow's
            language = profile.language if profile else "id"
            heading = "Ringkasan harian Pustaka" if language == "id" else "Your daily Pustaka digest"
            text = "\n\n".join(f"{item.subject}\n{item.text}" for item in items)
            html = "".join(f"<h3>{escape(item.subject)}</h3>\n{item.html}" for item in items)
            session.add(
                Delivery(
                    event_id=digest_id, event_type="digest", recipient_key=key, channel="email",
                    category=items[0].category, priority="normal", state="queued", next_attempt_at=now,
                    target=items[0].target, subject=f"{heading} ({len(items)})", text=text, html=html,
                )
            )  # fmt: skip
            for item in items:
                item.state, item.sent_at = "sent", now  # as part of the digest
            sent += 1
        session.commit()
    return sent


def delivery_loop(app: Flask, stop: threading.Event) -> None:
    """The notification worker's background task."""
    config = app.config
    channels = load_channels()
    with app.app_context():
        sessions = app.extensions["pustaka"].session_factory()
    failures = 0
    digests_checked = 0.0
    while not stop.is_set():
        try:
            worked = fire_due_reminders(sessions, channels, config) + send_due(sessions, channels, config)
            if time.monotonic() - digests_checked >= DIGEST_CHECK_INTERVAL:  # digests go out daily
                send_digests(sessions, config)
                digests_checked = time.monotonic()
            failures = 0
        except SQLAlchemyError as error:
            failures += 1
            log.warning("delivery loop: database unavailable: %s", error)
            stop.wait(backoff_delay(failures))
            continue
        except Exception:  # a bug must not silently end the worker's deliveries
            failures += 1
            log.exception("delivery loop: unexpected error")
            stop.wait(backoff_delay(failures))
            continue
        if not worked:
            stop.wait(config["PUSTAKA_DELIVERY_INTERVAL"])
