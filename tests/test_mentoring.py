"""Mentoring: a coordinator pairs a mentor with a mentee (event, mentor role), both record meetings
(events), the mentee marks a goal met and only the pair's mentor confirms it (competency evidence);
quiet pairs are flagged after 30 days; bad input is refused with field messages and nothing stored."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.enrollment import mentoring
from services.enrollment.competencies import Evidence
from services.enrollment.mentoring import MentoringGoal, MentoringMeeting, MentoringPair, is_quiet
from services.enrollment.models import User
from shared import catalog
from shared.localtime import JAKARTA
from shared.messaging import OutboxMessage
from tests.support import csrf_token, wait_for
from tests.test_skeleton import bearer, login, people, token, wait_for_inbox

PAIRED, MEETING = catalog.MENTORING_PAIRED.name, catalog.MENTORING_MEETING_LOGGED.name


@pytest.fixture
def embedded(make_system):
    return make_system("embedded")


def today() -> date:
    return datetime.now(JAKARTA).date()


def members(running, *names: str) -> list[dict]:
    """New accounts, the first a coordinator: email, token and id of each."""
    enrollment = running.client("enrollment")
    result = []
    for address in people(running, *names):
        access = token(enrollment, address)
        user_id = enrollment.get("/api/v1/users/me", headers=bearer(access)).json["id"]
        result.append({"email": address, "token": access, "id": user_id})
    return result


def pair_body(mentor: dict, mentee: dict, **changes) -> dict:
    return {
        "mentor_id": mentor["id"],
        "mentee_id": mentee["id"],
        "starts_on": (today() - timedelta(days=10)).isoformat(),
        "ends_on": (today() + timedelta(days=170)).isoformat(),
        "goals": [
            {"area": "cataloguing", "description": "Membuat cantuman RDA secara mandiri", "target_level": 3},
            {"area": "digital_services", "description": "Mengelola akun media sosial", "target_level": 2},
        ],
    } | changes


def create_pair(running, coordinator: dict, mentor: dict, mentee: dict, **changes) -> dict:
    response = running.client("enrollment").post(
        "/api/v1/mentoring/pairs",
        json=pair_body(mentor, mentee, **changes),
        headers=bearer(coordinator["token"]),
    )
    assert response.status_code == 201, response.json
    return response.json


def outbox_events(running, type_name: str) -> list[dict]:
    import json

    bodies = running.query(
        "enrollment",
        lambda s: s.scalars(select(OutboxMessage.body).where(OutboxMessage.event_type == type_name)).all(),
    )
    return [json.loads(body) for body in bodies]


def counts(running) -> tuple[int, ...]:
    def count(session):
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (MentoringPair, MentoringGoal, MentoringMeeting, Evidence, OutboxMessage)
        )

    return running.query("enrollment", count)


def assert_error(response, status: int, *fields: str) -> None:
    assert response.status_code == status, response.json
    assert response.json["message"]
    for field in fields:
        assert response.json["errors"][field], response.json


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_pairing_meetings_and_confirmed_goals(make_system, mode):
    running = make_system(mode)
    enrollment = running.client("enrollment")
    coordinator, mentor, mentee, other = members(running, "koordinator", "sri", "budi", "lain")

    created = create_pair(running, coordinator, mentor, mentee)
    assert (created["mentor"]["id"], created["mentee"]["id"]) == (mentor["id"], mentee["id"])
    assert [goal["state"] for goal in created["goals"]] == ["open", "open"]
    roles = running.query("enrollment", lambda s: s.get(User, mentor["id"]).roles)
    assert "mentor" in roles
    (paired,) = [e for e in outbox_events(running, PAIRED) if e["data"]["pair_id"] == created["id"]]
    assert paired["data"]["competency_areas"] == ["cataloguing", "digital_services"]
    assert paired["data"]["mentor_name"] == "Sri"

    pair_path = f"/api/v1/mentoring/pairs/{created['id']}"
    yesterday = (today() - timedelta(days=1)).isoformat()
    first = enrollment.post(
        f"{pair_path}/meetings",
        json={"met_on": yesterday, "topics": "Dasar RDA", "actions": "Membuat 5 cantuman"},
        headers=bearer(mentee["token"]),
    )
    assert first.status_code == 201, first.json
    second = enrollment.post(
        f"{pair_path}/meetings", json={"met_on": today().isoformat(), "topics": "Tajuk subjek"},
        headers=bearer(mentor["token"]),
    )  # fmt: skip
    assert second.status_code == 201, second.json
    meetings = [e["data"] for e in outbox_events(running, MEETING) if e["data"]["pair_id"] == created["id"]]
    assert sorted((m["logged_by"], m["topics"]) for m in meetings) == sorted(
        [(mentee["id"], "Dasar RDA"), (mentor["id"], "Tajuk subjek")]
    )
    # The events reach both people through notification.
    mentor_inbox = wait_for_inbox(running, mentor["token"], count=2)
    assert {item["event_type"] for item in mentor_inbox["items"]} >= {PAIRED, MEETING}
    wait_for_inbox(running, mentee["token"], count=2)

    goal = created["goals"][0]
    goal_path = f"{pair_path}/goals/{goal['id']}"
    before = counts(running)
    assert_error(enrollment.post(f"{goal_path}/confirm", headers=bearer(mentor["token"])), 409)
    assert_error(enrollment.post(f"{goal_path}/met", headers=bearer(mentor["token"])), 403)
    assert_error(enrollment.post(f"{goal_path}/met", headers=bearer(other["token"])), 403)
    assert counts(running) == before
    met = enrollment.post(f"{goal_path}/met", headers=bearer(mentee["token"]))
    assert (met.status_code, met.json["state"]) == (200, "met")
    for stranger in (mentee, other, coordinator):  # only the pair's mentor confirms
        assert_error(enrollment.post(f"{goal_path}/confirm", headers=bearer(stranger["token"])), 403)
    assert running.query("enrollment", lambda s: s.scalar(select(func.count()).select_from(Evidence))) == 0
    confirmed = enrollment.post(f"{goal_path}/confirm", headers=bearer(mentor["token"]))
    assert (confirmed.status_code, confirmed.json["state"]) == (200, "confirmed")
    again = enrollment.post(f"{goal_path}/confirm", headers=bearer(mentor["token"]))
    assert again.status_code == 200

    profile = enrollment.get("/api/v1/me/competencies", headers=bearer(mentee["token"])).json
    cataloguing = next(area for area in profile if area["area"] == "cataloguing")
    assert cataloguing["level"] == 3
    (evidence,) = cataloguing["evidence"]
    assert (evidence["kind"], evidence["reference"]) == ("mentoring_goal", f"mentoring-goal:{goal['id']}")
    assert evidence["detail"] == "Membuat cantuman RDA secara mandiri"
    assert next(area for area in profile if area["area"] == "digital_services")["level"] is None

    overview = enrollment.get("/api/v1/mentoring/pairs", headers=bearer(coordinator["token"]))
    assert overview.status_code == 200
    (activity,) = [item for item in overview.json if item["pair"]["id"] == created["id"]]
    assert activity == activity | {
        "meetings": 2,
        "last_met_on": today().isoformat(),
        "goals": 2,
        "goals_met": 1,
        "goals_confirmed": 1,
        "flagged": False,
    }
    assert_error(enrollment.get("/api/v1/mentoring/pairs", headers=bearer(mentor["token"])), 403)
    mine = enrollment.get("/api/v1/me/mentoring", headers=bearer(mentee["token"])).json
    assert [item["pair"]["id"] for item in mine] == [created["id"]]
    assert enrollment.get("/api/v1/me/mentoring", headers=bearer(other["token"])).json == []
    assert_error(enrollment.get(pair_path, headers=bearer(other["token"])), 403)
    detail = enrollment.get(pair_path, headers=bearer(coordinator["token"])).json
    assert [m["topics"] for m in detail["meetings"]] == ["Tajuk subjek", "Dasar RDA"]

    added = enrollment.post(
        f"{pair_path}/goals",
        json={"area": "data_analytics", "description": "Dasbor kunjungan", "target_level": 2},
        headers=bearer(mentor["token"]),
    )
    assert added.status_code == 201, added.json
    assert_error(
        enrollment.post(
            f"{pair_path}/goals",
            json={"area": "data_analytics", "description": "x", "target_level": 2},
            headers=bearer(mentee["token"]),
        ),
        403,
    )


def test_bad_pairings_and_meetings_store_nothing(embedded):
    enrollment = embedded.client("enrollment")
    coordinator, mentor, mentee, other = members(embedded, "koordinator", "sri", "budi", "lain")
    headers = bearer(coordinator["token"])
    before = counts(embedded)

    def refused(body: dict, *fields: str) -> None:
        assert_error(enrollment.post("/api/v1/mentoring/pairs", json=body, headers=headers), 422, *fields)

    start = today()
    refused(
        pair_body(
            mentor, mentee, ends_on=(start - timedelta(days=1)).isoformat(), starts_on=start.isoformat()
        ),
        "ends_on",
    )
    refused(pair_body(mentor, mentee, ends_on=today().isoformat(), starts_on=today().isoformat()), "ends_on")
    refused(
        pair_body(mentor, mentee, goals=[{"area": "astrology", "description": "x", "target_level": 2}]),
        "goals.0.area",
    )
    refused(
        pair_body(mentor, mentee, goals=[{"area": "searching", "description": "x", "target_level": 2}]),
        "goals.0.area",
    )  # a public-track area is not the staff framework's
    refused(
        pair_body(mentor, mentee, goals=[{"area": "cataloguing", "description": " ", "target_level": 5}]),
        "goals.0.description",
        "goals.0.target_level",
    )
    refused(pair_body(mentor, mentee, goals=[]), "goals")
    refused(pair_body(mentor, mentor), "mentee_id")
    refused(pair_body(mentor, mentee, mentee_id=999999), "mentee_id")
    refused({"mentor_id": "x"}, "mentor_id", "mentee_id", "starts_on", "ends_on", "goals")
    assert_error(
        enrollment.post(
            "/api/v1/mentoring/pairs", json=pair_body(mentor, mentee), headers=bearer(mentor["token"])
        ),
        403,
    )
    assert counts(embedded) == before
    assert "mentor" not in embedded.query("enrollment", lambda s: s.get(User, mentor["id"]).roles)

    created = create_pair(embedded, coordinator, mentor, mentee)
    before = counts(embedded)
    path = f"/api/v1/mentoring/pairs/{created['id']}/meetings"

    def meeting(person: dict, met_on: date, topics: str = "RDA"):
        return enrollment.post(
            path, json={"met_on": met_on.isoformat(), "topics": topics}, headers=bearer(person["token"])
        )

    assert_error(meeting(mentee, today() - timedelta(days=11)), 422, "met_on")  # before the period
    assert_error(meeting(mentee, today() + timedelta(days=1)), 422, "met_on")  # in the future
    assert_error(meeting(mentee, today(), topics="  "), 422, "topics")
    assert_error(meeting(other, today()), 403)
    assert_error(meeting(coordinator, today()), 403)
    assert_error(
        enrollment.post(path, json={"met_on": "kemarin"}, headers=bearer(mentee["token"])), 422, "met_on"
    )
    assert_error(
        enrollment.post(
            "/api/v1/mentoring/pairs/999999/meetings",
            json={"met_on": today().isoformat(), "topics": "x"},
            headers=bearer(mentee["token"]),
        ),
        404,
    )
    assert counts(embedded) == before

    ended = create_pair(
        embedded,
        coordinator,
        mentor,
        mentee,
        starts_on=(today() - timedelta(days=90)).isoformat(),
        ends_on=(today() - timedelta(days=30)).isoformat(),
    )
    before = counts(embedded)
    after_end = enrollment.post(
        f"/api/v1/mentoring/pairs/{ended['id']}/meetings",
        json={"met_on": (today() - timedelta(days=2)).isoformat(), "topics": "RDA"},
        headers=bearer(mentor["token"]),
    )
    assert_error(after_end, 422, "met_on")
    assert counts(embedded) == before


def test_quiet_rule():
    start, end = date(2030, 1, 1), date(2030, 6, 30)
    assert not is_quiet(start, end, None, date(2030, 1, 30))  # 29 days since the start
    assert is_quiet(start, end, None, date(2030, 1, 31))  # 30 days, no meeting at all
    assert not is_quiet(start, end, date(2030, 3, 2), date(2030, 3, 31))
    assert is_quiet(start, end, date(2030, 3, 1), date(2030, 3, 31))
    assert not is_quiet(start, end, None, date(2030, 7, 31))  # the period is over
    assert not is_quiet(start, end, None, date(2029, 12, 1))  # not begun


def test_coordinators_see_quiet_pairs_flagged(embedded):
    coordinator, mentor, mentee, junior = members(embedded, "koordinator", "sri", "budi", "ani")
    now = datetime.now(UTC)

    def setup(session):
        ids = []
        for who, starts in ((mentee, 60), (junior, 60)):
            made = mentoring.pair(
                session,
                mentor_id=mentor["id"],
                mentee_id=who["id"],
                starts_on=today() - timedelta(days=starts),
                ends_on=today() + timedelta(days=100),
                goals=[{"area": "cataloguing", "description": "RDA", "target_level": 2}],
                created_by=coordinator["id"],
            )
            ids.append(made.id)
        mentoring.log_meeting(
            session,
            ids[0],
            mentee["id"],
            met_on=today() - timedelta(days=40),
            topics="RDA",
            actions="",
            now=now,
        )
        session.commit()
        return ids

    quiet, silent = embedded.query("enrollment", setup)

    def flags(at: datetime) -> dict[int, bool]:
        return embedded.query(
            "enrollment", lambda s: {a.pair.id: a.flagged for a in mentoring.activity(s, at)}
        )

    assert flags(now) == {quiet: True, silent: True}
    # Thirty days earlier both pairs were in good standing: the clock is the caller's.
    assert flags(now - timedelta(days=31)) == {quiet: False, silent: False}

    embedded.query(
        "enrollment",
        lambda s: (
            mentoring.log_meeting(
                s,
                quiet,
                mentor["id"],
                met_on=today() - timedelta(days=3),
                topics="Metadata",
                actions="",
                now=now,
            ),
            s.commit(),
        ),
    )
    assert flags(now) == {quiet: False, silent: True}

    web = embedded.client("enrollment")
    login(web, coordinator["email"])
    page = web.get("/mentoring/pairs")
    assert page.status_code == 200
    assert f'data-pair="{silent}" class="flagged"' in page.text
    row = page.text.split(f'data-pair="{silent}"')[1].split("</tr>")[0]
    assert "Tidak ada pertemuan selama 30 hari" in row
    quiet_row = page.text.split(f'data-pair="{quiet}"')[1].split("</tr>")[0]
    assert "Tidak ada pertemuan" not in quiet_row


def test_mentoring_pages(embedded):
    coordinator, mentor, mentee, other = members(embedded, "koordinator", "sri", "budi", "lain")
    coordinator_web = embedded.client("enrollment")
    login(coordinator_web, coordinator["email"])
    page = coordinator_web.get("/mentoring/pairs/new")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_token(page.text),
        "mentor_id": str(mentor["id"]),
        "mentee_id": str(mentee["id"]),
        "starts_on": (today() - timedelta(days=5)).isoformat(),
        "ends_on": (today() - timedelta(days=6)).isoformat(),
        "goals-0-area": "cataloguing",
        "goals-0-description": "Katalogisasi RDA",
        "goals-0-target_level": "3",
        "goals-1-area": "",
        "goals-1-description": "Tanpa bidang",
        "goals-1-target_level": "2",
        "goals-2-area": "",
        "goals-2-description": "",
        "goals-2-target_level": "2",
    }
    before = counts(embedded)
    refused = coordinator_web.post("/mentoring/pairs/new", data=form)
    assert refused.status_code == 400
    assert "Periode harus berakhir setelah dimulai." in refused.text
    assert "Pilih bidang kompetensi." in refused.text
    assert 'value="Katalogisasi RDA"' in refused.text  # what was typed stays
    assert counts(embedded) == before

    form |= {"ends_on": (today() + timedelta(days=90)).isoformat(), "goals-1-description": ""}
    created = coordinator_web.post("/mentoring/pairs/new", data=form)
    assert created.status_code == 302, created.text
    pair_path = created.headers["Location"]
    pair_id = int(pair_path.rsplit("/", 1)[1])
    goals = embedded.query(
        "enrollment", lambda s: [(g.id, g.area) for g in s.get(MentoringPair, pair_id).goals]
    )
    assert [area for _, area in goals] == ["cataloguing"]

    mentee_web = embedded.client("enrollment")
    login(mentee_web, mentee["email"])
    mine = mentee_web.get("/mentoring")
    assert mine.status_code == 200 and f'data-pair="{pair_id}"' in mine.text
    page = mentee_web.get(pair_path)
    assert page.status_code == 200 and "Katalogisasi RDA" in page.text
    outside = mentee_web.post(
        f"{pair_path}/meetings",
        data={
            "csrf_token": csrf_token(page.text),
            "met_on": (today() - timedelta(days=20)).isoformat(),
            "topics": "RDA",
        },
    )
    assert outside.status_code == 400
    assert "Pertemuan harus berada dalam periode mentoring." in outside.text
    logged = mentee_web.post(
        f"{pair_path}/meetings",
        data={
            "csrf_token": csrf_token(page.text),
            "met_on": today().isoformat(),
            "topics": "Kendali otoritas",
        },
    )
    assert logged.status_code == 302
    assert "Kendali otoritas" in mentee_web.get(pair_path).text
    goal_id = goals[0][0]
    marked = mentee_web.post(f"{pair_path}/goals/{goal_id}/met", data={"csrf_token": csrf_token(page.text)})
    assert marked.status_code == 302

    mentor_web = embedded.client("enrollment")
    login(mentor_web, mentor["email"])
    page = mentor_web.get(pair_path)
    assert f"/goals/{goal_id}/confirm" in page.text
    confirmed = mentor_web.post(
        f"{pair_path}/goals/{goal_id}/confirm", data={"csrf_token": csrf_token(page.text)}
    )
    assert confirmed.status_code == 302
    assert "Dikonfirmasi oleh mentor" in mentor_web.get(pair_path).text

    other_web = embedded.client("enrollment")
    login(other_web, other["email"])
    assert other_web.get(pair_path).status_code == 403
    assert other_web.get("/mentoring/pairs").status_code == 403
    wait_for(
        lambda: embedded.query("enrollment", lambda s: s.scalar(select(func.count()).select_from(Evidence)))
    )
