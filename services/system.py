"""The whole system: the three services, how each is prepared, and how they are served."""

from __future__ import annotations

import gc
import importlib
import importlib.util
import logging
from collections.abc import Iterable, Mapping

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.exceptions import NotFound
from werkzeug.utils import redirect

from shared.app import init_migrations
from shared.config import SERVICES
from shared.runtime import ServiceWorker, mount

log = logging.getLogger(__name__)


def freeze_startup_objects() -> None:
    """What start-up made lives as long as the process: kept out of every full garbage collection,
    which then pauses requests and consumers for less (their tail latency). Its garbage goes first,
    or it would be kept for good."""
    gc.collect()
    gc.freeze()


def create_app(service: str, config: Mapping | None = None, *, web: bool = True) -> Flask:
    """The service's app; ``web=False`` for a worker process, without the API and pages."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{service}").create_app(config, web=web)


def ensure_database(app: Flask) -> None:
    """Create the service's PostgreSQL database if it does not exist (SQLite files create themselves)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not url.drivername.startswith("postgresql"):
        return
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        engine.dispose()


def prepare(app: Flask) -> list[str]:
    """Migrate the service's database, run its ``bootstrap`` (the first admin, built-in rules)
    and declare its queue; idempotent."""
    ensure_database(app)
    lines = []
    from flask_migrate import upgrade  # Alembic is loaded only where migrations run

    with app.app_context():
        upgrade(directory=init_migrations(app))
    bootstrap = getattr(importlib.import_module(app.name), "bootstrap", None)
    if bootstrap:
        lines += bootstrap(app)
    ServiceWorker(app).declare_queue()
    return lines


def seed_demo(app: Flask) -> list[str]:
    """The demo content of each service, created once; returns what to print."""
    if importlib.util.find_spec(f"{app.name}.seed") is None:
        return []  # a service with no demo content of its own
    seed = importlib.import_module(f"{app.name}.seed")
    db = app.extensions["pustaka"].db
    with app.app_context():
        lines = seed.seed_demo(db.session)
        db.session.commit()
    return lines


def landing(environ, start_response):
    """The root of the embedded site: its start page is enrollment's."""
    if environ.get("PATH_INFO", "/") in ("", "/"):
        return redirect("/enrollment/")(environ, start_response)
    return NotFound()(environ, start_response)


def wsgi(services: Iterable[str] = SERVICES, config: Mapping | None = None):
    """One WSGI app serving the given services under their path prefixes."""
    return mount({name: create_app(name, config) for name in services}, root=landing)
