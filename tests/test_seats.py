"""Seats and waiting lists: never more confirmed than capacity, whatever arrives at once; the waiting
list in arrival order; a cancellation or a raised capacity seats it at once and tells who got the
seat; capacity never below the seats taken. On SQLite (embedded) and PostgreSQL (distributed, and
gunicorn with several workers)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from services.enrollment import handlers
from services.enrollment.models import Enrollment
from services.notification.models import Recipient, Reminder, SessionSeat
from shared.auth import TokenIssuer
from shared.keys import signing_key_files
from shared.messaging import OutboxMessage
from tests.support import wait_for
from tests.test_skeleton import bearer, people, programme_with_session, token, wait_for_inbox

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def accounts(running, count: int, private_key: bytes) -> list[tuple[int, str]]:
    """(user id, bearer token) of ``count`` new staff accounts, made straight in the database."""
    tag = uuid.uuid4().hex[:8]

    def create(session):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(handlers, "password_hasher", CHEAP_HASHER)
            users = [
                handlers.create_user(
                    session,
                    email=f"seat{index}.{tag}@test.local",
                    name=f"Peserta {index}",
                    password="password-123",
                    language="id",
                    roles=["staff"],
                )
                for index in range(count)
            ]
        session.commit()
        return [(user.id, handlers.identity_of(user)) for user in users]

    issuer = TokenIssuer(private_key)
    return [(user_id, issuer.issue(identity)) for user_id, identity in running.query("enrollment", create)]


def enroll_at_once(client_factory, session_id: int, tokens: list[str]) -> list:
    """Everyone enrolls at the same moment, each from a thread and a client of their own."""
    barrier = threading.Barrier(len(tokens))
    responses: list = [None] * len(tokens)

    def enroll(index: int) -> None:
        client = client_factory()
        barrier.wait()
        responses[index] = client.post(
            f"/api/v1/sessions/{session_id}/enrollments", headers=bearer(tokens[index])
        )

    threads = [threading.Thread(target=enroll, args=(index,)) for index in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


def statuses_in_arrival_order(running, session_id: int) -> list[str]:
    return running.query(
        "enrollment",
        lambda session: session.scalars(
            select(Enrollment.status).where(Enrollment.session_id == session_id).order_by(Enrollment.id)
        ).all(),
    )


def assert_seated_in_arrival_order(running, session_id: int, seats: int, people_count: int) -> None:
    """Exactly ``seats`` confirmed, the first arrivals (ids follow arrival); the rest waitlisted, their
    positions following arrival, in the events that told them too."""
    assert statuses_in_arrival_order(running, session_id) == ["confirmed"] * seats + ["waitlisted"] * (
        people_count - seats
    )

    def events(session):
        return [
            message.body
            for message in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            if f'"session_id": {session_id},' in message.body
        ]

    published = [json.loads(body) for body in running.query("enrollment", events)]
    positions = [
        (event["data"]["enrollment_id"], event["data"]["waitlist_position"])
        for event in published
        if event["type"] == "pustaka.enrollment.waitlisted.v1"
    ]
    assert sorted(position for _, position in positions) == list(range(1, people_count - seats + 1))
    assert [position for _, position in sorted(positions)] == list(range(1, people_count - seats + 1))
    confirmed = [e for e in published if e["type"] == "pustaka.enrollment.confirmed.v1"]
    assert len(confirmed) == seats


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_sixty_at_once_into_ten_seats(make_system, mode, tmp_path):
    running = make_system(mode)
    enrollment = running.client("enrollment")
    (coordinator_email,) = people(running, "koordinator")
    _, session = programme_with_session(enrollment, token(enrollment, coordinator_email), seats=10)
    private_key = signing_key_files(tmp_path)[0].read_bytes()
    staff = accounts(running, 60, private_key)

    responses = enroll_at_once(lambda: running.client("enrollment"), session["id"], [t for _, t in staff])

    assert [response.status_code for response in responses] == [201] * 60
    assert sorted(response.json["status"] for response in responses).count("confirmed") == 10
    assert_seated_in_arrival_order(running, session["id"], 10, 60)
    positions = sorted(r.json["waitlist_position"] for r in responses if r.json["status"] == "waitlisted")
    assert positions == list(range(1, 51))


def test_sixty_at_once_through_gunicorn_workers(distributed_processes):
    running = distributed_processes
    enrollment = running.client("enrollment")
    (coordinator_email,) = people(running, "koordinator")
    _, session = programme_with_session(enrollment, token(enrollment, coordinator_email), seats=10)
    private_key = signing_key_files(running.data_dir)[0].read_bytes()
    staff = accounts(running, 60, private_key)

    responses = enroll_at_once(lambda: running.client("enrollment"), session["id"], [t for _, t in staff])

    assert [response.status_code for response in responses] == [201] * 60
    assert_seated_in_arrival_order(running, session["id"], 10, 60)


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_a_raised_capacity_racing_enrollments_still_seats_exactly_capacity(make_system, mode, tmp_path):
    running = make_system(mode)
    enrollment = running.client("enrollment")
    (coordinator_email,) = people(running, "koordinator")
    coordinator = token(enrollment, coordinator_email)
    _, session = programme_with_session(enrollment, coordinator, seats=5)
    staff = accounts(running, 30, signing_key_files(tmp_path)[0].read_bytes())

    raised = []
    raiser = threading.Thread(
        target=lambda: raised.append(
            running.client("enrollment").put(
                f"/api/v1/sessions/{session['id']}/capacity",
                json={"capacity": 15},
                headers=bearer(coordinator),
            )
        )
    )
    raiser.start()
    responses = enroll_at_once(lambda: running.client("enrollment"), session["id"], [t for _, t in staff])
    raiser.join(60)

    assert raised[0].status_code == 200, raised[0].json
    assert [response.status_code for response in responses] == [201] * 30
    # Whenever the raise came, the waiting list it seated was the earliest arrivals'.
    assert statuses_in_arrival_order(running, session["id"]) == ["confirmed"] * 15 + ["waitlisted"] * 15
    roster = enrollment.get(f"/api/v1/sessions/{session['id']}/roster", headers=bearer(coordinator)).json
    assert [entry["waitlist_position"] for entry in roster["waitlisted"]] == list(range(1, 16))


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_cancellations_and_capacity_move_the_waiting_list(make_system, mode):
    running = make_system(mode)
    enrollment = running.client("enrollment")
    coordinator_email, *names = people(running, "koordinator", "ani", "budi", "citra", "dedi", "eka")
    coordinator = token(enrollment, coordinator_email)
    ani, budi, citra, dedi, eka = (token(enrollment, address) for address in names)
    _, session = programme_with_session(enrollment, coordinator, seats=2)
    path = f"/api/v1/sessions/{session['id']}/enrollments"

    enrolled = {}
    for name, access in zip(
        ("ani", "budi", "citra", "dedi", "eka"), (ani, budi, citra, dedi, eka), strict=True
    ):
        response = enrollment.post(path, headers=bearer(access))
        assert response.status_code == 201, response.json
        enrolled[name] = response.json
    assert [enrolled[n]["status"] for n in enrolled] == ["confirmed", "confirmed"] + ["waitlisted"] * 3
    assert [enrolled[n]["waitlist_position"] for n in ("citra", "dedi", "eka")] == [1, 2, 3]
    again = enrollment.post(path, headers=bearer(dedi))
    assert again.status_code == 409 and "already enrolled" in again.json["message"]

    # Nobody cancels another person's enrollment; its holder does.
    assert (
        enrollment.post(
            f"/api/v1/enrollments/{enrolled['budi']['id']}/cancel", headers=bearer(ani)
        ).status_code
        == 404
    )
    cancelled = enrollment.post(f"/api/v1/enrollments/{enrolled['budi']['id']}/cancel", headers=bearer(budi))
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    twice = enrollment.post(f"/api/v1/enrollments/{enrolled['budi']['id']}/cancel", headers=bearer(budi))
    assert twice.status_code == 409 and twice.json["message"]

    def mine(access: str) -> dict:
        return enrollment.get("/api/v1/me/enrollments", headers=bearer(access)).json[0]

    assert (mine(citra)["status"], mine(citra)["waitlist_position"]) == ("confirmed", None)
    assert mine(dedi)["waitlist_position"] == 1 and mine(eka)["waitlist_position"] == 2
    # Citra is told of her seat: the waiting-list message, then the confirmation.
    items = wait_for(
        lambda: (box := wait_for_inbox(running, citra)["items"]) and len(box) >= 2 and box,
        what="the promotion",
    )
    assert {item["event_type"] for item in items} == {
        "pustaka.enrollment.confirmed.v1",
        "pustaka.enrollment.waitlisted.v1",
    }

    capacity = f"/api/v1/sessions/{session['id']}/capacity"
    assert enrollment.put(capacity, json={"capacity": 4}, headers=bearer(ani)).status_code == 403
    raised = enrollment.put(capacity, json={"capacity": 4}, headers=bearer(coordinator))
    assert raised.status_code == 200, raised.json
    assert raised.json["promoted"] == [enrolled["dedi"]["id"], enrolled["eka"]["id"]]
    assert raised.json["session"]["capacity"] == 4 and raised.json["session"]["seats_taken"] == 4

    lowered = enrollment.put(capacity, json={"capacity": 3}, headers=bearer(coordinator))
    assert lowered.status_code == 409
    assert lowered.json["message"] == "4 seats are taken: the capacity cannot be lower."
    assert lowered.json["errors"]["capacity"]
    invalid = enrollment.put(capacity, json={"capacity": -1}, headers=bearer(coordinator))
    assert invalid.status_code == 422 and invalid.json["errors"]["capacity"]
    assert enrollment.get(f"/api/v1/sessions/{session['id']}").json["capacity"] == 4

    # Notification takes Budi off the session's roster and its reminders, and tells him.
    wait_for(
        lambda: (
            "pustaka.enrollment.cancelled.v1"
            in {i["event_type"] for i in wait_for_inbox(running, budi)["items"]}
        ),
        what="the cancellation message",
    )
    assert budi_in_notification(running, session["id"]) == ({"cancelled"}, {"cancelled"})

    # Budi comes back: at the end of the line.
    back = enrollment.post(path, headers=bearer(budi))
    assert (back.status_code, back.json["status"], back.json["waitlist_position"]) == (201, "waitlisted", 1)
    # A coordinator may cancel for someone: the seat goes to Budi at once.
    by_coordinator = enrollment.post(
        f"/api/v1/enrollments/{enrolled['ani']['id']}/cancel", headers=bearer(coordinator)
    )
    assert by_coordinator.status_code == 200
    assert mine(budi)["status"] == "confirmed"
    roster = enrollment.get(f"/api/v1/sessions/{session['id']}/roster", headers=bearer(coordinator)).json
    assert {entry["name"] for entry in roster["cancelled"]} == {"Ani", "Budi"}
    assert len(roster["confirmed"]) == 4 and roster["waitlisted"] == []
    # His seat and reminders are back in notification.
    wait_for(
        lambda: budi_in_notification(running, session["id"]) == ({"confirmed"}, {"pending"}),
        what="Budi's seat and reminders back",
    )


def budi_in_notification(running, session_id: int) -> tuple[set[str], set[str]]:
    """Budi's seat status and reminder states in notification's database."""

    def read(db_session):
        budi = db_session.scalar(select(Recipient.user_id).where(Recipient.name == "Budi"))
        seats = db_session.scalars(
            select(SessionSeat.status).where(
                SessionSeat.session_id == session_id, SessionSeat.user_id == budi
            )
        )
        reminders = db_session.scalars(
            select(Reminder.state).where(Reminder.key.endswith(f":{session_id}:{budi}"))
        )
        return set(seats), set(reminders)

    return running.query("notification", read)


def test_nothing_is_cancelled_once_the_session_started(make_system):
    running = make_system("embedded")
    enrollment = running.client("enrollment")
    coordinator_email, fajar_email = people(running, "koordinator", "fajar")
    coordinator, fajar = token(enrollment, coordinator_email), token(enrollment, fajar_email)
    _, session = programme_with_session(enrollment, coordinator, seats=3)
    enrolled = enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(fajar)).json

    def start_now(db_session):
        now = datetime.now(UTC)
        handlers.update_session(
            db_session,
            session["id"],
            {"starts_at": now - timedelta(minutes=5), "ends_at": now + timedelta(hours=2)},
        )
        db_session.commit()

    running.query("enrollment", start_now)
    refused = enrollment.post(f"/api/v1/enrollments/{enrolled['id']}/cancel", headers=bearer(fajar))
    assert refused.status_code == 409 and "started" in refused.json["message"]
    late = enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(coordinator))
    assert late.status_code == 409 and late.json["message"].startswith(
        "Enrollment for this session closed on"
    )
