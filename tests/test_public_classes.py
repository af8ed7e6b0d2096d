"""Public literacy classes: a community member asks for a seat with a name and an email, no account;
the email's links confirm the seat or free it; an unconfirmed hold expires and frees its seat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from services.enrollment import handlers
from services.enrollment.models import Enrollment
from services.notification.models import Delivery
from shared.messaging import OutboxMessage
from tests.support import csrf_token, wait_for
from tests.test_skeleton import bearer, people, programme_with_session, token

REQUESTED = "pustaka.public_enrollment.requested.v1"
RELEASED = "pustaka.public_enrollment.cancelled.v1"


def public_class(running, seats: int) -> tuple[str, dict]:
    """A coordinator's token and a session of a new, published public literacy class."""
    enrollment = running.client("enrollment")
    (coordinator_email,) = people(running, "koordinator")
    coordinator = token(enrollment, coordinator_email)
    programme = enrollment.post(
        "/api/v1/programmes",
        json={
            "title_id": "Kelas Literasi Informasi",
            "title_en": "Information Literacy Class",
            "track": "public",
            "type": "literacy_class",
            "competency_areas": ["searching", "evaluating"],
            "status": "published",
        },
        headers=bearer(coordinator),
    )
    assert programme.status_code == 201, programme.json
    starts = datetime.now(UTC) + timedelta(days=5)
    session = enrollment.post(
        f"/api/v1/programmes/{programme.json['id']}/sessions",
        json={
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "venue": "Perpustakaan Kota Semarang",
            "capacity": seats,
        },
        headers=bearer(coordinator),
    )
    assert session.status_code == 201, session.json
    return coordinator, session.json


def published(running, type_name: str, email: str) -> list[dict]:
    """The data of the events of a type about an email, as enrollment published them."""
    bodies = running.query(
        "enrollment", lambda s: s.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id)).all()
    )
    events = [json.loads(body) for body in bodies]
    return [e["data"] for e in events if e["type"] == type_name and e["data"]["email"] == email]


def path_of(url: str) -> str:
    """A link of an email as the enrollment test client's path."""
    return urlparse(url).path.removeprefix("/enrollment")


def email_deliveries(running, address: str, event_type: str) -> list[Delivery]:
    return running.query(
        "notification",
        lambda s: s.scalars(
            select(Delivery).where(Delivery.target == address, Delivery.event_type == event_type)
        ).all(),
    )


def seat_of(running, enrollment_id: int) -> Enrollment:
    return running.query("enrollment", lambda s: s.get(Enrollment, enrollment_id))


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_a_community_member_joins_confirms_and_frees_the_seat_by_the_emails_links(make_system, mode):
    running = make_system(mode)
    coordinator, session = public_class(running, seats=2)
    web = running.client("enrollment")

    page = web.get(f"/sessions/{session['id']}/join")
    assert page.status_code == 200 and "Kelas Literasi Informasi" in page.text
    response = web.post(
        f"/sessions/{session['id']}/join",
        data={"csrf_token": csrf_token(page.text), "name": "Siti Aminah", "email": "Siti@Example.org"},
    )
    assert response.status_code == 200 and "Periksa email Anda" in response.text

    (requested,) = published(running, REQUESTED, "siti@example.org")
    assert (requested["name"], requested["language"]) == ("Siti Aminah", "id")
    seat = seat_of(running, requested["enrollment_id"])
    assert seat.status == "pending" and seat.user_id is None
    assert timedelta(hours=23) < seat.hold_expires_at - datetime.now(UTC) <= timedelta(hours=24)
    assert requested["confirm_url"].startswith("http://127.0.0.1:8000/enrollment/public/confirm/")

    # Notification mails the links to the address, in Indonesian, at once.
    (mail,) = wait_for(lambda: email_deliveries(running, "siti@example.org", REQUESTED), what="the email")
    assert mail.channel == "email" and mail.category == "account" and mail.priority == "urgent"
    assert mail.subject == "Konfirmasi kursi Anda: Kelas Literasi Informasi"
    assert requested["confirm_url"] in mail.text and requested["cancel_url"] in mail.text
    assert f'href="{requested["confirm_url"]}"' in mail.html

    # Following the link only asks; the page's button confirms.
    confirm = path_of(requested["confirm_url"])
    page = web.get(confirm)
    assert page.status_code == 200 and seat_of(running, seat.id).status == "pending"
    done = web.post(confirm, data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200 and "Kursi Anda terkonfirmasi" in done.text
    assert seat_of(running, seat.id).status == "confirmed"
    again = web.get(confirm)
    assert "Kursi Anda terkonfirmasi" in again.text  # a second click changes nothing

    roster = running.client("enrollment").get(
        f"/api/v1/sessions/{session['id']}/roster", headers=bearer(coordinator)
    )
    assert [(e["name"], e["email"], e["user_id"]) for e in roster.json["confirmed"]] == [
        ("Siti Aminah", "siti@example.org", None)
    ]

    cancel = path_of(requested["cancel_url"])
    page = web.get(cancel)
    assert page.status_code == 200 and seat_of(running, seat.id).status == "confirmed"
    freed = web.post(cancel, data={"csrf_token": csrf_token(page.text)})
    assert freed.status_code == 200 and "Kursi Anda sudah dilepas" in freed.text
    assert seat_of(running, seat.id).status == "cancelled"
    assert running.client("enrollment").get(f"/api/v1/sessions/{session['id']}").json["seats_taken"] == 0
    (released,) = published(running, RELEASED, "siti@example.org")
    assert released["reason"] == "cancelled"
    wait_for(lambda: email_deliveries(running, "siti@example.org", RELEASED), what="the release email")


def test_one_seat_per_email_and_a_full_class_takes_no_more(make_system):
    running = make_system("embedded")
    _, session = public_class(running, seats=2)
    api = running.client("enrollment")
    path = f"/api/v1/public/sessions/{session['id']}/enrollments"

    first = api.post(path, json={"name": "Rudi", "email": "rudi@example.org", "language": "en"})
    assert first.status_code == 201 and first.json["status"] == "pending"
    assert "token" not in json.dumps(first.json)  # the links go to the address only
    twice = api.post(path, json={"name": "Rudi H.", "email": "RUDI@example.org"})
    assert twice.status_code == 409 and twice.json["errors"]["email"]

    web = running.client("enrollment")
    page = web.get(f"/sessions/{session['id']}/join")
    form = web.post(
        f"/sessions/{session['id']}/join",
        data={"csrf_token": csrf_token(page.text), "name": "Rudi Hartono", "email": "rudi@example.org"},
    )
    assert form.status_code == 400 and "Email ini sudah memegang kursi di sesi ini." in form.text
    assert 'value="Rudi Hartono"' in form.text  # what was typed stays

    assert api.post(path, json={"name": "Tari", "email": "tari@example.org"}).status_code == 201
    full = api.post(path, json={"name": "Umi", "email": "umi@example.org"})
    assert full.status_code == 409 and full.json["message"] == "This class is full."
    page = web.get(f"/sessions/{session['id']}/join?lang=en")
    english = web.post(
        f"/sessions/{session['id']}/join?lang=en",
        data={"csrf_token": csrf_token(page.text), "name": "Umi", "email": "umi@example.org"},
    )
    assert english.status_code == 400 and "This class is full." in english.text

    bad = api.post(path, json={"name": "", "email": "not-an-email", "language": "fr"})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"name", "email", "language"}
    assert (
        api.post(
            "/api/v1/public/sessions/424242/enrollments", json={"name": "A", "email": "a@b.id"}
        ).status_code
        == 404
    )

    # Staff sessions are for accounts; public classes for names and emails.
    (coordinator_email,) = people(running, "koordinator")
    coordinator = token(api, coordinator_email)
    _, staff_session = programme_with_session(api, coordinator, seats=5)
    refused = api.post(
        f"/api/v1/public/sessions/{staff_session['id']}/enrollments",
        json={"name": "V", "email": "v@example.org"},
    )
    assert refused.status_code == 409 and "library staff" in refused.json["message"]
    assert web.get(f"/sessions/{staff_session['id']}/join").status_code == 404
    by_account = api.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(coordinator))
    assert by_account.status_code == 409 and "public class" in by_account.json["message"]


def test_an_unconfirmed_hold_expires_and_frees_its_seat(make_system):
    running = make_system("embedded")
    _, session = public_class(running, seats=1)
    api = running.client("enrollment")
    path = f"/api/v1/public/sessions/{session['id']}/enrollments"
    held = api.post(path, json={"name": "Wati", "email": "wati@example.org"}).json
    assert api.post(path, json={"name": "Yani", "email": "yani@example.org"}).status_code == 409

    def expire(db_session):
        db_session.get(Enrollment, held["id"]).hold_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db_session.commit()

    running.query("enrollment", expire)
    # A hold past its time is no seat, even before the worker marks it expired.
    yani = api.post(path, json={"name": "Yani", "email": "yani@example.org"})
    assert yani.status_code == 201 and yani.json["status"] == "pending"
    assert seat_of(running, held["id"]).status == "expired"
    (released,) = published(running, RELEASED, "wati@example.org")
    assert released["reason"] == "expired"

    (requested,) = published(running, REQUESTED, "wati@example.org")
    late = api.post(
        "/api/v1/public/enrollments/confirm", json={"token": requested["confirm_url"].rsplit("/", 1)[1]}
    )
    assert late.status_code == 409 and "time ran out" in late.json["message"]


def test_the_worker_expires_holds_once_and_tells_their_people(make_system):
    running = make_system("embedded")
    _, session = public_class(running, seats=3)
    api = running.client("enrollment")
    path = f"/api/v1/public/sessions/{session['id']}/enrollments"
    zaki = api.post(path, json={"name": "Zaki", "email": "zaki@example.org"}).json
    kept = api.post(path, json={"name": "Ayu", "email": "ayu@example.org"}).json

    def run(db_session, when):
        expired = handlers.expire_holds(db_session, when)
        db_session.commit()
        return expired

    later = datetime.now(UTC) + timedelta(hours=24, seconds=1)
    assert running.query("enrollment", lambda s: run(s, datetime.now(UTC))) == 0
    (ayu,) = published(running, REQUESTED, "ayu@example.org")
    api.post("/api/v1/public/enrollments/confirm", json={"token": ayu["confirm_url"].rsplit("/", 1)[1]})
    assert running.query("enrollment", lambda s: run(s, later)) == 1
    assert running.query("enrollment", lambda s: run(s, later)) == 0
    assert (
        seat_of(running, zaki["id"]).status == "expired"
        and seat_of(running, kept["id"]).status == "confirmed"
    )
    mail = wait_for(lambda: email_deliveries(running, "zaki@example.org", RELEASED), what="the expiry email")
    assert "tidak dikonfirmasi tepat waktu" in mail[0].text


def test_links_are_signed_for_their_purpose(make_system):
    running = make_system("embedded")
    coordinator, session = public_class(running, seats=2)
    api = running.client("enrollment")
    api.post(
        f"/api/v1/public/sessions/{session['id']}/enrollments",
        json={"name": "Bayu", "email": "bayu@example.org"},
    )
    (requested,) = published(running, REQUESTED, "bayu@example.org")
    confirm_token = requested["confirm_url"].rsplit("/", 1)[1]
    cancel_token = requested["cancel_url"].rsplit("/", 1)[1]

    # A cancel link does not confirm, a confirm link does not cancel, a forged one does nothing.
    assert api.post("/api/v1/public/enrollments/confirm", json={"token": cancel_token}).status_code == 404
    assert api.post("/api/v1/public/enrollments/cancel", json={"token": confirm_token}).status_code == 404
    assert api.post("/api/v1/public/enrollments/confirm", json={"token": "garbage"}).status_code == 404
    assert api.post("/api/v1/public/enrollments/confirm", json={}).status_code == 422
    assert api.get(f"/public/confirm/{cancel_token}").status_code == 404
    assert api.get("/public/cancel/garbage").status_code == 404

    confirmed = api.post("/api/v1/public/enrollments/confirm", json={"token": confirm_token})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    cancelled = api.post("/api/v1/public/enrollments/cancel", json={"token": cancel_token})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = api.post("/api/v1/public/enrollments/cancel", json={"token": cancel_token})
    assert again.status_code == 409
    revived = api.post("/api/v1/public/enrollments/confirm", json={"token": confirm_token})
    assert revived.status_code == 409 and revived.json["message"] == "This seat was given up."


def test_a_cancelled_class_tells_its_public_by_email(make_system):
    running = make_system("embedded")
    coordinator, session = public_class(running, seats=5)
    api = running.client("enrollment")
    api.post(
        f"/api/v1/public/sessions/{session['id']}/enrollments",
        json={"name": "Citra", "email": "citra@example.org"},
    )

    cancelled = api.post(
        f"/api/v1/sessions/{session['id']}/cancel", json={"reason": "Banjir"}, headers=bearer(coordinator)
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    (released,) = published(running, RELEASED, "citra@example.org")
    assert released["reason"] == "session_cancelled"
    mail = wait_for(lambda: email_deliveries(running, "citra@example.org", RELEASED), what="the email")
    assert "sesinya dibatalkan" in mail[0].text
    late = api.post(
        f"/api/v1/public/sessions/{session['id']}/enrollments", json={"name": "D", "email": "d@example.org"}
    )
    assert late.status_code == 409 and late.json["message"] == "This session was cancelled."
