"""The walking skeleton, step by step, in both modes (in-process services, real workers)."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.enrollment.handlers import ensure_admin
from services.enrollment.models import LearnerRecord
from services.notification.models import Notification
from shared.webhooks import sign
from tests.support import csrf_token, wait_for

ADMIN = ("admin@test.local", "admin-password")


def token(client, email: str, password: str) -> str:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
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


def create_user(client, admin: str, email: str, roles: list[str], language: str = "id") -> dict:
    response = client.post(
        "/api/v1/users",
        json={
            "email": email,
            "name": email.split("@")[0].title(),
            "password": "password-123",
            "language": language,
            "roles": roles,
        },
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.json
    return response.json


def programme_with_session(client, coordinator: str, seats: int) -> tuple[dict, dict]:
    response = client.post(
        "/api/v1/programmes",
        json={
            "title_id": "Pelatihan Katalogisasi",
            "title_en": "Cataloguing Training",
            "track": "staff",
            "type": "training",
            "competency_areas": ["cataloguing"],
        },
        headers=bearer(coordinator),
    )
    assert response.status_code == 201, response.json
    programme = response.json
    starts = datetime.now(UTC) + timedelta(days=3)
    response = client.post(
        f"/api/v1/programmes/{programme['id']}/sessions",
        json={
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=4)).isoformat(),
            "venue": "Ruang Seminar",
            "capacity": seats,
        },
        headers=bearer(coordinator),
    )
    assert response.status_code == 201, response.json
    return programme, response.json


def inbox(running, access_token: str) -> dict:
    response = running.client("notification").get("/api/v1/inbox", headers=bearer(access_token))
    assert response.status_code == 200, response.json
    return response.json


def test_api_thread_enrollment_to_inbox(running):
    enrollment = running.client("enrollment")
    admin = admin_token(running)
    create_user(enrollment, admin, "koordinator@test.local", ["coordinator"])
    for name in ("ani", "budi"):
        create_user(enrollment, admin, f"{name}@test.local", ["staff"])
    coordinator = token(enrollment, "koordinator@test.local", "password-123")
    _, session = programme_with_session(enrollment, coordinator, seats=1)

    ani = token(enrollment, "ani@test.local", "password-123")
    budi = token(enrollment, "budi@test.local", "password-123")
    first = enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(ani))
    second = enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(budi))
    again = enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(ani))
    assert (first.status_code, first.json["status"]) == (201, "confirmed")
    assert (second.status_code, second.json["status"]) == (201, "waitlisted")
    assert again.status_code == 409 and again.json["message"]

    ani_inbox = wait_for(
        lambda: inbox(running, ani)["items"] and inbox(running, ani), what="ani's notification"
    )
    assert ani_inbox["unread_count"] == 1
    assert ani_inbox["items"][0]["event_type"] == "pustaka.enrollment.confirmed.v1"
    assert "Pelatihan Katalogisasi" in ani_inbox["items"][0]["body"]
    budi_inbox = wait_for(lambda: inbox(running, budi)["items"] and inbox(running, budi), what="budi's")
    assert budi_inbox["items"][0]["event_type"] == "pustaka.enrollment.waitlisted.v1"
    assert all(item["event_type"] != "pustaka.enrollment.confirmed.v1" for item in budi_inbox["items"])

    item = ani_inbox["items"][0]
    marked = running.client("notification").post(f"/api/v1/inbox/{item['id']}/read", headers=bearer(ani))
    assert marked.status_code == 200 and marked.json["read"] is True
    assert inbox(running, ani)["unread_count"] == 0
    # Nobody reads or marks another person's items.
    assert (
        running.client("notification")
        .post(f"/api/v1/inbox/{item['id']}/read", headers=bearer(budi))
        .status_code
        == 404
    )


def test_web_thread_login_enroll_and_inbox(running):
    enrollment = running.client("enrollment")
    admin = admin_token(running)
    create_user(enrollment, admin, "koordinator@test.local", ["coordinator"])
    create_user(enrollment, admin, "citra@test.local", ["staff"])

    coordinator_web = running.client("enrollment")
    login(coordinator_web, "koordinator@test.local")
    page = coordinator_web.get("/programmes/new")
    response = coordinator_web.post(
        "/programmes/new",
        data={
            "csrf_token": csrf_token(page.text),
            "title_id": "Seminar Layanan Digital",
            "title_en": "Digital Services Seminar",
            "track": "staff",
            "type": "seminar",
            "competency_areas": "digital_services",
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
    login(staff_web, "citra@test.local")
    page = staff_web.get(programme_path)
    session_id = int(page.text.split('data-session="')[1].split('"')[0])
    response = staff_web.post(f"/sessions/{session_id}/enroll", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert "Seminar Layanan Digital" in staff_web.get("/my-learning").text

    notification_web = running.client("notification")
    notification_web.set_cookie("pustaka_token", staff_web.get_cookie("pustaka_token").value)
    wait_for(lambda: "Seminar Layanan Digital" in notification_web.get("/inbox").text, what="inbox page")


def login(client, email: str, password: str = "password-123") -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page.text),
            "email": email,
            "password": password,
        },
    )
    assert response.status_code == 302, response.text
    cookie = client.get_cookie("pustaka_token")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_anonymous_and_signed_in_quiz_results(running):
    enrollment, assessment = running.client("enrollment"), running.client("assessment")
    from services.system import seed_demo

    seed_demo(running.apps["assessment"])
    quiz = assessment.get("/api/v1/quizzes/literasi-informasi-dasar").json
    assert "is_correct" not in json.dumps(quiz)
    answers = {str(q["id"]): q["choices"][0]["id"] for q in quiz["questions"]}

    anonymous = assessment.post(
        "/api/v1/quizzes/literasi-informasi-dasar/attempts", json={"answers": answers}
    )
    assert anonymous.status_code == 201 and anonymous.json["max_score"] == 5

    # The web form, without an account.
    web = running.client("assessment")
    page = web.get("/quizzes/literasi-informasi-dasar")
    form = {"csrf_token": csrf_token(page.text)} | {f"question-{k}": v for k, v in answers.items()}
    response = web.post("/quizzes/literasi-informasi-dasar", data=form)
    assert response.status_code == 302
    result = web.get(response.headers["Location"])
    assert result.status_code == 200 and 'id="score"' in result.text
    assert running.client("assessment").get(response.headers["Location"]).status_code == 404

    admin = admin_token(running)
    user = create_user(enrollment, admin, "dewi@test.local", ["staff"], language="en")
    dewi = token(enrollment, "dewi@test.local", "password-123")
    signed_in = assessment.post(
        "/api/v1/quizzes/literasi-informasi-dasar/attempts", json={"answers": answers}, headers=bearer(dewi)
    )
    assert signed_in.status_code == 201

    record = wait_for(
        lambda: enrollment.get("/api/v1/me/record", headers=bearer(dewi)).json, what="learner record"
    )
    assert [entry["kind"] for entry in record] == ["quiz_result"]
    assert record[0]["score"] == signed_in.json["score"]
    items = wait_for(lambda: inbox(running, dewi)["items"], what="result notification")
    assert items[0]["title"] == "Quiz result: Basic Information Literacy Quiz"
    # The anonymous attempts reached nobody's record.
    count = running.query("enrollment", lambda s: s.scalar(select(func.count()).select_from(LearnerRecord)))
    assert count == 1 and user["email"] == "dewi@test.local"


def lms_client(running) -> dict:
    admin = admin_token(running)
    response = running.client("enrollment").post(
        "/api/v1/lms/clients", json={"name": f"moodle-{uuid.uuid4().hex[:6]}"}, headers=bearer(admin)
    )
    assert response.status_code == 201, response.json
    return response.json


def signed_post(client, secret: str, body: bytes, webhook_id: str, timestamp: int | None = None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return client.post(
        "/api/v1/lms/events",
        data=body,
        content_type="application/json",
        headers={
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, webhook_id, timestamp, body),
        },
    )


def completion(email: str) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "https://moodle.example.org",
            "type": "lms.course.completed",
            "time": datetime.now(UTC).isoformat(),
            "data": {
                "learner_email": email,
                "course_id": "MDL-42",
                "course_title": "Metadata Dasar",
                "completed_at": datetime.now(UTC).isoformat(),
                "score": 88,
                "max_score": 100,
            },
        }
    ).encode()


def test_lms_completion_lands_once_in_the_learner_record(running):
    enrollment = running.client("enrollment")
    client = lms_client(running)
    create_user(enrollment, admin_token(running), "eko@test.local", ["staff"])
    body, webhook_id = completion("eko@test.local"), f"msg_{uuid.uuid4().hex}"

    first = signed_post(enrollment, client["secret"], body, webhook_id)
    again = signed_post(enrollment, client["secret"], body, webhook_id)
    assert (first.status_code, first.json["status"]) == (200, "recorded")
    assert (again.status_code, again.json["status"]) == (200, "duplicate")
    eko = token(enrollment, "eko@test.local", "password-123")
    record = enrollment.get("/api/v1/me/record", headers=bearer(eko)).json
    assert [(entry["kind"], entry["title"], entry["score"]) for entry in record] == [
        ("lms_completion", "Metadata Dasar", 88.0)
    ]


def test_lms_ingress_refuses_bad_signatures_and_malformed_bodies(running):
    enrollment = running.client("enrollment")
    client = lms_client(running)
    create_user(enrollment, admin_token(running), "fitri@test.local", ["staff"])
    body = completion("fitri@test.local")

    wrong_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    assert signed_post(enrollment, wrong_secret, body, "m1").status_code == 401
    stale = signed_post(enrollment, client["secret"], body, "m2", timestamp=int(time.time()) - 301)
    assert stale.status_code == 401 and "5 minutes" in stale.json["message"]
    unsigned = enrollment.post("/api/v1/lms/events", data=body, content_type="application/json")
    assert unsigned.status_code == 401

    malformed = signed_post(enrollment, client["secret"], b'{"specversion": "1.0"', "m3")
    assert malformed.status_code == 422 and malformed.json["message"]
    missing = json.loads(body)
    del missing["data"]["course_id"]
    response = signed_post(enrollment, client["secret"], json.dumps(missing).encode(), "m4")
    assert response.status_code == 422 and "data.course_id" in response.json["errors"]
    unknown = signed_post(enrollment, client["secret"], completion("nobody@test.local"), "m5")
    assert unknown.status_code == 422 and "data.learner_email" in unknown.json["errors"]
    assert (
        running.query("enrollment", lambda s: s.scalar(select(func.count()).select_from(LearnerRecord))) == 0
    )


def test_no_notification_is_created_twice_for_one_event(running):
    enrollment = running.client("enrollment")
    admin = admin_token(running)
    create_user(enrollment, admin, "koordinator@test.local", ["coordinator"])
    create_user(enrollment, admin, "gita@test.local", ["staff"])
    coordinator = token(enrollment, "koordinator@test.local", "password-123")
    _, session = programme_with_session(enrollment, coordinator, seats=3)
    gita = token(enrollment, "gita@test.local", "password-123")
    enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(gita))
    wait_for(lambda: inbox(running, gita)["items"], what="notification")

    # Replay every message the enrollment outbox ever published: the inbox drops them all.
    from shared.messaging import OutboxMessage

    def republish(session):
        for message in session.scalars(select(OutboxMessage)).all():
            message.published_at = None
        session.commit()

    running.query("enrollment", republish)
    wait_for(
        lambda: (
            running.query(
                "enrollment",
                lambda s: s.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.published_at.is_(None))
                ),
            )
            == 0
        ),
        what="republish",
    )
    time.sleep(0.5)
    assert (
        running.query("notification", lambda s: s.scalar(select(func.count()).select_from(Notification))) == 1
    )
