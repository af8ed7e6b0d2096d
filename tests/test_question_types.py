"""Question types: bodies, what a taker sees, responses, grading, review, and the plugin registry."""

from __future__ import annotations

import json
import random
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel

from services.assessment import question_types as registry
from services.assessment.question_types import ENTRY_POINT_GROUP, QuestionType, question_type, question_types
from shared.errors import Invalid

BUILT_IN = {
    "single_choice",
    "multiple_response",
    "true_false",
    "short_answer",
    "matching",
    "numeric",
    "essay",
}


def bil(text: str) -> dict:
    return {"id": text, "en": f"{text} (en)"}


# Every secret is marked, so a leak shows in the public body's JSON.
BODIES = {
    "single_choice": {
        "choices": [
            {"key": "a", "text": bil("Katalog"), "fraction": 1, "feedback": bil("SECRET tepat")},
            {"key": "b", "text": bil("Mesin pencari"), "fraction": 0.5, "feedback": bil("SECRET hampir")},
            {"key": "c", "text": bil("Media sosial"), "fraction": -0.5, "feedback": bil("SECRET keliru")},
            {"key": "d", "text": bil("Tebakan"), "fraction": 0},
        ]
    },
    "multiple_response": {
        "choices": [
            {"key": "a", "text": bil("Penulis"), "fraction": 0.5, "feedback": bil("SECRET penulis")},
            {"key": "b", "text": bil("Tanggal"), "fraction": 0.5, "feedback": bil("SECRET tanggal")},
            {"key": "c", "text": bil("Tanda seru"), "fraction": -1, "feedback": bil("SECRET seru")},
            {"key": "d", "text": bil("Warna"), "fraction": 0},
        ],
        "shuffle": False,
    },
    "true_false": {"answer": True, "feedback_true": bil("SECRET ya"), "feedback_false": bil("SECRET bukan")},
    "short_answer": {
        "answers": [
            {"text": "Perpustakaan  Kota Semarang", "fraction": 1, "feedback": bil("SECRET lengkap")},
            {"text": "Perpustakaan", "fraction": 0.5, "feedback": bil("SECRET sebagian")},
        ]
    },
    "matching": {
        "pairs": [
            {"key": "book", "prompt": bil("Buku"), "answer": bil("ISBN")},
            {"key": "journal", "prompt": bil("Jurnal"), "answer": bil("ISSN")},
            {"key": "article", "prompt": bil("Artikel"), "answer": bil("DOI")},
            {"key": "extra", "prompt": {"id": "", "en": ""}, "answer": bil("URL")},
        ]
    },
    "numeric": {
        "answers": [
            {"value": 3.14, "tolerance": 0.01, "fraction": 1, "feedback": bil("SECRET tepat")},
            {"value": 3, "tolerance": 0.5, "fraction": 0.5, "feedback": bil("SECRET kira-kira")},
        ]
    },
    "essay": {"min_words": 3, "grader_info": bil("SECRET nilai argumennya")},
}


def normal(name: str, **changes: Any) -> dict:
    return question_type(name).normalise_body(BODIES[name] | changes)


def body_errors(name: str, body: Any) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as raised:
        question_type(name).normalise_body(body)
    assert raised.value.status == 422
    return raised.value.errors


def response_errors(name: str, body: dict, response: Any) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as raised:
        question_type(name).normalise_response(body, response)
    return raised.value.errors


def keys_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_in(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_in(item)}
    return set()


# Bodies


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_a_normalised_body_is_json_and_normalises_to_itself(name):
    body = normal(name)
    assert json.loads(json.dumps(body)) == body
    assert question_type(name).normalise_body(body) == body


def test_normalising_fills_the_defaults():
    single = question_type("single_choice").normalise_body(
        {
            "choices": [
                {"key": "a", "text": bil("Ya"), "fraction": 1},
                {"key": "b", "text": bil("Tidak"), "fraction": 0},
            ]
        }
    )
    assert single["shuffle"] is True
    assert single["choices"][0]["feedback"] == {"id": "", "en": ""}
    assert single["choices"][0]["fraction"] == 1.0 and isinstance(single["choices"][0]["fraction"], float)
    assert normal("short_answer")["case_sensitive"] is False
    assert normal("short_answer")["answers"][0]["text"] == "Perpustakaan Kota Semarang"
    numeric = question_type("numeric").normalise_body({"answers": [{"value": 42, "fraction": 1}]})
    assert numeric["answers"][0] == {
        "value": 42.0,
        "tolerance": 0.0,
        "fraction": 1.0,
        "feedback": {"id": "", "en": ""},
    }
    assert question_type("essay").normalise_body({}) == {"min_words": 0, "grader_info": {"id": "", "en": ""}}
    assert normal("matching")["shuffle"] is True


def test_matching_answer_keys_are_random_and_shared_by_equal_answers():
    body = BODIES["matching"]
    first, second = (question_type("matching").normalise_body(body) for _ in range(2))
    keys = [pair["answer_key"] for pair in first["pairs"]]
    assert len(set(keys)) == 4
    assert keys != [pair["answer_key"] for pair in second["pairs"]]
    assert not any(key in {"book", "journal", "article", "extra", "0", "1", "2", "3"} for key in keys)

    shared = question_type("matching").normalise_body(
        {
            "pairs": [
                {"key": "cat", "prompt": bil("Kucing"), "answer": bil("Hewan")},
                {"key": "dog", "prompt": bil("Anjing"), "answer": bil("Hewan")},
                {"key": "rose", "prompt": bil("Mawar"), "answer": bil("Tumbuhan")},
            ]
        }
    )
    cat, dog, rose = (pair["answer_key"] for pair in shared["pairs"])
    assert cat == dog != rose
    assert len(question_type("matching").public_body(shared, None)["options"]) == 2


def test_every_fault_of_a_body_is_reported_at_once():
    errors = body_errors(
        "single_choice",
        {
            "choices": [
                {"key": "a", "text": bil("Ya"), "fraction": -2},
                {"key": "a", "text": {"id": "", "en": ""}, "fraction": 0},
            ],
            "shufle": True,
        },
    )
    assert set(errors) == {
        "body.choices.0.fraction",
        "body.choices.1.key",
        "body.choices.1.text",
        "body.choices",
        "body.shufle",
    }


def test_a_missing_required_text_is_one_fault():
    errors = body_errors("single_choice", {"choices": [choice("a", 1), choice("b", 0, text=None)]})
    assert errors == {"body.choices.1.text": ["Give an object."]}


def choice(key: str, fraction: Any, **changes: Any) -> dict:
    return {"key": key, "text": bil(f"Pilihan {key}"), "fraction": fraction} | changes


@pytest.mark.parametrize(
    "name, body, path",
    [
        ("single_choice", ["a", "b"], "body"),
        ("single_choice", {"choices": "a,b"}, "body.choices"),
        ("single_choice", {"choices": [choice("a", 1)]}, "body.choices"),
        ("single_choice", {"choices": [choice("a", 0.5), choice("b", 0)]}, "body.choices"),
        ("single_choice", {"choices": [choice("a", 1), choice("a", 0)]}, "body.choices.1.key"),
        ("single_choice", {"choices": [choice("a b", 1), choice("b", 0)]}, "body.choices.0.key"),
        (
            "single_choice",
            {"choices": [choice("a", 1), {"text": bil("x"), "fraction": 0}]},
            "body.choices.1.key",
        ),
        ("single_choice", {"choices": [choice("a", 1), choice("b", 1.5)]}, "body.choices.1.fraction"),
        ("single_choice", {"choices": [choice("a", 1), choice("b", True)]}, "body.choices.1.fraction"),
        ("single_choice", {"choices": [choice("a", 1), choice("b", "0.5")]}, "body.choices.1.fraction"),
        ("single_choice", {"choices": [choice("a", 1), choice("b", None)]}, "body.choices.1.fraction"),
        ("single_choice", {"choices": [choice("a", 1), choice("b", 0, text="Tidak")]}, "body.choices.1.text"),
        ("single_choice", {"choices": [choice("a", 1), choice("b", 0, text=None)]}, "body.choices.1.text"),
        (
            "single_choice",
            {"choices": [choice("a", 1), choice("b", 0, text={"id": 5, "en": "x"})]},
            "body.choices.1.text.id",
        ),
        (
            "single_choice",
            {"choices": [choice("a", 1), choice("b", 0, feedback={"id": "x", "fr": "y"})]},
            "body.choices.1.feedback.fr",
        ),
        ("single_choice", {"choices": [choice("a", 1), choice("b", 0, points=1)]}, "body.choices.1.points"),
        ("single_choice", {"choices": [choice("a", 1), choice("b", 0)], "shuffle": "yes"}, "body.shuffle"),
        ("multiple_response", {"choices": [choice("a", 0.5), choice("b", 0.4)]}, "body.choices"),
        (
            "multiple_response",
            {"choices": [choice("a", 0.5), choice("b", 0.5), choice("c", 0.5)]},
            "body.choices",
        ),
        ("multiple_response", {"choices": [choice("a", 1), choice("b", -1.5)]}, "body.choices.1.fraction"),
        ("true_false", {}, "body.answer"),
        ("true_false", {"answer": "true"}, "body.answer"),
        ("true_false", {"answer": True, "feedback_true": "Ya"}, "body.feedback_true"),
        ("short_answer", {"answers": []}, "body.answers"),
        ("short_answer", {"answers": [{"text": "ya", "fraction": 0}]}, "body.answers.0.fraction"),
        ("short_answer", {"answers": [{"text": "ya", "fraction": -0.5}]}, "body.answers.0.fraction"),
        ("short_answer", {"answers": [{"text": "ya", "fraction": 0.5}]}, "body.answers"),
        ("short_answer", {"answers": [{"text": "  ", "fraction": 1}]}, "body.answers.0.text"),
        ("short_answer", {"answers": [{"text": 7, "fraction": 1}]}, "body.answers.0.text"),
        (
            "short_answer",
            {"answers": [{"text": "Kota Lama", "fraction": 1}, {"text": "kota  lama", "fraction": 0.5}]},
            "body.answers.1.text",
        ),
        (
            "short_answer",
            {"answers": [{"text": "ya", "fraction": 1}], "case_sensitive": 1},
            "body.case_sensitive",
        ),
        (
            "matching",
            {
                "pairs": [
                    {"key": "a", "prompt": bil("A"), "answer": bil("1")},
                    {"key": "b", "answer": bil("2")},
                ]
            },
            "body.pairs",
        ),
        (
            "matching",
            {
                "pairs": [
                    {"key": "a", "prompt": bil("A"), "answer": {"id": "", "en": ""}},
                    {"key": "b", "prompt": bil("B"), "answer": bil("2")},
                ]
            },
            "body.pairs.0.answer",
        ),
        (
            "matching",
            {
                "pairs": [
                    {"key": "a", "prompt": bil("A"), "answer": bil("1")},
                    {"key": "a", "prompt": bil("B"), "answer": bil("2")},
                ]
            },
            "body.pairs.1.key",
        ),
        (
            "matching",
            {
                "pairs": [
                    {"key": "a", "prompt": bil("A"), "answer": bil("1"), "answer_key": "k1"},
                    {"key": "b", "prompt": bil("B"), "answer": bil("2"), "answer_key": "k1"},
                ]
            },
            "body.pairs.1.answer_key",
        ),
        (
            "matching",
            {
                "pairs": [
                    {"key": "a", "prompt": bil("A"), "answer": bil("1"), "answer_key": "k1"},
                    {"key": "b", "prompt": bil("B"), "answer": bil("2"), "answer_key": "k 2"},
                ]
            },
            "body.pairs.1.answer_key",
        ),
        ("numeric", {"answers": [{"value": "3", "fraction": 1}]}, "body.answers.0.value"),
        ("numeric", {"answers": [{"value": float("nan"), "fraction": 1}]}, "body.answers.0.value"),
        (
            "numeric",
            {"answers": [{"value": 3, "tolerance": -0.1, "fraction": 1}]},
            "body.answers.0.tolerance",
        ),
        ("numeric", {"answers": [{"value": 3, "fraction": 2}]}, "body.answers.0.fraction"),
        ("numeric", {"answers": [{"value": 3, "fraction": 0.5}]}, "body.answers"),
        ("numeric", {}, "body.answers"),
        ("essay", {"min_words": -1}, "body.min_words"),
        ("essay", {"min_words": 2.5}, "body.min_words"),
        ("essay", {"min_words": True}, "body.min_words"),
        ("essay", {"grader_info": 5}, "body.grader_info"),
    ],
)
def test_a_bad_body_is_refused_with_the_path_of_its_fault(name, body, path):
    assert path in body_errors(name, body)


# What a taker sees


@pytest.mark.parametrize("rng", [None, random.Random(7)], ids=["authored", "shuffled"])
@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_the_public_body_holds_no_answers_or_feedback(name, rng):
    body = normal(name)
    public = question_type(name).public_body(body, rng)
    serialised = json.dumps(public)
    assert "SECRET" not in serialised
    assert "Perpustakaan" not in serialised and "3.14" not in serialised
    leaking = {
        "fraction",
        "feedback",
        "answer",
        "answers",
        "answer_key",
        "feedback_true",
        "grader_info",
        "value",
    }
    assert not keys_in(public) & leaking


def test_matching_shows_the_prompts_and_every_answer_under_its_opaque_key():
    body = normal("matching")
    public = question_type("matching").public_body(body, None)
    assert public["prompts"] == [
        {"key": "book", "prompt": bil("Buku")},
        {"key": "journal", "prompt": bil("Jurnal")},
        {"key": "article", "prompt": bil("Artikel")},
    ]
    assert [option["key"] for option in public["options"]] == [pair["answer_key"] for pair in body["pairs"]]
    assert [option["text"] for option in public["options"]] == [pair["answer"] for pair in body["pairs"]]


def shown_order(name: str, body: dict, seed: int | None) -> list[str]:
    public = question_type(name).public_body(body, None if seed is None else random.Random(seed))
    return [option["key"] for option in public["choices" if "choices" in public else "options"]]


@pytest.mark.parametrize("name", ["single_choice", "multiple_response", "matching"])
def test_options_are_shuffled_the_same_for_a_seed_and_differently_for_others(name):
    if name == "matching":
        pairs = [{"key": f"p{n}", "prompt": bil(f"P{n}"), "answer": bil(f"A{n}")} for n in range(8)]
        body = question_type(name).normalise_body({"pairs": pairs})
        authored = [pair["answer_key"] for pair in body["pairs"]]
    else:
        choices = [choice(f"k{n}", 1 if n == 0 else 0) for n in range(8)]
        if name == "multiple_response":
            choices = [choice(f"k{n}", 0.25 if n < 4 else 0) for n in range(8)]
        body = question_type(name).normalise_body({"choices": choices})
        authored = [choice["key"] for choice in body["choices"]]

    assert shown_order(name, body, None) == authored
    assert shown_order(name, body, 11) == shown_order(name, body, 11)
    orders = {tuple(shown_order(name, body, seed)) for seed in range(10)}
    assert len(orders) > 1
    assert all(sorted(order) == sorted(authored) for order in orders)
    assert shown_order(name, body | {"shuffle": False}, 11) == authored


def test_true_false_always_offers_true_then_false():
    public = question_type("true_false").public_body(normal("true_false"), random.Random(3))
    assert public == {
        "options": [
            {"key": "true", "text": {"id": "Benar", "en": "True"}},
            {"key": "false", "text": {"id": "Salah", "en": "False"}},
        ]
    }


def test_essay_shows_its_least_number_of_words():
    assert question_type("essay").public_body(normal("essay"), None) == {"min_words": 3}


# Responses


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_no_response_stays_unanswered(name):
    assert question_type(name).normalise_response(normal(name), None) is None


@pytest.mark.parametrize(
    "name, response, expected",
    [
        ("single_choice", "b", "b"),
        ("multiple_response", ["c", "a"], ["a", "c"]),
        ("multiple_response", [], []),
        ("true_false", True, True),
        ("true_false", "false", False),
        ("true_false", " True ", True),
        ("short_answer", "  Perpustakaan  ", "Perpustakaan"),
        ("short_answer", "   ", None),
        ("numeric", 3, 3.0),
        ("numeric", "3,14", 3.14),
        ("numeric", " -0.25 ", -0.25),
        ("numeric", ",5", 0.5),
        ("numeric", "", None),
        ("essay", "Sumber harus dicek dulu.", "Sumber harus dicek dulu."),
    ],
)
def test_responses_are_normalised(name, response, expected):
    assert question_type(name).normalise_response(normal(name), response) == expected


def test_a_matching_response_keeps_the_answered_prompts():
    body = normal("matching")
    isbn, _, _, url = (pair["answer_key"] for pair in body["pairs"])
    response = {"book": isbn, "journal": "", "article": url}
    assert question_type("matching").normalise_response(body, response) == {"book": isbn, "article": url}
    assert question_type("matching").normalise_response(body, {}) == {}


@pytest.mark.parametrize(
    "name, response",
    [
        ("single_choice", "z"),
        ("single_choice", 1),
        ("single_choice", ["a"]),
        ("multiple_response", "a"),
        ("multiple_response", ["a", "z"]),
        ("multiple_response", ["a", "a"]),
        ("multiple_response", [["a"]]),
        ("true_false", "ya"),
        ("true_false", 1),
        ("short_answer", 42),
        ("short_answer", "x" * 1001),
        ("numeric", "3.1.4"),
        ("numeric", "1.234,5"),
        ("numeric", "tiga"),
        ("numeric", "1e3"),
        ("numeric", True),
        ("numeric", float("inf")),
        ("numeric", [3]),
        ("matching", ["book"]),
        ("matching", {"book": "not-a-key"}),
        ("matching", {"book": ["x"]}),
        ("matching", {"extra": "x"}),
        ("matching", {"nobody": ""}),
        ("essay", 5),
    ],
)
def test_a_bad_response_is_refused(name, response):
    assert list(response_errors(name, normal(name), response)) == ["response"]


def test_a_short_essay_is_saved_as_a_draft_but_not_handed_in():
    essay, body = question_type("essay"), normal("essay")  # at least 3 words
    assert essay.normalise_response(body, " Terlalu pendek ") == "Terlalu pendek"
    with pytest.raises(Invalid) as refused:
        essay.check_submission(body, "Terlalu pendek")
    assert refused.value.errors == {
        "response": ["The essay is shorter than the least number of words asked for."]
    }
    essay.check_submission(body, "Cukup  tiga\nkata")  # words, however they are spaced
    essay.check_submission(body, None)  # unanswered is handed in as such, worth nothing
    essay.check_submission(normal("essay", min_words=0), "Satu")


@pytest.mark.parametrize(
    "name, response",
    [
        ("single_choice", "b"),
        ("multiple_response", ["a"]),
        ("true_false", False),
        ("short_answer", "x"),
        ("numeric", "0"),
        ("matching", {}),
    ],
)
def test_other_types_hand_in_every_response_they_accept(name, response):
    kind, body = question_type(name), normal(name)
    kind.check_submission(body, None)
    kind.check_submission(body, kind.normalise_response(body, response))


def test_matching_refuses_the_distractor_as_a_prompt_but_accepts_it_as_an_answer():
    body = normal("matching")
    url_key = body["pairs"][3]["answer_key"]
    assert question_type("matching").normalise_response(body, {"book": url_key}) == {"book": url_key}
    assert list(response_errors("matching", body, {"extra": url_key})) == ["response"]


# Grading


def grade(name: str, response: Any, **changes: Any) -> float | None:
    question = question_type(name)
    body = normal(name, **changes)
    return question.grade(body, question.normalise_response(body, response))


def test_single_choice_gives_the_chosen_fraction_and_never_less_than_nothing():
    assert grade("single_choice", "a") == 1.0
    assert grade("single_choice", "b") == 0.5
    assert grade("single_choice", "c") == 0.0
    assert grade("single_choice", "d") == 0.0
    assert grade("single_choice", None) == 0.0


def test_multiple_response_adds_the_chosen_fractions_within_0_and_1():
    assert grade("multiple_response", ["a", "b"]) == 1.0
    assert grade("multiple_response", ["a"]) == 0.5
    assert grade("multiple_response", ["a", "b", "d"]) == 1.0
    assert grade("multiple_response", ["a", "b", "c"]) == 0.0
    assert grade("multiple_response", ["a", "c"]) == 0.0
    assert grade("multiple_response", []) == 0.0
    assert grade("multiple_response", None) == 0.0
    thirds = {"choices": [choice(key, 0.3333333) for key in "abc"] + [choice("d", -0.5)]}
    body = question_type("multiple_response").normalise_body(thirds)
    assert question_type("multiple_response").grade(body, ["a", "b", "c"]) == 1.0
    assert question_type("multiple_response").grade(body, ["a", "b", "c", "d"]) == 0.5


def test_true_false_grades_the_answer_given_as_bool_or_form_text():
    assert grade("true_false", True) == 1.0
    assert grade("true_false", "true") == 1.0
    assert grade("true_false", "false") == 0.0
    assert grade("true_false", False, answer=False) == 1.0
    assert grade("true_false", None, answer=False) == 0.0


def test_short_answer_tolerates_case_and_spacing_unless_told_otherwise():
    assert grade("short_answer", "  perpustakaan   kota\tSEMARANG ") == 1.0
    assert grade("short_answer", "PERPUSTAKAAN") == 0.5
    assert grade("short_answer", "Perpustakaan Semarang") == 0.0
    assert grade("short_answer", "") == 0.0
    assert grade("short_answer", "perpustakaan kota semarang", case_sensitive=True) == 0.0
    assert grade("short_answer", "Perpustakaan   Kota Semarang", case_sensitive=True) == 1.0


def test_short_answer_takes_the_best_of_its_matching_answers():
    body = question_type("short_answer").normalise_body(
        {"answers": [{"text": "Tugu Muda", "fraction": 0.5}, {"text": "Lawang Sewu", "fraction": 1}]}
    )
    assert question_type("short_answer").grade(body, "lawang sewu") == 1.0
    assert question_type("short_answer").grade(body, "tugu muda") == 0.5
    # Composed and decomposed accents are one answer.
    cafe = question_type("short_answer").normalise_body(
        {"answers": [{"text": "Kafe Caf\u00e9", "fraction": 1}]}
    )
    assert question_type("short_answer").grade(cafe, "kafe cafe\u0301") == 1.0


def test_numeric_grades_within_tolerance_with_point_or_comma_decimals():
    assert grade("numeric", "3,14") == 1.0
    assert grade("numeric", "3,15") == 1.0  # on the edge of the tolerance
    assert grade("numeric", 3.13) == 1.0
    assert grade("numeric", "3.2") == 0.5
    assert grade("numeric", "3,5") == 0.5
    assert grade("numeric", "2.4") == 0.0
    assert grade("numeric", 3.51) == 0.0
    assert grade("numeric", None) == 0.0


def test_matching_gives_the_share_of_prompts_matched_right():
    body = normal("matching")
    isbn, issn, doi, url = (pair["answer_key"] for pair in body["pairs"])
    matching = question_type("matching")
    assert matching.grade(body, {"book": isbn, "journal": issn, "article": doi}) == 1.0
    assert matching.grade(body, {"book": isbn, "journal": issn, "article": url}) == pytest.approx(
        2 / 3, abs=1e-6
    )
    assert matching.grade(body, {"book": issn, "journal": isbn}) == 0.0
    assert matching.grade(body, {"book": isbn}) == pytest.approx(1 / 3, abs=1e-6)
    assert matching.grade(body, {}) == 0.0
    assert matching.grade(body, None) == 0.0


def test_an_essay_waits_for_a_coordinator_unless_unanswered():
    essay = question_type("essay")
    assert essay.auto_graded is False
    assert grade("essay", "Saya selalu mengecek sumbernya.") is None
    assert grade("essay", None) == 0.0
    assert grade("essay", "satu", min_words=0) is None
    assert all(question_type(name).auto_graded for name in BUILT_IN - {"essay"})


# Review and item analysis


def test_choice_based_types_name_their_options_and_the_full_credit_ones():
    assert [name for name in sorted(BUILT_IN) if question_type(name).choice_based] == [
        "single_choice",
        "true_false",
    ]
    single = question_type("single_choice")
    assert single.option_keys(normal("single_choice")) == ["a", "b", "c", "d"]
    assert single.correct_keys(normal("single_choice")) == ["a"]
    true_false = question_type("true_false")
    assert true_false.option_keys(normal("true_false")) == ["true", "false"]
    assert true_false.correct_keys(normal("true_false")) == ["true"]
    assert true_false.correct_keys(normal("true_false", answer=False)) == ["false"]
    for name in BUILT_IN - {"single_choice", "true_false"}:
        assert question_type(name).option_keys(normal(name)) == []
        assert question_type(name).correct_keys(normal(name)) == []


def review(name: str, response: Any, **changes: Any) -> dict:
    question = question_type(name)
    body = normal(name, **changes)
    result = question.review(body, question.normalise_response(body, response))
    assert json.loads(json.dumps(result)) == result
    return result


def test_single_choice_review_shows_the_right_choice_and_the_chosen_feedback():
    assert review("single_choice", "c") == {
        "correct_answer": [{"key": "a", "text": bil("Katalog")}],
        "feedback": [bil("SECRET keliru")],
    }
    assert review("single_choice", "d")["feedback"] == []
    assert review("single_choice", None)["feedback"] == []


def test_multiple_response_review_shows_the_feedback_of_every_chosen_choice():
    assert review("multiple_response", ["c", "a", "d"]) == {
        "correct_answer": [{"key": "a", "text": bil("Penulis")}, {"key": "b", "text": bil("Tanggal")}],
        "feedback": [bil("SECRET penulis"), bil("SECRET seru")],
    }


def test_true_false_review_shows_the_feedback_of_the_answer_given():
    assert review("true_false", "false") == {"correct_answer": True, "feedback": [bil("SECRET bukan")]}
    assert review("true_false", True)["feedback"] == [bil("SECRET ya")]
    assert review("true_false", None)["feedback"] == []


def test_typed_answers_review_the_full_answers_and_the_feedback_of_the_match():
    assert review("short_answer", "perpustakaan") == {
        "correct_answer": ["Perpustakaan Kota Semarang"],
        "feedback": [bil("SECRET sebagian")],
    }
    assert review("short_answer", "Balai Kota")["feedback"] == []
    assert review("numeric", "3,3") == {
        "correct_answer": [{"value": 3.14, "tolerance": 0.01}],
        "feedback": [bil("SECRET kira-kira")],
    }
    assert review("numeric", None)["feedback"] == []


def test_matching_review_pairs_each_prompt_with_its_answer():
    assert review("matching", None) == {
        "correct_answer": [
            {"prompt": bil("Buku"), "answer": bil("ISBN")},
            {"prompt": bil("Jurnal"), "answer": bil("ISSN")},
            {"prompt": bil("Artikel"), "answer": bil("DOI")},
        ],
        "feedback": [],
    }


def test_essay_review_keeps_the_information_for_graders_to_them():
    assert review("essay", "Saya selalu mengecek sumbernya.") == {"correct_answer": None, "feedback": []}


# The registry


@pytest.fixture
def fresh_registry():
    question_types.cache_clear()
    yield
    question_types.cache_clear()


def test_the_built_in_types_are_registered_as_plugins():
    registered = {entry_point.name for entry_point in entry_points(group=ENTRY_POINT_GROUP)}
    assert registered >= BUILT_IN
    for name in BUILT_IN:
        assert isinstance(question_type(name), QuestionType)
        assert question_type(name).name == name
    assert question_types() is question_types()


@pytest.mark.parametrize("name", ["ranking", "", None, ["essay"]])
def test_an_unknown_type_is_invalid(name):
    with pytest.raises(Invalid) as raised:
        question_type(name)
    assert raised.value.status == 422
    assert list(raised.value.errors) == ["type"]


class Year(QuestionType):
    """A third party's type, loaded through a fake entry point."""

    name = "year"
    label = "Year"

    def normalise_body(self, body):
        if not isinstance(body.get("year"), int):
            raise Invalid("The question body has invalid fields.", {"body.year": ["Give a year."]})
        return {"year": body["year"]}

    def public_body(self, body, rng):
        return {}

    def normalise_response(self, body, response):
        return None if response is None else int(response)

    def grade(self, body, response):
        return 1.0 if response == body["year"] else 0.0

    def review(self, body, response):
        return {"correct_answer": body["year"], "feedback": []}


def test_a_plugin_of_another_package_is_found(monkeypatch, fresh_registry):
    installed = entry_points(group=ENTRY_POINT_GROUP)
    plugin = EntryPoint(name="year", value=f"{__name__}:Year", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [*installed, plugin])

    year = question_type("year")
    assert isinstance(year, Year)
    assert set(question_types()) == BUILT_IN | {"year"}
    body = year.normalise_body({"year": 1547})
    assert year.grade(body, year.normalise_response(body, "1547")) == 1.0


# Text


def test_every_label_has_an_indonesian_translation():
    app = Flask(__name__)
    translations = Path(registry.__file__).parent / "translations"
    Babel(app, default_translation_directories=str(translations), locale_selector=lambda: "id")
    with app.test_request_context():
        labels = {name: str(question_type(name).label) for name in BUILT_IN}
    assert labels == {
        "single_choice": "Pilihan ganda",
        "multiple_response": "Pilihan ganda kompleks",
        "true_false": "Benar atau salah",
        "short_answer": "Isian singkat",
        "matching": "Menjodohkan",
        "numeric": "Jawaban angka",
        "essay": "Esai",
    }
