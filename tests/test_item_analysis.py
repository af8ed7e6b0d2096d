"""Item analysis: the figures on small hand-checked matrices, pingouin's alpha, and the system."""

from __future__ import annotations

import csv
import io
import time

import numpy as np
import pandas as pd
import pingouin
import pytest

from services.assessment import item_analysis as ia
from services.assessment.item_analysis import analyse, cronbach_alpha
from tests.test_skeleton import bearer, login, people, token

SLUG = "literasi-informasi-dasar"


# --- Cronbach's alpha against pingouin ----------------------------------------------------------


def test_alpha_matches_pingouin_on_dichotomous_data():
    rng = np.random.default_rng(7)
    ability = rng.normal(size=(300, 1))
    difficulty = rng.normal(size=(1, 12))
    scores = (rng.random((300, 12)) < 1 / (1 + np.exp(difficulty - ability))).astype(float)
    expected, _ = pingouin.cronbach_alpha(pd.DataFrame(scores))
    assert cronbach_alpha(scores) == pytest.approx(expected, abs=1e-9)
    result = analyse(scores, np.ones(12), scores.astype(int), np.ones(12, dtype=int))
    assert result.test.alpha == pytest.approx(expected, abs=1e-9)
    sd = scores.sum(axis=1).std(ddof=1)
    assert result.test.sem == pytest.approx(sd * np.sqrt(1 - expected), abs=1e-9)


def test_alpha_matches_pingouin_on_polytomous_data():
    rng = np.random.default_rng(11)
    maxima = np.array([1, 2, 3, 4, 5, 2, 3], dtype=float)
    ability = rng.random((150, 1))
    scores = np.round(np.clip(ability + rng.normal(0, 0.3, (150, 7)), 0, 1) * maxima)
    expected, _ = pingouin.cronbach_alpha(pd.DataFrame(scores))
    result = analyse(scores, maxima, np.full(scores.shape, -1), np.full(7, -1))
    assert result.test.alpha == pytest.approx(expected, abs=1e-9)


# --- Hand-checkable figures ---------------------------------------------------------------------

# Ten attempts, three one-point items with options A-C (index 0-2); totals 3,3,3,2,2,2,1,1,0,0.
# The 27% groups have three attempts each: rows 0-2 (totals 3) and rows 7-9 (totals 1, 0, 0).
SCORES = np.array(
    [
        [1, 1, 1],
        [1, 1, 1],
        [1, 1, 1],
        [1, 1, 0],
        [1, 0, 1],
        [1, 1, 0],
        [1, 0, 0],
        [0, 0, 1],
        [0, 0, 0],
        [0, 0, 0],
    ],
    dtype=float,
)
KEYS = [0, 1, 2]
CHOSEN = np.array(
    [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 0],
        [0, 0, 2],
        [0, 1, 0],
        [0, 0, 1],
        [1, -1, 2],
        [1, 0, 0],
        [1, 0, 1],
    ]
)


def test_facility_sd_discrimination_and_point_biserial_by_hand():
    result = analyse(SCORES, [1, 1, 1], CHOSEN, KEYS, [3, 3, 3])
    first, second, third = result.items
    assert result.group_size == 3
    assert [first.facility, second.facility, third.facility] == pytest.approx([0.7, 0.5, 0.5])
    assert first.sd == pytest.approx(np.sqrt(0.7 * 0.3 * 10 / 9))
    # Upper group all right; lower group: item 1 none right, item 3 one right of three.
    assert first.discrimination == pytest.approx(1.0)
    assert second.discrimination == pytest.approx(1.0)
    assert third.discrimination == pytest.approx(2 / 3)
    rest = SCORES.sum(axis=1) - SCORES[:, 0]
    assert first.point_biserial == pytest.approx(np.corrcoef(SCORES[:, 0], rest)[0, 1])
    assert result.test.n_attempts == 10
    assert result.test.mean == pytest.approx(1.7)
    assert result.test.sd == pytest.approx(SCORES.sum(axis=1).std(ddof=1))


def test_distractor_counts_by_hand():
    result = analyse(SCORES, [1, 1, 1], CHOSEN, KEYS, [3, 3, 3])
    second = result.items[1]
    assert [c.count for c in second.choices] == [4, 5, 0]
    assert [c.is_key for c in second.choices] == [False, True, False]
    assert second.answered == 9
    assert second.choices[0].proportion == pytest.approx(0.4)
    assert second.choices[0].upper_proportion == 0.0
    assert second.choices[0].lower_proportion == pytest.approx(2 / 3)
    assert second.choices[1].upper_proportion == 1.0
    assert second.choices[2].flags == (ia.FLAG_UNUSED_DISTRACTOR,)
    assert ia.FLAG_UNUSED_DISTRACTOR in second.flags
    third = result.items[2]
    assert [c.count for c in third.choices] == [3, 2, 5]
    assert not third.flags


def test_each_flag():
    # Totals 3, 3, 3, 3, 1, 2: the upper group is rows 0-1, the lower group rows 4-5.
    # Item 1: everyone right (too easy, no discrimination, two unused distractors).
    # Item 2: only row 5 right (too hard, negative discrimination, and the upper group
    # prefers distractor B to the key A). Items 3 and 4 discriminate well.
    scores = np.array(
        [[1, 0, 1, 1], [1, 0, 1, 1], [1, 0, 1, 1], [1, 0, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0]], dtype=float
    )
    chosen = np.array([[0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 2, 1, 1], [0, 0, 1, 1]])
    result = analyse(scores, [1, 1, 1, 1], chosen, [0, 0, 0, 0], [3, 3, 2, 2])
    assert result.group_size == 2
    easy, hard, fine, _ = result.items
    assert easy.flags == (ia.FLAG_TOO_EASY, ia.FLAG_LOW_DISCRIMINATION, ia.FLAG_UNUSED_DISTRACTOR)
    assert easy.point_biserial is None and easy.sd == 0.0
    assert [c.flags for c in easy.choices] == [(), (ia.FLAG_UNUSED_DISTRACTOR,), (ia.FLAG_UNUSED_DISTRACTOR,)]
    assert hard.facility == pytest.approx(1 / 6)
    assert hard.flags == (
        ia.FLAG_TOO_HARD,
        ia.FLAG_LOW_DISCRIMINATION,
        ia.FLAG_NEGATIVE_DISCRIMINATION,
        ia.FLAG_DISTRACTOR_BEATS_KEY,
    )
    assert hard.discrimination == pytest.approx(-0.5)
    assert [c.flags for c in hard.choices] == [(), (ia.FLAG_DISTRACTOR_BEATS_KEY,), ()]
    assert hard.point_biserial < 0
    assert fine.flags == ()
    assert fine.discrimination == pytest.approx(1.0)


def test_one_attempt():
    result = analyse([[1, 0]], [1, 1], [[0, -1]], [0, 0], [2, 2])
    assert result.test.n_attempts == 1
    assert result.test.mean == 1.0
    assert (result.test.sd, result.test.alpha, result.test.sem) == (None, None, None)
    first, second = result.items
    assert first.facility == 1.0 and first.discrimination is None and first.point_biserial is None
    assert second.flags == (ia.FLAG_NO_RESPONSES,) and second.answered == 0


def test_no_attempts_and_constant_scores():
    empty = analyse(np.zeros((0, 2)), [1, 1], np.zeros((0, 2)), [0, 1])
    assert empty.test.n_attempts == 0 and empty.test.mean is None
    assert empty.items[0].facility is None and empty.items[0].flags == ()

    constant = analyse(np.ones((6, 3)), [1, 1, 1], np.zeros((6, 3)), [0, 0, 0], [2, 2, 2])
    assert constant.test.sd == 0.0
    assert constant.test.alpha is None and constant.test.sem is None
    assert all(item.point_biserial is None for item in constant.items)
    assert all(item.discrimination == 0.0 for item in constant.items)


def test_analysis_of_100k_attempts_is_vectorised():
    rng = np.random.default_rng(3)
    n, k = 100_000, 30
    ability = rng.normal(size=(n, 1))
    correct = rng.random((n, k)) < 1 / (1 + np.exp(rng.normal(size=(1, k)) - ability))
    keys = rng.integers(0, 4, k)
    chosen = np.where(correct, keys, (keys + rng.integers(1, 4, (n, k))) % 4)
    started = time.perf_counter()
    result = analyse(correct.astype(float), np.ones(k), chosen, keys, [4] * k)
    elapsed = time.perf_counter() - started
    print(f"\nitem analysis of {n:,} attempts x {k} items: {elapsed:.3f} s (alpha {result.test.alpha:.3f})")
    assert result.test.n_attempts == n and len(result.items) == k


# --- Through the system -------------------------------------------------------------------------


CHOICE_BASED = ("single_choice", "true_false")


def submit_attempts(assessment, count: int = 20, slug: str = SLUG) -> list[dict]:
    """Anonymous attempts of a seeded quiz; returns its questions as the takers saw them."""
    rng = np.random.default_rng(5)
    for number in range(count):
        started = assessment.post(f"/api/v1/quizzes/{slug}/attempts", json={})
        assert started.status_code == 201, started.json
        attempt, headers = started.json, {"X-Attempt-Token": started.json["token"]}
        path = f"/api/v1/attempts/{attempt['id']}"
        questions = []
        for page in range(attempt["page_count"]):
            shown = assessment.get(f"{path}?page={page}", headers=headers).json["questions"]
            # The better takers choose the first option (often the key) more often.
            responses = {}
            for question in shown:
                options = question["body"].get("choices") or question["body"].get("options")
                if question["type"] in CHOICE_BASED:
                    pick = 0 if rng.random() < number / count else int(rng.integers(0, len(options)))
                    responses[str(question["question_id"])] = options[pick]["key"]
                elif question["type"] == "numeric":
                    responses[str(question["question_id"])] = str(number)
            saved = assessment.put(f"{path}/pages/{page}", json={"responses": responses}, headers=headers)
            assert saved.status_code == 200, saved.json
            questions += shown
        assert assessment.post(f"{path}/submit", json={}, headers=headers).status_code == 200
    return questions


def test_item_analysis_api_csv_and_page(make_system):
    running = make_system("embedded")
    enrollment, assessment = running.client("enrollment"), running.client("assessment")
    running.seed("assessment")
    questions = submit_attempts(assessment)
    coordinator_email, staff_email = people(running, "koordinator", "dewi")
    coordinator, staff = token(enrollment, coordinator_email), token(enrollment, staff_email)

    path = f"/api/v1/quizzes/{SLUG}/item-analysis"
    assert assessment.get(path).status_code == 401
    assert assessment.get(path, headers=bearer(staff)).status_code == 403
    assert assessment.get(path + ".csv", headers=bearer(staff)).status_code == 403
    assert (
        assessment.get("/api/v1/quizzes/no-such-quiz/item-analysis", headers=bearer(coordinator)).status_code
        == 404
    )

    response = assessment.get(path, headers=bearer(coordinator))
    assert response.status_code == 200, response.json
    report = response.json
    assert report["quiz_slug"] == SLUG
    assert report["test"]["n_attempts"] == 20
    assert report["test"]["n_items"] == len(questions)
    assert [item["question_id"] for item in report["items"]] == [q["question_id"] for q in questions]
    for item, question in zip(report["items"], questions, strict=True):
        assert 0.0 <= item["facility"] <= 1.0
        assert set(item["flags"]) <= set(ia.FLAGS)
        if question["type"] in CHOICE_BASED:  # every taker chose one of its options
            assert sum(choice["count"] for choice in item["choices"]) == 20
            assert sum(choice["is_key"] for choice in item["choices"]) == 1
        else:  # answered without choosing an option: no distractors to analyse
            assert (
                item["choices"] == [] and item["answered"] == 20 and ia.FLAG_NO_RESPONSES not in item["flags"]
            )
    assert report["test"]["alpha"] is None or report["test"]["alpha"] <= 1.0

    response = assessment.get(path + ".csv", headers=bearer(coordinator))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == ia.CSV_COLUMNS
    assert len(rows) == 1 + len(questions)
    assert [float(row[6]) for row in rows[1:]] == pytest.approx(
        [item["facility"] for item in report["items"]], abs=1e-4
    )

    page_path = f"/quizzes/{SLUG}/analysis"
    assert assessment.get(page_path).status_code == 302
    login(enrollment, coordinator_email)
    assessment.set_cookie("pustaka_token", enrollment.get_cookie("pustaka_token").value)
    page = assessment.get(page_path)
    assert page.status_code == 200, page.text
    assert "Analisis butir soal" in page.text
    assert f"/quizzes/{SLUG}/analysis.csv" in page.text
    assert questions[0]["text"]["id"] in page.text
    assert page.text.count('id="item-') == len(questions)
    download = assessment.get(page_path + ".csv")
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("text/csv")

    staff_web = running.client("enrollment")
    login(staff_web, staff_email)
    staff_page = running.client("assessment")
    staff_page.set_cookie("pustaka_token", staff_web.get_cookie("pustaka_token").value)
    assert staff_page.get(page_path).status_code == 403


def test_postgresql_reads_the_answers_packed_as_it_would_read_them_row_by_row(make_system, monkeypatch):
    """On PostgreSQL the answers come packed in binary, one row per question; they must be the very
    answers the plain row-per-answer query (SQLite's) reads, for a fixed quiz and a pool quiz."""
    running = make_system("distributed")
    assessment = running.client("assessment")
    running.seed("assessment")
    slugs = (SLUG, "literasi-informasi-acak")
    for slug in slugs:
        submit_attempts(assessment, 8, slug)

    packed = {
        slug: running.query("assessment", lambda s, slug=slug: ia.load_quiz_matrices(s, slug))
        for slug in slugs
    }
    monkeypatch.setattr(ia, "_packed_answers", ia._answer_rows)
    for slug in slugs:
        plain = running.query("assessment", lambda s, slug=slug: ia.load_quiz_matrices(s, slug))
        assert [q.id for q in packed[slug].questions] == [q.id for q in plain.questions]
        for name in ("attempt_ids", "scores", "chosen", "maxima", "keys", "n_options", "answered"):
            ours, theirs = getattr(packed[slug], name), getattr(plain, name)
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), (slug, name)
        assert len(plain.attempt_ids) == 8 and (plain.chosen >= 0).any()
