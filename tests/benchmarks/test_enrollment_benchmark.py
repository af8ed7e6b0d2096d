"""Enrollment under a rush: 500 people enroll at the same moment into one session of 50 seats, against
the distributed mode (the Procfile's gunicorn with several web workers, PostgreSQL, RabbitMQ).

Every request comes from a thread and a connection of its own, released together by a barrier, so
that all of them are in flight at once and queue on the session's row lock. The latency of each is
from the barrier to its answer. No speed is asserted: the assertions check that exactly the seats
were confirmed, the rest waitlisted in arrival order, and that no request failed.
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import func, select

from services.enrollment import handlers
from services.notification.models import Recipient
from shared.keys import signing_key_files
from tests.benchmarks.conftest import FULL, Table
from tests.benchmarks.test_benchmarks import program
from tests.processes import ProcessSystem
from tests.support import wait_for
from tests.test_seats import accounts, assert_seated_in_arrival_order

PEOPLE = 500 if FULL else 60
SEATS = 50 if FULL else 6


def rush_session(running: ProcessSystem, seats: int) -> int:
    """A published training with one session of ``seats`` seats, a week ahead; its session id."""
    starts = datetime.now(UTC) + timedelta(days=7)

    def create(session) -> int:
        programme = handlers.create_programme(
            session,
            {
                "title_id": "Pelatihan Serbu Kursi",
                "title_en": "Seat Rush Training",
                "track": "staff",
                "type": "training",
                "competency_areas": ["cataloguing"],
                "status": "published",
            },
            None,
        )
        seat = handlers.add_session(
            session,
            programme.id,
            {"starts_at": starts, "ends_at": starts + timedelta(hours=4), "venue": "Aula", "capacity": seats},
        )
        session.commit()
        return seat.id

    return running.query("enrollment", create)


def enroll_at_once(base_url: str, session_id: int, tokens: list[str]) -> list[tuple[int, str, float]]:
    """(HTTP status, enrollment status or error, milliseconds) of each person's request, all sent
    at once."""
    barrier = threading.Barrier(len(tokens))
    results: list[tuple[int, str, float]] = [(0, "not sent", 0.0)] * len(tokens)
    url = f"{base_url}/enrollment/api/v1/sessions/{session_id}/enrollments"

    def enroll(index: int) -> None:
        with requests.Session() as http:
            barrier.wait()
            started = time.perf_counter()
            try:
                response = http.post(url, headers={"Authorization": f"Bearer {tokens[index]}"}, timeout=120)
                outcome = response.json().get("status", response.text[:200])
                results[index] = (response.status_code, outcome, (time.perf_counter() - started) * 1000)
            except (requests.RequestException, ValueError) as error:
                results[index] = (0, repr(error), (time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=enroll, args=(index,)) for index in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def test_rush_into_one_session(distributed_processes: ProcessSystem, bench_table: Table) -> None:
    running = distributed_processes
    web_workers = program(running.processes["enrollment"].pid).children()
    assert len(web_workers) >= 2, "the Procfile's gunicorn runs several web workers"
    session_id = rush_session(running, SEATS)
    people = accounts(running, PEOPLE, signing_key_files(running.data_dir)[0].read_bytes())
    user_ids = [user_id for user_id, _ in people]
    # Notification has welcomed everyone before the clock starts: its work does not share the rush.
    welcomed = select(func.count()).where(Recipient.user_id.between(min(user_ids), max(user_ids)))
    wait_for(
        lambda: running.query("notification", lambda s: s.scalar(welcomed)) == PEOPLE,
        timeout=60 + PEOPLE * 0.05,
        what="the user.registered events",
    )

    started = time.perf_counter()
    results = enroll_at_once(running.base_url("enrollment"), session_id, [token for _, token in people])
    seconds = time.perf_counter() - started

    errors = [result for result in results if result[0] != 201]
    outcomes = [outcome for status, outcome, _ in results if status == 201]
    assert not errors, errors[:5]
    assert (outcomes.count("confirmed"), outcomes.count("waitlisted")) == (SEATS, PEOPLE - SEATS)
    assert_seated_in_arrival_order(running, session_id, SEATS, PEOPLE)

    cuts = statistics.quantiles([milliseconds for *_, milliseconds in results], n=100, method="inclusive")
    label = f"6. {PEOPLE} enrollments at once into {SEATS} seats, gunicorn {len(web_workers)} workers"
    bench_table.add(
        f"{label}: confirmed / waitlisted / errors", f"{SEATS} / {PEOPLE - SEATS} / {len(errors)}"
    )
    bench_table.add("   latency p50 / p99 (ms)", f"{cuts[49]:.0f} / {cuts[98]:.0f}")
    bench_table.add("   enrollments answered (/s)", f"{PEOPLE / seconds:.0f}")
