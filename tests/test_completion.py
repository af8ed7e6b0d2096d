"""Completion and certificates: a programme's rule (minimum attendance, post-test passed) decides
completion once, whenever its evidence changes; completing issues a certificate (PDF for its learner
and coordinators, a public verification page, revocation, issue by hand), records the competency
evidence and follow-up, and tells assessment (a survey invitation) and notification (a message)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pypdf
import pytest
from sqlalchemy import func, select

from services.assessment.seed import SEED_DIR
from services.enrollment.competencies import Evidence, FollowUp
from services.enrollment.completion import Certificate, Completion, CompletionRule
from services.notification.defaults import TEMPLATES
from services.notification.models import MessageTemplate
from services.notification.rendering import render
from shared import catalog
from shared.messaging import OutboxMessage
from tests.support import csrf_token, wait_for
from tests.test_mentoring import members
from tests.test_skeleton import bearer, login, wait_for_inbox

COMPLETED = catalog.ACTIVITY_COMPLETED.name
POST_TEST = "posttest-perangkat-lunak"  # a seeded post-test: passed at 70%
FOLLOWUP_WEEKS = 3


@pytest.fixture
def embedded(make_system):
    return make_system("embedded", extra={"PUSTAKA_FOLLOWUP_WEEKS": FOLLOWUP_WEEKS})


def system(make_system, mode: str):
    return make_system(mode, extra={"PUSTAKA_FOLLOWUP_WEEKS": FOLLOWUP_WEEKS})


def programme(running, coordinator: dict, sessions: list[dict], **fields) -> tuple[dict, list[dict]]:
    """A published staff programme and its sessions (``hours`` long each, from 3 days on)."""
    api = running.client("enrollment")
    created = api.post(
        "/api/v1/programmes",
        json={
            "title_id": "Pelatihan Katalogisasi RDA",
            "title_en": "RDA Cataloguing Training",
            "track": "staff",
            "type": "training",
            "competency_areas": ["cataloguing", "digital_services"],
            "status": "published",
        }
        | fields,
        headers=bearer(coordinator["token"]),
    )
    assert created.status_code == 201, created.json
    made = []
    for index, spec in enumerate(sessions):
        starts = datetime.now(UTC) + timedelta(days=3 + index)
        response = api.post(
            f"/api/v1/programmes/{created.json['id']}/sessions",
            json={
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=spec.get("hours", 4))).isoformat(),
                "venue": "Aula Perpustakaan",
                "capacity": 10,
                "post_test_slug": spec.get("post_test"),
            },
            headers=bearer(coordinator["token"]),
        )
        assert response.status_code == 201, response.json
        made.append(response.json)
    return created.json, made


def enroll(running, person: dict, session: dict) -> int:
    response = running.client("enrollment").post(
        f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(person["token"])
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def mark(running, coordinator: dict, session: dict, marks: dict[int, str]):
    response = running.client("enrollment").put(
        f"/api/v1/sessions/{session['id']}/attendance",
        json={"marks": [{"enrollment_id": e, "status": status} for e, status in marks.items()]},
        headers=bearer(coordinator["token"]),
    )
    assert response.status_code == 200, response.json
    return response.json


def set_rule(running, coordinator: dict, programme_id: int, **rule):
    return running.client("enrollment").put(
        f"/api/v1/programmes/{programme_id}/completion-rule", json=rule, headers=bearer(coordinator["token"])
    )


def my_completions(running, person: dict) -> list[dict]:
    response = running.client("enrollment").get("/api/v1/me/completions", headers=bearer(person["token"]))
    assert response.status_code == 200, response.json
    return response.json


def completed_events(running) -> list[dict]:
    bodies = running.query(
        "enrollment",
        lambda s: s.scalars(select(OutboxMessage.body).where(OutboxMessage.event_type == COMPLETED)).all(),
    )
    return [json.loads(body)["data"] for body in bodies]


def count(running, model) -> int:
    return running.query("enrollment", lambda s: s.scalar(select(func.count()).select_from(model)))


def pdf_text(content: bytes) -> str:
    (page,) = pypdf.PdfReader(io.BytesIO(content)).pages
    return " ".join(page.extract_text().split())


# The seeded post-test, answered through the assessment API ----------------------------------------

SEEDED = json.loads((SEED_DIR / "perangkat-lunak-perpustakaan.json").read_text(encoding="utf-8"))
SEEDED_BY_TEXT = {question["text"]["id"]: question for question in SEEDED["questions"]}


def answer(question: dict, right: bool):
    """The right (or a wrong) answer of a single-choice or true/false question; None for the others."""
    body = SEEDED_BY_TEXT[question["text"]["id"]]["body"]
    if question["type"] == "single_choice":
        return next(c["key"] for c in body["choices"] if (c["fraction"] == 1) == right)
    if question["type"] == "true_false":
        return body["answer"] if right else not body["answer"]
    return None


def take_post_test(running, person: dict, right: bool) -> dict:
    """The seeded post-test: 7 single-choice and 1 true/false question of 10 answered right is 80%."""
    api, headers = running.client("assessment"), bearer(person["token"])
    started = api.post(f"/api/v1/quizzes/{POST_TEST}/attempts", json={}, headers=headers)
    assert started.status_code == 201, started.json
    path = f"/api/v1/attempts/{started.json['id']}"
    for page in range(started.json["page_count"]):
        questions = api.get(f"{path}?page={page}", headers=headers).json["questions"]
        responses = {str(q["question_id"]): answer(q, right) for q in questions}
        saved = api.put(
            f"{path}/pages/{page}",
            json={"responses": {key: value for key, value in responses.items() if value is not None}},
            headers=headers,
        )
        assert saved.status_code == 200, saved.json
    submitted = api.post(f"{path}/submit", json={}, headers=headers)
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["passed"] is right, submitted.json
    return submitted.json


# Tests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_attendance_completes_once_and_reaches_assessment_and_notification(make_system, mode):
    running = system(make_system, mode)
    coordinator, ani, budi = members(running, "koordinator", "ani", "budi")
    created, (first, second) = programme(running, coordinator, [{"hours": 4}, {"hours": 3.5}])
    seats = {
        (person["id"], s["id"]): enroll(running, person, s) for person in (ani, budi) for s in (first, second)
    }

    # A series of two: the default rule wants both attended.
    mark(
        running,
        coordinator,
        first,
        {seats[ani["id"], first["id"]]: "attended", seats[budi["id"], first["id"]]: "attended"},
    )
    mark(running, coordinator, second, {seats[budi["id"], second["id"]]: "absent"})
    assert my_completions(running, ani) == [] and my_completions(running, budi) == []
    progress = (
        running.client("enrollment")
        .get(f"/api/v1/programmes/{created['id']}/completions", headers=bearer(coordinator["token"]))
        .json
    )
    assert [
        (p["user"]["id"], p["sessions_attended"], p["sessions_enrolled"], p["completion"]) for p in progress
    ] == [
        (ani["id"], 1, 2, None),
        (budi["id"], 1, 2, None),
    ]

    mark(running, coordinator, second, {seats[ani["id"], second["id"]]: "attended"})
    (done,) = my_completions(running, ani)
    assert (done["programme_id"], done["hours"], done["session_id"]) == (created["id"], 7.5, None)
    assert done["starts_at"] == datetime.fromisoformat(first["starts_at"]).isoformat()
    assert done["ends_at"] == datetime.fromisoformat(second["ends_at"]).isoformat()
    (certificate,) = done["certificates"]
    assert certificate["status"] == "valid" and certificate["learner_name"] == "Ani"
    assert certificate["hours"] == 7.5 and certificate["issued_by"] is None
    assert certificate["competency_areas"] == ["cataloguing", "digital_services"]

    # Marking again, or the other learner's attendance, completes nobody twice.
    mark(running, coordinator, second, {seats[ani["id"], second["id"]]: "attended"})
    mark(running, coordinator, first, {seats[ani["id"], first["id"]]: "attended"})
    assert len(my_completions(running, ani)) == 1 and count(running, Certificate) == 1
    (event,) = completed_events(running)
    assert event["user_id"] == ani["id"] and event["certificate_code"] == certificate["code"]
    assert event["hours"] == 7.5 and event["session_id"] is None and event["language"] == "id"
    assert event["certificate_url"].endswith(f"/enrollment/certificates/{certificate['id']}.pdf")
    assert event["survey_url"].endswith("/assessment/surveys")

    # The competency evidence and the follow-up, the configured weeks after completion.
    evidence = running.query(
        "enrollment",
        lambda s: s.scalars(
            select(Evidence.area).where(Evidence.user_id == ani["id"], Evidence.kind == "programme")
        ).all(),
    )
    assert sorted(evidence) == ["cataloguing", "digital_services"]
    followup = running.query("enrollment", lambda s: s.scalars(select(FollowUp)).one())
    assert followup.due_at - followup.completed_at == timedelta(weeks=FOLLOWUP_WEEKS)

    # Assessment invites to the feedback survey; notification tells the learner, with both links.
    invitations = wait_for(
        lambda: (
            running.client("assessment").get("/api/v1/survey-invitations", headers=bearer(ani["token"])).json
        ),
        what="a survey invitation",
    )
    assert [(i["programme_id"], i["programme_title"]["id"]) for i in invitations] == [
        (created["id"], "Pelatihan Katalogisasi RDA")
    ]
    items = wait_for_inbox(running, ani["token"], count=3)["items"]
    (message,) = [item for item in items if item["event_type"] == COMPLETED]
    assert message["title"] == "Selamat, Anda menyelesaikan Pelatihan Katalogisasi RDA"
    assert event["certificate_url"] in message["body"] and event["survey_url"] in message["body"]
    assert certificate["code"] in message["body"] and message["link"] == "/enrollment/my-learning"

    # A lower share completes the other learner at once: one of two sessions is 50%.
    lowered = set_rule(running, coordinator, created["id"], min_attendance_percent=50)
    assert lowered.status_code == 200, lowered.json
    assert lowered.json["completed_user_ids"] == [budi["id"]] and lowered.json["rule"]["own"] is True
    (budi_done,) = my_completions(running, budi)
    assert budi_done["hours"] == 4 and budi_done["session_id"] == first["id"]
    assert len(completed_events(running)) == 2


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_a_passed_post_test_completes_where_the_rule_wants_one(make_system, mode):
    running = system(make_system, mode)
    running.seed("assessment")
    coordinator, citra, dewi = members(running, "koordinator", "citra", "dewi")
    created, (only,) = programme(running, coordinator, [{"hours": 2, "post_test": POST_TEST}])
    seats = {person["id"]: enroll(running, person, only) for person in (citra, dewi)}
    mark(running, coordinator, only, {seats[citra["id"]]: "attended", seats[dewi["id"]]: "attended"})
    assert my_completions(running, citra) == [] and my_completions(running, dewi) == []

    take_post_test(running, citra, right=False)
    graded = take_post_test(running, dewi, right=True)
    (done,) = wait_for(lambda: my_completions(running, dewi), what="dewi's completion")
    assert done["session_id"] == only["id"] and done["hours"] == 2
    (record,) = running.client("enrollment").get("/api/v1/me/record", headers=bearer(dewi["token"])).json
    assert record["source"] == "assessment" and record["details"]["quiz_slug"] == POST_TEST
    assert record["score"] == graded["score"]
    assert done["completed_at"] == record["occurred_at"]  # completed when the post-test was graded
    wait_for(
        lambda: running.client("enrollment").get("/api/v1/me/record", headers=bearer(citra["token"])).json,
        what="citra's failed post-test in her record",
    )
    assert my_completions(running, citra) == []
    progress = {
        p["user"]["id"]: p
        for p in running.client("enrollment")
        .get(f"/api/v1/programmes/{created['id']}/completions", headers=bearer(coordinator["token"]))
        .json
    }
    assert progress[citra["id"]]["post_tests"] == [{"quiz_slug": POST_TEST, "passed": False}]
    assert progress[citra["id"]]["attendance_met"] and not progress[citra["id"]]["post_tests_met"]

    # Without the post-test in the rule, attendance is enough.
    saved = set_rule(
        running, coordinator, created["id"], min_attendance_percent=100, post_test_required=False
    )
    assert saved.json["completed_user_ids"] == [citra["id"]]
    assert len(my_completions(running, citra)) == 1 and len(completed_events(running)) == 2


def issue_and_get(running, coordinator: dict, learner: dict) -> tuple[dict, dict]:
    """A one-session programme the learner completed, attendance marked on the roster page: the
    completion and its certificate."""
    _, (only,) = programme(running, coordinator, [{"hours": 3}])
    seat = enroll(running, learner, only)
    web = running.client("enrollment")
    login(web, coordinator["email"])
    roster = web.get(f"/sessions/{only['id']}/roster")
    marked = web.post(
        f"/sessions/{only['id']}/attendance",
        data={"csrf_token": csrf_token(roster.text), f"attendance_{seat}": "attended"},
    )
    assert marked.status_code == 302
    assert "1 peserta menyelesaikan program." in web.get(marked.headers["Location"]).text
    (done,) = my_completions(running, learner)
    return done, done["certificates"][0]


def test_the_certificate_pdf_is_its_learners_and_the_coordinators(embedded):
    coordinator, eka, fajar = members(embedded, "koordinator", "eka", "fajar")
    _, certificate = issue_and_get(embedded, coordinator, eka)
    api = embedded.client("enrollment")
    path = f"/api/v1/certificates/{certificate['id']}/pdf"

    own = api.get(path, headers=bearer(eka["token"]))
    assert own.status_code == 200 and own.headers["Content-Type"] == "application/pdf"
    assert f'filename="sertifikat-{certificate["code"]}.pdf"' in own.headers["Content-Disposition"]
    text = pdf_text(own.data)
    for printed in (
        "Eka",
        "Pelatihan Katalogisasi RDA",
        certificate["code"],
        "3 jam",
        "Katalogisasi dan metadata",
    ):
        assert printed in text
    assert f"/enrollment/certificates/verify/{certificate['code']}" in text
    assert api.get(path, headers=bearer(coordinator["token"])).status_code == 200
    assert api.get(path, headers=bearer(fajar["token"])).status_code == 404  # another's is unknown
    assert api.get(path).status_code == 401
    assert (
        api.get(f"/api/v1/certificates/{certificate['id']}", headers=bearer(fajar["token"])).status_code
        == 404
    )

    # The pages: from "my learning", the learner's own only.
    web = embedded.client("enrollment")
    assert web.get(f"/certificates/{certificate['id']}.pdf").status_code == 302  # to the login
    login(web, eka["email"])
    learning = web.get("/my-learning").text.split('id="completions"')[1]
    assert f"/certificates/{certificate['id']}.pdf" in learning and certificate["code"] in learning
    page = web.get(f"/certificates/{certificate['id']}.pdf")
    assert page.status_code == 200 and pdf_text(page.data).count("Eka") >= 1
    other = embedded.client("enrollment")
    login(other, fajar["email"])
    assert other.get(f"/certificates/{certificate['id']}.pdf").status_code == 404

    # A revoked certificate is handed out to nobody.
    revoked = api.post(
        f"/api/v1/certificates/{certificate['id']}/revoke",
        json={"reason": "Nama salah ketik"},
        headers=bearer(coordinator["token"]),
    )
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert api.get(path, headers=bearer(eka["token"])).status_code == 410
    assert web.get(f"/certificates/{certificate['id']}.pdf").status_code == 410


def test_verification_confirms_denies_and_takes_the_code_however_typed(embedded):
    coordinator, gita = members(embedded, "koordinator", "gita")
    done, certificate = issue_and_get(embedded, coordinator, gita)
    code = certificate["code"]
    web, api = embedded.client("enrollment"), embedded.client("enrollment")

    form = web.get("/certificates/verify")
    assert form.status_code == 200 and "Verifikasi sertifikat" in form.text
    valid = web.get(f"/certificates/verify/{code}")
    assert valid.status_code == 200
    assert (
        "Sertifikat sah" in valid.text and "Gita" in valid.text and "Pelatihan Katalogisasi RDA" in valid.text
    )
    starts = datetime.fromisoformat(certificate["starts_at"]).astimezone(UTC) + timedelta(hours=7)
    assert starts.strftime("%d-%m-%Y") in valid.text

    typed = "  " + code.lower().replace("-", " ").removeprefix("pst ") + " "  # "7kqm wx3d hn9r", no prefix
    redirected = web.get(f"/certificates/verify?{urlencode({'code': typed})}")
    assert redirected.status_code == 302 and redirected.headers["Location"].endswith(
        f"/certificates/verify/{code}"
    )
    assert web.get(f"/certificates/verify/{code.lower()}").status_code == 200
    checked = api.get(f"/api/v1/certificates/verify?code={code.lower().replace('-', '')}")
    assert checked.status_code == 200
    assert (checked.json["status"], checked.json["learner_name"], checked.json["code"]) == (
        "valid",
        "Gita",
        code,
    )

    unknown = "PST-2345-6789-ABCD" if code != "PST-2345-6789-ABCD" else "PST-2345-6789-ABCE"
    denied = web.get(f"/certificates/verify/{unknown}")
    assert (
        denied.status_code == 404 and "Sertifikat tidak dikenal" in denied.text and "Gita" not in denied.text
    )
    assert api.get(f"/api/v1/certificates/verify?code={unknown}").status_code == 404
    garbled = web.get("/certificates/verify?code=bukan-kode")
    assert garbled.status_code == 400 and "Kode sertifikat berbentuk seperti" in garbled.text
    refused = api.get("/api/v1/certificates/verify?code=bukan-kode")
    assert refused.status_code == 422 and refused.json["errors"]["code"]

    # Revoked through the coordinator's page: the verification denies it, and a new one may follow.
    coordinator_web = embedded.client("enrollment")
    login(coordinator_web, coordinator["email"])
    page_path = f"/programmes/{done['programme_id']}/completion"
    page = coordinator_web.get(page_path)
    assert page.status_code == 200 and code in page.text
    field = f"revoke-{certificate['id']}-reason"
    empty = coordinator_web.post(
        f"/certificates/{certificate['id']}/revoke",
        data={f"revoke-{certificate['id']}-csrf_token": csrf_token(page.text), field: " "},
    )
    assert empty.status_code == 400 and "Kolom ini wajib diisi." in empty.text
    revoked = coordinator_web.post(
        f"/certificates/{certificate['id']}/revoke",
        data={f"revoke-{certificate['id']}-csrf_token": csrf_token(page.text), field: "Diterbitkan keliru"},
    )
    assert revoked.status_code == 302
    denied = web.get(f"/certificates/verify/{code}")
    assert (
        denied.status_code == 200
        and "Sertifikat dicabut" in denied.text
        and "Sertifikat sah" not in denied.text
    )
    assert api.get(f"/api/v1/certificates/verify?code={code}").json["status"] == "revoked"
    again = api.post(
        f"/api/v1/certificates/{certificate['id']}/revoke",
        json={"reason": "lagi"},
        headers=bearer(coordinator["token"]),
    )
    assert again.status_code == 409

    page = coordinator_web.get(page_path)
    assert "Diterbitkan keliru" in page.text
    issued = coordinator_web.post(
        f"/completions/{done['id']}/certificate", data={"csrf_token": csrf_token(page.text)}
    )
    assert issued.status_code == 302
    (new,) = [c for c in my_completions(embedded, gita)[0]["certificates"] if c["status"] == "valid"]
    assert new["code"] != code and new["issued_by"] == coordinator["id"]
    assert web.get(f"/certificates/verify/{new['code']}").status_code == 200
    assert web.get(f"/certificates/verify/{code}").status_code == 200  # still known, still revoked
    assert "Sertifikat dicabut" in web.get(f"/certificates/verify/{code}").text


def test_a_rule_without_automatic_certificates_leaves_them_to_the_coordinator(embedded):
    coordinator, hana = members(embedded, "koordinator", "hana")
    created, (only,) = programme(embedded, coordinator, [{"hours": 2}])
    saved = set_rule(
        embedded, coordinator, created["id"], min_attendance_percent=100, automatic_certificate=False
    )
    assert saved.status_code == 200 and saved.json["completed_user_ids"] == []
    mark(embedded, coordinator, only, {enroll(embedded, hana, only): "attended"})
    (done,) = my_completions(embedded, hana)
    assert done["certificates"] == []
    (event,) = completed_events(embedded)
    assert event["certificate_code"] is None and event["certificate_url"] is None

    web = embedded.client("enrollment")
    login(web, hana["email"])
    assert "Koordinator akan menerbitkan sertifikatnya." in web.get("/my-learning").text
    api = embedded.client("enrollment")
    path = f"/api/v1/completions/{done['id']}/certificates"
    assert api.post(path, headers=bearer(hana["token"])).status_code == 403
    issued = api.post(path, headers=bearer(coordinator["token"]))
    assert issued.status_code == 201 and issued.json["issued_by"] == coordinator["id"]
    assert api.post(path, headers=bearer(coordinator["token"])).status_code == 409
    assert (
        api.post("/api/v1/completions/999999/certificates", headers=bearer(coordinator["token"])).status_code
        == 404
    )
    assert count(embedded, Certificate) == 1


def test_bad_rules_and_reasons_are_refused_and_nothing_is_stored(embedded):
    coordinator, indra = members(embedded, "koordinator", "indra")
    created, (only,) = programme(embedded, coordinator, [{"hours": 2}])
    rule_path = f"/api/v1/programmes/{created['id']}/completion-rule"
    api = embedded.client("enrollment")
    default = api.get(rule_path).json
    assert (default["min_attendance_percent"], default["post_test_required"], default["own"]) == (
        100,
        True,
        False,
    )

    for body in ({"min_attendance_percent": 0}, {"min_attendance_percent": 101}, {"min_attendance_percent": "semua"},
                 {"post_test_required": True}, {"min_attendance_percent": 80, "automatic_certificate": "ya"}):  # fmt: skip
        refused = api.put(rule_path, json=body, headers=bearer(coordinator["token"]))
        assert refused.status_code == 422 and refused.json["errors"], body
    assert (
        api.put(rule_path, json={"min_attendance_percent": 50}, headers=bearer(indra["token"])).status_code
        == 403
    )
    assert api.put(rule_path, json={"min_attendance_percent": 50}).status_code == 401
    missing = api.put("/api/v1/programmes/999999/completion-rule", json={"min_attendance_percent": 50},
                      headers=bearer(coordinator["token"]))  # fmt: skip
    assert missing.status_code == 404
    assert count(embedded, CompletionRule) == 0

    web = embedded.client("enrollment")
    login(web, coordinator["email"])
    page = web.get(f"/programmes/{created['id']}/completion")
    assert page.status_code == 200 and "Aturan penyelesaian" in page.text
    wrong = web.post(f"/programmes/{created['id']}/completion",
                     data={"csrf_token": csrf_token(page.text), "min_attendance_percent": "150"})  # fmt: skip
    assert wrong.status_code == 400 and 'value="150"' in wrong.text and 'role="alert"' in wrong.text
    assert count(embedded, CompletionRule) == 0
    saved = web.post(f"/programmes/{created['id']}/completion",
                     data={"csrf_token": csrf_token(page.text), "min_attendance_percent": "75",
                           "post_test_required": "y"})  # fmt: skip
    assert saved.status_code == 302
    assert api.get(rule_path).json == {"programme_id": created["id"], "min_attendance_percent": 75,
                                       "post_test_required": True, "automatic_certificate": False, "own": True}  # fmt: skip
    staff_web = embedded.client("enrollment")
    login(staff_web, indra["email"])
    assert staff_web.get(f"/programmes/{created['id']}/completion").status_code == 403

    # Reasons for revoking: required, and not a novel.
    set_rule(embedded, coordinator, created["id"], min_attendance_percent=100)
    mark(embedded, coordinator, only, {enroll(embedded, indra, only): "attended"})
    certificate = my_completions(embedded, indra)[0]["certificates"][0]
    revoke = f"/api/v1/certificates/{certificate['id']}/revoke"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        refused = api.post(revoke, json=body, headers=bearer(coordinator["token"]))
        assert refused.status_code == 422 and refused.json["errors"]["reason"], body
    assert api.post(revoke, json={"reason": "salah"}, headers=bearer(indra["token"])).status_code == 403
    assert api.post("/api/v1/certificates/999999/revoke", json={"reason": "salah"},
                    headers=bearer(coordinator["token"])).status_code == 404  # fmt: skip
    assert running_certificate_status(embedded, certificate["id"]) == "valid"


def running_certificate_status(running, certificate_id: int) -> str:
    return running.query("enrollment", lambda s: s.get(Certificate, certificate_id).status)


def test_the_notification_template_reads_in_both_languages_with_and_without_a_certificate():
    template = MessageTemplate(**TEMPLATES["activity_completed"])
    example = catalog.ACTIVITY_COMPLETED.example
    indonesian = render(template, "id", {"event": example, "recipient": {}})
    assert indonesian.subject == "Selamat, Anda menyelesaikan Pelatihan Katalogisasi"
    assert "(16 jam)" in indonesian.text and example["certificate_url"] in indonesian.text
    assert example["certificate_code"] in indonesian.text and example["survey_url"] in indonesian.text
    english = render(template, "en", {"event": example, "recipient": {}})
    assert english.subject == "Congratulations, you completed Cataloguing Training"
    assert "(16 hours)" in english.text and "feedback survey" in english.text
    without = render(
        template,
        "en",
        {"event": example | {"certificate_code": None, "certificate_url": None}, "recipient": {}},
    )
    assert "certificate" not in without.text and example["survey_url"] in without.text


def test_the_api_is_complete_in_openapi(embedded):
    spec = embedded.client("enrollment").get("/openapi.json").json
    for path, method in [
        ("/api/v1/programmes/{programme_id}/completion-rule", "get"),
        ("/api/v1/programmes/{programme_id}/completion-rule", "put"),
        ("/api/v1/programmes/{programme_id}/completions", "get"),
        ("/api/v1/me/completions", "get"),
        ("/api/v1/completions/{completion_id}/certificates", "post"),
        ("/api/v1/certificates/{certificate_id}", "get"),
        ("/api/v1/certificates/{certificate_id}/pdf", "get"),
        ("/api/v1/certificates/{certificate_id}/revoke", "post"),
        ("/api/v1/certificates/verify", "get"),
    ]:
        assert method in spec["paths"][path], path
    pdf = spec["paths"]["/api/v1/certificates/{certificate_id}/pdf"]["get"]["responses"]
    assert "application/pdf" in pdf["200"]["content"] and "410" in pdf
    assert count(embedded, Completion) == 0
