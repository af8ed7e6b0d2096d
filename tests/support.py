"""Test helpers: real servers, per-run databases and queues, and a running in-process system."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlparse

from kombu import Connection
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services import system
from shared.config import SERVICES, engine_options
from shared.runtime import ServiceWorker

PG_URL = os.environ.get("PUSTAKA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("PUSTAKA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("PUSTAKA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Tests send many quiz requests from one address; tests of the rate limits set their own.
UNTHROTTLED = "100000/minute"


def check_reachable(url: str, what: str) -> None:
    """Fail, never skip, when a server the tests need is not there."""
    parsed = urlparse(url.replace("+psycopg", ""))
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=3):
            pass
    except OSError as error:
        raise RuntimeError(
            f"{what} is unreachable at {parsed.hostname}:{parsed.port} ({error}); "
            "the test suite needs it running (see README, 'Tests')."
        ) from None


def new_prefix() -> str:
    return "pt" + uuid.uuid4().hex[:10]


class PostgresDatabases:
    """One PostgreSQL database per service for a test run, dropped afterwards."""

    def __init__(self, prefix: str):
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        self.names = {service: f"{prefix}_{service}" for service in SERVICES}

    def url(self, service: str) -> str:
        return make_url(PG_URL).set(database=self.names[service]).render_as_string(hide_password=False)

    def create(self) -> None:
        with self.admin.connect() as connection:
            for name in self.names.values():
                connection.execute(text(f'CREATE DATABASE "{name}"'))

    def truncate(self, service: str) -> None:
        engine = create_engine(self.url(service))
        with engine.begin() as connection:
            tables = connection.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            ).all()
            if tables:
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()

    def drop(self) -> None:
        with self.admin.connect() as connection:
            for name in self.names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def delete_broker_objects(prefix: str) -> None:
    with Connection(AMQP_URL) as connection:
        channel = connection.default_channel
        for service in SERVICES:
            channel.queue_delete(f"{prefix}.{service}")
        channel.exchange_delete(f"{prefix}.events")


def service_config(
    service: str,
    *,
    data_dir: str,
    prefix: str,
    databases: PostgresDatabases | None,
    extra: dict | None = None,
) -> dict:
    """A test run's settings of one service; ``extra`` overrides them (e.g. SMTP, delivery timing)."""
    config = {
        "TESTING": True,
        "PUSTAKA_DATA_DIR": data_dir,
        "PUSTAKA_EXCHANGE": f"{prefix}.events",
        "PUSTAKA_QUEUE_PREFIX": prefix,
        "PUSTAKA_RETRY_BACKOFF": 0.01,
        "PUSTAKA_MAX_ATTEMPTS": 3,
        "PUSTAKA_RELAY_INTERVAL": 0.02,
        "PUSTAKA_BROKER_URL": AMQP_URL if databases else "memory://localhost/",
        "PUSTAKA_ASSESSMENT_RATE_LIMIT": UNTHROTTLED,
    }
    if databases:
        config["SQLALCHEMY_DATABASE_URI"] = databases.url(service)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(databases.url(service))
    config.update(extra or {})
    return config


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RunningSystem:
    """The three services in this process, migrated, with their workers running as threads."""

    def __init__(self, mode: str, configs: dict[str, dict]):
        self.mode = mode
        self.apps = {name: system.create_app(name, configs[name]) for name in SERVICES}
        for app in self.apps.values():
            system.prepare(app)
        self.stop_event = threading.Event()
        self.workers = [ServiceWorker(app) for app in self.apps.values()]

    def start(self) -> RunningSystem:
        for worker in self.workers:
            worker.start(self.stop_event)
        return self

    def stop(self) -> None:
        self.stop_event.set()
        for worker in self.workers:
            worker.join(timeout=5)
        for app in self.apps.values():
            with app.app_context():
                app.extensions["pustaka"].db.engine.dispose()

    def client(self, service: str):
        return self.apps[service].test_client()

    def seed(self, service: str) -> None:
        system.seed_demo(self.apps[service])

    def query(self, service: str, function: Callable):
        """Run function(session) against a service's database."""
        app = self.apps[service]
        with app.app_context():
            session = app.extensions["pustaka"].session_factory()()
            try:
                return function(session)
            finally:
                session.close()


CSRF_PATTERN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class HttpResponse:
    """A requests response shaped like Flask's test response, paths relative to the service."""

    def __init__(self, response, prefix: str):
        self.status_code = response.status_code
        self.text = response.text
        self.headers = dict(response.headers)
        location = self.headers.get("Location")
        if location:
            path = urlparse(location).path if "://" in location else location
            self.headers["Location"] = path.removeprefix(prefix)
        try:
            self.json = response.json()
        except ValueError:
            self.json = None


class HttpClient:
    """Speaks HTTP to a running service, with the test client's small interface."""

    def __init__(self, base_url: str, service: str):
        import requests

        self.base_url = base_url
        self.prefix = f"/{service}"
        self.http = requests.Session()

    def open(self, method: str, path: str, *, json=None, data=None, headers=None, content_type=None):
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        response = self.http.request(
            method,
            self.base_url + self.prefix + path,
            json=json,
            data=data,
            headers=headers,
            allow_redirects=False,
            timeout=15,
        )
        return HttpResponse(response, self.prefix)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.open("PUT", path, **kwargs)

    def get_cookie(self, name: str):
        from types import SimpleNamespace

        for cookie in self.http.cookies:
            if cookie.name == name:
                rest = {key.lower(): value for key, value in cookie._rest.items()}
                return SimpleNamespace(
                    value=cookie.value, http_only="httponly" in rest, same_site=rest.get("samesite")
                )
        return None

    def set_cookie(self, name: str, value: str) -> None:
        self.http.cookies.set(name, value)


class TcpProxy:
    """A local TCP forwarder that a test can cut and restore, to play a broker outage."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> TcpProxy:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.listener.close()
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()

    def restore(self) -> None:
        self.start()
