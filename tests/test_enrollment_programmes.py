"""Programmes, partners and sessions in depth: types and tracks, competency areas, partners as
organisers and speakers, draft → published → archived, sessions with places, speakers, quizzes and
an enrollment window; the catalog's search; the coordinators' and staff's pages; the migration."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, select, text

from services import system
from services.enrollment.models import Attendance, Enrollment, Partner, Programme, ProgrammeSession
from services.notification.models import Reminder
from shared.app import init_migrations
from shared.config import engine_options
from shared.localtime import local_time
from shared.messaging import OutboxMessage
from tests.support import PG_URL, csrf_token, wait_for
from tests.test_skeleton import bearer, login, people, programme_with_session, token, wait_for_inbox


@pytest.fixture
def embedded(make_system):
    return make_system("embedded")


def count(running, model) -> int:
    return running.query("enrollment", lambda s: s.scalar(select(func.count()).select_from(model)))


def events_of(running, type_name: str) -> list[dict]:
    bodies = running.query(
        "enrollment", lambda s: s.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id)).all()
    )
    return [event["data"] for event in map(json.loads, bodies) if event["type"] == type_name]


def assert_fields(response, status: int, *fields: str) -> None:
    assert response.status_code == status, response.json
    assert response.json["message"]
    for name in fields:
        assert response.json["errors"][name], response.json


def partner(client, coordinator: str, name: str, kind: str = "university") -> dict:
    response = client.post("/api/v1/partners", json={"name": name, "kind": kind}, headers=bearer(coordinator))
    assert response.status_code == 201, response.json
    return response.json


def starts_in(days: float) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def test_programmes_types_areas_partners_and_their_life(embedded):
    api = embedded.client("enrollment")
    coordinator_email, staff_email = people(embedded, "koordinator", "gilang")
    coordinator, staff = token(api, coordinator_email), token(api, staff_email)

    undip = partner(api, coordinator, "Universitas Diponegoro")
    ipi = partner(api, coordinator, "IPI Jawa Tengah", "professional_organisation")
    assert_fields(api.post("/api/v1/partners", json={"name": "universitas diponegoro", "kind": "ngo"},
                           headers=bearer(coordinator)), 409, "name")  # fmt: skip
    assert_fields(
        api.post(
            "/api/v1/partners",
            json={"name": "X", "kind": "club", "website": "ftp://x"},
            headers=bearer(coordinator),
        ),
        422,
        "kind",
    )
    assert_fields(
        api.post(
            "/api/v1/partners",
            json={"name": "X", "kind": "ngo", "website": "x.org"},
            headers=bearer(coordinator),
        ),
        422,
        "website",
    )
    assert (
        api.post("/api/v1/partners", json={"name": "Y", "kind": "ngo"}, headers=bearer(staff)).status_code
        == 403
    )
    renamed = api.patch(
        f"/api/v1/partners/{ipi['id']}", json={"website": "https://ipi.or.id"}, headers=bearer(coordinator)
    )
    assert renamed.status_code == 200 and renamed.json["website"] == "https://ipi.or.id"

    programmes_before = count(embedded, Programme)
    base = {
        "title_id": "Seminar Metadata",
        "title_en": "Metadata Seminar",
        "track": "staff",
        "type": "seminar",
    }
    unknown_area = api.post(
        "/api/v1/programmes",
        json=base | {"competency_areas": ["cataloguing", "juggling"]},
        headers=bearer(coordinator),
    )
    assert_fields(unknown_area, 422, "competency_areas")
    assert "juggling" in unknown_area.json["errors"]["competency_areas"][0]
    assert_fields(
        api.post("/api/v1/programmes", json=base | {"track": "public"}, headers=bearer(coordinator)),
        422,
        "type",
    )
    assert_fields(
        api.post(
            "/api/v1/programmes",
            json=base | {"partners": [{"partner_id": 999, "role": "organiser"}]},
            headers=bearer(coordinator),
        ),
        422,
        "partners",
    )
    assert count(embedded, Programme) == programmes_before

    created = api.post(
        "/api/v1/programmes",
        json=base
        | {
            "competency_areas": ["cataloguing"],
            "partners": [
                {"partner_id": undip["id"], "role": "organiser"},
                {"partner_id": ipi["id"], "role": "speaker"},
            ],
        },
        headers=bearer(coordinator),
    )
    assert created.status_code == 201 and created.json["status"] == "draft"
    programme_id = created.json["id"]
    assert {(p["name"], p["role"]) for p in created.json["partners"]} == {
        ("Universitas Diponegoro", "organiser"),
        ("IPI Jawa Tengah", "speaker"),
    }
    # A draft is the coordinators' own: unlisted, unseen, closed, unannounced.
    assert programme_id not in [p["id"] for p in api.get("/api/v1/programmes").json]
    assert api.get(f"/api/v1/programmes/{programme_id}").status_code == 404
    assert api.get(f"/api/v1/programmes/{programme_id}", headers=bearer(staff)).status_code == 404
    assert api.get(f"/api/v1/programmes/{programme_id}", headers=bearer(coordinator)).status_code == 200
    drafts = api.get("/api/v1/programmes?status=draft", headers=bearer(coordinator)).json
    assert programme_id in [p["id"] for p in drafts]
    assert api.get("/api/v1/programmes?status=draft").status_code == 401
    assert not [
        e for e in events_of(embedded, "pustaka.programme.published.v1") if e["programme_id"] == programme_id
    ]
    starts = starts_in(10)
    session = api.post(
        f"/api/v1/programmes/{programme_id}/sessions",
        json={"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=3)).isoformat(),
              "venue": "Aula", "capacity": 5},
        headers=bearer(coordinator),
    ).json  # fmt: skip
    closed = api.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(staff))
    assert (
        closed.status_code == 409 and closed.json["message"] == "This programme is not open for enrollment."
    )

    published = api.post(f"/api/v1/programmes/{programme_id}/publish", headers=bearer(coordinator))
    assert published.status_code == 200 and published.json["status"] == "published"
    (announced,) = [
        e for e in events_of(embedded, "pustaka.programme.published.v1") if e["programme_id"] == programme_id
    ]
    assert announced["competency_areas"] == ["cataloguing"] and announced["type"] == "seminar"
    assert (
        api.post(f"/api/v1/programmes/{programme_id}/publish", headers=bearer(coordinator)).status_code == 409
    )
    assert api.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(staff)).status_code == 201

    changed = api.patch(
        f"/api/v1/programmes/{programme_id}",
        json={
            "title_en": "Metadata and RDA Seminar",
            "partners": [{"partner_id": ipi["id"], "role": "organiser"}],
        },
        headers=bearer(coordinator),
    )
    assert changed.status_code == 200 and changed.json["title_en"] == "Metadata and RDA Seminar"
    assert [(p["name"], p["role"]) for p in changed.json["partners"]] == [("IPI Jawa Tengah", "organiser")]
    assert changed.json["title_id"] == "Seminar Metadata"  # what was not sent stays
    moved = api.patch(
        f"/api/v1/programmes/{programme_id}",
        json={"track": "public", "type": "literacy_class"},
        headers=bearer(coordinator),
    )
    assert_fields(moved, 409, "track")
    assert_fields(api.patch(f"/api/v1/programmes/{programme_id}", json={"competency_areas": ["x"]},
                            headers=bearer(coordinator)), 422, "competency_areas")  # fmt: skip

    archived = api.post(f"/api/v1/programmes/{programme_id}/archive", headers=bearer(coordinator))
    assert archived.status_code == 200 and archived.json["status"] == "archived"
    assert programme_id not in [p["id"] for p in api.get("/api/v1/programmes").json]
    assert api.get(f"/api/v1/programmes/{programme_id}").status_code == 200  # its history stays readable
    assert (
        api.post(f"/api/v1/programmes/{programme_id}/archive", headers=bearer(coordinator)).status_code == 409
    )
    assert (
        api.post(f"/api/v1/programmes/{programme_id}/publish", headers=bearer(coordinator)).status_code == 409
    )
    (other_email,) = people(embedded, "hadi")
    assert (
        api.post(
            f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(token(api, other_email))
        ).status_code
        == 409
    )


def test_sessions_check_their_dates_places_and_enrollment_window(embedded):
    api = embedded.client("enrollment")
    coordinator_email, staff_email = people(embedded, "koordinator", "indah")
    coordinator, staff = token(api, coordinator_email), token(api, staff_email)
    programme, first = programme_with_session(api, coordinator, seats=3)
    speaker_from = partner(api, coordinator, f"Universitas {uuid.uuid4().hex[:6]}")
    path = f"/api/v1/programmes/{programme['id']}/sessions"
    starts = starts_in(7)

    def at(hours: float) -> str:
        return (starts + timedelta(hours=hours)).isoformat()

    sessions_before = count(embedded, ProgrammeSession)
    assert_fields(api.post(path, json={"starts_at": at(0), "ends_at": at(-1), "capacity": -2}, headers=bearer(coordinator)),
                  422, "ends_at", "capacity", "venue")  # fmt: skip
    assert_fields(
        api.post(
            path,
            json={"starts_at": at(0), "ends_at": at(2), "capacity": 5, "online_link": "zoom meeting",
                  "enrollment_closes_at": at(3), "pre_test_slug": "Pre Test!"},
            headers=bearer(coordinator),
        ),
        422, "online_link", "enrollment_closes_at", "pre_test_slug",
    )  # fmt: skip
    assert_fields(
        api.post(path, json={"starts_at": at(0), "ends_at": at(2), "capacity": 5, "venue": "Aula",
                             "enrollment_opens_at": at(1)}, headers=bearer(coordinator)),
        422, "enrollment_opens_at",
    )  # fmt: skip
    assert_fields(
        api.post(path, json={"starts_at": at(0), "ends_at": at(2), "capacity": 5, "venue": "Aula",
                             "speakers": [{"name": "Dr. X", "partner_id": 999}]}, headers=bearer(coordinator)),
        422, "speakers",
    )  # fmt: skip
    assert count(embedded, ProgrammeSession) == sessions_before

    online = api.post(
        path,
        json={
            "starts_at": "2030-01-10T02:00:00+00:00",
            "ends_at": "2030-01-10T05:00:00+00:00",
            "online_link": "https://meet.jit.si/pustaka-rda",
            "capacity": 30,
            "speakers": [{"name": "Dr. Ratna", "partner_id": speaker_from["id"]}, {"name": "Agus"}],
            "pre_test_slug": "pre-test-rda",
            "post_test_slug": "post-test-rda",
            "enrollment_opens_at": datetime.now(UTC).isoformat(),
            "enrollment_closes_at": "2030-01-09T10:00:00+00:00",
        },
        headers=bearer(coordinator),
    )
    assert online.status_code == 201, online.json
    assert online.json["venue"] == "" and online.json["online_link"] == "https://meet.jit.si/pustaka-rda"
    assert [(s["name"], s.get("partner_name")) for s in online.json["speakers"]] == [
        ("Dr. Ratna", speaker_from["name"]),
        ("Agus", None),
    ]
    assert (online.json["pre_test_slug"], online.json["post_test_slug"]) == ("pre-test-rda", "post-test-rda")
    # Stored in UTC, shown in Semarang's time.
    page = embedded.client("enrollment").get(f"/programmes/{programme['id']}")
    assert "10-01-2030 09:00 WIB" in page.text and "09-01-2030 17:00 WIB" in page.text

    # The window: not open yet, then closed, each refused with its reason.
    window = f"/api/v1/sessions/{first['id']}"
    later = starts_in(1)
    assert (
        api.patch(
            window, json={"enrollment_opens_at": later.isoformat()}, headers=bearer(coordinator)
        ).status_code
        == 200
    )
    early = api.post(f"/api/v1/sessions/{first['id']}/enrollments", headers=bearer(staff))
    assert (
        early.status_code == 409
        and early.json["message"] == f"Enrollment for this session opens on {local_time(later)}."
    )
    past = starts_in(-1)
    closing = api.patch(
        window,
        json={"enrollment_opens_at": None, "enrollment_closes_at": past.isoformat()},
        headers=bearer(coordinator),
    )
    assert closing.status_code == 200, closing.json
    late = api.post(f"/api/v1/sessions/{first['id']}/enrollments", headers=bearer(staff))
    assert (
        late.status_code == 409
        and late.json["message"] == f"Enrollment for this session closed on {local_time(past)}."
    )
    assert (
        api.patch(window, json={"enrollment_closes_at": None}, headers=bearer(coordinator)).status_code == 200
    )
    assert api.post(f"/api/v1/sessions/{first['id']}/enrollments", headers=bearer(staff)).status_code == 201

    # An edit is checked whole; a refused one changes nothing.
    before = api.get(window).json
    assert_fields(
        api.patch(window, json={"ends_at": before["starts_at"]}, headers=bearer(coordinator)), 422, "ends_at"
    )
    assert_fields(
        api.patch(window, json={"venue": "", "online_link": ""}, headers=bearer(coordinator)), 422, "venue"
    )
    assert api.get(window).json == before
    assert api.patch(window, json={"venue": "Ruang 2"}, headers=bearer(staff)).status_code == 403
    assert (
        api.patch("/api/v1/sessions/424242", json={"venue": "x"}, headers=bearer(coordinator)).status_code
        == 404
    )


def test_the_catalog_finds_by_title_type_area_track_and_dates(embedded):
    api = embedded.client("enrollment")
    (coordinator_email,) = people(embedded, "koordinator")
    coordinator = token(api, coordinator_email)
    tag = uuid.uuid4().hex[:6]

    def offer(title_id: str, title_en: str, track: str, kind: str, areas: list[str], starts: str) -> int:
        created = api.post(
            "/api/v1/programmes",
            json={"title_id": f"{title_id} {tag}", "title_en": f"{title_en} {tag}", "track": track, "type": kind,
                  "competency_areas": areas, "status": "published"},
            headers=bearer(coordinator),
        )  # fmt: skip
        assert created.status_code == 201, created.json
        api.post(
            f"/api/v1/programmes/{created.json['id']}/sessions",
            json={
                "starts_at": starts,
                "ends_at": starts.replace("T02", "T05"),
                "venue": "Aula",
                "capacity": 9,
            },
            headers=bearer(coordinator),
        )
        return created.json["id"]

    katalog = offer("Pelatihan Katalogisasi", "Cataloguing Training", "staff", "training", ["cataloguing"],
                    "2030-03-02T02:00:00+00:00")  # fmt: skip
    data = offer("Lokakarya Analitik Data", "Data Analytics Workshop", "staff", "workshop", ["data_analytics"],
                 "2030-04-10T02:00:00+00:00")  # fmt: skip
    kelas = offer("Kelas Menelusur Informasi", "Searching Class", "public", "literacy_class", ["searching"],
                  "2030-03-20T02:00:00+00:00")  # fmt: skip

    def found(query: str) -> set[int]:
        response = api.get(f"/api/v1/programmes?{query}")
        assert response.status_code == 200, response.json
        return {p["id"] for p in response.json} & {katalog, data, kelas}

    assert found(f"q=katalogisasi {tag}") == {katalog}
    assert found(f"q=WORKSHOP {tag}") == {data}  # the English title, any case
    assert found(f"q={tag}") == {katalog, data, kelas}
    assert found("q=100%") == set()
    assert found("type=workshop") == {data}
    assert found("area=cataloguing") == {katalog}
    assert found("track=public") == {kelas}
    assert found("from=2030-03-01&to=2030-03-31") == {katalog, kelas}
    assert found("from=2030-04-10") == {data}
    assert found("to=2030-03-02") == {katalog}  # the last day counts whole, in WIB
    assert_fields(api.get("/api/v1/programmes?area=juggling"), 422, "area")
    assert_fields(api.get("/api/v1/programmes?from=2030-04-01&to=2030-03-01"), 422, "to")

    web = embedded.client("enrollment")
    page = web.get(f"/programmes?q={tag}&track=staff&type=training")
    assert page.status_code == 200
    assert f"Pelatihan Katalogisasi {tag}" in page.text and f"Lokakarya Analitik Data {tag}" not in page.text
    english = web.get(f"/programmes?q={tag}&area=searching&lang=en")
    assert f"Searching Class {tag}" in english.text and f"Cataloguing Training {tag}" not in english.text
    wrong = web.get("/programmes?area=juggling&starts_from=2030-05-01&starts_to=2030-04-01")
    assert wrong.status_code == 400
    assert (
        "Pilihan tidak valid." in wrong.text
        and "Hari terakhir tidak boleh sebelum hari pertama." in wrong.text
    )


def test_coordinators_run_programmes_partners_and_sessions_through_pages(embedded):
    coordinator_email, staff_email = people(embedded, "koordinator", "joko")
    web = embedded.client("enrollment")
    login(web, coordinator_email)

    page = web.get("/partners/new")
    refused = web.post("/partners/new", data={"csrf_token": csrf_token(page.text), "name": "", "kind": "ngo",
                                              "website": "relawan.org"})  # fmt: skip
    assert refused.status_code == 400
    assert (
        "Kolom ini wajib diisi." in refused.text
        and "Isi alamat web yang diawali http:// atau https://." in refused.text
    )
    assert 'value="relawan.org"' in refused.text
    name = f"Relawan TIK {uuid.uuid4().hex[:6]}"
    saved = web.post("/partners/new", data={"csrf_token": csrf_token(page.text), "name": name, "kind": "ngo",
                                            "website": "https://relawantik.or.id"})  # fmt: skip
    assert saved.status_code == 302 and name in web.get("/partners").text
    partner_id = embedded.query(
        "enrollment", lambda s: s.scalar(select(Partner.id).where(Partner.name == name))
    )

    page = web.get("/programmes/new")
    assert "Katalogisasi dan metadata" in page.text and name in page.text
    form = {
        "csrf_token": csrf_token(page.text),
        "title_id": "Lokakarya Media Sosial Perpustakaan",
        "title_en": "",
        "track": "staff",
        "type": "workshop",
        "competency_areas": ["digital_services", "community_engagement"],
        "organisers": [str(partner_id)],
    }
    missing = web.post("/programmes/new", data=form)
    assert missing.status_code == 400 and "Kolom ini wajib diisi." in missing.text
    assert 'value="Lokakarya Media Sosial Perpustakaan"' in missing.text
    assert re.search(
        r'value="digital_services"[^>]*checked|checked[^>]*value="digital_services"', missing.text
    )
    draft = web.post("/programmes/new", data=form | {"title_en": "Library Social Media Workshop"})
    assert draft.status_code == 302
    programme_path = draft.headers["Location"]
    programme_id = int(programme_path.rsplit("/", 1)[1])
    page = web.get(programme_path)
    assert "Draf" in page.text and "Diselenggarakan bersama" in page.text and name in page.text
    assert "Layanan digital dan media sosial" in page.text

    staff_web = embedded.client("enrollment")
    login(staff_web, staff_email)
    assert staff_web.get(programme_path).status_code == 404  # a draft is not for staff yet

    page = web.get(f"/programmes/{programme_id}/sessions/new")
    session_form = {
        "csrf_token": csrf_token(page.text),
        "starts_at": "2030-02-03T09:00",
        "ends_at": "2030-02-03T08:00",
        "venue": "",
        "online_link": "",
        "capacity": "0",
        "speakers-0-name": "Dewi Lestari",
        "speakers-0-partner": str(partner_id),
        "enrollment_closes_at": "2030-02-04T09:00",
    }
    wrong = web.post(f"/programmes/{programme_id}/sessions", data=session_form)
    assert wrong.status_code == 400
    for message in (
        "Sesi harus berakhir setelah waktu mulainya.",
        "Isi tempat atau tautan daring.",
        "Pendaftaran harus ditutup sebelum sesi berakhir.",
    ):
        assert message in wrong.text
    assert 'value="Dewi Lestari"' in wrong.text  # kept as typed
    fixed = session_form | {"ends_at": "2030-02-03T12:00", "online_link": "https://meet.jit.si/medsos",
                            "capacity": "2", "enrollment_closes_at": ""}  # fmt: skip
    assert web.post(f"/programmes/{programme_id}/sessions", data=fixed).status_code == 302
    stored = embedded.query(
        "enrollment",
        lambda s: s.scalars(
            select(ProgrammeSession).where(ProgrammeSession.programme_id == programme_id)
        ).one(),
    )
    assert (
        stored.starts_at == datetime(2030, 2, 3, 2, tzinfo=UTC)
        and stored.online_link == "https://meet.jit.si/medsos"
    )
    page = web.get(programme_path)
    assert "Dewi Lestari (" + name + ")" in page.text and "03-02-2030 09:00 WIB" in page.text

    edit = web.get(f"/sessions/{stored.id}/edit")
    assert 'value="2030-02-03T09:00"' in edit.text and 'value="Dewi Lestari"' in edit.text
    saved = web.post(
        f"/sessions/{stored.id}/edit",
        data={"csrf_token": csrf_token(edit.text), "starts_at": "2030-02-03T10:00", "ends_at": "2030-02-03T12:00",
              "venue": "Aula Lantai 2", "online_link": "", "speakers-0-name": "Dewi Lestari", "speakers-0-partner": ""},
    )  # fmt: skip
    assert saved.status_code == 302
    assert "Aula Lantai 2" in web.get(programme_path).text

    edit = web.get(f"/programmes/{programme_id}/edit")
    assert 'value="Library Social Media Workshop"' in edit.text
    changed = web.post(
        f"/programmes/{programme_id}/edit",
        data=form
        | {"csrf_token": csrf_token(edit.text), "title_en": "Social Media for Libraries", "organisers": []},
    )
    assert changed.status_code == 302
    assert "Social Media for Libraries" in web.get(f"{programme_path}?lang=en").text

    page = web.get(programme_path)
    published = web.post(f"/programmes/{programme_id}/publish", data={"csrf_token": csrf_token(page.text)})
    assert published.status_code == 302 and "Program diterbitkan." in web.get(programme_path).text
    assert staff_web.get(programme_path).status_code == 200
    again = web.post(f"/programmes/{programme_id}/publish", data={"csrf_token": csrf_token(page.text)})
    assert again.status_code == 302 and "Hanya draf yang dapat diterbitkan." in web.get(programme_path).text


def test_roster_attendance_capacity_and_cancelling_a_session(embedded):
    running = embedded
    api = running.client("enrollment")
    coordinator_email, *names = people(running, "koordinator", "kiki", "lala", "mira")
    coordinator = token(api, coordinator_email)
    kiki, lala, mira = (token(api, address) for address in names)
    programme, session = programme_with_session(api, coordinator, seats=2)
    for access in (kiki, lala, mira):
        assert (
            api.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(access)).status_code
            == 201
        )
    wait_for_inbox(running, mira)

    web = running.client("enrollment")
    login(web, coordinator_email)
    roster_path = f"/sessions/{session['id']}/roster"
    page = web.get(roster_path)
    assert page.status_code == 200
    confirmed = page.text.split('id="confirmed"')[1].split("</table>")[0]
    assert "Kiki" in confirmed and "Lala" in confirmed and "Mira" not in confirmed
    assert "Mira" in page.text.split('id="waitlisted"')[1].split("</ol>")[0]
    assert "2 dari 2 kursi terisi, 1 menunggu." in page.text

    kiki_id, lala_id = running.query(
        "enrollment",
        lambda s: s.scalars(
            select(Enrollment.id)
            .where(Enrollment.session_id == session["id"])
            .order_by(Enrollment.id)
            .limit(2)
        ).all(),
    )
    marked = web.post(
        f"/sessions/{session['id']}/attendance",
        data={
            "csrf_token": csrf_token(page.text),
            f"attendance_{kiki_id}": "attended",
            f"attendance_{lala_id}": "absent",
        },
    )
    assert marked.status_code == 302
    stored = running.query(
        "enrollment", lambda s: {a.enrollment_id: a.status for a in s.scalars(select(Attendance))}
    )
    assert stored == {kiki_id: "attended", lala_id: "absent"}
    bad = web.post(
        f"/sessions/{session['id']}/attendance",
        data={"csrf_token": csrf_token(page.text), f"attendance_{kiki_id}": "asleep"},
    )
    assert bad.status_code == 400 and "Pilihan tidak valid." in bad.text
    kiki_web = running.client("enrollment")
    login(kiki_web, names[0])
    assert "Hadir" in kiki_web.get("/my-learning").text.split('id="enrollments"')[1]
    api_marks = api.put(
        f"/api/v1/sessions/{session['id']}/attendance",
        json={
            "marks": [
                {"enrollment_id": lala_id, "status": "attended"},
                {"enrollment_id": 999999, "status": "absent"},
            ]
        },
        headers=bearer(coordinator),
    )
    assert_fields(api_marks, 422, "attendance.999999")
    assert running.query("enrollment", lambda s: s.get(Attendance, lala_id).status) == "absent"

    lower = web.post(
        f"/sessions/{session['id']}/capacity", data={"csrf_token": csrf_token(page.text), "capacity": "1"}
    )
    assert (
        lower.status_code == 409
        and "2 kursi sudah terisi: kapasitas tidak dapat lebih kecil dari itu." in lower.text
    )
    raise_ = web.post(
        f"/sessions/{session['id']}/capacity", data={"csrf_token": csrf_token(page.text), "capacity": "3"}
    )
    assert raise_.status_code == 302
    assert "Kapasitas disimpan; 1 orang dari daftar tunggu mendapat kursi." in web.get(roster_path).text
    wait_for(
        lambda: any(
            i["event_type"] == "pustaka.enrollment.confirmed.v1"
            for i in wait_for_inbox(running, mira)["items"]
        ),
        what="Mira's seat",
    )
    reminders = running.query(
        "notification",
        lambda s: s.scalars(select(Reminder).where(Reminder.key.like(f"%:{session['id']}:%"))).all(),
    )
    assert reminders and {r.state for r in reminders} == {"pending"}

    cancelled = web.post(
        f"/sessions/{session['id']}/cancel",
        data={"csrf_token": csrf_token(page.text), "reason": "Narasumber sakit."},
    )
    assert cancelled.status_code == 302
    page = web.get(roster_path)
    assert "Sesi ini dibatalkan." in page.text and "Ubah kapasitas" not in page.text
    statuses = running.query(
        "enrollment",
        lambda s: set(s.scalars(select(Enrollment.status).where(Enrollment.session_id == session["id"]))),
    )
    assert statuses == {"cancelled"}
    (event,) = [
        e for e in events_of(running, "pustaka.session.cancelled.v1") if e["session_id"] == session["id"]
    ]
    assert event["reason"] == "Narasumber sakit."
    # Everyone in the session is told, and nobody is reminded of it any more.
    for access in (kiki, lala, mira):
        item = wait_for(
            lambda access=access: next(
                (
                    i
                    for i in wait_for_inbox(running, access)["items"]
                    if i["event_type"] == "pustaka.session.cancelled.v1"
                ),
                None,
            ),
            what="the cancellation",
        )
        assert (
            item["title"] == "Sesi dibatalkan: Pelatihan Katalogisasi" and "Narasumber sakit." in item["body"]
        )
    wait_for(
        lambda: (
            {
                r.state
                for r in running.query(
                    "notification",
                    lambda s: s.scalars(
                        select(Reminder).where(Reminder.key.like(f"%:{session['id']}:%"))
                    ).all(),
                )
            }
            == {"cancelled"}
        ),
        what="the reminders called off",
    )
    mira_web = running.client("enrollment")
    login(mira_web, names[2])
    assert "Sesi dibatalkan: Narasumber sakit." in mira_web.get("/my-learning").text
    again = api.post(f"/api/v1/sessions/{session['id']}/cancel", json={}, headers=bearer(coordinator))
    assert again.status_code == 409
    assert (
        api.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(coordinator)).status_code
        == 409
    )


def test_staff_enroll_see_their_place_and_cancel_through_pages(embedded):
    running = embedded
    api = running.client("enrollment")
    coordinator_email, nina_email, oki_email = people(running, "koordinator", "nina", "oki")
    programme, session = programme_with_session(api, token(api, coordinator_email), seats=1)
    nina, oki = running.client("enrollment"), running.client("enrollment")
    login(nina, nina_email)
    login(oki, oki_email)
    for client in (nina, oki):
        page = client.get(f"/programmes/{programme['id']}")
        assert (
            client.post(
                f"/sessions/{session['id']}/enroll", data={"csrf_token": csrf_token(page.text)}
            ).status_code
            == 302
        )
    page = oki.get(f"/programmes/{programme['id']}")
    repeat = oki.post(f"/sessions/{session['id']}/enroll", data={"csrf_token": csrf_token(page.text)})
    assert repeat.status_code == 302
    learning = oki.get(repeat.headers["Location"]).text
    assert "Anda sudah terdaftar di sesi ini." in learning
    assert "Dalam daftar tunggu, nomor 1" in learning

    learning = nina.get("/my-learning").text
    enrollment_id = int(re.search(r'data-enrollment="(\d+)"', learning).group(1))
    cancelled = nina.post(f"/enrollments/{enrollment_id}/cancel", data={"csrf_token": csrf_token(learning)})
    assert cancelled.status_code == 302
    assert "Pendaftaran Anda dibatalkan." in nina.get("/my-learning").text
    assert "Terkonfirmasi" in oki.get("/my-learning").text.split('id="enrollments"')[1]
    oki_token = token(api, oki_email)
    wait_for(
        lambda: any(
            i["event_type"] == "pustaka.enrollment.confirmed.v1"
            for i in wait_for_inbox(running, oki_token)["items"]
        ),
        what="Oki told of the seat",
    )
    # Only one's own enrollments.
    other = oki.post(
        f"/enrollments/{enrollment_id}/cancel", data={"csrf_token": csrf_token(oki.get("/my-learning").text)}
    )
    assert other.status_code == 404


def test_the_api_is_complete_in_openapi(embedded):
    spec = embedded.client("enrollment").get("/openapi.json").json
    for path, method in [
        ("/api/v1/partners", "post"),
        ("/api/v1/partners/{partner_id}", "patch"),
        ("/api/v1/programmes", "get"),
        ("/api/v1/programmes/{programme_id}", "patch"),
        ("/api/v1/programmes/{programme_id}/publish", "post"),
        ("/api/v1/programmes/{programme_id}/archive", "post"),
        ("/api/v1/programmes/{programme_id}/sessions", "post"),
        ("/api/v1/sessions/{session_id}", "patch"),
        ("/api/v1/sessions/{session_id}/capacity", "put"),
        ("/api/v1/sessions/{session_id}/cancel", "post"),
        ("/api/v1/sessions/{session_id}/roster", "get"),
        ("/api/v1/sessions/{session_id}/attendance", "put"),
        ("/api/v1/enrollments/{enrollment_id}/cancel", "post"),
        ("/api/v1/public/sessions/{session_id}/enrollments", "post"),
        ("/api/v1/public/enrollments/confirm", "post"),
        ("/api/v1/public/enrollments/cancel", "post"),
    ]:
        assert method in spec["paths"][path], path
    catalog = {p["name"] for p in spec["paths"]["/api/v1/programmes"]["get"]["parameters"]}
    assert {"q", "type", "area", "track", "from", "to"} <= catalog
    assert "409" in spec["paths"]["/api/v1/sessions/{session_id}/capacity"]["put"]["responses"]


def test_the_demo_content_shows_partners_places_and_a_public_class(embedded):
    embedded.seed("enrollment")
    embedded.seed("enrollment")  # idempotent
    api = embedded.client("enrollment")
    programmes = api.get("/api/v1/programmes").json
    assert len(programmes) == 3 and count(embedded, Partner) == 4
    public = next(p for p in programmes if p["track"] == "public")
    assert public["type"] == "literacy_class" and len(public["sessions"]) == 2
    assert any(s["online_link"] and not s["venue"] for p in programmes for s in p["sessions"])
    assert all(p["partners"] for p in programmes)
    page = embedded.client("enrollment").get(f"/programmes/{public['id']}")
    assert "Ikuti kelas ini" in page.text and "Relawan TIK Kota Semarang" in page.text


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_migration_keeps_enrollments_and_goes_both_ways(database, real_servers, tmp_path):
    """From the first schema, with an enrollment in it, up and down again."""
    if database == "postgresql":
        name = f"pt{uuid.uuid4().hex[:10]}_migration"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{tmp_path / 'enrollment.sqlite'}"
    app = system.create_app(
        "enrollment",
        {
            "PUSTAKA_DATA_DIR": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
        },
    )
    try:
        with app.app_context():
            directory = init_migrations(app)
            upgrade(directory=directory, revision="7c7a53258432")
            engine = app.extensions["pustaka"].db.engine
            with engine.begin() as connection:
                for statement in (
                    "INSERT INTO users (id, email, name, language, roles, password_hash, created_at)"
                    " VALUES (1, 'a@b.id', 'A', 'id', '[]', 'x', '2030-01-01 00:00:00')",
                    "INSERT INTO programmes (id, title_id, title_en, description_id, description_en, track, type,"
                    " competency_areas, status, created_at)"
                    " VALUES (1, 'T', 'T', '', '', 'staff', 'training', '[]', 'published', '2030-01-01 00:00:00')",
                    "INSERT INTO sessions (id, programme_id, starts_at, ends_at, venue, capacity, seat_version)"
                    " VALUES (1, 1, '2030-01-10 02:00:00', '2030-01-10 05:00:00', 'Aula', 3, 0)",
                    "INSERT INTO enrollments (id, session_id, user_id, status, created_at)"
                    " VALUES (100, 1, 1, 'confirmed', '2030-01-01 00:00:00')",
                ):
                    connection.execute(text(statement))
            upgrade(directory=directory)
            with engine.begin() as connection:
                assert connection.execute(text("SELECT status, online_link FROM sessions")).one() == (
                    "scheduled",
                    "",
                )
                # One active enrollment per person and session, and a new one after a cancelled one.
                connection.execute(text("UPDATE enrollments SET status = 'cancelled'"))
                connection.execute(
                    text("INSERT INTO enrollments (session_id, user_id, status, created_at)"
                         " VALUES (1, 1, 'confirmed', '2030-01-02 00:00:00')")
                )  # fmt: skip
            with pytest.raises(Exception, match="(?i)unique"), engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO enrollments (session_id, user_id, status, created_at)"
                         " VALUES (1, 1, 'waitlisted', '2030-01-03 00:00:00')")
                )  # fmt: skip
            downgrade(directory=directory, revision="7c7a53258432")
            with engine.begin() as connection:
                assert connection.execute(text("SELECT user_id, status FROM enrollments")).all() == [
                    (1, "confirmed")
                ]
            upgrade(directory=directory)
            engine.dispose()
    finally:
        if database == "postgresql":
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
