"""Running a service's messaging: its outbox relay and inbox consumer, as threads.

The distributed worker process and the embedded process use this same code; only the
transport and database URLs differ.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from .app import ServiceRuntime
from .bus import BROKER_ERRORS
from .consumer import InboxConsumer, InboxProcessor
from .relay import OutboxRelay

log = logging.getLogger(__name__)


class ServiceWorker:
    def __init__(self, app: Flask):
        self.app = app
        self.runtime: ServiceRuntime = app.extensions["pustaka"]
        with app.app_context():
            session_factory = self.runtime.session_factory()
        self.relay = OutboxRelay(
            self.runtime.bus, session_factory, interval=app.config["PUSTAKA_RELAY_INTERVAL"]
        )
        self.processor = InboxProcessor(
            self.runtime.name,
            self.runtime.handlers,
            session_factory,
            max_attempts=app.config["PUSTAKA_MAX_ATTEMPTS"],
            backoff=app.config["PUSTAKA_RETRY_BACKOFF"],
        )
        self.threads: list[threading.Thread] = []

    def declare_queue(self) -> bool:
        """Declare the exchange and this service's queue; False if the broker is away."""
        bus = self.runtime.bus
        try:
            with bus.connection() as connection:
                connection.ensure_connection(max_retries=1, timeout=3)
                bus.declare(connection, self.runtime.name, self.runtime.handlers)
            return True
        except BROKER_ERRORS as error:
            log.warning("%s: broker unreachable, queue not declared yet: %s", self.runtime.name, error)
            return False

    def start(self, stop: threading.Event, messaging: bool = True, background: bool = True) -> None:
        """Start the relay and the consumer (``messaging``) and the service's ``background`` tasks.

        Each part may have a process of its own, so that a busy background task (notification's
        delivery loop) does not hold the consumer's interpreter lock."""
        self.threads = []
        if messaging:
            self.threads.append(
                threading.Thread(
                    target=self.relay.run, args=(stop,), name=f"{self.runtime.name}-relay", daemon=True
                )
            )
        if messaging and self.runtime.handlers:
            consumer = InboxConsumer(self.runtime.bus, self.runtime.name, self.processor)
            self.threads.append(
                threading.Thread(
                    target=consumer.run_until,
                    args=(stop,),
                    name=f"{self.runtime.name}-consumer",
                    daemon=True,
                )
            )
        for task in self.runtime.background_tasks if background else ():
            self.threads.append(
                threading.Thread(
                    target=task,
                    args=(self.app, stop),
                    name=f"{self.runtime.name}-{task.__name__}",
                    daemon=True,
                )
            )
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float | None = None) -> None:
        for thread in self.threads:
            thread.join(timeout)


def mount(apps: Mapping[str, Flask], root=None):
    """One WSGI app serving each service under ``/<name>``, the same in both modes."""
    return DispatcherMiddleware(root or NotFound(), {f"/{name}": app for name, app in apps.items()})
