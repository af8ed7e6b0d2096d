"""Taking quizzes: answers page by page, resume, submit once, time limits, grading, review
options that never leak an answer early, audiences, results and the result email."""

from __future__ import annotations

import html
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.assessment.models import Attempt, Participant, Quiz
from services.notification.models import Delivery
from shared.db import utcnow
from shared.messaging import OutboxMessage
from tests.support import csrf_token, wait_for
from tests.test_assessment_bank import seeded
from tests.test_skeleton import bearer, people, programme_with_session, token

GRADED = "pustaka.attempt.graded.v1"
# Names a taker's responses never contain, whatever the review shows: they belong to the bank.
BANK_WORDS = ("fraction", "answer_key", "feedback_true", "feedback_false", "grader_info", "case_sensitive")
# What only a review that shows correct answers, correctness or feedback puts in a response.
REVIEW_WORDS = ("correct_answer", "correct-answer", "points_earned", "general_feedback", '"feedback"')


@pytest.fixture(params=["embedded", "distributed"])
def system(request, make_system):
    """The system on SQLite and an in-memory bus, and on PostgreSQL and RabbitMQ, with the test bank."""
    running = make_system(request.param)
    seeded(running)
    return running


def coordinator(running) -> dict:
    (address,) = people(running, "koordinator")
    return bearer(token(running.client("enrollment"), address))


def bank(running, headers: dict) -> dict[int, dict]:
    """Every question as stored, answers and all (the coordinators' view)."""
    assessment = running.client("assessment")
    listed = assessment.get("/api/v1/questions", headers=headers).json
    return {q["id"]: assessment.get(f"/api/v1/questions/{q['id']}", headers=headers).json for q in listed}


def _texts(text: dict) -> set[str]:
    return {text["id"], text["en"]} - {""}


def secrets_of(question: dict) -> set[str]:
    """What must stay hidden of a question until the review shows it: per-choice and per-answer
    feedback, accepted short and numeric answers, the right matching pairs, the graders' notes."""
    body, found = question["body"], set()
    for choice in body.get("choices", []):
        found |= _texts(choice["feedback"])
    for answer in body.get("answers", []):
        found |= _texts(answer["feedback"])
        found.add(answer["text"] if "text" in answer else f"{answer['value']:g}")
    for field in ("feedback_true", "feedback_false", "grader_info"):
        found |= _texts(body.get(field, {"id": "", "en": ""}))
    for pair in body.get("pairs", []):
        if pair["prompt"]["id"]:
            found.add(f'"{pair["key"]}": "{pair["answer_key"]}"')  # the mapping, as JSON
            found.add(f"{pair['prompt']['id']} → {pair['answer']['id']}")  # and in words
    return found


def wrong_response(question: dict):
    """A wrong answer of each type, so that nothing shown of the response is a secret."""
    body = question["body"]
    if question["type"] == "single_choice":
        return next(c["key"] for c in body["choices"] if c["fraction"] < 1)
    if question["type"] == "multiple_response":
        return [c["key"] for c in body["choices"] if c["fraction"] <= 0]
    if question["type"] == "true_false":
        return not body["answer"]
    if question["type"] == "matching":
        distractor = next(p["answer_key"] for p in body["pairs"] if not p["prompt"]["id"])
        return {p["key"]: distractor for p in body["pairs"] if p["prompt"]["id"]}
    return {"short_answer": "jawaban keliru", "numeric": "12,5", "essay": "tiga kata saja"}[question["type"]]


def web_form(questions: dict[int, dict]) -> dict:
    """The same wrong answers as form fields of the attempt pages."""
    form = {}
    for question_id, question in questions.items():
        response = wrong_response(question)
        if question["type"] == "matching":
            form |= {f"q-{question_id}-{key}": value for key, value in response.items()}
        elif question["type"] == "true_false":
            form[f"q-{question_id}"] = "true" if response else "false"
        else:
            form[f"q-{question_id}"] = response
    return form


def searchable(response) -> str:
    if response.json is not None:
        return json.dumps(response.json, sort_keys=True, ensure_ascii=False)
    return html.unescape(response.text)


def take_by_api(running, slug: str, questions: dict[int, dict]) -> tuple[list, list, str, dict]:
    """An anonymous attempt through the API: the responses before submitting, those after, and
    the attempt's path and token headers."""
    api = running.client("assessment")
    before = [api.get("/api/v1/quizzes"), api.get(f"/api/v1/quizzes/{slug}")]
    started = api.post(f"/api/v1/quizzes/{slug}/attempts", json={})
    assert started.status_code == 201, started.json
    before.append(started)
    attempt, headers = started.json, {"X-Attempt-Token": started.json["token"]}
    path = f"/api/v1/attempts/{attempt['id']}"
    for page in range(attempt["page_count"]):
        shown = api.get(f"{path}?page={page}", headers=headers)
        responses = {
            str(q["question_id"]): wrong_response(questions[q["question_id"]])
            for q in shown.json["questions"]
        }
        saved = api.put(f"{path}/pages/{page}", json={"responses": responses}, headers=headers)
        assert saved.status_code == 200, saved.json
        before += [shown, saved]
    first = str(attempt["questions"][0]["question_id"])
    refused = api.put(f"{path}/pages/0", json={"responses": {first: 12345}}, headers=headers)
    assert refused.status_code == 422
    before.append(refused)
    submitted = api.post(f"{path}/submit", json={}, headers=headers)
    assert submitted.status_code == 200, submitted.json
    return before, [submitted, api.get(path, headers=headers)], path, headers


def take_on_the_web(running, slug: str, questions: dict[int, dict]) -> tuple[list, list]:
    """An anonymous attempt through the pages, with one refused save on the way."""
    web = running.client("assessment")
    form = web_form(questions)
    intro = web.get(f"/quizzes/{slug}")
    before = [web.get("/quizzes"), intro]
    location = web.post(f"/quizzes/{slug}/start", data={"csrf_token": csrf_token(intro.text)}).headers[
        "Location"
    ]
    bad = web.post(
        location,
        data={"csrf_token": csrf_token(intro.text), "action": "save"}
        | form
        | dict.fromkeys(
            [f"q-{qid}" for qid, q in questions.items() if q["type"] == "numeric"], "bukan angka"
        ),
    )
    before.append(bad)
    while "/pages/" in location:
        page = web.get(location)
        assert page.status_code == 200, page.text
        action = "next" if 'value="next"' in page.text else "finish"
        moved = web.post(location, data=form | {"csrf_token": csrf_token(page.text), "action": action})
        assert moved.status_code == 302, moved.text
        before.append(page)
        location = moved.headers["Location"]
    confirm = web.get(location)
    before.append(confirm)
    done = web.post(location, data={"csrf_token": csrf_token(confirm.text), "email": ""})
    assert done.status_code == 302, done.text
    result = web.get(done.headers["Location"])
    assert result.status_code == 200
    return before, [result]


def assert_hidden(responses: list, secrets: set[str], words: tuple[str, ...]) -> None:
    for response in responses:
        text = searchable(response)
        for secret in secrets | set(words):
            assert secret not in text, f"{secret!r} leaked in {text[:3000]}"


def test_no_answer_leaks(system):
    running = system
    questions = bank(running, coordinator(running))
    used = {qid: q for qid, q in questions.items() if q["name"] in QUIZ_QUESTIONS}
    secrets = set().union(*(secrets_of(q) for q in used.values()))
    assert len(secrets) > 20
    hidden = BANK_WORDS + REVIEW_WORDS

    # uji-tertutup shows responses and the score after submit, the rest only once closed.
    before, after, path, headers = take_by_api(running, "uji-tertutup", used)
    assert_hidden(before + after, secrets, hidden)
    assert after[0].json["score"] == 0 and after[0].json["questions"][0]["response"] is not None
    before, after = take_on_the_web(running, "uji-tertutup", used)
    assert_hidden(before + after, secrets, hidden)
    assert 'id="score"' in after[0].text and "Jawaban Anda" in after[0].text

    # uji-terbuka shows everything after submit: still nothing before.
    before, after, _, _ = take_by_api(running, "uji-terbuka", used)
    assert_hidden(before, secrets, hidden)
    assert_hidden(after, set(), BANK_WORDS)
    review = {q["type"]: q for q in after[0].json["questions"]}
    assert review["short_answer"]["correct_answer"] == ["Katalog Daring Rahasia"]
    assert review["numeric"]["correct_answer"] == [{"value": 4817.25, "tolerance": 0.5}]
    assert {
        "prompt": {"id": "Kutipan", "en": "Quotation"},
        "answer": {
            "id": "Kata-kata orang lain yang disebut sumbernya",
            "en": "Someone else's words with their source",
        },
    } in review["matching"]["correct_answer"]
    assert review["single_choice"]["feedback"] == [{"id": "Umpan balik SC-a-5e1", "en": "Feedback SC-a-5e1"}]
    assert review["true_false"]["correct_answer"] is True and review["true_false"]["correctness"] == "wrong"
    before, after = take_on_the_web(running, "uji-terbuka", used)
    assert_hidden(before, secrets, hidden)
    page = searchable(after[0])
    for shown in (
        "Katalog Daring Rahasia",
        "4817.25",
        "Kutipan → Kata-kata orang lain yang disebut sumbernya",
        "Umpan balik SC-a-5e1",
        "Jawaban yang benar",
        "Tidak benar",
    ):
        assert shown in page, shown
    assert "Umpan balik SC-c-3a7" not in page  # the feedback of a choice not taken

    # Once uji-tertutup closes, its after_close options show the rest.
    def close(session):
        session.scalar(select(Quiz).where(Quiz.slug == "uji-tertutup")).closes_at = utcnow() - timedelta(
            minutes=1
        )
        session.commit()

    running.query("assessment", close)
    closed = searchable(running.client("assessment").get(path, headers=headers))
    assert '"correct_answer"' in closed and "Katalog Daring Rahasia" in closed


QUIZ_QUESTIONS = {
    "UJI-Pilihan tunggal",
    "UJI-Pilihan ganda",
    "UJI-Benar salah",
    "UJI-Isian singkat",
    "UJI-Angka",
    "UJI-Menjodohkan",
}


# --- The API of an attempt ----------------------------------------------------------------------


def start_anonymously(running, slug: str) -> tuple[dict, dict, str]:
    started = running.client("assessment").post(f"/api/v1/quizzes/{slug}/attempts", json={})
    assert started.status_code == 201, started.json
    return started.json, {"X-Attempt-Token": started.json["token"]}, f"/api/v1/attempts/{started.json['id']}"


def graded_events(running) -> list[dict]:
    def read(session):
        rows = session.scalars(select(OutboxMessage.body).where(OutboxMessage.event_type == GRADED)).all()
        return [json.loads(body)["data"] for body in rows]

    return running.query("assessment", read)


def by_type(questions: dict[int, dict]) -> dict[str, int]:
    return {
        question["type"]: question_id
        for question_id, question in questions.items()
        if question["name"] in QUIZ_QUESTIONS
    }


def test_answers_are_saved_page_by_page_and_submitted_once(system):
    running = system
    api = running.client("assessment")
    ids = by_type(bank(running, coordinator(running)))
    attempt, headers, path = start_anonymously(running, "uji-tertutup")
    page_of = {
        q["question_id"]: q["page"]
        for page in range(3)
        for q in api.get(f"{path}?page={page}", headers=headers).json["questions"]
    }
    assert sorted(page_of.values()) == [0, 0, 1, 1, 2, 2]
    first, other = (
        [qid for qid, page in page_of.items() if page == 0],
        next(qid for qid, page in page_of.items() if page == 1),
    )

    assert api.get(path).status_code == 404  # without its token, nobody's attempt
    assert api.get(path, headers={"X-Attempt-Token": "not-the-token"}).status_code == 404

    def save(page: int, responses: dict, status: int = 200):
        response = api.put(f"{path}/pages/{page}", json={"responses": responses}, headers=headers)
        assert response.status_code == status, response.json
        return response.json

    errors = save(0, {"999999": "a", str(other): "a", str(first[0]): {"not": "an answer"}}, 422)["errors"]
    assert set(errors) == {"responses.999999", f"responses.{other}", f"responses.{first[0]}"}
    assert save(0, {}, 200)["answered_count"] == 0  # nothing of the refused save was kept
    assert api.put(f"{path}/pages/7", json={"responses": {}}, headers=headers).status_code == 404
    assert api.put(f"{path}/pages/0", json={}, headers=headers).json["errors"]["responses"]

    right = {ids["single_choice"]: "b", ids["multiple_response"]: ["a", "b"], ids["true_false"]: "true",
             ids["short_answer"]: "  katalog   daring RAHASIA ", ids["numeric"]: "4817,5"}  # fmt: skip
    for page in range(3):
        save(page, {str(qid): response for qid, response in right.items() if page_of[qid] == page})
    cleared = save(page_of[ids["numeric"]], {str(ids["numeric"]): None})
    assert cleared["answered_count"] == 4
    save(page_of[ids["numeric"]], {str(ids["numeric"]): 4817})  # within the tolerance
    kept = api.get(f"{path}?page={page_of[ids['true_false']]}", headers=headers).json
    assert {q["question_id"]: q["response"] for q in kept["questions"]}[ids["true_false"]] is True

    submitted = api.post(f"{path}/submit", json={}, headers=headers)
    assert submitted.status_code == 200, submitted.json
    result = submitted.json
    assert result["state"] == "graded" and result["max_score"] == 7.0
    assert result["score"] == 6.0  # everything but the unanswered matching question
    assert result["level"] == {"id": "Mahir", "en": "Advanced"} and result["passed"] is True
    assert result["area_scores"] == {
        "searching": 100.0,
        "evaluating": 100.0,
        "communicating": 100.0,
        "ethical_use": 0.0,
    }
    again = api.post(f"{path}/submit", json={}, headers=headers)
    assert again.status_code == 200 and again.json == result
    assert save(0, {str(first[0]): "a"}, 409)["message"]
    events = [event for event in graded_events(running) if event["attempt_id"] == attempt["id"]]
    assert len(events) == 1 and events[0]["score"] == 6.0 and events[0]["user_id"] is None


def test_questions_and_choices_keep_their_order_within_an_attempt(system):
    running = system
    api = running.client("assessment")
    orders = set()
    for _ in range(8):
        _, headers, path = start_anonymously(running, "uji-acak")
        shown = [api.get(path, headers=headers).json["questions"] for _ in range(2)]
        assert shown[0] == shown[1]
        assert len({q["question_id"] for q in shown[0]}) == 3
        assert all(q["text"]["id"].startswith("Pertanyaan acak") for q in shown[0])
        orders.add(tuple((q["question_id"], *(c["key"] for c in q["body"]["choices"])) for q in shown[0]))
    assert len(orders) > 1  # each attempt draws and shuffles on its own


def test_a_signed_in_taker_resumes_within_the_attempts_allowed_and_gets_a_grade(system):
    running = system
    api = running.client("assessment")
    enrollment = running.client("enrollment")
    coordinator_address, staff_address = people(running, "koordinator", "wulan")
    boss, staff = bearer(token(enrollment, coordinator_address)), bearer(token(enrollment, staff_address))
    quiz = {"slug": "dua-kali", "title": {"id": "Dua kali", "en": "Twice"}, "questions": ["UJI-Pilihan tunggal", "UJI-Benar salah"],
            "attempts_allowed": 2, "review": {"after_submit": ["score"]}}  # fmt: skip
    assert api.post("/api/v1/quizzes", json=quiz, headers=boss).status_code == 201

    def attempt(answers: list) -> dict:
        started = api.post("/api/v1/quizzes/dua-kali/attempts", json={}, headers=staff)
        assert started.status_code == 201, started.json
        resumed = api.post("/api/v1/quizzes/dua-kali/attempts", json={}, headers=staff)
        assert (
            resumed.status_code == 200
            and resumed.json["id"] == started.json["id"]
            and resumed.json["token"] is None
        )
        path = f"/api/v1/attempts/{started.json['id']}"
        responses = {
            str(q["question_id"]): answer
            for q, answer in zip(started.json["questions"], answers, strict=True)
        }
        assert api.put(f"{path}/pages/0", json={"responses": responses}, headers=staff).status_code == 200
        return api.post(f"{path}/submit", json={}, headers=staff).json

    assert attempt(["b", True])["percent"] == 100.0
    assert attempt(["a", False])["percent"] == 0.0
    refused = api.post("/api/v1/quizzes/dua-kali/attempts", json={}, headers=staff)
    assert refused.status_code == 409 and "every attempt" in refused.json["message"]

    assert api.get("/api/v1/quizzes/dua-kali/my-grade").status_code == 401
    for method, percent in (("highest", 100.0), ("last", 0.0), ("first", 100.0), ("average", 50.0)):
        assert (
            api.put(
                "/api/v1/quizzes/dua-kali", json=quiz | {"grading_method": method}, headers=boss
            ).status_code
            == 200
        )
        grade = api.get("/api/v1/quizzes/dua-kali/my-grade", headers=staff).json
        assert (grade["grading_method"], grade["percent"], grade["graded_attempts"]) == (method, percent, 2)


def test_the_availability_window(system):
    running = system
    api, web = running.client("assessment"), running.client("assessment")
    boss = coordinator(running)
    now = utcnow()
    base = {"title": {"id": "Berjendela", "en": "Windowed"}, "questions": ["UJI-Pilihan tunggal"]}
    for slug, opens, closes in (
        ("belum-buka", now + timedelta(days=1), None),
        ("sudah-tutup", None, now - timedelta(days=1)),
    ):
        definition = base | {
            "slug": slug,
            "opens_at": opens and opens.isoformat(),
            "closes_at": closes and closes.isoformat(),
        }
        assert api.post("/api/v1/quizzes", json=definition, headers=boss).status_code == 201
    not_yet = api.post("/api/v1/quizzes/belum-buka/attempts", json={})
    assert not_yet.status_code == 409 and "not open yet" in not_yet.json["message"]
    closed = api.post("/api/v1/quizzes/sudah-tutup/attempts", json={})
    assert closed.status_code == 409 and "closed" in closed.json["message"]
    page = web.get("/quizzes/sudah-tutup")
    assert "Kuis ini sudah ditutup." in page.text and 'id="start"' not in page.text
    assert api.post("/api/v1/quizzes/tidak-ada/attempts", json={}).status_code == 404


def test_audiences_staff_and_those_enrolled(make_system):
    running = make_system("embedded")
    seeded(running)
    api, enrollment = running.client("assessment"), running.client("enrollment")
    coordinator_address, staff_address = people(running, "koordinator", "yudi")
    boss, staff = (token(enrollment, address) for address in (coordinator_address, staff_address))
    programme, session = programme_with_session(enrollment, boss, seats=5)
    base = {"title": {"id": "Khusus", "en": "Restricted"}, "questions": ["UJI-Pilihan tunggal"]}
    for definition in (base | {"slug": "khusus-staf", "audience": "staff"},
                       base | {"slug": "khusus-peserta", "audience": "enrolled", "programme_id": programme["id"]}):  # fmt: skip
        assert api.post("/api/v1/quizzes", json=definition, headers=bearer(boss)).status_code == 201

    assert api.post("/api/v1/quizzes/khusus-staf/attempts", json={}).status_code == 401
    assert api.post("/api/v1/quizzes/khusus-staf/attempts", json={}, headers=bearer(staff)).status_code == 201
    web = running.client("assessment")
    redirected = web.post(
        "/quizzes/khusus-staf/start", data={"csrf_token": csrf_token(web.get("/quizzes/uji-terbuka").text)}
    )
    assert redirected.status_code == 302 and "/login" in redirected.headers["Location"]
    assert "khusus-staf" not in web.get("/quizzes").text  # the public list shows public quizzes only

    assert (
        api.post("/api/v1/quizzes/khusus-peserta/attempts", json={}, headers=bearer(staff)).status_code == 403
    )
    enrolled = enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(staff))
    assert enrolled.status_code == 201 and enrolled.json["status"] == "confirmed"
    wait_for(
        lambda: running.query("assessment", lambda s: s.scalars(select(Participant)).all()),
        what="the confirmed seat to reach assessment",
    )
    assert (
        api.post("/api/v1/quizzes/khusus-peserta/attempts", json={}, headers=bearer(staff)).status_code == 201
    )
    listed = {quiz["slug"] for quiz in api.get("/api/v1/quizzes", headers=bearer(staff)).json}
    assert {"khusus-staf", "khusus-peserta", "uji-terbuka"} <= listed
    assert not {"khusus-staf", "khusus-peserta"} & {quiz["slug"] for quiz in api.get("/api/v1/quizzes").json}


def move_deadline(running, attempt_id: int, seconds: float) -> None:
    """Let time pass: the attempt's deadline is ``seconds`` from now."""

    def move(session):
        session.get(Attempt, attempt_id).deadline = utcnow() + timedelta(seconds=seconds)
        session.commit()

    running.query("assessment", move)


def test_the_server_enforces_the_time_limit(system):
    running = system
    api = running.client("assessment")
    boss = coordinator(running)
    closes = utcnow() + timedelta(minutes=30)
    timed = {"slug": "berwaktu", "title": {"id": "Berwaktu", "en": "Timed"}, "questions": ["UJI-Pilihan tunggal", "UJI-Benar salah"],
             "time_limit_minutes": 5, "review": {"after_submit": ["responses", "score"]}}  # fmt: skip
    assert api.post("/api/v1/quizzes", json=timed, headers=boss).status_code == 201
    capped = timed | {"slug": "berwaktu-tutup", "time_limit_minutes": 60, "closes_at": closes.isoformat()}
    assert api.post("/api/v1/quizzes", json=capped, headers=boss).status_code == 201

    attempt, headers, path = start_anonymously(running, "berwaktu")
    assert 290 <= attempt["seconds_left"] <= 300
    first = attempt["questions"][0]
    assert (
        api.put(
            f"{path}/pages/0", json={"responses": {str(first["question_id"]): "b"}}, headers=headers
        ).status_code
        == 200
    )
    move_deadline(running, attempt["id"], -1)
    late = api.put(
        f"{path}/pages/0",
        json={"responses": {str(attempt["questions"][1]["question_id"]): True}},
        headers=headers,
    )
    assert late.status_code == 409  # closed on this very access, with what was saved before
    result = api.get(path, headers=headers).json
    assert result["state"] == "graded" and result["score"] == 1.0
    assert [q["response"] for q in result["questions"]] == ["b", None]

    # Nobody comes back: the worker closes it.
    forgotten, _, _ = start_anonymously(running, "berwaktu")
    move_deadline(running, forgotten["id"], -1)
    wait_for(
        lambda: running.query("assessment", lambda s: s.get(Attempt, forgotten["id"]).graded_at),
        what="the worker to close the expired attempt",
    )
    assert any(event["attempt_id"] == forgotten["id"] for event in graded_events(running))

    capped_attempt, _, _ = start_anonymously(running, "berwaktu-tutup")
    deadline = running.query("assessment", lambda s: s.get(Attempt, capped_attempt["id"]).deadline)
    assert abs((deadline - closes).total_seconds()) < 1

    # The page counts down from the server's figure and hands itself in at the end.
    web = running.client("assessment")
    intro = web.get("/quizzes/berwaktu")
    assert "Batas waktu: 5 menit" in intro.text
    location = web.post("/quizzes/berwaktu/start", data={"csrf_token": csrf_token(intro.text)}).headers[
        "Location"
    ]
    page = web.get(location)
    assert 'id="time-left" data-seconds="' in page.text and "form.submit()" in page.text
    handed_in = web.post(
        location,
        data={"csrf_token": csrf_token(page.text), "action": "timeout", f"q-{first['question_id']}": "b"},
    )
    assert handed_in.status_code == 302 and handed_in.headers["Location"].startswith("/attempts/")
    assert 'id="score">1 / 2' in web.get(handed_in.headers["Location"]).text


def test_essays_wait_for_a_coordinators_grade(system):
    running = system
    api = running.client("assessment")
    enrollment = running.client("enrollment")
    coordinator_address, staff_address = people(running, "koordinator", "sari")
    boss, staff = bearer(token(enrollment, coordinator_address)), bearer(token(enrollment, staff_address))
    attempt, headers, path = start_anonymously(running, "uji-esai")
    choice, essay = (q["question_id"] for q in attempt["questions"])
    # A short essay is a draft: it is saved, but cannot be handed in.
    draft = api.put(f"{path}/pages/0", json={"responses": {str(essay): "dua kata"}}, headers=headers)
    assert draft.status_code == 200 and draft.json["questions"][1]["response"] == "dua kata"
    refused = api.post(f"{path}/submit", json={}, headers=headers)
    assert refused.status_code == 422 and list(refused.json["errors"]) == [f"responses.{essay}"]
    assert api.get(path, headers=headers).json["state"] == "in_progress"
    responses = {str(choice): "b", str(essay): "Banjir rob menggenangi pesisir Semarang setiap musim pasang."}
    assert api.put(f"{path}/pages/0", json={"responses": responses}, headers=headers).status_code == 200
    submitted = api.post(f"{path}/submit", json={}, headers=headers).json
    assert submitted["state"] == "needs_grading" and "score" not in submitted
    assert submitted["questions"][1]["correctness"] == "needs_grading"
    assert "RAHASIA-ESAI" not in json.dumps(submitted)  # the graders' notes are theirs
    assert not [e for e in graded_events(running) if e["attempt_id"] == attempt["id"]]

    assert api.get("/api/v1/grading", headers=staff).status_code == 403
    pending = api.get("/api/v1/grading", headers=boss).json
    assert [(a["id"], [p["question_id"] for p in a["pending"]]) for a in pending] == [
        (attempt["id"], [essay])
    ]
    assert pending[0]["pending"][0]["response"].startswith("Banjir rob")
    grading = f"/api/v1/grading/{attempt['id']}/questions/{essay}"
    assert api.put(grading, json={"fraction": 1.5}, headers=boss).json["errors"]["fraction"]
    assert (
        api.put(
            f"/api/v1/grading/{attempt['id']}/questions/{choice}", json={"fraction": 1}, headers=boss
        ).status_code
        == 409
    )
    graded = api.put(grading, json={"fraction": 0.75}, headers=boss)
    assert graded.status_code == 200 and graded.json["state"] == "graded"
    assert api.put(grading, json={"fraction": 0.5}, headers=boss).status_code == 409
    result = api.get(path, headers=headers).json
    assert (result["score"], result["max_score"]) == (4.0, 5.0)
    (event,) = [e for e in graded_events(running) if e["attempt_id"] == attempt["id"]]
    assert (event["score"], event["percent"]) == (4.0, 80.0)

    # An essay left empty is worth nothing and needs nobody.
    blank, blank_headers, blank_path = start_anonymously(running, "uji-esai")
    assert api.post(f"{blank_path}/submit", json={}, headers=blank_headers).json["state"] == "graded"

    # The coordinators' page lists what waits, and grades it in points.
    waiting, waiting_headers, waiting_path = start_anonymously(running, "uji-esai")
    api.put(
        f"{waiting_path}/pages/0",
        json={"responses": {str(essay): "tiga kata cukup"}},
        headers=waiting_headers,
    )
    api.post(f"{waiting_path}/submit", json={}, headers=waiting_headers)
    web = running.client("assessment")
    login_web(running, web, coordinator_address)
    listing = web.get("/grading")
    assert listing.status_code == 200 and f"/grading/{waiting['id']}" in listing.text
    form = web.get(f"/grading/{waiting['id']}")
    assert "tiga kata cukup" in form.text and "RAHASIA-ESAI-7f" in form.text  # the graders' notes
    wrong = web.post(
        f"/grading/{waiting['id']}",
        data={"csrf_token": csrf_token(form.text), "question_id": essay, "points": "9"},
    )
    assert wrong.status_code == 400 and "Isi poin dari 0 sampai 4." in wrong.text
    done = web.post(
        f"/grading/{waiting['id']}",
        data={"csrf_token": csrf_token(form.text), "question_id": essay, "points": "2,5"},
    )
    assert done.status_code == 302
    assert running.query("assessment", lambda s: s.get(Attempt, waiting["id"]).score) == 2.5


def test_a_short_essay_is_a_draft_on_the_web_until_the_time_is_up(system):
    running = system
    web = running.client("assessment")
    intro = web.get("/quizzes/uji-esai")
    started = web.post("/quizzes/uji-esai/start", data={"csrf_token": csrf_token(intro.text)})
    page_path = started.headers["Location"]
    attempt_id = int(page_path.split("/")[2])
    page = web.get(page_path)
    essay = running.query(
        "assessment", lambda s: [slot.question_id for slot in s.get(Attempt, attempt_id).slots][1]
    )
    token = csrf_token(page.text)
    saved = web.post(page_path, data={"csrf_token": token, "action": "finish", f"q-{essay}": "dua kata"})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/attempts/{attempt_id}/submit"

    refused = web.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token, "email": ""})
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    assert "Beberapa jawaban belum dapat dikumpulkan." in text
    assert f'href="/attempts/{attempt_id}/pages/0">Soal 2</a>' in text
    assert running.query("assessment", lambda s: s.get(Attempt, attempt_id).finished_at) is None

    # When the countdown runs out, the short essay is handed in as it is, for a coordinator to grade.
    timed_out = web.post(page_path, data={"csrf_token": token, "action": "timeout", f"q-{essay}": "dua kata"})
    assert timed_out.status_code == 302 and timed_out.headers["Location"] == f"/attempts/{attempt_id}"
    assert running.query("assessment", lambda s: s.get(Attempt, attempt_id).state) == "needs_grading"


def login_web(running, assessment_client, address: str) -> None:
    from tests.test_skeleton import login

    enrollment = running.client("enrollment")
    login(enrollment, address)
    assessment_client.set_cookie("pustaka_token", enrollment.get_cookie("pustaka_token").value)


def test_past_attempts_stay_graded_against_their_version(system):
    running = system
    api = running.client("assessment")
    boss = coordinator(running)
    questions = bank(running, boss)
    single = next(qid for qid, q in questions.items() if q["name"] == "UJI-Pilihan tunggal")
    old, old_headers, old_path = start_anonymously(running, "uji-esai")

    changed = {
        key: questions[single][key]
        for key in (
            "name",
            "type",
            "category",
            "text",
            "general_feedback",
            "areas",
            "difficulty",
            "points",
            "body",
        )
    }
    changed["body"]["choices"][0]["fraction"], changed["body"]["choices"][1]["fraction"] = (
        1.0,
        0.0,
    )  # "a" is right now
    assert api.put(f"/api/v1/questions/{single}", json=changed, headers=boss).json["version_number"] == 2
    new, new_headers, new_path = start_anonymously(running, "uji-esai")

    for path, headers in ((old_path, old_headers), (new_path, new_headers)):
        api.put(f"{path}/pages/0", json={"responses": {str(single): "b"}}, headers=headers)
    assert (
        api.post(f"{old_path}/submit", json={}, headers=old_headers).json["questions"][0]["points_earned"]
        == 1.0
    )
    assert (
        api.post(f"{new_path}/submit", json={}, headers=new_headers).json["questions"][0]["points_earned"]
        == 0.0
    )


def test_an_anonymous_taker_gets_the_result_by_email(system):
    running = system
    api = running.client("assessment")
    attempt, headers, path = start_anonymously(running, "uji-terbuka")
    assert api.post(f"{path}/submit", json={"email": "bukan-email"}, headers=headers).json["errors"]["email"]
    address = f"warga.{uuid.uuid4().hex[:6]}@test.local"
    assert api.post(f"{path}/submit", json={"email": address}, headers=headers).json["email"] == address
    (event,) = [e for e in graded_events(running) if e["attempt_id"] == attempt["id"]]
    assert event["email"] == address and event["user_id"] is None
    late = api.post(f"{path}/submit", json={"email": "lain@test.local"}, headers=headers)
    assert late.status_code == 409 and late.json["errors"]["email"]

    def deliveries(session):
        return session.scalars(
            select(Delivery).where(Delivery.event_type == GRADED, Delivery.target == address)
        ).all()

    (delivery,) = wait_for(lambda: running.query("notification", deliveries), what="the result email")
    assert delivery.channel == "email" and delivery.recipient_key == f"email:{address}"
    assert delivery.subject.startswith("Hasil kuis: Kuis Uji Terbuka")


def test_taking_a_quiz_on_the_web(system):
    running = system
    questions = bank(running, coordinator(running))
    ids = by_type(questions)
    web = running.client("assessment")
    intro = web.get("/quizzes/uji-terbuka")
    for words in (
        "6 soal",
        "3 per halaman",
        "Tanpa batas waktu.",
        "Batas lulus: 60%.",
        "Mahir (mulai 80%)",
        "Tidak perlu akun.",
    ):
        assert words in intro.text, words
    location = web.post("/quizzes/uji-terbuka/start", data={"csrf_token": csrf_token(intro.text)}).headers[
        "Location"
    ]
    attempt_id = int(location.split("/")[2])

    # The visitor comes back through the signed cookie; another visitor cannot open the attempt.
    assert f"/attempts/{attempt_id}/pages/0" in web.get("/quizzes/uji-terbuka").text
    stranger = running.client("assessment")
    assert stranger.get(location).status_code == 404
    assert 'id="resume"' not in stranger.get("/quizzes/uji-terbuka").text

    distractor = next(
        p["answer_key"] for p in questions[ids["matching"]]["body"]["pairs"] if not p["prompt"]["id"]
    )
    right = {f"q-{ids['single_choice']}": "b", f"q-{ids['multiple_response']}": ["a", "b"], f"q-{ids['true_false']}": "true",
             f"q-{ids['short_answer']}": "Katalog Daring Rahasia", f"q-{ids['numeric']}": "4817,25"}  # fmt: skip
    right |= {
        f"q-{ids['matching']}-{p['key']}": p["answer_key"]
        for p in questions[ids["matching"]]["body"]["pairs"]
        if p["prompt"]["id"]
    }
    page = web.get(location)
    assert page.status_code == 200 and "Halaman 1 dari 2" in page.text and 'type="radio"' in page.text
    saved = web.post(location, data=right | {"csrf_token": csrf_token(page.text), "action": "save"})
    assert saved.headers["Location"] == location
    assert 'value="b" checked' in web.get(location).text
    moved = web.post(location, data=right | {"csrf_token": csrf_token(page.text), "action": "next"})
    second = moved.headers["Location"]
    page = web.get(second)
    assert "<select" in page.text and 'inputmode="decimal"' in page.text and distractor in page.text
    bad = web.post(
        second,
        data=right
        | {"csrf_token": csrf_token(page.text), f"q-{ids['numeric']}": "empat ribu", "action": "finish"},
    )
    assert bad.status_code == 400 and 'value="empat ribu"' in bad.text
    back = web.post(second, data=right | {"csrf_token": csrf_token(page.text), "action": "previous"})
    assert back.headers["Location"] == location
    finish = web.post(second, data=right | {"csrf_token": csrf_token(page.text), "action": "finish"})
    confirm = web.get(finish.headers["Location"])
    assert "Anda menjawab 6 dari 6 soal." in confirm.text
    refused = web.post(
        finish.headers["Location"], data={"csrf_token": csrf_token(confirm.text), "email": "bukan email"}
    )
    assert refused.status_code == 400 and "Masukkan alamat email yang valid." in refused.text
    done = web.post(
        finish.headers["Location"], data={"csrf_token": csrf_token(confirm.text), "email": "ratna@test.local"}
    )
    result = web.get(done.headers["Location"])
    assert 'id="score">7 / 7' in result.text and "Mahir" in result.text
    assert "Menelusur informasi secara efektif" in result.text and "Benar" in result.text
    assert "ratna@test.local" in result.text
    english = web.get(done.headers["Location"] + "?lang=en")
    assert "Advanced" in english.text and "Searching effectively" in english.text
    assert web.get(location).headers["Location"] == done.headers["Location"]  # no page of a finished attempt
