"""The idempotent inbox consumer of one service.

Each message is handled in one transaction with the insertion of (consumer, event id) into
the inbox table, and acked only after that commit: a redelivered or duplicate event is acked
and skipped. A failing handler is retried with backoff; after ``max_attempts`` the message
goes, with its last error, to the service's dead-letter table. All of it is our code, so it
behaves the same on RabbitMQ and on the in-memory transport.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping

from kombu import Connection
from kombu.mixins import ConsumerMixin
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from .bus import EventBus, backoff_delay
from .envelope import CloudEvent, checked
from .messaging import DeadLetter, InboxEntry
from .tracing import current_traceparent

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent, Session], None]


class PoisonMessage(ValueError):
    """A message no retry can fix: not a CloudEvent, or not one of the catalog's."""


class InboxProcessor:
    """Transport-free core: turns one message body into exactly one handled event."""

    def __init__(
        self,
        consumer: str,
        handlers: Mapping[str, Handler],
        session_factory: Callable[[], Session],
        max_attempts: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.consumer = consumer
        self.handlers = handlers
        self.session_factory = session_factory
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep

    def process(self, body: bytes | str) -> str:
        """Handle, skip or dead-letter the message; returns which. Safe to ack afterwards."""
        try:
            event = self._parse(body)
        except PoisonMessage as error:
            self._dead_letter(body, None, str(error), attempts=1)
            return "dead-lettered"
        token = current_traceparent.set(event.traceparent)
        try:
            return self._handle_with_retries(body, event)
        finally:
            current_traceparent.reset(token)

    def _parse(self, body: bytes | str) -> CloudEvent:
        try:
            event = checked(CloudEvent.from_json(body))
        except (ValueError, LookupError) as error:
            raise PoisonMessage(f"{type(error).__name__}: {error}") from None
        if event.type not in self.handlers:
            raise PoisonMessage(f"no handler for {event.type} in {self.consumer}")
        return event

    def _handle_with_retries(self, body: bytes | str, event: CloudEvent) -> str:
        last_error = ""
        for attempt in range(1, self.max_attempts + 1):
            session = self.session_factory()
            try:
                # The inbox row goes first: a duplicate fails here, before the handler runs.
                session.add(InboxEntry(consumer=self.consumer, event_id=event.id, event_type=event.type))
                session.flush()
                self.handlers[event.type](event, session)
                session.commit()
                log.debug("%s: handled %s %s", self.consumer, event.type, event.id)
                return "handled"
            except IntegrityError as error:
                session.rollback()
                if self._already_handled(event):
                    log.info("%s: %s %s already handled; skipped", self.consumer, event.type, event.id)
                    return "duplicate"
                last_error = _describe(error)
            except Exception as error:
                session.rollback()
                last_error = _describe(error)
                log.warning(
                    "%s: %s %s failed (attempt %d/%d): %s",
                    self.consumer,
                    event.type,
                    event.id,
                    attempt,
                    self.max_attempts,
                    error,
                )
            finally:
                session.close()
            if attempt < self.max_attempts:
                self.sleep(backoff_delay(attempt, self.backoff, cap=30.0))
        self._dead_letter(body, event, last_error, attempts=self.max_attempts)
        return "dead-lettered"

    def _already_handled(self, event: CloudEvent) -> bool:
        session = self.session_factory()
        try:
            return session.get(InboxEntry, (self.consumer, event.id)) is not None
        finally:
            session.close()

    def _dead_letter(self, body, event: CloudEvent | None, error: str, attempts: int) -> None:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        session = self.session_factory()
        try:
            session.add(
                DeadLetter(
                    consumer=self.consumer,
                    event_id=event.id if event else None,
                    event_type=event.type if event else None,
                    body=text,
                    error=error,
                    attempts=attempts,
                )
            )
            session.commit()
        finally:
            session.close()
        log.error("%s: dead-lettered %s: %s", self.consumer, event.id if event else "?", error)


def _describe(error: Exception) -> str:
    return "".join(traceback.format_exception_only(type(error), error)).strip()


class InboxConsumer(ConsumerMixin):
    """Feeds a service queue into an InboxProcessor; reconnects by itself when the broker returns."""

    def __init__(self, bus: EventBus, service: str, processor: InboxProcessor, prefetch: int = 16):
        self.bus = bus
        self.connection: Connection = bus.connection()
        self.queue = bus.service_queue(service, processor.handlers)
        self.processor = processor
        self.prefetch = prefetch

    def get_consumers(self, Consumer, channel):  # noqa: N803 - kombu's signature
        return [Consumer(queues=[self.queue], on_message=self.on_message, prefetch_count=self.prefetch)]

    def on_message(self, message) -> None:
        try:
            self.processor.process(message.body)
        except SQLAlchemyError as error:
            # The database itself is away: leave the message to be redelivered later.
            log.error("%s: database unavailable, message requeued: %s", self.processor.consumer, error)
            time.sleep(1.0)
            message.requeue()
            return
        message.ack()

    def run_until(self, stop: threading.Event) -> None:
        watcher = threading.Thread(target=self._stop_when, args=(stop,), daemon=True)
        watcher.start()
        self.run()

    def _stop_when(self, stop: threading.Event) -> None:
        stop.wait()
        self.should_stop = True
