"""The kombu event bus: one durable topic exchange, one durable queue per service.

The same code runs on RabbitMQ (``amqp://``, with publisher confirms) and on kombu's
in-memory transport (``memory://``) of the embedded mode.
"""

from __future__ import annotations

from collections.abc import Iterable

import amqp.exceptions
from kombu import Connection, Exchange, Producer, Queue, binding
from kombu.exceptions import KombuError

# What a lost or refused broker connection raises, on either transport.
BROKER_ERRORS: tuple[type[Exception], ...] = (
    KombuError,
    amqp.exceptions.AMQPError,
    amqp.exceptions.MessageNacked,
    ConnectionError,
    OSError,
    TimeoutError,
)


def backoff_delay(failures: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Exponential backoff: base, 2·base, 4·base … never more than cap seconds."""
    return min(base * 2 ** max(failures - 1, 0), cap)


class EventBus:
    def __init__(self, url: str, exchange: str = "pustaka.events", queue_prefix: str = "pustaka"):
        self.url = url
        self.exchange = Exchange(exchange, type="topic", durable=True)
        self.queue_prefix = queue_prefix

    @property
    def in_memory(self) -> bool:
        return self.url.startswith("memory://")

    def connection(self) -> Connection:
        if self.in_memory:
            options = {"polling_interval": 0.005}
        else:
            # The broker confirms every publish: the relay marks a row sent only after that.
            options = {"confirm_publish": True}
        return Connection(self.url, transport_options=options, connect_timeout=3)

    def queue_name(self, service: str) -> str:
        return f"{self.queue_prefix}.{service}"

    def service_queue(self, service: str, event_types: Iterable[str]) -> Queue:
        return Queue(
            self.queue_name(service),
            exchange=self.exchange,
            bindings=[binding(self.exchange, routing_key=name) for name in sorted(event_types)],
            durable=True,
        )

    def declare(self, connection: Connection, service: str, event_types: Iterable[str]) -> Queue:
        """Declare the exchange and the service's queue with its bindings (idempotent)."""
        queue = self.service_queue(service, event_types)
        channel = connection.default_channel
        self.exchange(channel).declare()
        queue(channel).declare()
        return queue

    def publish(self, producer: Producer, body: str, event_type: str, destination_queue: str | None) -> None:
        """Publish one persistent message; returns once the broker has confirmed it."""
        producer.publish(
            body.encode(),
            exchange="" if destination_queue else self.exchange,
            routing_key=destination_queue or event_type,
            content_type="application/cloudevents+json",
            content_encoding="utf-8",
            delivery_mode=2,
            retry=False,
        )

    def ping(self) -> None:
        """Raise if the broker cannot be reached within a few seconds."""
        with self.connection() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
