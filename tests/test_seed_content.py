"""The seeded question banks and quizzes (services/assessment/seed/*.json): counts, references and bodies."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.assessment.question_types import question_type
from shared.competencies import AREAS

SEED_DIR = Path(__file__).resolve().parent.parent / "services" / "assessment" / "seed"
PUBLIC_AREAS = {code for code, area in AREAS.items() if area.track == "public"}
STAFF_FILES = {
    "katalogisasi": "cataloguing",
    "perangkat-lunak-perpustakaan": "library_software",
    "layanan-digital": "digital_services",
}
QUESTION_FIELDS = {
    "name",
    "type",
    "category",
    "text",
    "general_feedback",
    "areas",
    "difficulty",
    "points",
    "body",
}
DIFFICULTIES = {"easy", "medium", "hard"}
REVIEW_OPTIONS = {"responses", "score", "correctness", "feedback", "correct_answers"}
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Bilingual fields a person reads as sentences: the English must be a translation, not a copy.
# Choice texts and matching prompts may be the same in both languages ("245", "CC BY", a query).
TRANSLATED = {"general_feedback", "feedback", "feedback_true", "feedback_false", "grader_info", "description"}


def review(quiz: dict) -> dict[str, set[str]]:
    return {moment: set(options) for moment, options in quiz["review"].items()}


def load(name: str) -> dict:
    return json.loads((SEED_DIR / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seeds() -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(SEED_DIR.glob("*.json"))
    }


@pytest.fixture(scope="module")
def questions(seeds) -> dict[str, dict]:
    return {spec["name"]: spec for seed in seeds.values() for spec in seed["questions"]}


@pytest.fixture(scope="module")
def quizzes(seeds) -> dict[str, dict]:
    return {quiz["slug"]: quiz for seed in seeds.values() for quiz in seed["quizzes"]}


def bilingual_texts(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    """Every {"id", "en"} object inside a question spec or quiz, with its path."""
    if isinstance(value, dict) and set(value) == {"id", "en"}:
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from bilingual_texts(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from bilingual_texts(item, (*path, index))


def must_be_translated(path: tuple) -> bool:
    if path in {("text",), ("title",)} or (len(path) == 3 and path[0] == "levels" and path[2] == "name"):
        return True
    return path[-1] in TRANSLATED


def right_response(spec: dict) -> Any:
    """The response the author meant as fully right, built from the body."""
    body = spec["body"]
    match spec["type"]:
        case "single_choice":
            return next(choice["key"] for choice in body["choices"] if choice["fraction"] == 1.0)
        case "multiple_response":
            return [choice["key"] for choice in body["choices"] if choice["fraction"] > 0]
        case "true_false":
            return body["answer"]
        case "short_answer" | "numeric":
            return next(
                answer.get("text", answer.get("value"))
                for answer in body["answers"]
                if answer["fraction"] == 1.0
            )
        case "matching":
            return {pair["key"]: pair["answer_key"] for pair in body["pairs"] if pair["prompt"]["id"]}
    raise AssertionError(f"no right response for {spec['type']}")


# --- every file --------------------------------------------------------------------------------


def test_the_seed_files_are_there_with_questions_and_quizzes(seeds):
    assert {"literasi-informasi", *STAFF_FILES} <= set(seeds)
    for name, seed in seeds.items():
        assert set(seed) == {"questions", "quizzes"}, name
        assert seed["questions"] and seed["quizzes"], name


def test_question_names_are_unique_across_files(seeds):
    names = Counter(spec["name"] for seed in seeds.values() for spec in seed["questions"])
    assert [name for name, count in names.items() if count > 1] == []
    assert all(1 <= len(name) <= 200 for name in names)


def test_question_specs_are_well_formed(questions):
    for name, spec in questions.items():
        assert set(spec) == QUESTION_FIELDS, name
        assert spec["difficulty"] in DIFFICULTIES, name
        assert spec["points"] > 0, name
        assert spec["areas"] and set(spec["areas"]) <= set(AREAS), name
        assert all(part.strip() for part in spec["category"].split("/")), name


def test_every_body_passes_its_question_type(questions):
    for name, spec in questions.items():
        kind = question_type(spec["type"])
        assert kind.normalise_body(spec["body"]) == spec["body"], name


def test_the_authored_right_answer_earns_full_marks(questions):
    for name, spec in questions.items():
        kind = question_type(spec["type"])
        if not kind.auto_graded:
            continue
        response = kind.normalise_response(spec["body"], right_response(spec))
        assert kind.grade(spec["body"], response) == 1.0, name


def test_no_choice_question_has_two_right_answers(questions):
    for name, spec in questions.items():
        if spec["type"] == "single_choice":
            fractions = sorted(choice["fraction"] for choice in spec["body"]["choices"])
            assert fractions[-1] == 1.0 and fractions[-2] <= 0, name
        if spec["type"] == "multiple_response":
            credits = [choice["fraction"] for choice in spec["body"]["choices"] if choice["fraction"] > 0]
            wrong = [choice["fraction"] for choice in spec["body"]["choices"] if choice["fraction"] <= 0]
            # Partial credit: each right choice is worth a share, and a wrong one costs.
            assert len(credits) >= 2 and max(credits) < 1, name
            assert wrong and all(fraction < 0 for fraction in wrong), name


def test_texts_are_in_both_languages_and_translated(questions, quizzes):
    for label, item in [*questions.items(), *quizzes.items()]:
        for path, text in bilingual_texts(item):
            where = f"{label}: {'.'.join(map(str, path))}"
            indonesian, english = text["id"].strip(), text["en"].strip()
            if path[-1] == "prompt" and not indonesian and not english:
                continue  # a matching distractor
            assert indonesian and english, where
            if must_be_translated(path):
                assert indonesian != english, where


def test_every_answer_teaches_with_feedback(questions):
    for name, spec in questions.items():
        body = spec["body"]
        assert spec["general_feedback"]["id"], name
        if spec["type"] in {"single_choice", "multiple_response"}:
            assert all(choice["feedback"]["id"] for choice in body["choices"]), name
        if spec["type"] == "true_false":
            assert body["feedback_true"]["id"] and body["feedback_false"]["id"], name
        if spec["type"] in {"short_answer", "numeric"}:
            assert all(answer["feedback"]["id"] for answer in body["answers"]), name
        if spec["type"] == "essay":
            assert body["grader_info"]["id"], name


# --- the banks ---------------------------------------------------------------------------------


def test_the_literacy_bank_covers_every_public_area():
    bank = load("literasi-informasi")["questions"]
    assert len(bank) >= 45
    by_area = Counter(area for spec in bank for area in spec["areas"])
    assert set(by_area) == PUBLIC_AREAS
    assert min(by_area.values()) >= 8
    for area in PUBLIC_AREAS:
        assert {spec["difficulty"] for spec in bank if area in spec["areas"]} == DIFFICULTIES, area
    assert all(spec["category"].startswith("Literasi informasi/") for spec in bank)


def test_the_literacy_bank_mixes_question_types():
    types = Counter(spec["type"] for spec in load("literasi-informasi")["questions"])
    assert types["single_choice"] > sum(types.values()) / 2
    for kind in ("multiple_response", "true_false", "short_answer", "matching", "numeric"):
        assert types[kind] >= 1, kind
    assert types["essay"] == 0


@pytest.mark.parametrize("name", sorted(STAFF_FILES))
def test_each_staff_bank_has_its_area_and_a_competency_check(name):
    seed = load(name)
    area = STAFF_FILES[name]
    assert len(seed["questions"]) >= 10
    assert all(spec["areas"] == [area] for spec in seed["questions"])
    assert len({spec["difficulty"] for spec in seed["questions"]}) == 3
    checks = [quiz for quiz in seed["quizzes"] if quiz["purpose"] == "competency_check"]
    assert checks and all(quiz["audience"] == "staff" for quiz in checks)


def test_the_software_bank_has_an_essay():
    assert any(spec["type"] == "essay" for spec in load("perangkat-lunak-perpustakaan")["questions"])


# --- the quizzes -------------------------------------------------------------------------------


def test_quiz_slugs_are_unique_and_well_formed(seeds):
    slugs = Counter(quiz["slug"] for seed in seeds.values() for quiz in seed["quizzes"])
    assert [slug for slug, count in slugs.items() if count > 1] == []
    assert all(SLUG.fullmatch(slug) and len(slug) <= 100 for slug in slugs)


def test_quiz_settings_are_valid(quizzes):
    for slug, quiz in quizzes.items():
        assert quiz["audience"] in {"public", "staff", "enrolled"}, slug
        assert quiz["purpose"] in {"practice", "pre_test", "post_test", "competency_check", "follow_up"}, slug
        assert quiz["grading_method"] in {"highest", "last", "first", "average"}, slug
        assert 0 <= quiz["pass_percent"] <= 100, slug
        assert quiz["questions_per_page"] >= 1, slug
        assert quiz["attempts_allowed"] is None or quiz["attempts_allowed"] >= 1, slug
        assert quiz["time_limit_minutes"] is None or quiz["time_limit_minutes"] >= 1, slug
        if quiz["purpose"] in {"pre_test", "post_test", "follow_up"}:
            assert isinstance(quiz["programme_id"], int), slug
        minima = [level["min_percent"] for level in quiz["levels"]]
        assert minima[0] == 0 and minima == sorted(set(minima)) and minima[-1] <= 100, slug
        assert set(quiz["review"]) == {"after_submit", "after_close"}, slug
        assert all(set(options) <= REVIEW_OPTIONS for options in quiz["review"].values()), slug


def test_fixed_quizzes_reference_existing_questions(quizzes, questions):
    for slug, quiz in quizzes.items():
        assert ("questions" in quiz) != ("pools" in quiz), slug
        if "questions" in quiz:
            assert quiz["questions"], slug
            assert len(set(quiz["questions"])) == len(quiz["questions"]), slug
            assert set(quiz["questions"]) <= set(questions), slug


def test_pools_can_be_drawn(quizzes, questions):
    for slug, quiz in quizzes.items():
        wanted = Counter()
        for pool in quiz.get("pools", []):
            assert pool["area"] in AREAS and pool["difficulty"] in DIFFICULTIES and pool["count"] >= 1, slug
            wanted[pool["area"], pool["difficulty"]] += pool["count"]
        candidates = set()
        for (area, difficulty), count in wanted.items():
            found = {
                name
                for name, spec in questions.items()
                if area in spec["areas"] and spec["difficulty"] == difficulty
            }
            assert len(found) >= count, (slug, area, difficulty)
            candidates |= found
        # A question that fits two pools is drawn once at most.
        assert len(candidates) >= sum(wanted.values()), slug


def test_public_quizzes_use_only_public_questions(quizzes, questions):
    for slug, quiz in quizzes.items():
        if quiz["audience"] == "public":
            areas = {area for name in quiz.get("questions", []) for area in questions[name]["areas"]}
            areas |= {pool["area"] for pool in quiz.get("pools", [])}
            assert areas <= PUBLIC_AREAS, slug


def test_the_basic_literacy_quiz(quizzes, questions):
    quiz = quizzes["literasi-informasi-dasar"]
    assert (quiz["audience"], quiz["purpose"]) == ("public", "practice")
    assert len(quiz["questions"]) == 10
    assert {questions[name]["areas"][0] for name in quiz["questions"]} == PUBLIC_AREAS
    assert quiz["time_limit_minutes"] is None and quiz["attempts_allowed"] is None
    assert quiz["grading_method"] == "highest" and quiz["pass_percent"] == 60
    assert [level["min_percent"] for level in quiz["levels"]] == [0, 50, 80]
    assert [level["name"]["id"] for level in quiz["levels"]] == ["Dasar", "Menengah", "Mahir"]
    assert review(quiz) == {"after_submit": REVIEW_OPTIONS, "after_close": REVIEW_OPTIONS}


def test_the_random_literacy_quiz(quizzes):
    quiz = quizzes["literasi-informasi-acak"]
    basic = quizzes["literasi-informasi-dasar"]
    assert (quiz["audience"], quiz["purpose"]) == ("public", "practice")
    assert quiz["shuffle_questions"] is True
    per_area = Counter()
    for pool in quiz["pools"]:
        per_area[pool["area"]] += pool["count"]
    assert per_area == dict.fromkeys(PUBLIC_AREAS, 2)
    for area in PUBLIC_AREAS:
        assert len({pool["difficulty"] for pool in quiz["pools"] if pool["area"] == area}) == 2, area
    assert quiz["levels"] == basic["levels"]


def test_the_quick_hoax_quiz(quizzes, questions):
    quiz = quizzes["kuis-kilat-hoaks"]
    assert (quiz["audience"], quiz["purpose"]) == ("public", "practice")
    assert len(quiz["questions"]) == 5
    assert all(questions[name]["areas"] == ["evaluating"] for name in quiz["questions"])
    assert quiz["time_limit_minutes"] == 2 and quiz["questions_per_page"] == 5
    assert review(quiz) == {"after_submit": {"responses", "score"}, "after_close": REVIEW_OPTIONS}


def test_the_software_pre_and_post_tests(quizzes, questions):
    pre, post = quizzes["pretest-perangkat-lunak"], quizzes["posttest-perangkat-lunak"]
    assert (pre["purpose"], pre["audience"], post["purpose"]) == ("pre_test", "staff", "post_test")
    assert pre["programme_id"] == post["programme_id"] == 1
    assert pre["questions"] == post["questions"] and len(pre["questions"]) == 10
    assert all(questions[name]["areas"] == ["library_software"] for name in pre["questions"])
    # The two scores are compared, so neither may wait on a coordinator's grading.
    assert all(question_type(questions[name]["type"]).auto_graded for name in pre["questions"])
    for quiz in (pre, post):
        assert quiz["pass_percent"] == 70
        assert review(quiz) == {"after_submit": {"score"}, "after_close": REVIEW_OPTIONS}
