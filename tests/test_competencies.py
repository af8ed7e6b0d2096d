"""Competencies: the framework seeded and edited; profiles built from graded quizzes, programmes and
LMS courses as a history; follow-up assessments announced exactly once however many workers claim
them, listed as due and overdue, and done when the follow-up quiz is graded."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.enrollment import competencies
from services.enrollment.competencies import (
    CompetencyArea,
    CompetencyLevel,
    Evidence,
    FollowUp,
    level_for_percent,
    level_history,
)
from services.enrollment.competency_web import level_chart
from services.enrollment.followup_worker import followup_loop
from shared import catalog
from shared.envelope import CloudEvent, checked
from shared.errors import NotFound
from shared.messaging import InboxEntry, OutboxMessage
from tests.support import csrf_token, wait_for
from tests.test_mentoring import assert_error, members
from tests.test_skeleton import ADMIN, admin_token, bearer, login, programme_with_session, wait_for_inbox

GRADED, DUE = catalog.ATTEMPT_GRADED.name, catalog.FOLLOWUP_DUE.name


@pytest.fixture
def embedded(make_system):
    return make_system("embedded")


def publish(running, type_name: str, data: dict) -> str:
    """Publish a catalog event on the exchange as its service's relay would; returns its id."""
    event = checked(CloudEvent(type=type_name, source="/pustaka/assessment", data=data))
    bus = running.apps["enrollment"].extensions["pustaka"].bus
    with bus.connection() as connection:
        bus.publish(connection.Producer(), event.to_json(), event.type, None)
    return event.id


def handled(running, event_id: str) -> None:
    wait_for(
        lambda: running.query(
            "enrollment", lambda s: s.scalar(select(InboxEntry).where(InboxEntry.event_id == event_id))
        ),
        what=f"enrollment to handle {event_id}",
    )


attempt_ids = iter(range(9000, 100000))


def graded(
    running, user_id: int, purpose: str, areas: dict, at: datetime, programme_id: int | None = None
) -> None:
    data = catalog.ATTEMPT_GRADED.example | {
        "attempt_id": next(attempt_ids),
        "user_id": user_id,
        "purpose": purpose,
        "programme_id": programme_id,
        "area_scores": areas,
        "graded_at": at.isoformat(),
    }
    handled(running, publish(running, GRADED, data))


def area_of(profile: list[dict], code: str) -> dict:
    return next(item for item in profile if item["area"] == code)


# Rules -----------------------------------------------------------------------------------------


def test_percent_to_level_thresholds():
    cases = {0: 1, 39.9: 1, 40: 2, 59.99: 2, 60: 3, 79.9: 3, 80: 4, 100: 4}
    assert {percent: level_for_percent(percent) for percent in cases} == cases


def test_history_is_the_running_highest_level():
    start = datetime(2030, 1, 1, tzinfo=UTC)
    pieces = [
        Evidence(id=index, level=level, occurred_at=start + timedelta(days=day))
        for index, (day, level) in enumerate([(30, 3), (0, 1), (10, 2), (40, 1), (50, 3), (60, 4)])
    ]
    assert [(change.at.day, change.level) for change in level_history(pieces)] == [
        (1, 1),
        (11, 2),
        (31, 3),
        (2, 4),  # 2 March: the lower result of 10 February and the equal one of 20 February changed nothing
    ]


# The framework ---------------------------------------------------------------------------------


def test_framework_seeded_once_and_edited_by_admins(embedded):
    enrollment = embedded.client("enrollment")
    areas = enrollment.get("/api/v1/competency-framework").json
    assert [area["code"] for area in areas] == list(competencies.FRAMEWORK_AREAS)
    assert len(areas) == 7
    for area in areas:
        assert [level["level"] for level in area["levels"]] == [1, 2, 3, 4]
        assert all(level["descriptor_id"] and level["descriptor_en"] for level in area["levels"])
        assert area["name_id"] != area["name_en"]

    def reseed(session):
        added = competencies.ensure_framework(session)
        session.commit()
        return added, session.scalar(select(func.count()).select_from(CompetencyLevel))

    assert embedded.query("enrollment", reseed) == (0, 28)

    coordinator, staff = members(embedded, "koordinator", "joko")
    admin = {"token": admin_token(embedded)}
    body = {
        "name_id": "Katalogisasi, metadata, dan RDA",
        "name_en": "Cataloguing, metadata and RDA",
        "levels": [
            {"level": level, "descriptor_id": f"Deskripsi {level}", "descriptor_en": f"Descriptor {level}"}
            for level in (1, 2, 3, 4)
        ],
    }
    path = "/api/v1/competency-framework/cataloguing"
    assert_error(enrollment.put(path, json=body, headers=bearer(coordinator["token"])), 403)
    bad = body | {"name_id": " ", "levels": body["levels"][:3]}
    assert_error(
        enrollment.put(path, json=bad, headers=bearer(admin["token"])),
        422,
        "name_id",
        "levels.4.descriptor_en",
    )
    assert_error(
        enrollment.put(path, json=body | {"levels": [{"level": 5}]}, headers=bearer(admin["token"])),
        422,
        "levels",
    )
    assert_error(
        enrollment.put("/api/v1/competency-framework/astrology", json=body, headers=bearer(admin["token"])),
        404,
    )
    unchanged = embedded.query("enrollment", lambda s: s.get(CompetencyArea, "cataloguing").name_id)
    assert unchanged == "Katalogisasi dan metadata"

    saved = enrollment.put(path, json=body, headers=bearer(admin["token"]))
    assert saved.status_code == 200, saved.json
    assert saved.json["levels"][3]["descriptor_en"] == "Descriptor 4"
    assert embedded.query("enrollment", reseed)[0] == 0
    assert (
        enrollment.get("/api/v1/competency-framework").json[1]["name_id"] == "Katalogisasi, metadata, dan RDA"
    )

    web = embedded.client("enrollment")
    login(web, *ADMIN)
    page = web.get("/competencies/framework/digital_services")
    assert page.status_code == 200
    form = {"csrf_token": csrf_token(page.text), "name_id": "", "name_en": "Digital services"} | {
        f"level_{level}_{language}": f"Level {level}" for level in (1, 2, 3, 4) for language in ("id", "en")
    }
    refused = web.post("/competencies/framework/digital_services", data=form)
    assert refused.status_code == 400 and "Kolom ini wajib diisi." in refused.text
    saved = web.post("/competencies/framework/digital_services", data=form | {"name_id": "Layanan digital"})
    assert saved.status_code == 302
    assert "Layanan digital" in web.get("/competencies/framework").text
    staff_web = embedded.client("enrollment")
    login(staff_web, staff["email"])
    assert staff_web.get("/competencies/framework/digital_services").status_code == 403


# Profiles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_graded_quizzes_build_a_profile_history(make_system, mode):
    running = make_system(mode)
    enrollment = running.client("enrollment")
    coordinator, ani, budi = members(running, "koordinator", "ani", "budi")
    start = datetime(2030, 1, 6, 2, 0, tzinfo=UTC)

    graded(
        running,
        ani["id"],
        "competency_check",
        {"cataloguing": 55, "library_software": 85, "searching": 90},
        start,
    )
    graded(running, ani["id"], "post_test", {"cataloguing": 90}, start + timedelta(days=30))
    graded(
        running, ani["id"], "follow_up", {"cataloguing": 30}, start + timedelta(days=90)
    )  # lower: kept, no drop
    graded(
        running, ani["id"], "practice", {"data_analytics": 100}, start + timedelta(days=91)
    )  # not a measure
    graded(running, 999999, "competency_check", {"cataloguing": 100}, start)  # nobody here

    profile = enrollment.get("/api/v1/me/competencies", headers=bearer(ani["token"])).json
    assert [item["area"] for item in profile] == list(competencies.FRAMEWORK_AREAS)  # no public-track area
    cataloguing = area_of(profile, "cataloguing")
    assert cataloguing["level"] == 4
    assert [(change["at"][:10], change["level"]) for change in cataloguing["changes"]] == [
        ("2030-01-06", 2),
        ("2030-02-05", 4),
    ]
    assert [(e["level"], e["score"], e["kind"]) for e in cataloguing["evidence"]] == [
        (1, 30.0, "quiz"),
        (4, 90.0, "quiz"),
        (2, 55.0, "quiz"),
    ]
    assert cataloguing["evidence"][0]["detail"] == "Kuis Literasi Informasi Dasar"
    assert area_of(profile, "library_software")["level"] == 4
    assert area_of(profile, "data_analytics") == area_of(profile, "data_analytics") | {
        "level": None,
        "evidence": [],
    }
    assert running.query("enrollment", lambda s: s.scalar(select(func.count()).select_from(Evidence))) == 4

    as_coordinator = enrollment.get(
        f"/api/v1/staff/{ani['id']}/competencies", headers=bearer(coordinator["token"])
    )
    assert as_coordinator.json == profile
    assert_error(
        enrollment.get(f"/api/v1/staff/{ani['id']}/competencies", headers=bearer(budi["token"])), 403
    )
    assert_error(
        enrollment.get("/api/v1/staff/999999/competencies", headers=bearer(coordinator["token"])), 404
    )
    matrix = enrollment.get("/api/v1/staff/competencies", headers=bearer(coordinator["token"])).json
    assert next(row for row in matrix if row["user"]["id"] == ani["id"])["levels"] == {
        "cataloguing": 4,
        "library_software": 4,
    }
    assert next(row for row in matrix if row["user"]["id"] == budi["id"])["levels"] == {}

    web = running.client("enrollment")
    login(web, ani["email"])
    page = web.get("/competencies")
    assert page.status_code == 200
    section = page.text.split('id="area-cataloguing"')[1].split("</section>")[0]
    assert '<svg viewBox="0 0 480 150"' in section and 'role="img"' in section
    assert "Level 2 sejak 06-01-2030. Level 4 sejak 05-02-2030." in section  # the chart's description
    assert "4 · Ahli" in section and "Menetapkan kebijakan dan skema metadata" in section
    assert "<td>05-02-2030</td><td>4</td>" in section  # the table beside the chart
    assert "3 bukti" in section
    english = web.get("/competencies?lang=en").text
    assert "Level over time: Cataloguing and metadata" in english
    assert "Sets metadata policy" in english
    assert "Belum ada bukti." in page.text.split('id="area-data_analytics"')[1].split("</section>")[0]

    coordinator_web = running.client("enrollment")
    login(coordinator_web, coordinator["email"])
    assert f'data-user="{ani["id"]}"' in coordinator_web.get("/competencies/staff").text
    staff_page = coordinator_web.get(f"/competencies/staff/{ani['id']}")
    assert staff_page.status_code == 200 and "Kompetensi Ani" in staff_page.text
    assert web.get(f"/competencies/staff/{budi['id']}").status_code == 403


def test_programme_and_lms_evidence(embedded):
    enrollment = embedded.client("enrollment")
    coordinator, ani = members(embedded, "koordinator", "ani")
    programme, _ = programme_with_session(enrollment, coordinator["token"], seats=5)
    completed = datetime(2030, 3, 2, 9, 0, tzinfo=UTC)

    def record(session):
        first = competencies.record_programme_completion(
            session, ani["id"], programme["id"], ["cataloguing", "searching"], completed, default_weeks=6
        )
        again = competencies.record_programme_completion(
            session, ani["id"], programme["id"], ["cataloguing", "searching"], completed, default_weeks=6
        )
        lms = competencies.record_lms_evidence(
            session, ani["id"], ["digital_services", "moodle-own-area"], reference="lms:moodle:42",
            title="Media sosial untuk perpustakaan", completed_at=completed, percent=72,
        )  # fmt: skip
        repeated = competencies.record_lms_evidence(
            session,
            ani["id"],
            ["digital_services"],
            reference="lms:moodle:42",
            title="x",
            completed_at=completed,
        )
        unscored = competencies.record_lms_evidence(
            session, ani["id"], ["research_innovation"], reference="lms:moodle:43", title="Metode riset",
            completed_at=completed,
        )  # fmt: skip
        session.commit()
        return first.id, again.id, first.due_at, len(lms), len(repeated), len(unscored)

    first, again, due_at, lms, repeated, unscored = embedded.query("enrollment", record)
    assert first == again and due_at == completed + timedelta(weeks=6)
    assert (lms, repeated, unscored) == (1, 0, 1)
    with pytest.raises(NotFound):
        embedded.query(
            "enrollment",
            lambda s: competencies.record_programme_completion(
                s, ani["id"], 999999, ["cataloguing"], completed
            ),
        )

    profile = enrollment.get("/api/v1/me/competencies", headers=bearer(ani["token"])).json
    levels = {item["area"]: item["level"] for item in profile if item["level"]}
    assert levels == {"cataloguing": 2, "digital_services": 3, "research_innovation": 2}
    (programme_evidence,) = area_of(profile, "cataloguing")["evidence"]
    assert (
        programme_evidence | {"kind": "programme", "reference": f"programme:{programme['id']}"}
        == programme_evidence
    )
    assert area_of(profile, "digital_services")["evidence"][0]["score"] == 72.0


# Follow-ups ------------------------------------------------------------------------------------


def followup_events(running) -> list[str]:
    return running.query(
        "enrollment",
        lambda s: s.scalars(select(OutboxMessage.body).where(OutboxMessage.event_type == DUE)).all(),
    )


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_followups_are_announced_once_listed_and_done(make_system, mode):
    running = make_system(mode, extra={"PUSTAKA_FOLLOWUP_INTERVAL": 0.05})
    enrollment = running.client("enrollment")
    coordinator, ani, budi, citra = members(running, "koordinator", "ani", "budi", "citra")
    headers = bearer(coordinator["token"])
    programme, _ = programme_with_session(enrollment, coordinator["token"], seats=5)
    path = f"/api/v1/follow-up-settings/{programme['id']}"
    assert_error(enrollment.put(path, json={"weeks": 0}, headers=headers), 422, "weeks")
    assert_error(enrollment.put(path, json={"weeks": "x"}, headers=headers), 422, "weeks")
    assert_error(enrollment.put("/api/v1/follow-up-settings/999999", json={"weeks": 2}, headers=headers), 404)
    assert_error(enrollment.put(path, json={"weeks": 2}, headers=bearer(ani["token"])), 403)
    saved = enrollment.put(path, json={"weeks": 2, "quiz_slug": "katalogisasi-lanjutan"}, headers=headers)
    assert saved.status_code == 200, saved.json
    settings = enrollment.get("/api/v1/follow-up-settings", headers=headers).json
    setting = next(item for item in settings if item["programme_id"] == programme["id"])
    assert setting == setting | {"weeks": 2, "quiz_slug": "katalogisasi-lanjutan", "own": True}

    # Two more workers' loops beside the system's own, all polling every 50 ms.
    app, stop = running.apps["enrollment"], threading.Event()
    loops = [threading.Thread(target=followup_loop, args=(app, stop), daemon=True) for _ in range(2)]
    for loop in loops:
        loop.start()
    now = datetime.now(UTC)
    completions = {
        ani["id"]: now - timedelta(weeks=3),
        budi["id"]: now - timedelta(weeks=6),
        citra["id"]: now,
    }

    def complete(session):
        for user_id, at in completions.items():
            competencies.record_programme_completion(session, user_id, programme["id"], ["cataloguing"], at)
        session.commit()

    try:
        running.query("enrollment", complete)
        wait_for(lambda: len(followup_events(running)) >= 2, what="two follow-ups announced")
        stop.wait(0.5)  # every loop polls several times more
    finally:
        stop.set()
        for loop in loops:
            loop.join(5)
    bodies = followup_events(running)
    assert len(bodies) == 2
    announced = running.query(
        "enrollment", lambda s: {f.user_id: f.notified_at is not None for f in s.scalars(select(FollowUp))}
    )
    assert announced == {ani["id"]: True, budi["id"]: True, citra["id"]: False}
    items = wait_for_inbox(running, ani["token"])["items"]
    assert [item["event_type"] for item in items] == [DUE]
    assert "Pelatihan Katalogisasi" in items[0]["title"]

    listed = enrollment.get("/api/v1/follow-ups", headers=headers)
    assert listed.status_code == 200
    assert [(line["user"]["id"], line["state"]) for line in listed.json] == [
        (budi["id"], "overdue"),
        (ani["id"], "due"),
    ]
    assert listed.json[1]["quiz_slug"] == "katalogisasi-lanjutan"
    upcoming = enrollment.get("/api/v1/follow-ups?state=upcoming", headers=headers).json
    assert [line["user"]["id"] for line in upcoming] == [citra["id"]]
    assert_error(enrollment.get("/api/v1/follow-ups?state=someday", headers=headers), 422, "state")
    assert_error(enrollment.get("/api/v1/follow-ups", headers=bearer(ani["token"])), 403)
    exported = enrollment.get("/api/v1/follow-ups.csv", headers=headers)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(row["email"], row["state"]) for row in rows] == [
        (budi["email"], "overdue"),
        (ani["email"], "due"),
    ]
    assert int(rows[0]["days_overdue"]) == 14  # due four weeks ago, overdue from fourteen days after

    graded(
        running, ani["id"], "follow_up", {"cataloguing": 85}, datetime.now(UTC), programme_id=programme["id"]
    )
    done = enrollment.get("/api/v1/follow-ups?state=done", headers=headers).json
    assert [line["user"]["id"] for line in done] == [ani["id"]]
    assert [line["user"]["id"] for line in enrollment.get("/api/v1/follow-ups", headers=headers).json] == [
        budi["id"]
    ]
    assert (
        area_of(enrollment.get("/api/v1/me/competencies", headers=bearer(ani["token"])).json, "cataloguing")[
            "level"
        ]
        == 4
    )

    web = running.client("enrollment")
    login(web, coordinator["email"])
    page = web.get("/competencies/follow-ups")
    assert page.status_code == 200
    overdue_table = page.text.split('id="overdue"')[1].split("</table>")[0]
    assert "data-followup=" in overdue_table and "Budi" in overdue_table
    refused = web.post(
        "/competencies/follow-ups/settings",
        data={"csrf_token": csrf_token(page.text), "programme_id": str(programme["id"]), "weeks": "0"},
    )
    assert refused.status_code == 400 and "Angka harus antara 1 dan 104." in refused.text
    moved = web.post(
        "/competencies/follow-ups/settings",
        data={"csrf_token": csrf_token(page.text), "programme_id": str(programme["id"]), "weeks": "4"},
    )
    assert moved.status_code == 302
    # Citra's follow-up was not announced yet: it moves to the new time; the others stay as they were.
    due = running.query("enrollment", lambda s: {f.user_id: f.due_at for f in s.scalars(select(FollowUp))})
    assert due[citra["id"]] == completions[citra["id"]] + timedelta(weeks=4)
    assert due[ani["id"]] == completions[ani["id"]] + timedelta(weeks=2)
    assert web.get("/competencies/follow-ups.csv").text.startswith("name,email,")


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_concurrent_claims_announce_each_followup_once(make_system, mode):
    running = make_system(mode, start=False)  # no worker of its own: only the threads below claim
    enrollment = running.client("enrollment")
    coordinator, ani = members(running, "koordinator", "ani")
    programme, _ = programme_with_session(enrollment, coordinator["token"], seats=5)
    now = datetime.now(UTC)

    def complete(session):
        for day in range(30):
            competencies.record_programme_completion(
                session, ani["id"], programme["id"], [], now - timedelta(weeks=9, days=day)
            )
        session.commit()

    running.query("enrollment", complete)
    barrier, claimed, errors = threading.Barrier(4), [], []

    def claim_once(session) -> int:
        count = competencies.publish_due_followups(session, datetime.now(UTC), limit=4)
        session.commit()
        return count

    def claim():
        try:
            barrier.wait()
            while count := running.query("enrollment", claim_once):
                claimed.append(count)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sum(claimed) == 30
    subjects = [json.loads(body)["subject"] for body in followup_events(running)]
    assert len(subjects) == len(set(subjects)) == 30


def test_level_chart_is_a_step_line_inside_the_plot():
    start = datetime(2030, 1, 1, tzinfo=UTC)
    changes = level_history(
        [
            Evidence(id=1, level=1, occurred_at=start),
            Evidence(id=2, level=3, occurred_at=start + timedelta(days=50)),
        ]
    )
    chart = level_chart(changes, now=start + timedelta(days=100))
    assert chart.path == "M34.0,126.0 H251.0 V50.0 H468"
    assert [(x, y) for x, y, _ in chart.points] == [(34.0, 126.0), (251.0, 50.0)]
    assert chart.level_y == {1: 126.0, 2: 88.0, 3: 50.0, 4: 12.0}
    # A completion dated after our clock still lies inside the plot.
    ahead = level_chart(changes, now=start + timedelta(days=20))
    assert ahead.end == changes[-1].at and ahead.points[-1][0] == 468.0
    assert level_chart([], now=start).path == ""
