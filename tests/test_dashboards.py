"""Coordinators' dashboards and the programme report: exact figures on a small known data set, the
read models fed by real feedback.summarised and attempt.graded events, well-formed SVG charts, CSV of
each figure, filters, the PDF read back, and staff kept out. Embedded and distributed."""

from __future__ import annotations

import csv
import io
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pypdf
import pytest
from sqlalchemy import select

from services.enrollment import dashboards, handlers
from services.enrollment.dashboards import FeedbackSummary, ProgrammeTestScore
from services.enrollment.models import Enrollment
from shared import catalog
from shared.envelope import CloudEvent, checked
from shared.keys import signing_key_files
from shared.messaging import InboxEntry
from tests.support import wait_for
from tests.test_seats import accounts
from tests.test_skeleton import bearer, login, people, token

SVG = "{http://www.w3.org/2000/svg}"


def at(day: str, hour: int = 2) -> datetime:
    """A moment of a day, in UTC (02:00 UTC is 09:00 WIB)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# The data set ----------------------------------------------------------------------------------


def build(running, tmp_path) -> dict:
    """Three programmes with past sessions, seats, attendance (through the API, which completes),
    a cancelled session and a future one; learners A–D seated, E not."""
    enrollment = running.client("enrollment")
    (coordinator_email, staff_email) = people(running, "koordinator", "staf")
    coordinator = token(enrollment, coordinator_email)
    learners = accounts(running, 5, signing_key_files(tmp_path)[0].read_bytes())
    a, b, c, d, e = (user_id for user_id, _ in learners)
    tag = uuid.uuid4().hex[:6]

    def create(session) -> dict:
        uni = handlers.create_partner(
            session, {"name": f"Universitas Diponegoro {tag}", "kind": "university"}
        )
        pnri = handlers.create_partner(
            session, {"name": f"Perpustakaan Nasional {tag}", "kind": "government"}
        )

        def programme(title_id, title_en, track, kind, partners=()):
            return handlers.create_programme(
                session,
                {
                    "title_id": title_id,
                    "title_en": title_en,
                    "track": track,
                    "type": kind,
                    "competency_areas": ["cataloguing"] if track == "staff" else ["searching"],
                    "status": "published",
                    "partners": list(partners),
                },
                None,
            )

        def scheduled(programme_id, starts, hours, capacity, venue="Aula Lantai 2"):
            return handlers.add_session(
                session,
                programme_id,
                {
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=hours),
                    "venue": venue,
                    "capacity": capacity,
                },
            )

        p1 = programme(
            "Pelatihan Katalogisasi RDA",
            "RDA Cataloguing Training",
            "staff",
            "training",
            [{"partner_id": uni.id, "role": "organiser"}, {"partner_id": pnri.id, "role": "speaker"}],
        )
        p2 = programme("Lokakarya Layanan Digital", "Digital Services Workshop", "staff", "workshop")
        p3 = programme("Kelas Literasi Informasi", "Information Literacy Class", "public", "literacy_class")
        s1 = scheduled(p1.id, at("2025-03-10"), 4, 5)
        s2 = scheduled(p1.id, at("2025-04-14"), 2, 5)
        s5 = scheduled(p1.id, at("2025-05-06"), 2, 5)
        s3 = scheduled(p2.id, at("2025-04-20", 1), 3, 2)
        future = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        s6 = scheduled(p2.id, future, 2, 5)
        s4 = scheduled(p3.id, at("2025-03-20", 3), 2, 10)

        def seat(session_id, user_id, starts):
            return handlers.enroll(session, session_id, user_id, now=starts - timedelta(days=1)).id

        seats = {
            "a1": seat(s1.id, a, s1.starts_at),
            "b1": seat(s1.id, b, s1.starts_at),
            "c1": seat(s1.id, c, s1.starts_at),
            "d2": seat(s2.id, d, s2.starts_at),
            "a3": seat(s3.id, a, s3.starts_at),
            "b3": seat(s3.id, b, s3.starts_at),
            "c3": seat(s3.id, c, s3.starts_at),  # waitlisted: two seats
            "d6": seat(s6.id, d, future),
        }
        seat(s5.id, a, s5.starts_at)
        handlers.cancel_session(session, s5.id, now=s5.starts_at - timedelta(days=2))
        public = handlers.request_public_seat(
            session,
            s4.id,
            name="Warga Semarang",
            email=f"warga.{tag}@test.local",
            language="id",
            links=lambda _: handlers.PublicLinks("http://example.test/c", "http://example.test/x"),
            now=s4.starts_at - timedelta(days=2),
        )
        handlers.confirm_public_seat(session, public.id, now=s4.starts_at - timedelta(days=2, hours=-1))
        seats["public"] = public.id
        session.commit()
        return {
            "programmes": (p1.id, p2.id, p3.id),
            "sessions": {"s1": s1.id, "s2": s2.id, "s3": s3.id, "s4": s4.id, "s5": s5.id, "s6": s6.id},
            "seats": seats,
            "partners": (uni.name, pnri.name),
            "future_month": dashboards.month_of(future),
        }

    data = running.query("enrollment", create)
    statuses = running.query(
        "enrollment",
        lambda s: dict(s.execute(select(Enrollment.id, Enrollment.status)).all()),
    )
    assert statuses[data["seats"]["c3"]] == "waitlisted"
    seats, sessions = data["seats"], data["sessions"]
    for session_id, marks in (
        (sessions["s1"], {"a1": "attended", "b1": "attended", "c1": "absent"}),
        (sessions["s2"], {"d2": "attended"}),
        (sessions["s3"], {"a3": "attended", "b3": "absent"}),
        (sessions["s4"], {"public": "attended"}),
    ):
        response = enrollment.put(
            f"/api/v1/sessions/{session_id}/attendance",
            json={
                "marks": [{"enrollment_id": seats[key], "status": status} for key, status in marks.items()]
            },
            headers=bearer(coordinator),
        )
        assert response.status_code == 200, response.json
    return data | {
        "coordinator": coordinator,
        "coordinator_email": coordinator_email,
        "staff": token(enrollment, staff_email),
        "staff_email": staff_email,
        "learners": {"a": a, "b": b, "c": c, "d": d, "e": e},
    }


def publish(running, type_name: str, data: dict) -> str:
    """Publish an assessment event on the exchange, as assessment's relay would; its id."""
    event = checked(CloudEvent(type=type_name, source="/pustaka/assessment", data=data))
    bus = running.apps["assessment"].extensions["pustaka"].bus
    with bus.connection() as connection:
        bus.publish(connection.Producer(), event.to_json(), event.type, None)
    return event.id


def handled(running, event_ids: list[str]) -> None:
    def done():
        return running.query(
            "enrollment",
            lambda s: len(
                s.scalars(select(InboxEntry.event_id).where(InboxEntry.event_id.in_(event_ids))).all()
            ),
        ) == len(event_ids)

    wait_for(done, timeout=20, what="enrollment to handle the events")


def graded(
    attempt_id: int, user_id: int, programme_id: int, purpose: str, percent: float, when: datetime
) -> dict:
    return catalog.ATTEMPT_GRADED.example | {
        "attempt_id": attempt_id,
        "quiz_slug": f"{purpose.replace('_', '-')}-katalogisasi",
        "purpose": purpose,
        "programme_id": programme_id,
        "user_id": user_id,
        "score": percent / 10,
        "max_score": 10.0,
        "percent": percent,
        "passed": percent >= 60,
        "area_scores": {"cataloguing": percent},
        "graded_at": when.isoformat(),
    }


def summary(
    programme_id: int, session_id: int, responses: int, items: list, comments: list, when: str
) -> dict:
    return {
        "programme_id": programme_id,
        "session_id": session_id,
        "responses": responses,
        "overall_mean": None,
        "items": [
            {
                "item_id": item_id,
                "statement": {"id": f"Pernyataan {item_id}", "en": f"Statement {item_id}"},
                "responses": sum(distribution),
                "mean": None,
                "distribution": distribution,
            }
            for item_id, distribution in items
        ],
        "comments": [
            {
                "item_id": 7,
                "statement": {"id": "Apa yang bermanfaat?", "en": "What was useful?"},
                "texts": comments,
            }
        ],
        "summarised_at": when,
    }


def send_events(running, data: dict) -> None:
    p1, p2, _ = data["programmes"]
    s1, s2 = data["sessions"]["s1"], data["sessions"]["s2"]
    who = data["learners"]
    base = 700_000 + int(uuid.uuid4().int % 100_000) * 10
    march, april = at("2025-03-12"), at("2025-04-16")
    attempts = [
        (who["a"], "pre_test", 40.0, at("2025-03-09")),
        (who["a"], "pre_test", 90.0, at("2025-03-11")),  # not the first: left aside
        (who["a"], "post_test", 60.0, march),
        (who["a"], "post_test", 90.0, april),  # the best: counted
        (who["b"], "pre_test", 50.0, at("2025-03-09")),
        (who["b"], "post_test", 75.0, march),
        (who["c"], "pre_test", 100.0, at("2025-03-09")),  # full marks: left out
        (who["c"], "post_test", 100.0, march),
        (who["d"], "post_test", 80.0, april),  # no pre-test: left out
        (who["e"], "pre_test", 30.0, at("2025-03-09")),  # holds no seat: not counted
    ]
    events = [
        publish(running, catalog.ATTEMPT_GRADED.name, graded(base + n, user, p1, purpose, percent, when))
        for n, (user, purpose, percent, when) in enumerate(attempts)
    ]
    events.append(
        publish(
            running,
            catalog.ATTEMPT_GRADED.name,
            graded(base + 50, who["a"], p2, "practice", 10.0, march),  # practice: not a test of the programme
        )
    )
    events += [
        publish(
            running,
            catalog.FEEDBACK_SUMMARISED.name,
            summary(
                p1,
                s1,
                2,
                [(1, [0, 0, 0, 1, 1]), (2, [0, 0, 1, 1, 0])],
                ["Sangat bermanfaat"],
                "2025-03-11T09:00:00+00:00",
            ),
        ),
        publish(
            running,
            catalog.FEEDBACK_SUMMARISED.name,
            summary(
                p1,
                s2,
                1,
                [(1, [0, 0, 0, 0, 1]), (2, [0, 0, 0, 1, 0])],
                ["Perlu lebih lama"],
                "2025-04-15T09:00:00+00:00",
            ),
        ),
    ]
    handled(running, events)
    # An older summary of session 1 arriving late changes nothing.
    late = publish(
        running,
        catalog.FEEDBACK_SUMMARISED.name,
        summary(
            p1, s1, 1, [(1, [1, 0, 0, 0, 0]), (2, [1, 0, 0, 0, 0])], ["lama"], "2025-03-10T09:00:00+00:00"
        ),
    )
    handled(running, [late])


def figures_by_programme(body: dict) -> dict[int, dict]:
    return {row["programme_id"]: row for row in body["programmes"]}


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# The tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_dashboard_figures_charts_csv_filters_and_report(make_system, mode, tmp_path):
    running = make_system(mode)
    data = build(running, tmp_path)
    send_events(running, data)
    p1, p2, p3 = data["programmes"]
    enrollment = running.client("enrollment")
    coordinator = bearer(data["coordinator"])

    # The read models hold what the events said.
    scores = running.query("enrollment", lambda s: s.scalars(select(ProgrammeTestScore)).all())
    assert len(scores) == 10  # the practice quiz is not kept
    feedback_rows = running.query("enrollment", lambda s: s.scalars(select(FeedbackSummary)).all())
    assert sorted((row.session_id, row.responses) for row in feedback_rows) == sorted(
        [(data["sessions"]["s1"], 2), (data["sessions"]["s2"], 1)]
    )

    # Everything, as JSON.
    response = enrollment.get("/api/v1/dashboard", headers=coordinator)
    assert response.status_code == 200, response.json
    body = response.json
    by_programme = figures_by_programme(body)
    assert set(by_programme) == {p1, p2, p3}
    one, two, three = by_programme[p1], by_programme[p2], by_programme[p3]
    assert (one["sessions"], one["participations"], one["people"], one["hours"]) == (2, 4, 4, 6.0)
    assert (two["sessions"], two["participations"], two["people"], two["hours"]) == (2, 3, 3, 5.0)
    assert (three["sessions"], three["participations"], three["people"], three["hours"]) == (1, 1, 1, 2.0)
    assert (one["held_participations"], one["attended"], one["attendance_rate"]) == (4, 3, 0.75)
    assert (one["learners"], one["completed"], one["completion_rate"]) == (4, 3, 0.75)
    assert (two["held_participations"], two["attended"], two["attendance_rate"]) == (2, 1, 0.5)
    assert (two["learners"], two["completed"], two["completion_rate"]) == (2, 1, 0.5)
    assert (three["attendance_rate"], three["learners"], three["completion_rate"]) == (1.0, 0, None)
    assert [(row["key"], row["participations"]) for row in body["by_type"]] == [
        ("training", 4),
        ("workshop", 3),
        ("literacy_class", 1),
    ]
    assert [(row["key"], row["participations"]) for row in body["by_month"]] == [
        ("2025-03", 4),
        ("2025-04", 3),
        (data["future_month"], 1),
    ]

    # Feedback: the sessions' newest summaries added item by item.
    feedback = one["feedback"]
    assert feedback["responses"] == 3
    assert [(item["distribution"], round(item["mean"], 4)) for item in feedback["items"]] == [
        ([0, 0, 0, 1, 2], 4.6667),
        ([0, 0, 1, 2, 0], 3.6667),
    ]
    assert round(feedback["overall_mean"], 4) == 4.1667  # 25 points in 6 ratings
    assert two["feedback"] == {"responses": 0, "overall_mean": None, "items": []}

    # Gains: A 40 → 90 (g 5/6), B 50 → 75 (g 0.5); C at full marks, D without a pre-test.
    gains = one["gains"]
    assert (gains["learners"], gains["mean_pre"], gains["mean_post"]) == (2, 45.0, 82.5)
    assert gains["average_gain"] == pytest.approx((5 / 6 + 0.5) / 2)
    assert gains["gain_of_averages"] == pytest.approx(37.5 / 55)
    assert (gains["missing_pre"], gains["missing_post"], gains["pre_at_maximum"]) == (1, 0, 1)
    (area,) = one["area_gains"]
    assert area["area"] == "cataloguing" and area["average_gain"] == pytest.approx((5 / 6 + 0.5) / 2)
    assert two["gains"]["learners"] == 0

    # Competencies: post-tests in March and April, programme completions now (level 2, no rise).
    cataloguing = next(area for area in body["areas"] if area["code"] == "cataloguing")
    staff = body["staff"]
    assert staff == 7  # the coordinator, the staff member and A–E; the admin is not staff
    assert cataloguing["counts"] == [0, 0, 1, 3] and cataloguing["without"] == staff - 4
    assert all(area["counts"] == [0, 0, 0, 0] for area in body["areas"] if area["code"] != "cataloguing")

    # Filters: April only; the workshops; the public track.
    april = enrollment.get("/api/v1/dashboard?from=2025-04-01&to=2025-04-30", headers=coordinator).json
    by_programme = figures_by_programme(april)
    assert {key: row["participations"] for key, row in by_programme.items()} == {p1: 1, p2: 2}
    assert by_programme[p1]["feedback"]["responses"] == 1
    assert by_programme[p1]["feedback"]["overall_mean"] == 4.5
    assert by_programme[p1]["gains"]["learners"] == 0  # D alone, without a pre-test
    assert [(row["key"], row["participations"]) for row in april["by_month"]] == [("2025-04", 3)]
    trend = next(item for item in april["trend"] if item["area"] == "cataloguing")
    assert trend["months"] == [{"month": "2025-04", "counts": [0, 0, 1, 3]}]
    spring = enrollment.get("/api/v1/dashboard?from=2025-03-01&to=2025-04-30", headers=coordinator).json
    trend = next(item for item in spring["trend"] if item["area"] == "cataloguing")
    assert trend["months"] == [
        {"month": "2025-03", "counts": [0, 0, 2, 1]},
        {"month": "2025-04", "counts": [0, 0, 1, 3]},
    ]
    workshops = enrollment.get("/api/v1/dashboard?type=workshop", headers=coordinator).json
    assert list(figures_by_programme(workshops)) == [p2]
    public = enrollment.get("/api/v1/dashboard?track=public", headers=coordinator).json
    assert list(figures_by_programme(public)) == [p3]
    for query, field in (
        ("from=2025-05-01&to=2025-04-01", "to"),
        ("type=lecture", "type"),
        ("from=soon", "from"),
    ):
        refused = enrollment.get(f"/api/v1/dashboard?{query}", headers=coordinator)
        assert refused.status_code == 422 and refused.json["errors"][field], (query, refused.json)

    # CSV of each figure, filtered alike.
    gains_csv = enrollment.get("/api/v1/dashboard/gains.csv", headers=coordinator)
    assert gains_csv.status_code == 200 and gains_csv.headers["Content-Type"].startswith("text/csv")
    rows = rows_of(gains_csv.text)
    assert rows[0][:4] == ["programme_id", "title_id", "title_en", "learners"]
    row = next(r for r in rows if r[0] == str(p1))
    assert row[3:] == ["2", "45", "82.5", "0.6667", "0.6818", "1", "0", "1"]
    months = rows_of(
        enrollment.get("/api/v1/dashboard/participation-months.csv?track=staff", headers=coordinator).text
    )
    assert months == [
        ["month", "participations"],
        ["2025-03", "3"],
        ["2025-04", "3"],
        [data["future_month"], "1"],
    ]
    rates = rows_of(enrollment.get("/api/v1/dashboard/rates.csv", headers=coordinator).text)
    assert [r for r in rates if r[0] == str(p1)][0][3:] == ["4", "3", "0.75", "4", "3", "0.75"]
    levels = rows_of(enrollment.get("/api/v1/dashboard/competencies.csv", headers=coordinator).text)
    assert [
        "cataloguing",
        "Katalogisasi dan metadata",
        "Cataloguing and metadata",
        "0",
        "0",
        "1",
        "3",
        "3",
    ] in levels
    assert enrollment.get("/api/v1/dashboard/nothing.csv", headers=coordinator).status_code == 404

    # The page: one well-formed SVG per chart, each with a table of the same figures.
    login(enrollment, data["coordinator_email"])
    page = enrollment.get("/dashboard?starts_from=2025-03-01&starts_to=2025-04-30")
    assert page.status_code == 200
    svgs = [ET.fromstring(chunk) for chunk in re.findall(r"<svg\b.*?</svg>", page.text, re.DOTALL)]
    assert len(svgs) == 7 + 7  # the figures, and the trend of each of the seven areas
    assert all(svg.tag == f"{SVG}svg" and svg.find(f"{SVG}title").text for svg in svgs)
    participation = svgs[0]
    assert "Pelatihan Katalogisasi RDA: 4" in participation.find(f"{SVG}desc").text
    assert len(participation.findall(f".//{SVG}rect")) == 3
    assert 'id="gains-table"' in page.text and "0,68" in page.text  # Indonesian decimals
    assert "2025-03-01" in page.text and "/dashboard/gains.csv?starts_from=2025-03-01" in page.text.replace(
        "&amp;", "&"
    )
    web_csv = enrollment.get("/dashboard/participation-types.csv?track=public")
    assert rows_of(web_csv.text) == [["type", "participations"], ["literacy_class", "1"]]
    bad = enrollment.get("/dashboard?starts_from=2025-05-01&starts_to=2025-04-01")
    assert bad.status_code == 400 and "sebelum hari pertama" in bad.text
    english = enrollment.get("/dashboard?lang=en")
    assert "Participations per programme" in english.text and "RDA Cataloguing Training" in english.text

    # The report, from the programme's page and from the API.
    programme_page = enrollment.get(f"/programmes/{p1}")
    assert f"/programmes/{p1}/report.pdf" in programme_page.text
    pdf = enrollment.get(f"/programmes/{p1}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = report_text(pdf)
    for expected in (
        "Dinas Arsip dan Perpustakaan Kota Semarang",
        "Pelatihan Katalogisasi RDA",
        "RDA Cataloguing Training",
        *data["partners"],
        "Participants",
        "4 (kursi/seats: 4)",
        "3 dari/of 4 (75,0%)",
        "Sangat bermanfaat",
        "Perlu lebih lama",
        "0,68",
        "DIBATALKAN / CANCELLED",
    ):
        assert expected in text, expected
    assert enrollment.get(f"/api/v1/programmes/{p1}/report.pdf", headers=coordinator).status_code == 200
    assert enrollment.get("/api/v1/programmes/999999/report.pdf", headers=coordinator).status_code == 404


def report_text(response) -> str:
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_staff_are_kept_out(make_system, tmp_path):
    running = make_system("embedded")
    enrollment = running.client("enrollment")
    (_, staff_email) = people(running, "koordinator", "staf")
    staff = bearer(token(enrollment, staff_email))
    for path in ("/api/v1/dashboard", "/api/v1/dashboard/gains.csv", "/api/v1/programmes/1/report.pdf"):
        assert enrollment.get(path, headers=staff).status_code == 403, path
    assert enrollment.get("/api/v1/dashboard").status_code == 401
    login(enrollment, staff_email)
    for path in ("/dashboard", "/dashboard/rates.csv", "/programmes/1/report.pdf"):
        assert enrollment.get(path).status_code == 403, path
    signed_out = running.client("enrollment").get("/dashboard")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]


def test_gains_and_feedback_arithmetic():
    gains = dashboards.summarise_gains(
        [(40.0, 90.0), (50.0, 75.0), (100.0, 100.0), (None, 80.0), (20.0, None)]
    )
    assert (gains.learners, gains.missing_pre, gains.missing_post, gains.pre_at_maximum) == (2, 1, 1, 1)
    assert gains.average_gain == pytest.approx((50 / 60 + 25 / 50) / 2)
    assert gains.gain_of_averages == pytest.approx(37.5 / 55)
    assert dashboards.normalized_gain(60.0, 40.0) == pytest.approx(-0.5)
    assert dashboards.summarise_gains([]).average_gain is None
    assert dashboards.months_between(datetime(2024, 11, 5).date(), datetime(2025, 2, 1).date()) == [
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
    ]
    too_long = dashboards.Filters(datetime(2000, 1, 1).date(), datetime(2011, 1, 1).date())
    assert dashboards.filter_problems(too_long) == {"to": ["Choose a range of at most ten years."]}
