"""Benchmarks: event pipeline throughput and latency, embedded start time, idle memory.

``PUSTAKA_BENCH_SCALE=full`` (``make bench``) runs the real sizes; anything else runs tiny
ones, so that ``make test`` stays fast. No speed is asserted: every figure goes into the
table printed at the end of the session, and the assertions check correctness only
(every event stored exactly once, nothing dead-lettered).
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
import requests
from argon2 import PasswordHasher
from kombu import Connection, Exchange, Queue
from sqlalchemy import Select, and_, create_engine, func, or_, select, text

from services.enrollment import handlers
from services.notification.models import Delivery, Notification, Recipient
from shared import catalog
from shared.auth import TOKEN_COOKIE
from shared.config import SERVICES
from shared.messaging import DeadLetter, OutboxMessage
from tests.benchmarks.conftest import FULL, Table, cpu_per_event, cpu_seconds, program
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, BIN, ProcessSystem, free_port
from tests.support import (
    AMQP_URL,
    PG_URL,
    PostgresDatabases,
    delete_broker_objects,
    new_prefix,
    wait_for,
)

PIPELINE_EVENTS = 2000 if FULL else 30
LATENCY_EVENTS = 1000 if FULL else 50
LATENCY_INTERVAL = 0.01  # one enrollment every 10 ms: 100 events/s
# Concurrent writers, as several web workers would be; each fills its own session, so that
# they do not queue on one session's row lock.
WRITERS = 4
LATENCY_TARGET_MS = 100
START_TARGET_S = 3.0
RSS_TARGET_MIB = 80
# Accounts are set up before any clock starts; argon2's default cost (~0.2 s a hash) would
# only make the setup of 2000 accounts slow.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="module")
def distributed(distributed_processes: ProcessSystem) -> ProcessSystem:
    """The distributed processes (gunicorn, a worker per service) on PostgreSQL and RabbitMQ.

    The benchmark commits enrollments from this process, as the web workers would; the
    relay and the consumer run in their own worker processes, as in production.
    """
    return distributed_processes


# The event pipeline ----------------------------------------------------------------------


def deliveries_due() -> Select:
    """Deliveries the delivery loop has still to work on: the setup's must be done before a clock
    starts, or its emails take the cores from what is measured."""
    due = and_(Delivery.state == "queued", Delivery.next_attempt_at <= datetime.now(UTC))
    return select(func.count()).select_from(Delivery).where(or_(Delivery.state == "sending", due))


def staff_with_sessions(running: ProcessSystem, count: int) -> tuple[list[int], list[int]]:
    """count new staff accounts, known to notification already, and WRITERS sessions seating them all."""
    tag = uuid.uuid4().hex[:8]
    starts = datetime.now(UTC) + timedelta(days=7)

    def create(session) -> tuple[list[int], int]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(handlers, "password_hasher", CHEAP_HASHER)
            users = [
                handlers.create_user(
                    session,
                    email=f"bench{index}.{tag}@test.local",
                    name=f"Bench {index}",
                    password="password-123",
                    language="en",
                    roles=["staff"],
                )
                for index in range(count)
            ]
        programme = handlers.create_programme(
            session,
            {
                "title_id": "Pelatihan Tolok Ukur",
                "title_en": "Benchmark Training",
                "track": "staff",
                "type": "training",
                "competency_areas": ["cataloguing"],
                "status": "published",
            },
            None,
        )
        seats = [
            handlers.add_session(
                session,
                programme.id,
                {
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=4),
                    "venue": "Aula",
                    "capacity": count,
                },
            )
            for _ in range(WRITERS)
        ]
        session.commit()
        return [user.id for user in users], [each.id for each in seats]

    user_ids, session_ids = running.query("enrollment", create)
    first, last = min(user_ids), max(user_ids)
    wait_for(
        lambda: (
            running.query(
                "notification",
                lambda s: s.scalar(select(func.count()).where(Recipient.user_id.between(first, last))),
            )
            == count
        ),
        timeout=30 + count * 0.05,
        what="the user.registered events",
    )
    wait_for(
        lambda: running.query("notification", lambda s: s.scalar(deliveries_due())) == 0,
        timeout=30 + count * 0.05,
        what="the deliveries of the user.registered events",
    )
    checkpoint()
    return user_ids, session_ids


def checkpoint() -> None:
    """Have PostgreSQL write out what earlier work left in its buffers (the item-analysis benchmark's
    3 million answers, for one) now, rather than while a clock runs."""
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))
    engine.dispose()


def enroll_each(
    running: ProcessSystem, session_ids: list[int], user_ids: list[int], interval: float = 0.0
) -> list[datetime]:
    """Enroll user i at started + i·interval, each in a transaction of its own, by WRITERS threads
    (writer w takes users w, w+WRITERS, … into session_ids[w]); the commit time of each."""
    committed: list[datetime | None] = [None] * len(user_ids)
    started = time.perf_counter()
    errors: list[Exception] = []

    def write(writer: int) -> None:
        def enroll_share(session) -> None:
            for index in range(writer, len(user_ids), WRITERS):
                delay = started + index * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                handlers.enroll(session, session_ids[writer], user_ids[index])
                session.commit()
                committed[index] = datetime.now(UTC)

        try:
            running.query("enrollment", enroll_share)
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return committed


def stored_notifications(running: ProcessSystem, user_ids: list[int]) -> list[tuple[int, str, datetime]]:
    """(user id, event id, created at) of the notifications of these users."""
    first, last = min(user_ids), max(user_ids)
    query = select(Notification.user_id, Notification.event_id, Notification.created_at).where(
        Notification.user_id.between(first, last),
        Notification.event_type == catalog.ENROLLMENT_CONFIRMED.name,
    )
    return [tuple(row) for row in running.query("notification", lambda s: s.execute(query).all())]


def wait_until_stored(running: ProcessSystem, user_ids: list[int]) -> None:
    first, last = min(user_ids), max(user_ids)
    count = select(func.count()).where(
        Notification.user_id.between(first, last),
        Notification.event_type == catalog.ENROLLMENT_CONFIRMED.name,
    )
    wait_for(
        lambda: running.query("notification", lambda s: s.scalar(count)) >= len(user_ids),
        timeout=60 + len(user_ids) * 0.05,
        what=f"{len(user_ids)} notifications",
    )


def assert_exactly_once(running: ProcessSystem, user_ids: list[int]) -> list[tuple[int, str, datetime]]:
    rows = stored_notifications(running, user_ids)
    assert sorted(user_id for user_id, _, _ in rows) == sorted(user_ids), "one notification per enrollment"
    assert len({event_id for _, event_id, _ in rows}) == len(user_ids), "one event per enrollment"
    dead = running.query("notification", lambda s: s.scalar(select(func.count()).select_from(DeadLetter)))
    assert dead == 0, "nothing dead-lettered"
    return rows


def raw_kombu_rate(count: int, payload: bytes, timeout: float = 120) -> float:
    """Messages/s through RabbitMQ alone, from the first confirmed persistent publish to the last ack."""
    name = f"{new_prefix()}.raw"
    exchange = Exchange(name, type="topic", durable=True)
    queue = Queue(name, exchange=exchange, routing_key="bench", durable=True)
    acked: list[float] = []
    errors: list[Exception] = []

    def on_message(message) -> None:
        message.ack()
        acked.append(time.perf_counter())

    def consume() -> None:
        try:
            with (
                Connection(AMQP_URL) as connection,
                connection.Consumer(queue, on_message=on_message, prefetch_count=16),
            ):
                deadline = time.monotonic() + timeout
                while len(acked) < count and time.monotonic() < deadline:
                    with contextlib.suppress(TimeoutError):
                        connection.drain_events(timeout=1)
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    with Connection(AMQP_URL, transport_options={"confirm_publish": True}) as connection:
        channel = connection.default_channel
        queue(channel).declare()
        try:
            consumer = threading.Thread(target=consume, daemon=True)
            consumer.start()
            producer = connection.Producer()
            started = time.perf_counter()
            for _ in range(count):
                producer.publish(
                    payload,
                    exchange=exchange,
                    routing_key="bench",
                    content_type="application/cloudevents+json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    retry=False,
                )
            consumer.join(timeout)
        finally:
            channel.queue_delete(name)
            channel.exchange_delete(name)
    assert not errors, errors
    assert len(acked) == count, f"{len(acked)} of {count} raw messages acked"
    return count / (acked[-1] - started)


def pipeline_processes(running: ProcessSystem) -> dict[str, psutil.Process]:
    """This process (the writers) and each Procfile process."""
    return {"writers (this process)": psutil.Process()} | {
        name: program(popen.pid) for name, popen in running.processes.items()
    }


def test_event_pipeline_throughput(distributed: ProcessSystem, bench_table: Table) -> None:
    user_ids, session_ids = staff_with_sessions(distributed, PIPELINE_EVENTS)

    cpu_before = cpu_seconds(pipeline_processes(distributed))
    committed_at = enroll_each(distributed, session_ids, user_ids)
    wait_until_stored(distributed, user_ids)
    cpu_after = cpu_seconds(pipeline_processes(distributed))
    rows = assert_exactly_once(distributed, user_ids)
    first_commit = min(committed_at)
    elapsed = (max(created_at for _, _, created_at in rows) - first_commit).total_seconds()
    committing = (max(committed_at) - first_commit).total_seconds()

    payload = distributed.query(
        "enrollment",
        lambda s: s.scalar(
            select(OutboxMessage.body)
            .where(OutboxMessage.event_type == catalog.ENROLLMENT_CONFIRMED.name)
            .limit(1)
        ),
    )
    raw = raw_kombu_rate(PIPELINE_EVENTS, payload.encode())
    pipeline = PIPELINE_EVENTS / elapsed
    bench_table.add(
        f"1. pipeline, {PIPELINE_EVENTS} enrollments by {WRITERS} writers -> notifications (/s)",
        f"{pipeline:.0f}",
        f"{raw:.0f} raw kombu",
        f"{pipeline / raw:.2f}x",
        ">= 0.5x",
    )
    bench_table.add("   of which committing the enrollments (/s)", f"{PIPELINE_EVENTS / committing:.0f}")
    # What bounds the rate: on these cores, all of it must fit in cores x 1000 ms a second.
    spent = cpu_per_event(cpu_before, cpu_after, PIPELINE_EVENTS)
    total = sum(milliseconds for _, milliseconds in spent)
    bench_table.add(
        f"   CPU per event, all processes (ms); {os.cpu_count()} cores allow (/s)",
        f"{total:.2f}",
        f"{os.cpu_count() * 1000 / total:.0f}",
    )
    for name, milliseconds in spent:
        bench_table.add(f"     {name}", f"{milliseconds:.2f}")


def test_latency_at_steady_rate(distributed: ProcessSystem, bench_table: Table) -> None:
    user_ids, session_ids = staff_with_sessions(distributed, LATENCY_EVENTS)

    committed_at = enroll_each(distributed, session_ids, user_ids, interval=LATENCY_INTERVAL)
    rate = LATENCY_EVENTS / (max(committed_at) - min(committed_at)).total_seconds()
    wait_until_stored(distributed, user_ids)
    rows = assert_exactly_once(distributed, user_ids)

    stored_at = {user_id: created_at for user_id, _, created_at in rows}
    latencies = [
        (stored_at[user_id] - commit).total_seconds() * 1000
        for user_id, commit in zip(user_ids, committed_at, strict=True)
    ]
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    target = f"{LATENCY_TARGET_MS} ms"
    label = f"2. latency commit -> stored, {LATENCY_EVENTS} paced 10 ms apart"
    bench_table.add(f"{label}: p50 (ms)", f"{cuts[49]:.1f}")
    bench_table.add(
        f"{label}: p99 (ms)", f"{cuts[98]:.1f}", target, f"{cuts[98] / LATENCY_TARGET_MS:.2f}x", f"< {target}"
    )
    # Where the time goes: until the relay had the broker's confirm, and from there to the row.
    published_at = dict(
        distributed.query(
            "enrollment",
            lambda s: s.execute(
                select(OutboxMessage.event_id, OutboxMessage.published_at).where(
                    OutboxMessage.event_id.in_([event_id for _, event_id, _ in rows])
                )
            ).all(),
        )
    )
    commit_of = dict(zip(user_ids, committed_at, strict=True))
    stages = {
        "commit -> published by the relay": [
            (published_at[event_id] - commit_of[user_id]).total_seconds() * 1000
            for user_id, event_id, _ in rows
        ],
        "published -> stored by notification": [
            (created_at - published_at[event_id]).total_seconds() * 1000 for _, event_id, created_at in rows
        ],
    }
    for stage, milliseconds in stages.items():
        stage_cuts = statistics.quantiles(milliseconds, n=100, method="inclusive")
        bench_table.add(f"   {stage}: p50 / p99 (ms)", f"{stage_cuts[49]:.1f} / {stage_cuts[98]:.1f}")
    bench_table.add("   commit rate achieved (/s)", f"{rate:.0f}", "100/s", f"{rate / 100:.2f}x", "100/s")


# Processes -------------------------------------------------------------------------------


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def seconds_to_healthy(data_dir: Path, log_file: Path, timeout: float = 60) -> float:
    """Launch `pustaka run` on data_dir; seconds until /enrollment/healthz answers 200. Stops it."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PUSTAKA_")}
    env["PUSTAKA_DATA_DIR"] = str(data_dir)
    url = f"http://127.0.0.1:{port}/enrollment/healthz"
    with open(log_file, "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(BIN / "pustaka"), "run", "--port", str(port), "--no-seed"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    if requests.get(url, timeout=1).status_code == 200:
                        return time.perf_counter() - started
                except (requests.ConnectionError, requests.Timeout):
                    pass
                assert process.poll() is None, f"pustaka run exited: {log_file.read_text()[-3000:]}"
                time.sleep(0.01)
            raise AssertionError(f"pustaka run not healthy after {timeout}s")
        finally:
            stop_process(process)


def test_embedded_start_to_first_200(tmp_path: Path, bench_table: Table) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for label in ("fresh data dir, migrating", "same data dir again"):
        seconds = seconds_to_healthy(data_dir, tmp_path / "run.log")
        bench_table.add(
            f"3. embedded start to first 200, {label} (s)",
            f"{seconds:.2f}",
            f"{START_TARGET_S:g} s",
            f"{seconds / START_TARGET_S:.2f}x",
            f"< {START_TARGET_S:g} s",
        )


def mebibytes(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


def idle_rss(processes: ProcessSystem, web_only: bool = False) -> dict[str, float]:
    """MiB of each gunicorn master, of its largest web worker, and of each other process."""
    measured: dict[str, float] = {}
    for name, popen in processes.processes.items():
        process = program(popen.pid)
        if "gunicorn" not in " ".join(process.cmdline()):
            if not web_only:
                measured[f"{name} process"] = mebibytes(process)
            continue
        web_workers = process.children()
        assert web_workers, f"{name}: no gunicorn workers"
        measured[f"{name} gunicorn worker (max of {len(web_workers)})"] = max(map(mebibytes, web_workers))
        if not web_only:
            measured[f"{name} gunicorn master"] = mebibytes(process)
    return measured


def view_pages_signed_in(processes: ProcessSystem, views: int = 4) -> None:
    """Each service's home page, signed in: what a web worker loads on first use (token checks,
    templates) counts in the figures after it, so that loading it lazily flatters nothing."""
    enrollment = processes.base_url("enrollment")
    response = requests.post(
        f"{enrollment}/enrollment/api/v1/auth/token",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    cookies = {TOKEN_COOKIE: response.json()["access_token"]}
    for service in SERVICES:
        for _ in range(views):  # separate connections, which the gunicorn workers share out
            page = requests.get(f"{processes.base_url(service)}/{service}/", cookies=cookies, timeout=10)
            assert page.status_code == 200, f"{service}: {page.status_code}"


def test_idle_rss(real_servers: None, tmp_path: Path, bench_table: Table) -> None:
    prefix = new_prefix()
    databases = PostgresDatabases(prefix)
    databases.create()
    processes = ProcessSystem("distributed", tmp_path, prefix, databases)
    try:
        processes.start()
        for service in SERVICES:
            response = requests.get(f"{processes.base_url(service)}/{service}/readyz", timeout=10)
            assert response.status_code == 200
        time.sleep(1)
        measured = idle_rss(processes)
        view_pages_signed_in(processes)
        time.sleep(1)
        after_use = idle_rss(processes, web_only=True)
    finally:
        processes.stop()
        databases.drop()
        delete_broker_objects(prefix)
    rows = [(f"4. idle RSS, {name} (MiB)", value) for name, value in measured.items()]
    rows += [(f"4. RSS after signed-in pages, {name} (MiB)", value) for name, value in after_use.items()]
    for label, value in rows:
        bench_table.add(
            label,
            f"{value:.1f}",
            f"{RSS_TARGET_MIB} MiB",
            f"{value / RSS_TARGET_MIB:.2f}x",
            f"< {RSS_TARGET_MIB} MiB",
        )
