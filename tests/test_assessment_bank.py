"""The question bank and quiz definitions: versions, validation, filters, preview, seeding."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.assessment.models import Question, QuestionVersion, Quiz
from services.assessment.seed import SEED_DIR, load_seed
from services.notification.defaults import QUIZ_CLOSING_REMINDER
from services.notification.models import Reminder
from shared.catalog import QUIZ_SCHEDULED
from shared.messaging import OutboxMessage
from tests.support import wait_for
from tests.test_skeleton import bearer, people, token

FIXTURE = Path(__file__).parent / "data" / "assessment_bank.json"
SPECS = {spec["name"]: spec for spec in json.loads(FIXTURE.read_text(encoding="utf-8"))["questions"]}


def seeded(running) -> None:
    def load(session):
        load_seed(session, [FIXTURE])
        session.commit()

    running.query("assessment", load)


def coordinator_token(running) -> str:
    (address,) = people(running, "koordinator")
    return token(running.client("enrollment"), address)


def spec(question: str, **changes) -> dict:
    return copy.deepcopy(SPECS[question]) | changes


def counts(running) -> tuple[int, int, int]:
    def count(session):
        return tuple(
            session.scalar(select(func.count()).select_from(m)) for m in (Question, QuestionVersion, Quiz)
        )

    return running.query("assessment", count)


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_questions_are_created_edited_in_versions_retired_and_previewed(make_system, mode):
    running = make_system(mode)
    assessment = running.client("assessment")
    enrollment = running.client("enrollment")
    coordinator, staff = (bearer(token(enrollment, a)) for a in people(running, "koordinator", "staf"))

    new = spec("UJI-Pilihan tunggal", name="Kata kunci banjir")
    assert assessment.post("/api/v1/questions", json=new).status_code == 401
    assert assessment.post("/api/v1/questions", json=new, headers=staff).status_code == 403
    created = assessment.post("/api/v1/questions", json=new, headers=coordinator)
    assert created.status_code == 201, created.json
    question = created.json
    assert (question["version_number"], question["category"], question["type"]) == (
        1,
        "Uji/Menelusur",
        "single_choice",
    )
    assert question["body"]["shuffle"] is True  # normalised by its type
    path = f"/api/v1/questions/{question['id']}"
    again = assessment.post("/api/v1/questions", json=new, headers=coordinator)
    assert again.status_code == 409 and again.json["errors"]["name"]

    # The same content again makes no version; a changed body does.
    assert (
        assessment.put(path, json=new | {"difficulty": "hard"}, headers=coordinator).json["version_number"]
        == 1
    )
    changed = copy.deepcopy(new) | {"difficulty": "hard"}
    changed["body"]["choices"][0]["fraction"], changed["body"]["choices"][1]["fraction"] = 1.0, 0.0
    edited = assessment.put(path, json=changed, headers=coordinator)
    assert edited.status_code == 200, edited.json
    assert edited.json["version_number"] == 2 and edited.json["difficulty"] == "hard"
    versions = assessment.get(path, headers=coordinator).json["versions"]
    assert [v["number"] for v in versions] == [1, 2]
    assert [v["body"]["choices"][0]["fraction"] for v in versions] == [0.0, 1.0]

    preview = assessment.get(f"{path}/preview", headers=coordinator)
    assert preview.status_code == 200
    text = json.dumps(preview.json)
    assert "fraction" not in text and "feedback" not in text.lower() and "Umpan balik" not in text
    assert {c["key"] for c in preview.json["body"]["choices"]} == {"a", "b", "c"}

    retired = assessment.post(f"{path}/retire", headers=coordinator)
    assert retired.status_code == 200 and retired.json["retired"] is True

    def names(query: str) -> list[str]:
        return [q["name"] for q in assessment.get(f"/api/v1/questions{query}", headers=coordinator).json]

    assert names("?retired=true") == ["Kata kunci banjir"]
    assert names("?retired=false") == []
    assert assessment.post(f"{path}/unretire", headers=coordinator).json["retired"] is False
    assert assessment.get("/api/v1/questions/424242", headers=coordinator).status_code == 404


def test_bad_questions_get_422_naming_each_field(make_system):
    running = make_system("embedded")
    assessment = running.client("assessment")
    coordinator = bearer(coordinator_token(running))
    before = counts(running)

    def refused(body: dict, *fields: str) -> None:
        response = assessment.post("/api/v1/questions", json=body, headers=coordinator)
        assert response.status_code == 422, response.json
        for field in fields:
            assert response.json["errors"][field], response.json

    bad_body = spec("UJI-Pilihan tunggal")
    bad_body["body"]["choices"][1]["fraction"] = 7
    refused(bad_body, "body.choices.1.fraction")
    refused(spec("UJI-Pilihan tunggal", areas=["searching", "astrology"]), "areas.1")
    refused(spec("UJI-Pilihan tunggal", type="ranking"), "type")
    refused(spec("UJI-Pilihan tunggal", difficulty="trivial", points=0), "difficulty", "points")
    refused(spec("UJI-Pilihan tunggal", text={"id": " ", "en": ""}), "text")
    refused({"name": "x"}, "type", "category", "text", "body")
    refused(spec("UJI-Angka", body={"answers": [{"value": "tiga", "fraction": 1}]}), "body.answers.0.value")
    assert counts(running) == before


def test_the_bank_is_filtered_by_category_area_difficulty_type_and_retired(make_system):
    running = make_system("embedded")
    seeded(running)
    assessment = running.client("assessment")
    coordinator = bearer(coordinator_token(running))

    def names(query: str) -> set[str]:
        response = assessment.get(f"/api/v1/questions?{query}", headers=coordinator)
        assert response.status_code == 200, response.json
        return {question["name"] for question in response.json}

    assert len(names("")) == len(SPECS)
    assert names("category=Uji/Menilai sumber") == {"UJI-Pilihan ganda", "UJI-Benar salah"}
    assert names("category=Uji") == set(SPECS)  # and every category under it
    assert names("area=communicating") == {"UJI-Angka", "UJI-Esai"}
    assert names("difficulty=hard") == {"UJI-Angka", "UJI-Esai"}
    assert names("type=matching") == {"UJI-Menjodohkan"}
    assert names("type=single_choice&area=information_need") == {f"UJI-Acak {n}" for n in range(1, 5)}
    assert names("retired=true") == set()
    response = assessment.get("/api/v1/questions?difficulty=trivial", headers=coordinator)
    assert response.status_code == 422 and response.json["errors"]["difficulty"]


QUIZ = {
    "slug": "kuis-uji-api",
    "title": {"id": "Kuis Uji API", "en": "API Test Quiz"},
    "questions": ["UJI-Pilihan tunggal", "UJI-Benar salah"],
    "levels": [{"min_percent": 0, "name": {"id": "Dasar", "en": "Basic"}}],
}


def test_quiz_definitions_are_checked_against_the_bank(make_system):
    running = make_system("embedded")
    seeded(running)
    assessment, enrollment = running.client("assessment"), running.client("enrollment")
    coordinator, staff = (bearer(token(enrollment, a)) for a in people(running, "koordinator", "staf"))
    before = counts(running)

    def refused(changes: dict, field: str, status: int = 422) -> dict:
        response = assessment.post("/api/v1/quizzes", json=QUIZ | changes, headers=coordinator)
        assert response.status_code == status, response.json
        assert response.json["errors"][field], response.json
        return response.json["errors"]

    refused({"questions": ["UJI-Pilihan tunggal", "No such question"]}, "questions.1")
    errors = refused(
        {"questions": None, "pools": [{"area": "information_need", "difficulty": "easy", "count": 9}]},
        "pools.0.count",
    )
    assert errors["pools.0.count"] == ["Only 4 questions match"]
    refused(
        {"questions": None, "pools": [{"area": "astrology", "difficulty": "easy", "count": 1}]},
        "pools.0.area",
    )
    refused({"pools": [{"area": "searching", "difficulty": "easy", "count": 1}]}, "questions")  # both
    refused({"questions": None}, "questions")  # neither
    refused({"levels": [{"min_percent": 50, "name": {"id": "a", "en": "a"}}]}, "levels")
    refused(
        {
            "levels": [
                {"min_percent": 0, "name": {"id": "a", "en": "a"}},
                {"min_percent": 0, "name": {"id": "b", "en": "b"}},
            ]
        },
        "levels",
    )
    refused({"opens_at": "2030-01-02T00:00:00+07:00", "closes_at": "2030-01-01T00:00:00+07:00"}, "closes_at")
    refused({"audience": "enrolled"}, "programme_id")
    refused({"slug": "Bukan Slug"}, "slug")
    refused({"review": {"after_submit": ["everything"]}}, "review")
    refused({"slug": "uji-terbuka"}, "slug", status=409)
    assert counts(running) == before

    assert assessment.post("/api/v1/quizzes", json=QUIZ, headers=staff).status_code == 403
    created = assessment.post("/api/v1/quizzes", json=QUIZ, headers=coordinator)
    assert created.status_code == 201, created.json
    assert created.json["questions"] == QUIZ["questions"] and created.json["review"]["after_submit"] == [
        "score"
    ]
    updated = assessment.put(
        "/api/v1/quizzes/kuis-uji-api",
        json=QUIZ
        | {"questions": None, "pools": [{"area": "information_need", "difficulty": "easy", "count": 2}]},
        headers=coordinator,
    )
    assert updated.status_code == 200, updated.json
    definition = assessment.get("/api/v1/quizzes/kuis-uji-api/definition", headers=coordinator).json
    assert definition["questions"] is None and definition["pools"][0]["count"] == 2
    public = assessment.get("/api/v1/quizzes/kuis-uji-api").json
    assert public["question_count"] == 2 and "pools" not in public and "review" not in public


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_a_quiz_window_is_announced_when_it_is_set_or_moved(make_system, mode):
    running = make_system(mode)
    seeded(running)
    assessment = running.client("assessment")
    coordinator = bearer(token(running.client("enrollment"), people(running, "koordinator")[0]))
    closes = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    windowed = QUIZ | {
        "slug": "pasca-berjendela",
        "purpose": "post_test",
        "programme_id": 3,
        "opens_at": (closes - timedelta(days=7)).isoformat(),
        "closes_at": closes.isoformat(),
    }

    def save(method: str, definition: dict) -> None:
        path = "/api/v1/quizzes" + ("" if method == "post" else f"/{definition['slug']}")
        response = getattr(assessment, method)(path, json=definition, headers=coordinator)
        assert response.status_code in (200, 201), response.json

    def announced() -> list[dict]:
        rows = running.query(
            "assessment",
            lambda s: s.scalars(
                select(OutboxMessage.body)
                .where(OutboxMessage.event_type == QUIZ_SCHEDULED.name)
                .order_by(OutboxMessage.id)
            ).all(),
        )
        return [json.loads(body)["data"] for body in rows]

    save("post", QUIZ)  # no window, nothing to announce
    save("post", windowed)
    save("put", windowed | {"title": {"id": "Pasca-tes", "en": "Post-test"}})  # the same window
    moved = closes + timedelta(days=1)
    save("put", windowed | {"closes_at": moved.isoformat()})
    save("put", windowed | {"opens_at": None, "closes_at": None})  # no window any more
    assert announced() == [
        {
            "quiz_slug": "pasca-berjendela",
            "quiz_title": QUIZ["title"],
            "programme_id": 3,
            "purpose": "post_test",
            "opens_at": (closes - timedelta(days=7)).isoformat(),
            "closes_at": closes.isoformat(),
        },
        {
            "quiz_slug": "pasca-berjendela",
            "quiz_title": QUIZ["title"],
            "programme_id": 3,
            "purpose": "post_test",
            "opens_at": (closes - timedelta(days=7)).isoformat(),
            "closes_at": moved.isoformat(),
        },
    ]

    # The notification service schedules its 'closing in 24 hours' reminder for each window.
    def reminders(session) -> list[datetime]:
        return sorted(
            r.due_at for r in session.scalars(select(Reminder).where(Reminder.kind == QUIZ_CLOSING_REMINDER))
        )

    expected = [closes - timedelta(hours=24), moved - timedelta(hours=24)]
    wait_for(lambda: running.query("notification", reminders) == expected, what="the closing reminders")


def test_seed_files_load_once(make_system):
    running = make_system("embedded")
    seeded(running)
    first = counts(running)
    seeded(running)
    assert counts(running) == first

    # The service's own seed files: all of them load, and a second seed adds nothing.
    running.seed("assessment")
    after_demo = counts(running)
    files = [json.loads(path.read_text(encoding="utf-8")) for path in SEED_DIR.glob("*.json")]
    assert after_demo[0] == first[0] + sum(len(content.get("questions", [])) for content in files)
    assert after_demo[2] == first[2] + sum(len(content.get("quizzes", [])) for content in files)
    running.seed("assessment")
    assert counts(running) == after_demo
