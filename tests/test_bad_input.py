"""Bad input gets a clear 4xx with field messages, or a readable form error; nothing stored is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.enrollment.models import Programme, ProgrammeSession, User
from tests.support import csrf_token
from tests.test_skeleton import bearer, login, people, programme_with_session, token


@pytest.fixture
def embedded(make_system):
    return make_system("embedded")


def count(running, model) -> int:
    return running.query("enrollment", lambda s: s.scalar(select(func.count()).select_from(model)))


def assert_error(response, status: int, *fields: str) -> None:
    assert response.status_code == status, response.json
    assert response.json["code"] == status and response.json["message"]
    for field in fields:
        assert response.json["errors"][field], response.json


def test_api_errors_name_the_fields(embedded):
    enrollment = embedded.client("enrollment")
    coordinator_email, staff_email = people(embedded, "koordinator", "joko")
    coordinator, staff = token(enrollment, coordinator_email), token(enrollment, staff_email)
    users_before, programmes_before = count(embedded, User), count(embedded, Programme)

    assert_error(enrollment.post("/api/v1/auth/token", json={"email": "x"}), 422, "email", "password")
    assert_error(enrollment.post("/api/v1/auth/token", json={"email": staff_email, "password": "nope"}), 401)
    assert_error(enrollment.post("/api/v1/users", json={}), 401)
    assert_error(enrollment.post("/api/v1/users", json={}, headers={"Authorization": "Bearer garbage"}), 401)
    assert_error(enrollment.post("/api/v1/users", json={}, headers={"Authorization": "Basic abc"}), 401)
    assert_error(enrollment.post("/api/v1/users", json={"email": "a@b.id"}, headers=bearer(staff)), 403)
    admin_headers = bearer(embedded_admin(embedded))
    assert_error(
        enrollment.post(
            "/api/v1/users",
            json={"email": "not-an-email", "name": "", "password": "short", "roles": ["king"]},
            headers=admin_headers,
        ),
        422,
        "email",
        "name",
        "password",
        "roles",
    )
    assert_error(
        enrollment.post(
            "/api/v1/users",
            json={"email": staff_email, "name": "Joko", "password": "password-123"},
            headers=admin_headers,
        ),
        409,
        "email",
    )
    assert_error(
        enrollment.post(
            "/api/v1/programmes", json={"title_id": "x", "type": "party"}, headers=bearer(coordinator)
        ),
        422,
        "title_en",
        "track",
        "type",
    )
    assert_error(
        enrollment.post(
            "/api/v1/programmes", data="{", content_type="application/json", headers=bearer(coordinator)
        ),
        400,
    )
    assert_error(enrollment.get("/api/v1/programmes/999"), 404)
    _, session = programme_with_session(enrollment, coordinator, seats=1)
    programme_id = session["programme_id"]
    assert_error(
        enrollment.post(
            f"/api/v1/programmes/{programme_id}/sessions",
            json={
                "starts_at": "2030-01-02T10:00:00+07:00",
                "ends_at": "2030-01-02T09:00:00+07:00",
                "capacity": 0,
            },
            headers=bearer(coordinator),
        ),
        422,
        "ends_at",
        "capacity",
    )
    assert_error(
        enrollment.post(
            f"/api/v1/programmes/{programme_id}/sessions",
            json={"starts_at": "2030-01-02T10:00:00", "ends_at": "2030-01-02T11:00:00", "capacity": 3},
            headers=bearer(coordinator),
        ),
        422,
        "starts_at",
    )
    assert_error(enrollment.post("/api/v1/sessions/999/enrollments", headers=bearer(staff)), 404)
    assert count(embedded, User) == users_before
    assert count(embedded, Programme) == programmes_before + 1
    assert count(embedded, ProgrammeSession) == 1


def embedded_admin(running) -> str:
    from tests.test_skeleton import admin_token

    return admin_token(running)


def test_assessment_and_notification_api_errors(embedded):
    assessment, notification = embedded.client("assessment"), embedded.client("notification")
    embedded.seed("assessment")
    start = "/api/v1/quizzes/literasi-informasi-dasar/attempts"
    assert_error(assessment.post(start, json={"language": "fr", "email": "x"}), 422, "language", "email")
    assert_error(assessment.post("/api/v1/quizzes/nope/attempts", json={}), 404)
    attempt = assessment.post(start, json={}).json
    page, headers = f"/api/v1/attempts/{attempt['id']}/pages/0", {"X-Attempt-Token": attempt["token"]}
    first = attempt["questions"][0]["question_id"]
    assert_error(assessment.put(page, json={}, headers=headers), 422, "responses")
    assert_error(assessment.put(page, json={"responses": "all of them"}, headers=headers), 422, "responses")
    assert_error(
        assessment.put(page, json={"responses": {"999999": 1}}, headers=headers), 422, "responses.999999"
    )
    assert_error(
        assessment.put(page, json={"responses": {str(first): [1, 2]}}, headers=headers),
        422,
        f"responses.{first}",
    )
    assert_error(assessment.put(page, json={"responses": {}}), 404)  # without the attempt's token
    assert_error(notification.get("/api/v1/inbox"), 401)
    (staff_email,) = people(embedded, "kartika")
    staff = token(embedded.client("enrollment"), staff_email)
    assert_error(notification.get("/api/v1/inbox?limit=0", headers=bearer(staff)), 422, "limit")
    assert_error(notification.post("/api/v1/inbox/12345/read", headers=bearer(staff)), 404)


def test_forms_show_errors_in_indonesian_and_store_nothing(embedded):
    coordinator_email, _ = people(embedded, "koordinator", "lina")
    web = embedded.client("enrollment")
    page = web.get("/login")
    wrong = web.post(
        "/login", data={"csrf_token": csrf_token(page.text), "email": coordinator_email, "password": "x"}
    )
    assert wrong.status_code == 400 and "Email atau kata sandi salah" in wrong.text

    login(web, coordinator_email)
    programmes_before = count(embedded, Programme)
    page = web.get("/programmes/new")
    response = web.post(
        "/programmes/new", data={"csrf_token": csrf_token(page.text), "title_id": "", "type": "x"}
    )
    assert response.status_code == 400
    assert "Kolom ini wajib diisi." in response.text and "Pilihan tidak valid." in response.text
    assert count(embedded, Programme) == programmes_before

    english = web.post("/programmes/new?lang=en", data={"csrf_token": csrf_token(page.text)})
    assert english.status_code == 400 and "This field is required." in english.text

    missing_token = web.post("/programmes/new", data={"title_id": "x"})
    assert missing_token.status_code == 400 and "Token CSRF" in missing_token.text


def test_session_form_rejects_an_end_before_the_start(embedded):
    enrollment = embedded.client("enrollment")
    coordinator_email, _ = people(embedded, "koordinator", "made")
    _, session = programme_with_session(enrollment, token(enrollment, coordinator_email), seats=2)
    web = embedded.client("enrollment")
    login(web, coordinator_email)
    path = f"/programmes/{session['programme_id']}"
    page = web.get(path)
    response = web.post(
        f"{path}/sessions",
        data={
            "csrf_token": csrf_token(page.text),
            "starts_at": "2030-01-10T12:00",
            "ends_at": "2030-01-10T09:00",
            "capacity": "abc",
        },
    )
    assert response.status_code == 400
    assert "Sesi harus berakhir setelah waktu mulainya." in response.text
    assert "Bukan bilangan bulat yang valid." in response.text
    assert count(embedded, ProgrammeSession) == 1


def test_pages_for_missing_things_are_404_not_500(embedded):
    assert embedded.client("enrollment").get("/programmes/424242").status_code == 404
    assert embedded.client("assessment").get("/quizzes/no-such-quiz").status_code == 404
    page = embedded.client("assessment").get("/attempts/1")
    assert page.status_code == 404 and "Hasil kuis tidak ditemukan." in page.text
    assert embedded.client("notification").get("/inbox").status_code == 302  # to the login page
