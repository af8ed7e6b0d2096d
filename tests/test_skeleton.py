"""The walking skeleton, step by step, in every way the system runs."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.enrollment.handlers import ensure_admin
from services.enrollment.models import LearnerRecord
from services.notification.models import Notification
from shared.messaging import OutboxMessage
from tests.support import csrf_token, wait_for

ADMIN = ("admin@test.local", "admin-password")
PASSWORD = "password-123"


def email(name: str) -> str:
    """A fresh address: the process-based systems are shared by all tests of a module."""
    return f"{name}.{uuid.uuid4().hex[:8]}@test.local"


def token(client, address: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", json={"email": address, "password": password})
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def bearer(access_token: str) -> dict:
    return {"Authorization": f"Bearer {access_token}"}


def admin_token(running) -> str:
    def create(session):
        ensure_admin(session, *ADMIN)
        session.commit()

    running.query("enrollment", create)
    return token(running.client("enrollment"), *ADMIN)


def create_user(client, admin: str, address: str, roles: list[str], language: str = "id") -> dict:
    response = client.post(
        "/api/v1/users",
        json={
            "email": address,
            "name": address.split(".")[0].title(),
            "password": PASSWORD,
            "language": language,
            "roles": roles,
        },
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.json
    return response.json


def people(running, *names: str, roles: tuple[str, ...] = ("staff",)) -> list[str]:
    """New accounts' email addresses, the first one a coordinator."""
    enrollment, admin = running.client("enrollment"), admin_token(running)
    addresses = [email(name) for name in names]
    for index, address in enumerate(addresses):
        create_user(enrollment, admin, address, ["coordinator"] if index == 0 else list(roles))
    return addresses


def programme_with_session(client, coordinator: str, seats: int) -> tuple[dict, dict]:
    response = client.post(
        "/api/v1/programmes",
        json={
            "title_id": "Pelatihan Katalogisasi",
            "title_en": "Cataloguing Training",
            "track": "staff",
            "type": "training",
            "competency_areas": ["cataloguing"],
            "status": "published",
        },
        headers=bearer(coordinator),
    )
    assert response.status_code == 201, response.json
    starts = datetime.now(UTC) + timedelta(days=3)
    session = client.post(
        f"/api/v1/programmes/{response.json['id']}/sessions",
        json={
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=4)).isoformat(),
            "venue": "Ruang Seminar",
            "capacity": seats,
        },
        headers=bearer(coordinator),
    )
    assert session.status_code == 201, session.json
    return response.json, session.json


WELCOME = "pustaka.user.registered.v1"


def inbox(running, access_token: str) -> dict:
    """The person's inbox, the welcome message of their new account aside."""
    response = running.client("notification").get("/api/v1/inbox", headers=bearer(access_token))
    assert response.status_code == 200, response.json
    welcome = [item for item in response.json["items"] if item["event_type"] == WELCOME]
    return {
        "items": [item for item in response.json["items"] if item["event_type"] != WELCOME],
        "unread_count": response.json["unread_count"] - sum(not item["read"] for item in welcome),
    }


def wait_for_inbox(running, access_token: str, count: int = 1) -> dict:
    return wait_for(
        lambda: (box := inbox(running, access_token)) and len(box["items"]) >= count and box,
        what="notifications",
    )


def test_api_thread_enrollment_to_inbox(running):
    enrollment = running.client("enrollment")
    coordinator, ani, budi = (token(enrollment, a) for a in people(running, "koordinator", "ani", "budi"))
    _, session = programme_with_session(enrollment, coordinator, seats=1)

    path = f"/api/v1/sessions/{session['id']}/enrollments"
    first = enrollment.post(path, headers=bearer(ani))
    second = enrollment.post(path, headers=bearer(budi))
    again = enrollment.post(path, headers=bearer(ani))
    assert (first.status_code, first.json["status"]) == (201, "confirmed")
    assert (second.status_code, second.json["status"]) == (201, "waitlisted")
    assert again.status_code == 409 and again.json["message"]

    ani_inbox = wait_for_inbox(running, ani)
    assert ani_inbox["unread_count"] == 1
    assert ani_inbox["items"][0]["event_type"] == "pustaka.enrollment.confirmed.v1"
    assert "Pelatihan Katalogisasi" in ani_inbox["items"][0]["body"]
    budi_inbox = wait_for_inbox(running, budi)
    assert [item["event_type"] for item in budi_inbox["items"]] == ["pustaka.enrollment.waitlisted.v1"]

    item = ani_inbox["items"][0]
    notification = running.client("notification")
    marked = notification.post(f"/api/v1/inbox/{item['id']}/read", headers=bearer(ani))
    assert marked.status_code == 200 and marked.json["read"] is True
    assert inbox(running, ani)["unread_count"] == 0
    # Nobody reads or marks another person's items.
    assert notification.post(f"/api/v1/inbox/{item['id']}/read", headers=bearer(budi)).status_code == 404


def login(client, address: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    response = client.post(
        "/login", data={"csrf_token": csrf_token(page.text), "email": address, "password": password}
    )
    assert response.status_code == 302, response.text
    cookie = client.get_cookie("pustaka_token")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_web_thread_login_enroll_and_inbox(running):
    coordinator_email, citra_email = people(running, "koordinator", "citra")
    coordinator_web = running.client("enrollment")
    login(coordinator_web, coordinator_email)
    page = coordinator_web.get("/programmes/new")
    title = f"Seminar Layanan Digital {uuid.uuid4().hex[:6]}"
    response = coordinator_web.post(
        "/programmes/new",
        data={
            "csrf_token": csrf_token(page.text),
            "title_id": title,
            "title_en": "Digital Services Seminar",
            "track": "staff",
            "type": "seminar",
            "competency_areas": "digital_services",
            "publish": "y",
        },
    )
    assert response.status_code == 302
    programme_path = response.headers["Location"]
    page = coordinator_web.get(programme_path)
    response = coordinator_web.post(
        f"{programme_path}/sessions",
        data={
            "csrf_token": csrf_token(page.text),
            "starts_at": "2030-01-10T09:00",
            "ends_at": "2030-01-10T12:00",
            "venue": "Aula",
            "capacity": "5",
        },
    )
    assert response.status_code == 302
    assert "10-01-2030 09:00 WIB" in coordinator_web.get(programme_path).text

    staff_web = running.client("enrollment")
    login(staff_web, citra_email)
    page = staff_web.get(programme_path)
    session_id = int(page.text.split('data-session="')[1].split('"')[0])
    response = staff_web.post(f"/sessions/{session_id}/enroll", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert title in staff_web.get("/my-learning").text

    notification_web = running.client("notification")
    notification_web.set_cookie("pustaka_token", staff_web.get_cookie("pustaka_token").value)
    wait_for(lambda: title in notification_web.get("/inbox").text, what="the inbox page")


def take_quiz(client, slug: str, headers: dict | None = None) -> dict:
    """An attempt through the API, answering every single-choice question with its first option."""
    started = client.post(f"/api/v1/quizzes/{slug}/attempts", json={}, headers=headers)
    assert started.status_code == 201, started.json
    headers = headers or {"X-Attempt-Token": started.json["token"]}
    path = f"/api/v1/attempts/{started.json['id']}"
    for page in range(started.json["page_count"]):
        questions = client.get(f"{path}?page={page}", headers=headers).json["questions"]
        assert "fraction" not in json.dumps(questions)  # never an answer before the review
        responses = {
            str(q["question_id"]): q["body"]["choices"][0]["key"]
            for q in questions
            if q["type"] == "single_choice"
        }
        assert (
            client.put(f"{path}/pages/{page}", json={"responses": responses}, headers=headers).status_code
            == 200
        )
    submitted = client.post(f"{path}/submit", json={}, headers=headers)
    assert submitted.status_code == 200, submitted.json
    return submitted.json


def test_anonymous_and_signed_in_quiz_results(running):
    enrollment, assessment = running.client("enrollment"), running.client("assessment")
    running.seed("assessment")
    anonymous = take_quiz(assessment, "literasi-informasi-dasar")
    assert anonymous["state"] == "graded" and anonymous["max_score"] == sum(
        q["points"] for q in anonymous["questions"]
    )

    # The web pages, without an account; the result page is the taker's alone.
    web = running.client("assessment")
    page = web.get("/quizzes/literasi-informasi-dasar")
    location = web.post("/quizzes/literasi-informasi-dasar/start", data={"csrf_token": csrf_token(page.text)})
    location = location.headers["Location"]
    while "/pages/" in location:
        page = web.get(location)
        action = "next" if 'value="next"' in page.text else "finish"
        location = web.post(location, data={"csrf_token": csrf_token(page.text), "action": action}).headers[
            "Location"
        ]
    confirm = web.get(location)
    response = web.post(location, data={"csrf_token": csrf_token(confirm.text)})
    assert response.status_code == 302
    result = web.get(response.headers["Location"])
    assert result.status_code == 200 and 'id="score"' in result.text
    assert running.client("assessment").get(response.headers["Location"]).status_code == 404

    (dewi_email,) = people(running, "dewi")  # a coordinator may take quizzes too
    dewi = token(enrollment, dewi_email)
    signed_in = take_quiz(assessment, "literasi-informasi-dasar", bearer(dewi))

    record = wait_for(lambda: enrollment.get("/api/v1/me/record", headers=bearer(dewi)).json, what="record")
    assert [entry["kind"] for entry in record] == ["quiz_result"]
    assert record[0]["score"] == signed_in["score"]
    items = wait_for_inbox(running, dewi)["items"]
    assert items[0]["title"] == "Hasil kuis: Kuis Literasi Informasi Dasar"
    # The anonymous attempts reached nobody's record.
    sources = running.query("enrollment", lambda s: s.scalars(select(LearnerRecord.source_ref)).all())
    assert f"attempt:{anonymous['id']}" not in sources
    assert sources.count(f"attempt:{signed_in['id']}") == 1


def test_a_republished_event_notifies_nobody_twice(running):
    enrollment = running.client("enrollment")
    coordinator, gita = (token(enrollment, a) for a in people(running, "koordinator", "gita"))
    _, session = programme_with_session(enrollment, coordinator, seats=3)
    enrolled = enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(gita))
    wait_for_inbox(running, gita)

    # Publish this enrollment's event again, as a relay that crashed before its commit would.
    def republish(session):
        message = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.body.contains(f'"enrollment_id": {enrolled.json["id"]},')
            )
        ).one()
        message.published_at = None
        session.commit()
        return message.event_id

    event_id = running.query("enrollment", republish)
    wait_for(
        lambda: running.query(
            "enrollment",
            lambda s: (
                s.get(
                    OutboxMessage,
                    s.scalar(select(OutboxMessage.id).where(OutboxMessage.event_id == event_id)),
                ).published_at
            ),
        ),
        what="the second publication",
    )
    time.sleep(0.5)
    rows = running.query(
        "notification",
        lambda s: s.scalars(select(Notification.id).where(Notification.event_id == event_id)).all(),
    )
    assert len(rows) == 1
    assert len(inbox(running, gita)["items"]) == 1


def test_the_first_admin_comes_from_the_environment(running):
    if not running.mode.endswith("processes"):
        return  # only the real processes start with PUSTAKA_ADMIN_EMAIL set
    from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD

    enrollment = running.client("enrollment")
    me = enrollment.get("/api/v1/users/me", headers=bearer(token(enrollment, ADMIN_EMAIL, ADMIN_PASSWORD)))
    assert me.status_code == 200 and me.json["roles"] == ["admin"]


def test_an_admin_creates_accounts_through_the_web_form(running):
    enrollment = running.client("enrollment")
    admin_token(running)
    web = running.client("enrollment")
    login(web, ADMIN[0], ADMIN[1])
    page = web.get("/admin/users/new")
    address = email("oki")
    response = web.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf_token(page.text),
            "email": address,
            "name": "Oki Setiawan",
            "password": PASSWORD,
            "language": "en",
            "roles": ["staff", "mentor"],
        },
    )
    assert response.status_code == 302
    me = enrollment.get("/api/v1/users/me", headers=bearer(token(enrollment, address))).json
    assert (me["name"], me["language"], me["roles"]) == ("Oki Setiawan", "en", ["mentor", "staff"])

    page = web.get("/admin/users/new")
    again = web.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf_token(page.text),
            "email": address,
            "name": "Oki",
            "password": PASSWORD,
            "language": "id",
            "roles": ["staff"],
        },
    )
    assert again.status_code == 400 and "Akun dengan email ini sudah terdaftar." in again.text


def test_every_service_reports_health_and_its_openapi(running):
    expected = {
        "enrollment": "/api/v1/sessions/{session_id}/enrollments",
        "assessment": "/api/v1/quizzes/{slug}/attempts",
        "notification": "/api/v1/inbox",
    }
    for service, path in expected.items():
        client = running.client(service)
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "broker": "ok"}
        spec = client.get("/openapi.json").json
        assert spec["openapi"].startswith("3.") and path in spec["paths"]


def test_one_trace_id_follows_the_action_into_its_events(running):
    enrollment = running.client("enrollment")
    coordinator, hana = (token(enrollment, a) for a in people(running, "koordinator", "hana"))
    _, session = programme_with_session(enrollment, coordinator, seats=2)
    trace = uuid.uuid4().hex
    response = enrollment.post(
        f"/api/v1/sessions/{session['id']}/enrollments",
        headers=bearer(hana) | {"traceparent": f"00-{trace}-{'1' * 16}-01"},
    )
    assert response.headers["traceparent"].split("-")[1] == trace
    published = running.query(
        "enrollment",
        lambda s: [json.loads(m.body) for m in s.scalars(select(OutboxMessage)).all()],
    )
    event = next(e for e in published if e["data"].get("enrollment_id") == response.json["id"])
    assert event["traceparent"].split("-")[1] == trace
