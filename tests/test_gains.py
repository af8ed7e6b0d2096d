"""Pre/post gains: the normalized gain of each learner, per programme and per area the average gain
and the gain of the averages, exclusions with their reasons; hand-computed numbers, then the same
figures from attempts in the database through the API, the CSV and the page."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest

from services.assessment.gains import (
    MISSING_POST,
    MISSING_PRE,
    PRE_AT_MAXIMUM,
    GainSummary,
    LearnerGain,
    Scores,
    gain_report,
    learner_gain,
    normalized_gain,
)
from services.assessment.models import Attempt, Quiz
from services.assessment.recommendations import PublishedProgramme
from shared.db import utcnow
from tests.test_assessment_bank import seeded
from tests.test_attempts import login_web
from tests.test_skeleton import bearer, people, token

NONE_EXCLUDED = {MISSING_PRE: 0, MISSING_POST: 0, PRE_AT_MAXIMUM: 0}


# The arithmetic, by hand -----------------------------------------------------------------------


def test_the_normalized_gain_is_the_share_of_what_was_left_to_learn():
    assert normalized_gain(40.0, 70.0) == 50.0  # 30 of the 60 points left
    assert normalized_gain(0.0, 100.0) == 100.0
    assert normalized_gain(60.0, 50.0) == -25.0  # fell back 10 of the 40 left
    assert normalized_gain(80.0, 80.0) == 0.0
    assert normalized_gain(5.0, 9.0, maximum=10.0) == 80.0


def test_a_learner_without_a_gain_is_left_out_with_the_first_reason_that_applies():
    assert learner_gain(1, 40.0, 70.0) == LearnerGain(1, 40.0, 70.0, 50.0, None)
    assert learner_gain(2, None, 70.0).excluded == MISSING_PRE
    assert learner_gain(3, 30.0, None).excluded == MISSING_POST
    assert learner_gain(4, 100.0, 100.0) == LearnerGain(4, 100.0, 100.0, None, PRE_AT_MAXIMUM)
    assert learner_gain(5, None, None).excluded == MISSING_PRE
    assert learner_gain(6, 100.0, None).excluded == MISSING_POST


def test_gains_per_programme_and_per_area_by_hand():
    pre = {
        1: Scores(40.0, {"searching": 0.0, "evaluating": 80.0}),
        2: Scores(50.0, {"searching": 100.0, "evaluating": 0.0}),
        3: Scores(100.0, {"searching": 100.0, "evaluating": 100.0}),
        4: Scores(30.0, {"searching": 0.0}),
        6: Scores(60.0, {"searching": 50.0}),
    }
    post = {
        1: Scores(70.0, {"searching": 80.0, "evaluating": 90.0}),
        2: Scores(60.0, {"searching": 100.0, "evaluating": 80.0}),
        3: Scores(100.0, {"searching": 100.0, "evaluating": 100.0}),
        5: Scores(90.0, {"searching": 80.0}),
        6: Scores(50.0, {"searching": 60.0, "evaluating": 100.0}),
    }
    report = gain_report(pre, post)

    assert report.learners == (
        LearnerGain(1, 40.0, 70.0, 50.0, None),  # 30 / 60
        LearnerGain(2, 50.0, 60.0, 20.0, None),  # 10 / 50
        LearnerGain(3, 100.0, 100.0, None, PRE_AT_MAXIMUM),
        LearnerGain(4, 30.0, None, None, MISSING_POST),
        LearnerGain(5, None, 90.0, None, MISSING_PRE),
        LearnerGain(6, 60.0, 50.0, -25.0, None),  # -10 / 40
    )
    # Average gain (50 + 20 − 25) / 3 = 15; averages 50 → 60, so their gain is 10 / 50 = 20.
    assert report.overall == GainSummary(
        area=None,
        learners=3,
        mean_pre=50.0,
        mean_post=60.0,
        average_gain=15.0,
        gain_of_averages=20.0,
        excluded={MISSING_PRE: 1, MISSING_POST: 1, PRE_AT_MAXIMUM: 1},
    )
    evaluating, searching = report.areas
    # Learner 1: 80 → 90 is 50; learner 2: 0 → 80 is 80. Averages 40 → 85: 45 / 60 = 75.
    # Learners 4 and 6 took a pre-test without the area, learner 5 none at all.
    assert evaluating == GainSummary(
        area="evaluating",
        learners=2,
        mean_pre=40.0,
        mean_post=85.0,
        average_gain=65.0,
        gain_of_averages=75.0,
        excluded={MISSING_PRE: 3, MISSING_POST: 0, PRE_AT_MAXIMUM: 1},
    )
    # Learner 1: 0 → 80 is 80; learner 6: 50 → 60 is 20. Averages 25 → 70: 45 / 75 = 60.
    assert searching == GainSummary(
        area="searching",
        learners=2,
        mean_pre=25.0,
        mean_post=70.0,
        average_gain=50.0,
        gain_of_averages=60.0,
        excluded={MISSING_PRE: 1, MISSING_POST: 1, PRE_AT_MAXIMUM: 2},
    )


def test_no_learner_counted_gives_no_figures():
    report = gain_report({1: Scores(100.0, {"searching": 100.0})}, {})
    assert report.overall == GainSummary(
        None, 0, None, None, None, None, {MISSING_PRE: 0, MISSING_POST: 1, PRE_AT_MAXIMUM: 0}
    )
    assert gain_report({}, {}).overall == GainSummary(None, 0, None, None, None, None, NONE_EXCLUDED)
    assert gain_report({}, {}).areas == ()


# From attempts in the database -----------------------------------------------------------------

PROGRAMME, OTHER_PROGRAMME = 7, 8


def quiz(slug: str, purpose: str, programme_id: int, grading_method: str = "highest") -> dict:
    return {
        "slug": slug,
        "title": {"id": f"Kuis {slug}", "en": f"Quiz {slug}"},
        "audience": "staff",
        "purpose": purpose,
        "programme_id": programme_id,
        "questions": ["UJI-Pilihan tunggal"],
        "grading_method": grading_method,
    }


@pytest.fixture(params=["embedded", "distributed"])
def programme(request, make_system):
    """Programme 7's pre-test (the first made counts) and post-test (graded by the average), with
    attempts of learners 1 to 4; programme 8 has only a pre-test."""
    running = make_system(request.param)
    seeded(running)
    coordinator_address, staff_address = people(running, "koordinator", "sari")
    coordinator = bearer(token(running.client("enrollment"), coordinator_address))
    for definition in (
        quiz("pra-7", "pre_test", PROGRAMME),
        quiz("pasca-7", "post_test", PROGRAMME, grading_method="average"),
        quiz("pra-7-cadangan", "pre_test", PROGRAMME),
        quiz("pra-8", "pre_test", OTHER_PROGRAMME),
    ):
        created = running.client("assessment").post("/api/v1/quizzes", json=definition, headers=coordinator)
        assert created.status_code == 201, created.json

    start = utcnow() - timedelta(days=10)
    # (quiz, user, score of 10 or None when not graded, area scores), in the order they were started.
    attempts = [
        ("pra-7", 1, None, {}),  # waits for a coordinator: not the first graded one
        ("pra-7", 1, 4, {"searching": 50.0, "evaluating": 50.0}),
        ("pra-7", 1, 9, {"searching": 100.0, "evaluating": 75.0}),
        ("pra-7", 2, 10, {"searching": 100.0}),
        ("pra-7", 3, 0, {"searching": 0.0, "evaluating": 0.0}),
        ("pra-7", None, 1, {"searching": 10.0}),  # anonymous: no learner
        ("pra-7-cadangan", 4, 2, {"searching": 20.0}),  # not the programme's pre-test
        ("pasca-7", 1, 6, {"searching": 50.0, "evaluating": 100.0}),
        ("pasca-7", 1, 8, {"searching": 100.0, "evaluating": 50.0}),
        ("pasca-7", 1, None, {}),  # still open
        ("pasca-7", 3, 2, {"searching": 20.0, "evaluating": 20.0}),
        ("pasca-7", 4, 9, {"searching": 90.0}),
        ("pra-8", 1, 5, {"searching": 50.0}),
    ]

    def insert(session):
        quizzes = {q.slug: q for q in session.query(Quiz)}
        for index, (slug, user_id, score, areas) in enumerate(attempts):
            started = start + timedelta(hours=index)
            session.add(
                Attempt(
                    quiz=quizzes[slug],
                    user_id=user_id,
                    token_hash=uuid.uuid4().hex,
                    seed=index,
                    started_at=started,
                    finished_at=None if slug == "pasca-7" and score is None else started,
                    graded_at=None if score is None else started,
                    score=score,
                    max_score=10.0,
                    area_scores=areas,
                )
            )
        session.add(
            PublishedProgramme(
                programme_id=PROGRAMME,
                title_id="Pelatihan Katalogisasi",
                title_en="Cataloguing Training",
                track="staff",
                type="training",
                competency_areas=["searching"],
                published_at=start,
            )
        )
        session.commit()

    running.query("assessment", insert)
    return (
        running,
        coordinator,
        bearer(token(running.client("enrollment"), staff_address)),
        coordinator_address,
    )


def test_gains_from_attempts_through_the_api(programme):
    running, coordinator, staff, _ = programme
    api = running.client("assessment")
    assert api.get("/api/v1/gains", headers=staff).status_code == 403
    assert api.get("/api/v1/gains").status_code == 401

    listed = api.get("/api/v1/gains", headers=coordinator).json
    assert [(p["programme_id"], p["pre_test"]["slug"], p["post_test"]["slug"]) for p in listed] == [
        (PROGRAMME, "pra-7", "pasca-7")
    ]
    assert listed[0]["title"] == {"id": "Pelatihan Katalogisasi", "en": "Cataloguing Training"}

    report = api.get(f"/api/v1/gains/{PROGRAMME}", headers=coordinator).json
    # 1: first graded pre 40, post the average of 60 and 80 = 70: 30 / 60 = 50.
    # 3: 0 → 20 = 20. Averages 20 → 45: 25 / 80 = 31.25.
    assert report["learners"] == [
        {"user_id": 1, "pre": 40.0, "post": 70.0, "gain": 50.0, "excluded": None},
        {"user_id": 2, "pre": 100.0, "post": None, "gain": None, "excluded": MISSING_POST},
        {"user_id": 3, "pre": 0.0, "post": 20.0, "gain": 20.0, "excluded": None},
        {"user_id": 4, "pre": None, "post": 90.0, "gain": None, "excluded": MISSING_PRE},
    ]
    assert report["overall"] == {
        "area": None,
        "area_name": None,
        "learners": 2,
        "mean_pre": 20.0,
        "mean_post": 45.0,
        "average_gain": 35.0,
        "gain_of_averages": 31.25,
        "excluded": {MISSING_PRE: 1, MISSING_POST: 1, PRE_AT_MAXIMUM: 0},
    }
    evaluating, searching = report["areas"]
    # Searching: 1 goes 50 → 75 (the average of 50 and 100) = 50; 3 goes 0 → 20 = 20;
    # averages 25 → 47.5: 22.5 / 75 = 30. Learner 2's pre is at the maximum and has no post.
    assert searching == {
        "area": "searching",
        "area_name": {"id": "Menelusur informasi secara efektif", "en": "Searching effectively"},
        "learners": 2,
        "mean_pre": 25.0,
        "mean_post": 47.5,
        "average_gain": 35.0,
        "gain_of_averages": 30.0,
        "excluded": {MISSING_PRE: 1, MISSING_POST: 1, PRE_AT_MAXIMUM: 0},
    }
    assert (evaluating["area"], evaluating["learners"], evaluating["excluded"]) == (
        "evaluating",
        2,
        {MISSING_PRE: 2, MISSING_POST: 0, PRE_AT_MAXIMUM: 0},
    )

    missing = api.get(f"/api/v1/gains/{OTHER_PROGRAMME}", headers=coordinator)
    assert missing.status_code == 404 and missing.json["message"]

    exported = api.get(f"/api/v1/gains/{PROGRAMME}.csv", headers=coordinator)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["row"], r["area"], r["user_id"]) for r in rows] == [
        ("programme", "", ""),
        ("area", "evaluating", ""),
        ("area", "searching", ""),
        ("learner", "", "1"),
        ("learner", "", "2"),
        ("learner", "", "3"),
        ("learner", "", "4"),
    ]
    assert {k: rows[0][k] for k in ("learners", "pre", "post", "average_gain", "gain_of_averages")} == {
        "learners": "2",
        "pre": "20.00",
        "post": "45.00",
        "average_gain": "35.00",
        "gain_of_averages": "31.25",
    }
    assert (rows[0]["excluded_missing_pre"], rows[0]["excluded_missing_post"]) == ("1", "1")
    assert (rows[4]["pre"], rows[4]["post"], rows[4]["gain"], rows[4]["excluded"]) == (
        "100.00",
        "",
        "",
        MISSING_POST,
    )


def test_the_gains_page_for_coordinators(programme):
    running, _, _, coordinator_address = programme
    web = running.client("assessment")
    assert web.get(f"/gains/{PROGRAMME}").status_code == 302  # to the sign-in page
    login_web(running, web, coordinator_address)

    listing = web.get("/gains")
    assert listing.status_code == 200
    assert f'href="/gains/{PROGRAMME}">Pelatihan Katalogisasi</a>' in listing.text
    assert "Tanpa pra-tes: 1; Tanpa pasca-tes: 1" in listing.text

    page = web.get(f"/gains/{PROGRAMME}")
    assert page.status_code == 200
    assert "Peningkatan pra/pasca: Pelatihan Katalogisasi" in page.text
    assert '<td class="average-gain">35.00%</td>' in page.text
    assert '<td class="gain-of-averages">31.25%</td>' in page.text
    assert "yang dihitung rata-rata percobaan yang sudah dinilai" in page.text  # the post-test's method
    assert web.get(f"/gains/{OTHER_PROGRAMME}").status_code == 404
    csv_page = web.get(f"/gains/{PROGRAMME}.csv")
    assert csv_page.status_code == 200 and csv_page.text.startswith("row,area,user_id")
