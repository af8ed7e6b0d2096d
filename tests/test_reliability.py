"""Nothing lost, nothing done twice: concurrent relays, broker outages, crashes, dead letters."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from urllib.parse import urlparse

from click.testing import CliRunner
from kombu import Connection, Consumer, Exchange, Queue
from sqlalchemy import func, select

from services.cli import main as pustaka
from services.notification.models import Notification
from shared import relay as relay_module
from shared.envelope import CloudEvent
from shared.messaging import DeadLetter, OutboxMessage, add_to_outbox
from shared.relay import OutboxRelay
from tests.support import AMQP_URL, TcpProxy, wait_for
from tests.test_skeleton import bearer, inbox, people, programme_with_session, token, wait_for_inbox


def test_concurrent_relays_publish_every_row_exactly_once(make_system):
    running = make_system("distributed", start=False)
    app = running.apps["assessment"]
    bus = app.extensions["pustaka"].bus
    rows = 400
    with app.app_context():
        sessions = app.extensions["pustaka"].session_factory()
    with sessions() as session:
        for number in range(rows):
            add_to_outbox(
                session, CloudEvent(type="pustaka.test.counted.v1", source="/test", data={"n": number})
            )
        session.commit()

    received: list[str] = []
    with Connection(AMQP_URL) as connection:
        queue = Queue(
            f"{bus.queue_prefix}.counter",
            Exchange(bus.exchange.name, "topic", durable=True),
            routing_key="pustaka.test.#",
            auto_delete=True,
        )
        queue(connection.default_channel).declare()
        stop = threading.Event()
        relays = [OutboxRelay(bus, sessions, interval=0.01, batch_size=25) for _ in range(3)]
        threads = [threading.Thread(target=relay.run, args=(stop,), daemon=True) for relay in relays]
        for thread in threads:
            thread.start()

        def collect(message):
            received.append(json.loads(message.body)["id"])
            message.ack()

        with Consumer(connection, queues=[queue], on_message=collect):
            deadline = time.monotonic() + 30
            while len(received) < rows and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=1)
            time.sleep(0.3)
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=0.5)
        stop.set()
        for thread in threads:
            thread.join(5)

    assert len(received) == rows and len(set(received)) == rows
    with sessions() as session:
        unsent = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        )
    assert unsent == 0


def test_an_idle_relay_on_postgresql_is_woken_by_each_commit(make_system, monkeypatch):
    running = make_system("distributed", start=False)
    app = running.apps["assessment"]
    bus = app.extensions["pustaka"].bus
    with app.app_context():
        sessions = app.extensions["pustaka"].session_factory()
    # Without the NOTIFY of each commit, the relay would not look again within this test.
    monkeypatch.setattr(relay_module, "LISTENING_INTERVAL", 300.0)
    received: list[str] = []
    with Connection(AMQP_URL) as connection:
        queue = Queue(
            f"{bus.queue_prefix}.woken",
            Exchange(bus.exchange.name, "topic", durable=True),
            routing_key="pustaka.test.#",
            auto_delete=True,
        )
        queue(connection.default_channel).declare()
        stop = threading.Event()
        thread = threading.Thread(target=OutboxRelay(bus, sessions).run, args=(stop,), daemon=True)
        thread.start()

        def collect(message):
            received.append(json.loads(message.body)["id"])
            message.ack()

        with Consumer(connection, queues=[queue], on_message=collect):
            for number in range(3):
                time.sleep(0.5)  # the relay has gone back to sleep
                with sessions() as session:
                    event = CloudEvent(type="pustaka.test.woken.v1", source="/test", data={"n": number})
                    add_to_outbox(session, event)
                    session.commit()
                deadline = time.monotonic() + 5
                while event.id not in received and time.monotonic() < deadline:
                    with contextlib.suppress(TimeoutError):
                        connection.drain_events(timeout=0.2)
                assert event.id in received, f"row {number} not published"
        stop.set()
        thread.join(5)


def test_writes_succeed_while_the_broker_is_away_and_drain_when_it_returns(make_system, monkeypatch):
    target = urlparse(AMQP_URL)
    proxy = TcpProxy(target.hostname, target.port).start()
    monkeypatch.setattr("tests.support.AMQP_URL", f"amqp://guest:guest@127.0.0.1:{proxy.port}//")
    running = make_system("distributed")
    enrollment = running.client("enrollment")
    coordinator, hadi = (token(enrollment, a) for a in people(running, "koordinator", "hadi"))
    _, session = programme_with_session(enrollment, coordinator, seats=5)
    time.sleep(0.5)  # the consumer and relay are connected through the proxy before the outage

    proxy.cut()
    assert enrollment.get("/readyz").status_code == 503
    enrolled = enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(hadi))
    assert enrolled.status_code == 201
    time.sleep(1.0)
    assert (
        running.query(
            "notification",
            lambda s: s.scalar(
                select(func.count()).where(Notification.event_type == "pustaka.enrollment.confirmed.v1")
            ),
        )
        == 0
    )

    proxy.restore()
    items = wait_for(
        lambda: inbox(running, hadi)["items"],
        timeout=30,
        what="drain after outage",
    )
    assert [item["event_type"] for item in items] == ["pustaka.enrollment.confirmed.v1"]


def test_dead_letters_are_listed_shown_and_replayed(make_system, tmp_path, monkeypatch):
    running = make_system("embedded")
    config = running.apps["notification"].config
    for name in ("PUSTAKA_DATA_DIR", "PUSTAKA_EXCHANGE", "PUSTAKA_QUEUE_PREFIX"):
        monkeypatch.setenv(name, str(config[name]))
    monkeypatch.setenv("PUSTAKA_BROKER_URL", "memory://localhost/")
    enrollment = running.client("enrollment")
    (irma_email,) = people(running, "irma")
    irma = token(enrollment, irma_email)
    user_id = enrollment.get("/api/v1/users/me", headers=bearer(irma)).json["id"]
    event = CloudEvent(
        type="pustaka.enrollment.confirmed.v1",
        source="/pustaka/enrollment",
        data={
            "enrollment_id": 77,
            "session_id": 1,
            "programme_id": 1,
            "programme_title": {"id": "Lokakarya Metadata", "en": "Metadata Workshop"},
            "starts_at": "2030-01-01T02:00:00+00:00",
            "user_id": user_id,
            "language": "id",
            "waitlist_position": None,
        },
    )

    def bury(session):
        session.add(
            DeadLetter(
                consumer="notification",
                event_id=event.id,
                event_type=event.type,
                body=event.to_json(),
                error="RuntimeError: SMTP down",
                attempts=5,
            )
        )
        session.commit()
        return session.scalar(select(DeadLetter.id).where(DeadLetter.event_id == event.id))

    letter_id = running.query("notification", bury)
    cli = CliRunner()
    listed = cli.invoke(pustaka, ["dead-letters", "list", "notification"])
    assert (
        listed.exit_code == 0
        and "pustaka.enrollment.confirmed.v1" in listed.output
        and "waiting" in listed.output
    )
    shown = cli.invoke(pustaka, ["dead-letters", "show", "notification", str(letter_id)])
    assert shown.exit_code == 0 and "SMTP down" in shown.output and "Lokakarya Metadata" in shown.output
    assert cli.invoke(pustaka, ["dead-letters", "replay", "notification"]).exit_code == 1
    replayed = cli.invoke(pustaka, ["dead-letters", "replay", "notification", str(letter_id)])
    assert replayed.exit_code == 0 and "1 dead letter" in replayed.output

    items = wait_for(
        lambda: [i for i in wait_for_inbox(running, irma)["items"] if "Lokakarya Metadata" in i["body"]],
        what="the replayed event",
    )
    assert len(items) == 1
    assert "replayed" in cli.invoke(pustaka, ["dead-letters", "list", "notification"]).output


def test_killing_workers_while_events_flow_loses_and_duplicates_nothing(distributed_processes):
    running = distributed_processes
    enrollment = running.client("enrollment")
    addresses = people(running, "koordinator", *[f"staf{number}" for number in range(40)])
    coordinator, *staff = (token(enrollment, address) for address in addresses)
    _, session = programme_with_session(enrollment, coordinator, seats=100)
    path = f"/api/v1/sessions/{session['id']}/enrollments"

    enrolled = []
    for number, staff_token in enumerate(staff):
        if number == 10:
            running.kill("notification_worker")  # the consumer dies mid-flow
        if number == 20:
            running.kill("enrollment_worker")  # and so does the relay
        if number == 30:
            running.start_process("notification_worker")
        response = enrollment.post(path, headers=bearer(staff_token))
        assert response.status_code == 201
        enrolled.append(response.json["id"])
    running.start_process("enrollment_worker")

    def notified():
        return running.query(
            "notification",
            lambda s: s.scalars(
                select(Notification.event_id).where(
                    Notification.event_type == "pustaka.enrollment.confirmed.v1",
                    Notification.link.like(f"%/programmes/{_programme_of(session)}"),
                )
            ).all(),
        )

    events = wait_for(
        lambda: len(notified()) >= len(staff) and notified(), timeout=60, what="all notifications"
    )
    time.sleep(1.0)
    events = notified()
    assert len(events) == len(staff) == len(set(events))
    per_person = [len(box["items"]) for box in (wait_for_inbox(running, t) for t in staff)]
    assert per_person == [1] * len(staff)
    assert len(set(enrolled)) == len(staff)


def _programme_of(session: dict) -> int:
    return session["programme_id"]


def test_an_unreachable_database_at_start_is_one_clear_line(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "PUSTAKA_DATA_DIR": str(tmp_path),
        "PUSTAKA_ENROLLMENT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
    }
    result = subprocess.run(
        [Path(sys.executable).parent / "pustaka", "migrate", "enrollment"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("pustaka: enrollment: cannot reach the database")
    assert len(result.stderr.strip().splitlines()) == 1
    _ = uuid


def test_the_embedded_run_seeds_demo_content_and_prints_credentials(tmp_path):
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    from tests.processes import free_port
    from tests.support import HttpClient

    port = free_port()
    env = {**os.environ, "PUSTAKA_DATA_DIR": str(tmp_path)}
    env.pop("PUSTAKA_ADMIN_EMAIL", None)
    process = subprocess.Popen(
        [Path(sys.executable).parent / "pustaka", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        lines = []
        while len(lines) < 5:
            line = process.stdout.readline()
            assert line, "pustaka run stopped before printing its credentials"
            lines.append(line)
        assert f"running on http://127.0.0.1:{port}/" in lines[0]
        credentials = dict(re.findall(r"(\S+@pustaka\.local) / (\S+)", "".join(lines)))
        assert set(credentials) == {"admin@pustaka.local", "koordinator@pustaka.local", "staf@pustaka.local"}
        enrollment = HttpClient(f"http://127.0.0.1:{port}", "enrollment")
        staff = token(enrollment, "staf@pustaka.local", credentials["staf@pustaka.local"])
        programmes = enrollment.get("/api/v1/programmes", headers=bearer(staff)).json
        assert {p["title_id"] for p in programmes} >= {"Kelas Literasi Informasi untuk Masyarakat"}
        quiz = HttpClient(f"http://127.0.0.1:{port}", "assessment").get("/quizzes/literasi-informasi-dasar")
        assert quiz.status_code == 200 and "Kuis Literasi Informasi Dasar" in quiz.text
    finally:
        os.killpg(process.pid, 15)
        process.wait(10)
