"""The ``pustaka`` command: run the system, migrate, run a worker, manage dead letters."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time

import click
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from shared.app import init_migrations
from shared.config import SERVICES
from shared.messaging import DeadLetter, dead_letters, replay_dead_letter
from shared.runtime import ServiceWorker

from . import system

service_argument = click.argument("service", type=click.Choice(SERVICES))


def _fail(message: str) -> None:
    click.echo(f"pustaka: {message}", err=True)
    sys.exit(1)


def _unreachable(error: Exception) -> str:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return f"cannot reach the database or broker: {reason}"


def _wait_for_signal() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


@click.group()
def main() -> None:
    """Pustaka, the learning services of Perpustakaan Kota Semarang."""


@main.command()
@click.option("--host", default=lambda: os.environ.get("PUSTAKA_HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PUSTAKA_PORT", "8000")), show_default="8000")
@click.option("--seed/--no-seed", default=True, help="Create the demo content on first start.")
def run(host: str, port: int, seed: bool) -> None:
    """Run the whole system in one process (embedded mode)."""
    from werkzeug.serving import make_server

    started = time.monotonic()
    apps = {name: system.create_app(name) for name in SERVICES}
    lines = []
    try:
        for app in apps.values():
            lines += system.prepare(app)
            if seed:
                lines += system.seed_demo(app)
    except OperationalError as error:
        _fail(_unreachable(error))
    stop = _wait_for_signal()
    workers = [ServiceWorker(app) for app in apps.values()]
    for worker in workers:
        worker.start(stop)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # each service logs its requests, with trace ids
    server = make_server(host, port, system.mount(apps, root=system.landing), threaded=True)
    click.echo(f"Pustaka is running on http://{host}:{port}/ (ready in {time.monotonic() - started:.1f}s)")
    for line in lines:
        click.echo(f"  {line}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()
    for worker in workers:
        worker.join(timeout=5)


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def migrate(services: tuple[str, ...]) -> None:
    """Migrate databases, declare queues and create the first admin (all services by default)."""
    for name in services or SERVICES:
        try:
            for line in system.prepare(system.create_app(name)):
                click.echo(line)
        except OperationalError as error:
            _fail(f"{name}: {_unreachable(error)}")
        click.echo(f"{name}: migrated")


@main.command()
@service_argument
@click.option("-m", "--message", required=True, help="What the schema change is.")
def revision(service: str, message: str) -> None:
    """Write a migration for the changes of a service's models (Alembic autogenerate)."""
    from flask_migrate import migrate as autogenerate

    app = system.create_app(service)
    with app.app_context():
        autogenerate(directory=init_migrations(app), message=message)


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def seed(services: tuple[str, ...]) -> None:
    """Create the demo content (idempotent)."""
    for name in services or SERVICES:
        for line in system.seed_demo(system.create_app(name)):
            click.echo(line)


@main.command()
@service_argument
def worker(service: str) -> None:
    """Run one service's outbox relay and event consumer until stopped."""
    service_worker = ServiceWorker(system.create_app(service))
    stop = _wait_for_signal()
    service_worker.declare_queue()
    service_worker.start(stop)
    click.echo(f"{service} worker running (relay and consumer); Ctrl-C stops it")
    stop.wait()
    service_worker.join(timeout=10)


@main.group("dead-letters")
def dead_letters_group() -> None:
    """List, inspect and replay a service's dead letters."""


def _session_of(service: str):
    app = system.create_app(service)
    runtime = app.extensions["pustaka"]
    with app.app_context():
        return runtime, runtime.session_factory()()


@dead_letters_group.command("list")
@service_argument
def list_dead_letters(service: str) -> None:
    runtime, session = _session_of(service)
    letters = dead_letters(session, service)
    if not letters:
        click.echo("no dead letters")
    for letter in letters:
        state = f"replayed {letter.replayed_at:%Y-%m-%d %H:%M}" if letter.replayed_at else "waiting"
        error = letter.error.splitlines()[-1][:80] if letter.error else ""
        click.echo(f"{letter.id}\t{letter.failed_at:%Y-%m-%d %H:%M}\t{letter.event_type}\t{state}\t{error}")


@dead_letters_group.command("show")
@service_argument
@click.argument("letter_id", type=int)
def show_dead_letter(service: str, letter_id: int) -> None:
    runtime, session = _session_of(service)
    letter = session.get(DeadLetter, letter_id)
    if letter is None or letter.consumer != service:
        _fail(f"no dead letter {letter_id} in {service}")
    click.echo(f"id: {letter.id}\nevent: {letter.event_type} {letter.event_id}")
    click.echo(f"attempts: {letter.attempts}\nfailed at: {letter.failed_at}\nerror: {letter.error}")
    try:
        click.echo(json.dumps(json.loads(letter.body), indent=2, ensure_ascii=False))
    except ValueError:
        click.echo(letter.body)


@dead_letters_group.command("replay")
@service_argument
@click.argument("letter_ids", nargs=-1, type=int)
@click.option("--all", "replay_all", is_flag=True, help="Replay every letter not replayed yet.")
def replay(service: str, letter_ids: tuple[int, ...], replay_all: bool) -> None:
    """Send dead letters back to the service's queue (through its outbox)."""
    runtime, session = _session_of(service)
    query = select(DeadLetter).where(DeadLetter.consumer == service)
    if replay_all:
        query = query.where(DeadLetter.replayed_at.is_(None))
    elif letter_ids:
        query = query.where(DeadLetter.id.in_(letter_ids))
    else:
        _fail("name the letters to replay, or --all")
    letters = session.scalars(query).all()
    for letter in letters:
        replay_dead_letter(session, letter, runtime.bus.queue_name(service))
    session.commit()
    click.echo(f"{len(letters)} dead letter(s) queued for replay")
