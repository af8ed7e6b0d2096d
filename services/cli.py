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
    system.freeze_startup_objects()
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
@click.option(
    "--only",
    type=click.Choice(["messaging", "background"]),
    help="Run only the relay and consumer, or only the service's background tasks (such as "
    "notification's delivery loop), each in a process of its own.",
)
def worker(service: str, only: str | None) -> None:
    """Run one service's outbox relay, event consumer and background tasks until stopped."""
    service_worker = ServiceWorker(system.create_app(service, web=False))
    system.freeze_startup_objects()
    stop = _wait_for_signal()
    if only != "background":
        service_worker.declare_queue()
    service_worker.start(stop, messaging=only != "background", background=only != "messaging")
    click.echo(f"{service} worker running ({only or 'messaging and background'}); Ctrl-C stops it")
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


@main.group("questions")
def questions_group() -> None:
    """Import and export the assessment question bank as GIFT (and import Aiken)."""


@questions_group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--format", "file_format", type=click.Choice(["gift", "aiken"]), default="gift", show_default=True
)
@click.option(
    "--category",
    help="The category of the questions the file puts in none (every Aiken question); default: Impor.",
)
@click.option("--dry-run", is_flag=True, help="Report what importing would do; change nothing.")
@click.option("--partial", is_flag=True, help="When the file has problems, import its valid questions.")
def import_questions(file, file_format: str, category: str | None, dry_run: bool, partial: bool) -> None:
    """Import a question file. A question is known by its category and name: new ones are added,
    changed ones get a new version, the same ones are left alone. Problems are printed with their
    line numbers; with problems nothing is imported unless --partial (exit status 1)."""
    from services.assessment import handlers  # the assessment service, only for this command
    from shared.errors import Invalid

    try:
        text = handlers.import_text(file.read(handlers.MAX_IMPORT_BYTES + 1))
    except Invalid as error:
        _fail(f"{file.name}: {'; '.join(error.errors['file'])}")
    runtime, session = _session_of("assessment")
    with session:
        result = handlers.import_questions(
            session, text, format=file_format, category=category, dry_run=dry_run, accept_partial=partial
        )
        if result.imported:
            session.commit()
    for item in result.questions:
        click.echo(f"{item.line}\t{item.status}\t{item.spec['category']}\t{item.spec['name']}")
    for problem in result.problems:
        click.echo(f"{file.name}:{problem.line}: {problem.message}", err=True)
    counts = ", ".join(f"{count} {status}" for status, count in result.counts().items())
    click.echo(f"{'imported' if result.imported else 'not imported'}: {counts}")
    if result.problems and not partial:
        _fail(f"{len(result.problems)} problem(s): nothing imported; --partial imports the valid questions")


@questions_group.command("export")
@click.option("--category", help="Only this category and those under it (default: the whole bank).")
def export_questions(category: str | None) -> None:
    """Write the bank, or a category of it, as GIFT to the standard output."""
    from services.assessment import handlers
    from shared.errors import NotFound

    runtime, session = _session_of("assessment")
    with session:
        try:
            text = handlers.export_questions(session, category)
        except NotFound:
            _fail(f"no questions in the category {category!r}")
    click.echo(text.encode("utf-8"), nl=False)  # bytes: UTF-8 whatever the terminal's encoding


@main.group("roster")
def roster_group() -> None:
    """Import staff accounts and their enrollments from CSV (enrollment)."""


@roster_group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option(
    "--mode",
    type=click.Choice(["all-or-nothing", "per-row"]),
    default="all-or-nothing",
    show_default=True,
    help="all-or-nothing: nothing is written when a row has a problem; per-row: the good rows are.",
)
def import_roster(file, dry_run: bool, mode: str) -> None:
    """Import a roster CSV (columns email, name, language, roles, session_id; UTF-8, commas or
    semicolons). Accounts are matched by email, enrollments are not made twice: importing the same
    file again changes nothing. Problems are printed with their line numbers (exit status 1)."""
    from services.enrollment import roster  # the enrollment service, only for this command

    runtime, session = _session_of("enrollment")
    try:
        checked = roster.check_roster(session, file.read(), importer_roles=("admin",))
    except roster.RosterFileError as error:
        _fail(f"{file.name}: {error.message}")
    if not dry_run and not (mode == "all-or-nothing" and checked.problem_rows):
        with click.progressbar(length=len(checked.rows), label="Importing", file=sys.stderr) as bar:
            roster.import_roster(session, checked, mode=mode, progress=bar.update)
    for row in checked.rows:
        outcome = " ".join(part for part in (row.account, row.enrollment) if part)
        click.echo(f"{row.line}\t{row.email}\t{outcome}")
        for note in row.notes:
            click.echo(f"{file.name}:{row.line}: note: {note.text()}")
        for problem in row.problems:
            column = f"{problem.column}: " if problem.column else ""
            click.echo(f"{file.name}:{row.line}: {column}{problem.text()}", err=True)
    state = "checked only" if dry_run else ("imported" if checked.written else "nothing imported")
    click.echo(
        f"{state}: {len(checked.rows)} rows, {checked.accounts_new} new accounts, "
        f"{checked.enrollments_new} new enrollments, {len(checked.problem_rows)} with problems"
    )
    if checked.problem_rows:
        sys.exit(1)
