"""The idempotent inbox consumer of one service.

Each message is handled in one transaction with the insertion of (consumer, event id) into
the inbox table, and acked only after that commit: a redelivered or duplicate event is acked
and skipped. A failing handler is retried with backoff; after ``max_attempts`` the message
goes, with its last error, to the service's dead-letter table. All of it is our code, so it
behaves the same on RabbitMQ and on the in-memory transport.

Messages that are already waiting are taken together: one transaction for the batch (its
inbox rows, then each handler in turn), so a busy queue pays one commit for many events.
Should anything in a batch fail, it is rolled back and each of its messages is handled on its
own, as above; the batch changes how often we commit, never what is done.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence

from kombu import Connection
from kombu.message import Message
from kombu.mixins import ConsumerMixin
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from .bus import EventBus, backoff_delay
from .envelope import CloudEvent, checked
from .messaging import INBOX, DeadLetter, InboxEntry
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

    def process_batch(self, bodies: Sequence[bytes | str]) -> bool:
        """Handle every message in one transaction; False, with nothing written, if any of them
        fails, so that the caller handles each on its own with ``process``."""
        try:
            events = [self._parse(body) for body in bodies]
        except PoisonMessage:
            return False
        session = self.session_factory()
        try:
            # A duplicate fails here, before any handler runs.
            session.execute(INBOX.insert(), [self._inbox_row(event) for event in events])
            for event in events:
                token = current_traceparent.set(event.traceparent)
                try:
                    self.handlers[event.type](event, session)
                finally:
                    current_traceparent.reset(token)
            session.commit()
        except Exception as error:  # noqa: BLE001 - each message is retried on its own
            session.rollback()
            log.info("%s: batch of %d failed, handling each alone: %s", self.consumer, len(events), error)
            return False
        finally:
            session.close()
        log.debug("%s: handled a batch of %d", self.consumer, len(events))
        return True

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
                session.execute(INBOX.insert(), self._inbox_row(event))
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

    def _inbox_row(self, event: CloudEvent) -> dict:
        return {"consumer": self.consumer, "event_id": event.id, "event_type": event.type}

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
    """Feeds a service queue into an InboxProcessor, a batch of the messages already waiting at a
    time; reconnects by itself when the broker returns."""

    def __init__(self, bus: EventBus, service: str, processor: InboxProcessor, prefetch: int = 64):
        self.bus = bus
        self.connection: Connection = bus.connection()
        self.queue = bus.service_queue(service, processor.handlers)
        self.processor = processor
        self.prefetch = prefetch
        self.received: list[Message] = []

    def get_consumers(self, Consumer, channel):  # noqa: N803 - kombu's signature
        return [Consumer(queues=[self.queue], on_message=self.on_message, prefetch_count=self.prefetch)]

    def on_message(self, message: Message) -> None:
        self.received.append(message)

    def consume(self, limit=None, timeout=None, safety_interval=1, **kwargs):  # kombu's signature
        """ConsumerMixin's loop, except that after a message arrives, the ones already waiting
        behind it are read too and all are handled as one batch."""
        with self.consumer_context(**kwargs) as (connection, _channel, _consumers):
            # What a lost connection left unhandled, the broker delivers again on the new one.
            self.received.clear()
            while not self.should_stop:
                try:
                    connection.drain_events(timeout=safety_interval)
                    while len(self.received) < self.prefetch:
                        connection.drain_events(timeout=0)
                except TimeoutError:
                    connection.heartbeat_check()
                except OSError:
                    if not self.should_stop:
                        raise
                if self.received:
                    batch, self.received = self.received, []
                    self.handle(batch)
                yield

    def handle(self, messages: list[Message]) -> None:
        if len(messages) > 1 and self.processor.process_batch([message.body for message in messages]):
            for message in messages:
                message.ack()
            return
        for position, message in enumerate(messages):
            try:
                self.processor.process(message.body)
            except SQLAlchemyError as error:
                # The database itself is away: leave this and the rest to be redelivered later.
                log.error("%s: database unavailable, messages requeued: %s", self.processor.consumer, error)
                time.sleep(1.0)
                for waiting in messages[position:]:
                    waiting.requeue()
                return
            message.ack()

    def run_until(self, stop: threading.Event) -> None:
        watcher = threading.Thread(target=self._stop_when, args=(stop,), daemon=True)
        watcher.start()
        self.run()

    def _stop_when(self, stop: threading.Event) -> None:
        stop.wait()
        self.should_stop = True
