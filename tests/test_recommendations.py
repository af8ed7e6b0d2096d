"""Recommended public classes: the read model of published programmes, built from enrollment's
events, and the classes it recommends for a taker's weakest areas."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.assessment.recommendations import PublishedProgramme, recommend_classes
from shared import catalog
from shared.envelope import CloudEvent, checked
from shared.messaging import InboxEntry
from tests.support import csrf_token, wait_for
from tests.test_assessment_bank import seeded
from tests.test_attempts import bank, coordinator, wrong_response
from tests.test_skeleton import bearer, people, token

PUBLISHED = catalog.PROGRAMME_PUBLISHED.name
TYPES = {"public": "literacy_class", "staff": "training"}  # a type each track offers


def publish(running, data: dict, time: datetime | None = None) -> str:
    """Publish programme.published on the exchange as enrollment's relay would; returns its id."""
    moment = {"time": time.isoformat()} if time else {}
    event = checked(CloudEvent(type=PUBLISHED, source="/pustaka/enrollment", data=data, **moment))
    bus = running.apps["assessment"].extensions["pustaka"].bus
    with bus.connection() as connection:
        bus.publish(connection.Producer(), event.to_json(), event.type, None)
    return event.id


def handled(running, event_id: str) -> None:
    wait_for(
        lambda: running.query(
            "assessment", lambda s: s.scalar(select(InboxEntry).where(InboxEntry.event_id == event_id))
        ),
        what=f"assessment to handle {event_id}",
    )


def programme(programme_id: int, track: str, areas: list[str], title: str | None = None) -> dict:
    title = title or f"Kelas {programme_id}"
    return {
        "programme_id": programme_id,
        "title": {"id": title, "en": f"Class {programme_id}"},
        "track": track,
        "type": TYPES[track],
        "competency_areas": areas,
        "coordinator_id": None,
    }


def recommended(running, area_scores: dict, limit: int = 3) -> list[tuple[int, str]]:
    return running.query(
        "assessment",
        lambda s: [(r.programme_id, r.area) for r in recommend_classes(s, area_scores, limit=limit)],
    )


def stored(running, programme_id: int) -> PublishedProgramme | None:
    return running.query(
        "assessment",
        lambda s: s.scalar(select(PublishedProgramme).where(PublishedProgramme.programme_id == programme_id)),
    )


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_programmes_published_in_enrollment_feed_the_read_model(make_system, mode):
    running = make_system(mode)
    enrollment = running.client("enrollment")
    coordinator = token(enrollment, people(running, "koordinator")[0])

    def create(title: str, track: str, areas: list[str]) -> int:
        response = enrollment.post(
            "/api/v1/programmes",
            json={
                "title_id": title,
                "title_en": title,
                "track": track,
                "type": TYPES[track],
                "competency_areas": areas,
                "status": "published",
            },
            headers=bearer(coordinator),
        )
        assert response.status_code == 201, response.json
        return response.json["id"]

    searching = create("Kelas Menelusur di Katalog Daring", "public", ["searching"])
    hoaks = create("Kelas Cek Fakta dan Hoaks", "public", ["evaluating", "searching"])
    staff = create("Pelatihan Menilai Sumber untuk Pustakawan", "staff", ["evaluating"])
    wait_for(lambda: all(stored(running, pid) for pid in (searching, hoaks, staff)), what="the read model")
    row = stored(running, hoaks)
    assert (row.title_id, row.track, row.type, row.competency_areas) == (
        "Kelas Cek Fakta dan Hoaks",
        "public",
        "literacy_class",
        ["evaluating", "searching"],
    )

    scores = {"searching": 40.0, "evaluating": 25.0, "ethical_use": 90.0}
    assert recommended(running, scores) == [(hoaks, "evaluating"), (searching, "searching")]
    assert recommended(running, {"searching": 60.0, "evaluating": 75.0}) == []

    # Published again: the row follows; an older event arriving late changes nothing.
    later = datetime.now(UTC) + timedelta(minutes=1)
    handled(running, publish(running, programme(searching, "staff", ["searching"], "Kelas Lama"), later))
    handled(
        running,
        publish(
            running, programme(searching, "public", ["searching"], "Kelas Usang"), later - timedelta(hours=1)
        ),
    )
    row = stored(running, searching)
    assert (row.title_id, row.track) == ("Kelas Lama", "staff")
    assert running.query("assessment", lambda s: len(s.scalars(select(PublishedProgramme)).all())) == 3
    assert recommended(running, scores) == [(hoaks, "evaluating")]


def test_the_weakest_areas_first_public_classes_only_each_once(make_system):
    running = make_system("embedded")
    assert recommended(running, {"searching": 10.0}) == []  # nothing published yet
    for data in (
        programme(104, "public", ["evaluating"]),
        programme(101, "public", ["searching"]),
        programme(102, "public", ["evaluating", "searching"]),
        programme(103, "staff", ["evaluating"]),
        programme(105, "public", ["ethical_use"]),
        programme(106, "public", ["communicating"]),
    ):
        handled(running, publish(running, data))

    scores = {
        "evaluating": 20.0,
        "searching": 40.0,
        "ethical_use": 40.0,
        "communicating": 80.0,
        "information_need": 60.0,
    }
    # evaluating (20) first, by programme id; then the tie at 40 by area code: ethical_use, searching.
    assert recommended(running, scores, limit=10) == [
        (102, "evaluating"),
        (104, "evaluating"),
        (105, "ethical_use"),
        (101, "searching"),
    ]
    assert recommended(running, scores) == [(102, "evaluating"), (104, "evaluating"), (105, "ethical_use")]
    assert recommended(running, scores, limit=1) == [(102, "evaluating")]
    assert recommended(running, scores, limit=0) == []
    assert recommended(running, {"searching": 59.99}) == [(101, "searching"), (102, "searching")]
    assert recommended(running, {"communicating": 60.0, "digital_services": 10.0}) == []
    assert recommended(running, {}) == []

    first = running.query("assessment", lambda s: recommend_classes(s, {"ethical_use": 0.0})[0])
    assert (first.title("id"), first.title("en"), first.type, first.area_score) == (
        "Kelas 105",
        "Class 105",
        "literacy_class",
        0.0,
    )
    assert first.link == "/enrollment/programmes/105"


def test_a_result_recommends_public_classes_for_the_weakest_areas(make_system):
    running = make_system("embedded")
    seeded(running)
    for data in (
        programme(201, "public", ["evaluating"], "Kelas Cek Fakta"),
        programme(202, "public", ["searching", "communicating"], "Kelas Menulis dan Menelusur"),
        programme(203, "staff", ["ethical_use"]),
        programme(204, "public", ["information_need"]),
    ):
        handled(running, publish(running, data))
    questions = bank(running, coordinator(running))
    api = running.client("assessment")
    started = api.post("/api/v1/quizzes/uji-terbuka/attempts", json={}).json
    headers, path = {"X-Attempt-Token": started["token"]}, f"/api/v1/attempts/{started['id']}"
    for page in range(started["page_count"]):
        shown = api.get(f"{path}?page={page}", headers=headers).json
        assert shown["recommendations"] == []  # nothing to go on while it runs
        responses = {
            str(q["question_id"]): wrong_response(questions[q["question_id"]]) for q in shown["questions"]
        }
        api.put(f"{path}/pages/{page}", json={"responses": responses}, headers=headers)

    submitted = api.post(f"{path}/submit", json={}, headers=headers).json
    # Every area at 0: communicating, ethical_use (no public class), evaluating; searching's class came already.
    assert submitted["area_scores"] == {"communicating": 0, "ethical_use": 0, "evaluating": 0, "searching": 0}
    assert submitted["recommendations"] == [
        {
            "programme_id": 202,
            "title": {"id": "Kelas Menulis dan Menelusur", "en": "Class 202"},
            "type": "literacy_class",
            "area": "communicating",
            "area_name": {"id": "Mengomunikasikan informasi", "en": "Communicating information"},
            "area_score": 0.0,
            "link": "/enrollment/programmes/202",
        },
        {
            "programme_id": 201,
            "title": {"id": "Kelas Cek Fakta", "en": "Class 201"},
            "type": "literacy_class",
            "area": "evaluating",
            "area_name": {
                "id": "Menilai sumber dan mengenali misinformasi",
                "en": "Evaluating sources, spotting misinformation",
            },
            "area_score": 0.0,
            "link": "/enrollment/programmes/201",
        },
    ]
    assert api.get(path, headers=headers).json["recommendations"] == submitted["recommendations"]

    # On the result page, with links to the classes in enrollment.
    web = running.client("assessment")
    intro = web.get("/quizzes/uji-terbuka")
    location = web.post("/quizzes/uji-terbuka/start", data={"csrf_token": csrf_token(intro.text)}).headers[
        "Location"
    ]
    submit = location.split("/pages/")[0] + "/submit"
    done = web.post(submit, data={"csrf_token": csrf_token(intro.text), "email": ""})
    page = web.get(done.headers["Location"]).text
    links = re.findall(r'<li><a href="([^"]+)">([^<]+)</a>\s*· ([^(]+) \(0%\)', page)
    assert links == [
        ("/enrollment/programmes/202", "Kelas Menulis dan Menelusur", "Mengomunikasikan informasi"),
        ("/enrollment/programmes/201", "Kelas Cek Fakta", "Menilai sumber dan mengenali misinformasi"),
    ]
    assert "Yang perlu dipelajari berikutnya" in page
