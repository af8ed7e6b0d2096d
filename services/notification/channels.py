"""Notification channels: plugins registered under the entry-point group
``pustaka.notification_channels``, the built-in ones the same way as a third party's.

A channel is an object with a ``name``, an ``immediate`` flag and ``send(delivery, context)``:

- ``immediate`` channels write only to notification's own database, inside the transaction
  that consumes the event (the in-app inbox);
- the others are sent later by the delivery loop, outside any transaction, and may raise
  :class:`DeliveryFailed` (``retryable`` or not); the loop retries with backoff.

A third-party package adds a channel with, in its ``pyproject.toml``::

    [project.entry-points."pustaka.notification_channels"]
    sms = "my_package.sms:SmsChannel"
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol

from itsdangerous import URLSafeSerializer
from sqlalchemy.orm import Session

from shared.webhooks import sign

from .models import ESSENTIAL_CATEGORIES, Delivery, Notification, WebhookSubscription

ENTRY_POINT_GROUP = "pustaka.notification_channels"
MAX_WEBHOOK_PAYLOAD = 256 * 1024


class DeliveryFailed(Exception):
    def __init__(self, reason: str, retryable: bool = True):
        super().__init__(reason)
        self.retryable = retryable


@dataclass(frozen=True)
class ChannelContext:
    """What a channel may use: the service's settings and the delivery's database session."""

    config: Mapping
    session: Session


class Channel(Protocol):
    name: str
    immediate: bool

    def send(self, delivery: Delivery, context: ChannelContext) -> None: ...


def load_channels() -> dict[str, Channel]:
    """Every installed channel, by name."""
    channels = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        channel = entry_point.load()()
        channels[channel.name] = channel
    return channels


class InAppChannel:
    name = "in_app"
    immediate = True

    def send(self, delivery: Delivery, context: ChannelContext) -> None:
        context.session.add(
            Notification(
                user_id=int(delivery.target),
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                title=delivery.subject,
                body=delivery.text,
                link=delivery.link,
            )
        )


def unsubscribe_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="pustaka-unsubscribe")


def unsubscribe_url(config: Mapping, recipient_key: str, category: str) -> str:
    """A signed link that turns this category off on email, without signing in (RFC 8058)."""
    token = unsubscribe_serializer(config["SECRET_KEY"]).dumps([recipient_key, category])
    return f"{public_base(config)}/unsubscribe/{token}"


def public_base(config: Mapping) -> str:
    base = config["PUSTAKA_SERVICE_URLS"]["notification"]
    return base if "://" in base else config["PUSTAKA_PUBLIC_URL"].rstrip("/") + base


class EmailChannel:
    name = "email"
    immediate = False

    def send(self, delivery: Delivery, context: ChannelContext) -> None:
        # Loaded here, by the delivery loop that sends: web processes never need them.
        import smtplib
        from email.message import EmailMessage
        from email.utils import make_msgid

        config = context.config
        if not config.get("PUSTAKA_SMTP_HOST"):
            raise DeliveryFailed("email is not configured (PUSTAKA_SMTP_HOST)", retryable=False)
        message = EmailMessage()
        message["From"] = config["PUSTAKA_SMTP_FROM"]
        message["To"] = delivery.target
        message["Subject"] = delivery.subject
        message["Message-ID"] = make_msgid(domain="pustaka")
        if delivery.category not in ESSENTIAL_CATEGORIES:
            link = unsubscribe_url(config, delivery.recipient_key, delivery.category)
            message["List-Unsubscribe"] = f"<{link}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(delivery.text)
        message.add_alternative(delivery.html or delivery.text, subtype="html")
        try:
            smtp_class = smtplib.SMTP_SSL if config["PUSTAKA_SMTP_TLS"] == "ssl" else smtplib.SMTP
            with smtp_class(config["PUSTAKA_SMTP_HOST"], config["PUSTAKA_SMTP_PORT"], timeout=10) as smtp:
                if config["PUSTAKA_SMTP_TLS"] == "starttls":
                    smtp.starttls()
                if config.get("PUSTAKA_SMTP_USER"):
                    smtp.login(config["PUSTAKA_SMTP_USER"], config["PUSTAKA_SMTP_PASSWORD"] or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            # 5xx: the server refused for good (bad address, policy); 4xx: try again later.
            raise DeliveryFailed(
                f"SMTP {error.smtp_code}: {error.smtp_error!r}", error.smtp_code < 500
            ) from None
        except smtplib.SMTPRecipientsRefused as error:
            # Refused at RCPT TO: for good on 5xx; 4xx (greylisting, a full mailbox) is temporary.
            temporary = all(code < 500 for code, _ in error.recipients.values())
            raise DeliveryFailed(f"recipient refused: {error.recipients}", retryable=temporary) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"SMTP unreachable: {error}") from None


class WebhookChannel:
    """POSTs the CloudEvent to a subscriber, signed as Standard Webhooks specify."""

    name = "webhook"
    immediate = False

    def send(self, delivery: Delivery, context: ChannelContext) -> None:
        import requests  # by the delivery loop only, as smtplib above

        subscription = context.session.get(WebhookSubscription, int(delivery.recipient_key.split(":")[1]))
        if subscription is None or not subscription.active:
            raise DeliveryFailed("the subscription is disabled or gone", retryable=False)
        body = delivery.payload.encode()
        if len(body) > MAX_WEBHOOK_PAYLOAD:
            raise DeliveryFailed(
                f"payload of {len(body)} bytes is over {MAX_WEBHOOK_PAYLOAD}", retryable=False
            )
        message_id = f"msg_{delivery.id}"  # the same on every retry, so the receiver can drop repeats
        timestamp = int(time.time())
        try:
            response = requests.post(
                delivery.target,
                data=body,
                headers={
                    "content-type": "application/cloudevents+json",
                    "webhook-id": message_id,
                    "webhook-timestamp": str(timestamp),
                    "webhook-signature": sign(subscription.secret, message_id, timestamp, body),
                },
                timeout=(3, context.config["PUSTAKA_WEBHOOK_TIMEOUT"]),
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")
