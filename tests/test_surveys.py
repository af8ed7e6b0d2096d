"""Feedback surveys: an activity.completed event invites the learner once; answers through the
page and the API, once per activity; exact aggregates per programme and session, published as
feedback.summarised; bad answers refused with nothing stored; coordinators edit the surveys."""

from __future__ import annotations

import csv
import io
import json
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from services.assessment import surveys
from services.assessment.surveys import SurveyAnswer, SurveyInvitation, SurveyResponse
from shared import catalog
from shared.envelope import CloudEvent, checked
from shared.messaging import InboxEntry, OutboxMessage
from tests.support import csrf_token, wait_for
from tests.test_skeleton import bearer, login, people, token

PROGRAMME, SESSION, OTHER_SESSION = 3, 5, 6
COMPLETED = catalog.ACTIVITY_COMPLETED.name
SUMMARISED = catalog.FEEDBACK_SUMMARISED.name


@pytest.fixture
def embedded(make_system):
    return make_system("embedded")


# Helpers ---------------------------------------------------------------------------------------


def seed_default_survey(running) -> None:
    """What the service's bootstrap does."""

    def ensure(session):
        surveys.ensure_default_survey(session)
        session.commit()

    running.query("assessment", ensure)


def members(running, *names: str) -> list[dict]:
    """New accounts, the first a coordinator: address, token and user id of each."""
    enrollment = running.client("enrollment")
    result = []
    for address in people(running, *names):
        access = token(enrollment, address)
        user_id = enrollment.get("/api/v1/users/me", headers=bearer(access)).json["id"]
        result.append({"email": address, "token": access, "id": user_id})
    return result


def publish(running, type_name: str, data: dict) -> str:
    """Publish a catalog event on the exchange as its service's relay would; returns its id."""
    event = checked(CloudEvent(type=type_name, source="/pustaka/enrollment", data=data))
    bus = running.apps["assessment"].extensions["pustaka"].bus
    with bus.connection() as connection:
        bus.publish(connection.Producer(), event.to_json(), event.type, None)
    return event.id


def complete_activity(
    running, user_id: int, programme_id: int = PROGRAMME, session_id: int | None = SESSION
) -> str:
    data = catalog.ACTIVITY_COMPLETED.example | {
        "user_id": user_id,
        "programme_id": programme_id,
        "session_id": session_id,
    }
    return publish(running, COMPLETED, data)


def handled(running, event_id: str) -> None:
    wait_for(
        lambda: running.query(
            "assessment", lambda s: s.scalar(select(InboxEntry).where(InboxEntry.event_id == event_id))
        ),
        what=f"assessment to handle {event_id}",
    )


def invitations(running, person: dict) -> list[dict]:
    response = running.client("assessment").get("/api/v1/survey-invitations", headers=bearer(person["token"]))
    assert response.status_code == 200, response.json
    return response.json


def invitation_of(running, person: dict) -> dict:
    return wait_for(lambda: invitations(running, person), what="an invitation")[0]


def item_ids(invitation: dict) -> tuple[list[int], list[int]]:
    """The ids of the rating items and of the free-text items, in order."""
    items = invitation["survey"]["items"]
    return (
        [item["id"] for item in items if item["kind"] == "likert"],
        [item["id"] for item in items if item["kind"] == "text"],
    )


def signed_in(running, person: dict):
    """An assessment web client with the person's login cookie."""
    enrollment = running.client("enrollment")
    login(enrollment, person["email"])
    web = running.client("assessment")
    web.set_cookie("pustaka_token", enrollment.get_cookie("pustaka_token").value)
    return web


def respond(running, person: dict, invitation: dict, ratings: dict, comments: dict | None = None):
    return running.client("assessment").post(
        f"/api/v1/survey-invitations/{invitation['id']}/response",
        json={"ratings": {str(k): v for k, v in ratings.items()}, "comments": comments or {}},
        headers=bearer(person["token"]),
    )


def assert_error(response, status: int, *fields: str) -> None:
    assert response.status_code == status, (response.status_code, response.json)
    assert response.json["message"]
    for field in fields:
        assert response.json["errors"][field], response.json


def count(running, model) -> int:
    return running.query("assessment", lambda s: s.scalar(select(func.count()).select_from(model)))


@contextmanager
def listening(running, event_type: str):
    """A queue of our own bound to the event type: yields a function that returns what arrived."""
    bus = running.apps["assessment"].extensions["pustaka"].bus
    with bus.connection() as connection:
        queue = bus.declare(connection, "test-listener", [event_type])(connection.default_channel)
        received: list[dict] = []

        def arrived() -> list[dict]:
            while (message := queue.get(no_ack=True)) is not None:
                received.append(json.loads(message.body))
            return received

        try:
            yield arrived
        finally:
            queue.delete()


# The whole thread ------------------------------------------------------------------------------

# Ratings of the six rating items of the default survey, by learner (ani on the web, the others by API).
ANI = [5, 4, 4, 5, 4, 5]
BUDI = [3, 4, 5, 5, 2, 4]
CITRA = [4, 4, 3, 5, 4, 4]


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_a_completed_activity_invites_once_and_the_answers_are_summarised(make_system, mode):
    running = make_system(mode)
    seed_default_survey(running)
    coordinator, ani, budi, citra = members(running, "koordinator", "ani", "budi", "citra")

    events = [
        complete_activity(running, ani["id"]),
        complete_activity(running, ani["id"]),  # the same activity reported again, in another event
        complete_activity(running, budi["id"]),
        complete_activity(running, citra["id"]),
        complete_activity(running, ani["id"], session_id=OTHER_SESSION),
    ]
    for event_id in events:
        handled(running, event_id)
    assert count(running, SurveyInvitation) == 4
    assert len(invitations(running, ani)) == 2
    invitation = invitation_of(running, budi)
    assert invitation["programme_title"] == catalog.ACTIVITY_COMPLETED.example["programme_title"]
    assert [item["position"] for item in invitation["survey"]["items"]] == list(range(1, 9))
    likert, texts = item_ids(invitation)
    assert len(likert) == 6 and len(texts) == 2

    def rated(ratings: list[int]) -> dict[int, int]:
        return dict(zip(likert, ratings, strict=True))

    with listening(running, SUMMARISED) as arrived:
        # Ani answers on the page: radio buttons 1-5 with their labels, and text areas.
        web = signed_in(running, ani)
        page = web.get("/surveys")
        assert page.status_code == 200 and "Pelatihan Katalogisasi" in page.text
        (ani_invitation,) = [i for i in invitations(running, ani) if i["session_id"] == SESSION]
        form = web.get(f"/surveys/{ani_invitation['id']}")
        assert form.status_code == 200
        assert "Sangat tidak setuju" in form.text and "Sangat setuju" in form.text
        assert form.text.count('type="radio"') == 6 * 5 and form.text.count("<textarea") == 2
        data = {f"item_{item}": str(rating) for item, rating in rated(ANI).items()}
        data |= {f"item_{texts[0]}": "Praktik langsung dengan katalog", f"item_{texts[1]}": ""}
        answered = web.post(
            f"/surveys/{ani_invitation['id']}", data=data | {"csrf_token": csrf_token(form.text)}
        )
        assert answered.status_code == 302 and answered.headers["Location"].endswith("/surveys")
        after = web.get("/surveys")
        assert "Terima kasih" in after.text
        assert f'/surveys/{ani_invitation["id"]}"' not in after.text  # answered: no longer pending
        again_page = web.post(
            f"/surveys/{ani_invitation['id']}", data=data | {"csrf_token": csrf_token(form.text)}
        )
        assert again_page.status_code == 409 and "sudah mengisi survei ini" in again_page.text

        # Budi and Citra answer through the API; a second answer is refused.
        budi_response = respond(running, budi, invitation, rated(BUDI), {texts[1]: " "})
        assert budi_response.status_code == 201, budi_response.json
        assert budi_response.json["session_id"] == SESSION
        comments = {texts[0]: "Contoh MARC", texts[1]: "- Waktunya lebih panjang"}
        citra_response = respond(running, citra, invitations(running, citra)[0], rated(CITRA), comments)
        assert citra_response.status_code == 201, citra_response.json
        assert_error(respond(running, budi, invitation, rated(BUDI)), 409)
        assert invitations(running, budi) == []

        assert count(running, SurveyResponse) == 3
        summaries = wait_for(lambda: len(arrived()) == 3 and arrived(), what="three feedback summaries")

    # Item by item: 5,3,4 · 4,4,4 · 4,5,3 · 5,5,5 · 4,2,4 · 5,4,4; 74 points in 18 ratings.
    expected_items = [
        ([0, 0, 1, 1, 1], 4.0),
        ([0, 0, 0, 3, 0], 4.0),
        ([0, 0, 1, 1, 1], 4.0),
        ([0, 0, 0, 0, 3], 5.0),
        ([0, 1, 0, 2, 0], 3.33),
        ([0, 0, 0, 2, 1], 4.33),
    ]
    last = summaries[-1]
    assert last["type"] == SUMMARISED and last["source"] == "/pustaka/assessment"
    data = last["data"]
    assert (data["programme_id"], data["session_id"], data["responses"]) == (PROGRAMME, SESSION, 3)
    assert data["overall_mean"] == 4.11
    assert [(item["distribution"], item["mean"]) for item in data["items"]] == expected_items
    assert [item["item_id"] for item in data["items"]] == likert
    assert all(item["responses"] == 3 for item in data["items"])
    assert data["items"][0]["statement"]["en"] == "The content is relevant to my work or needs."
    assert [summary["data"]["responses"] for summary in summaries] == [1, 2, 3]
    assert summaries[0]["data"]["items"][0]["distribution"] == [0, 0, 0, 0, 1]  # Ani's alone
    checked(CloudEvent(**{k: v for k, v in last.items() if k in CloudEvent.__dataclass_fields__}))

    # The same figures for coordinators, through the API ...
    assessment = running.client("assessment")
    headers = bearer(coordinator["token"])
    assert_error(
        assessment.get(f"/api/v1/feedback/programmes/{PROGRAMME}", headers=bearer(ani["token"])), 403
    )
    listed = assessment.get("/api/v1/feedback/programmes", headers=headers).json
    assert [(row["programme_id"], row["invited"], row["responses"]) for row in listed] == [(PROGRAMME, 4, 3)]
    report = assessment.get(f"/api/v1/feedback/programmes/{PROGRAMME}", headers=headers).json
    assert [session["session_id"] for session in report["sessions"]] == [SESSION, OTHER_SESSION]
    session_report, other = report["sessions"]
    assert (session_report["invited"], session_report["responses"], session_report["overall_mean"]) == (
        3,
        3,
        4.11,
    )
    assert [(item["distribution"], item["mean"]) for item in session_report["items"]] == expected_items
    assert session_report["comments"] == [
        {
            "item_id": texts[0],
            "question": report_question(invitation, texts[0]),
            "texts": [
                "Praktik langsung dengan katalog",
                "Contoh MARC",
            ],
        },
        {
            "item_id": texts[1],
            "question": report_question(invitation, texts[1]),
            "texts": ["- Waktunya lebih panjang"],
        },
    ]
    assert (other["invited"], other["responses"], other["overall_mean"], other["items"]) == (1, 0, None, [])
    assert (report["overall"]["invited"], report["overall"]["responses"]) == (4, 3)
    assert report["overall"]["items"] == session_report["items"]

    # ... on the page, with bars drawn without JavaScript, and as CSV.
    coordinator_web = signed_in(running, coordinator)
    assert signed_in(running, budi).get(f"/surveys/results/{PROGRAMME}").status_code == 403
    page = coordinator_web.get(f"/surveys/results/{PROGRAMME}")
    assert page.status_code == 200 and "<script" not in page.text
    section = page.text.split('id="session-5"')[1].split("</section>")[0]
    assert re.findall(r'class="mean">([^<]+)<', section) == ["4.00", "4.00", "4.00", "5.00", "3.33", "4.33"]
    assert 'class="overall-mean">4.11<' in section and "Contoh MARC" in section
    assert "width:10.0rem" in section  # item 4: everyone chose 5
    assert 'id="session-6"' in page.text and "Belum ada tanggapan." in page.text
    assert "Strongly agree" in coordinator_web.get(f"/surveys/results/{PROGRAMME}?lang=en").text
    rows = list(csv.DictReader(io.StringIO(coordinator_web.get(f"/surveys/results/{PROGRAMME}.csv").text)))
    session_rows = [row for row in rows if row["scope"] == "session" and row["session_id"] == str(SESSION)]
    assert [(row["mean"], row["count_4"], row["comment"]) for row in session_rows] == [
        ("4.00", "1", ""),
        ("4.00", "3", ""),
        ("4.00", "1", ""),
        ("5.00", "0", ""),
        ("3.33", "2", ""),
        ("4.33", "2", ""),
        ("", "", "Praktik langsung dengan katalog"),
        ("", "", "Contoh MARC"),
        ("", "", "'- Waktunya lebih panjang"),  # never a formula
    ]
    api_csv = assessment.get(f"/api/v1/feedback/programmes/{PROGRAMME}.csv", headers=headers)
    assert (
        api_csv.status_code == 200
        and api_csv.text == coordinator_web.get(f"/surveys/results/{PROGRAMME}.csv").text
    )


def report_question(invitation: dict, item_id: int) -> dict:
    (item,) = [item for item in invitation["survey"]["items"] if item["id"] == item_id]
    return {"id": item["text_id"], "en": item["text_en"]}


# Bad input -------------------------------------------------------------------------------------


def test_bad_answers_are_refused_and_nothing_is_stored(embedded):
    seed_default_survey(embedded)
    dewi, eko = members(embedded, "dewi", "eko")  # dewi is the coordinator; both are learners here
    complete_activity(embedded, dewi["id"])
    complete_activity(embedded, eko["id"])
    invitation = invitation_of(embedded, dewi)
    likert, texts = item_ids(invitation)
    good = dict.fromkeys(likert, 4)

    assert_error(respond(embedded, dewi, invitation, good | {likert[0]: 0}), 422, str(likert[0]))
    assert_error(respond(embedded, dewi, invitation, good | {likert[1]: 6}), 422, str(likert[1]))
    missing = {item: rating for item, rating in good.items() if item != likert[2]}
    assert_error(respond(embedded, dewi, invitation, missing), 422, str(likert[2]))
    assert_error(respond(embedded, dewi, invitation, good | {999999: 3}), 422, "999999")
    assert_error(respond(embedded, dewi, invitation, good, {999999: "?"}), 422, "999999")
    assert_error(respond(embedded, dewi, invitation, good | {texts[0]: 3}), 422, str(texts[0]))
    assert_error(respond(embedded, dewi, invitation, good, {likert[0]: "bagus"}), 422, str(likert[0]))
    assert_error(respond(embedded, dewi, invitation, good | {likert[0]: True}), 422, "ratings")
    assert_error(respond(embedded, dewi, invitation, good, {texts[0]: "x" * 4001}), 422, "comments")
    assessment = embedded.client("assessment")
    path = f"/api/v1/survey-invitations/{invitation['id']}/response"
    assert_error(
        assessment.post(path, json={"ratings": {str(likert[0]): "lima"}}, headers=bearer(dewi["token"])),
        422,
        "ratings",
    )
    assert_error(assessment.post(path, json={}, headers=bearer(dewi["token"])), 422, "ratings")
    assert_error(assessment.post(path, json={"ratings": good}), 401)
    # Nobody answers, or even sees, another person's invitation.
    assert_error(respond(embedded, eko, invitation, good), 404)
    assert_error(
        assessment.get(f"/api/v1/survey-invitations/{invitation['id']}", headers=bearer(eko["token"])), 404
    )

    # On the page: the missing rating is named, and what was typed and chosen stays.
    web = signed_in(embedded, dewi)
    form = web.get(f"/surveys/{invitation['id']}")
    data = {f"item_{item}": "4" for item in likert[1:]} | {f"item_{texts[0]}": "Narasumber sangat membantu"}
    data["csrf_token"] = csrf_token(form.text)
    refused = web.post(f"/surveys/{invitation['id']}", data=data)
    assert refused.status_code == 400
    fieldset = refused.text.split(f'id="item_{likert[0]}"')[1].split("</fieldset>")[0]
    assert "Pilih salah satu dari lima jawaban." in fieldset
    assert "Narasumber sangat membantu</textarea>" in refused.text
    assert refused.text.count("checked") == 5
    out_of_scale = web.post(f"/surveys/{invitation['id']}", data=data | {f"item_{likert[0]}": "6"})
    assert out_of_scale.status_code == 400 and "Pilih salah satu dari lima jawaban." in out_of_scale.text
    no_token = web.post(
        f"/surveys/{invitation['id']}", data={k: v for k, v in data.items() if k != "csrf_token"}
    )
    assert no_token.status_code == 400
    assert signed_in(embedded, eko).get(f"/surveys/{invitation['id']}").status_code == 404

    assert (count(embedded, SurveyResponse), count(embedded, SurveyAnswer)) == (0, 0)
    assert len(invitations(embedded, dewi)) == 1
    summaries = embedded.query(
        "assessment",
        lambda s: s.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event_type == SUMMARISED)
        ),
    )
    assert summaries == 0


# Editing the surveys ---------------------------------------------------------------------------


def test_coordinators_edit_surveys_and_a_programme_survey_replaces_the_default(embedded):
    seed_default_survey(embedded)
    coordinator, fajar = members(embedded, "koordinator", "fajar")
    assessment, headers = embedded.client("assessment"), bearer(coordinator["token"])
    assert_error(assessment.get("/api/v1/surveys"), 401)
    assert_error(assessment.get("/api/v1/surveys", headers=bearer(fajar["token"])), 403)
    (default,) = assessment.get("/api/v1/surveys", headers=headers).json
    assert default["programme_id"] is None and len(default["items"]) == 8
    items = f"/api/v1/surveys/{default['id']}/items"

    added = assessment.post(
        items,
        json={"kind": "likert", "text_id": "Ruangannya nyaman.", "text_en": "The room was comfortable."},
        headers=headers,
    )
    assert added.status_code == 201 and added.json["position"] == 9
    assert_error(
        assessment.post(items, json={"kind": "stars", "text_id": "a", "text_en": "b"}, headers=headers),
        422,
        "kind",
    )
    assert_error(
        assessment.post(items, json={"kind": "text", "text_id": "  ", "text_en": "b"}, headers=headers),
        422,
        "text_id",
    )
    assert_error(assessment.post(items, json={"kind": "text"}, headers=headers), 422, "text_id", "text_en")
    edited = assessment.put(
        f"{items}/{added.json['id']}", json={"text_id": "Ruang kelasnya nyaman."}, headers=headers
    )
    assert edited.status_code == 200 and edited.json["text_id"] == "Ruang kelasnya nyaman."
    assert_error(
        assessment.put(f"{items}/{added.json['id']}", json={"kind": "text"}, headers=headers), 422, "kind"
    )
    assert_error(assessment.put(f"{items}/999999", json={"text_id": "x"}, headers=headers), 404)

    ids = [
        item["id"]
        for item in assessment.get(f"/api/v1/surveys/{default['id']}", headers=headers).json["items"]
    ]
    order = f"/api/v1/surveys/{default['id']}/order"
    reordered = assessment.put(order, json={"item_ids": [ids[-1], *ids[:-1]]}, headers=headers)
    assert reordered.status_code == 200
    assert [item["id"] for item in reordered.json["items"]] == [ids[-1], *ids[:-1]]
    assert [item["position"] for item in reordered.json["items"]] == list(range(1, 10))
    assert_error(assessment.put(order, json={"item_ids": ids[:-1]}, headers=headers), 422, "item_ids")
    assert_error(assessment.put(order, json={"item_ids": [*ids, ids[0]]}, headers=headers), 422, "item_ids")
    assert assessment.delete(f"{items}/{added.json['id']}", headers=headers).status_code == 204
    assert [
        item["id"]
        for item in assessment.get(f"/api/v1/surveys/{default['id']}", headers=headers).json["items"]
    ] == ids[:-1]

    # A programme's own survey starts from the default and is then its own.
    created = assessment.post(
        "/api/v1/surveys", json={"programme_id": 42, "title_en": "Seminar feedback"}, headers=headers
    )
    assert created.status_code == 201, created.json
    own = created.json
    assert (own["programme_id"], own["title_en"], own["title_id"]) == (
        42,
        "Seminar feedback",
        "Survei umpan balik kegiatan",
    )
    assert [item["text_id"] for item in own["items"]] == [item["text_id"] for item in default["items"]]
    assert_error(assessment.post("/api/v1/surveys", json={"programme_id": 42}, headers=headers), 409)
    assert_error(
        assessment.post("/api/v1/surveys", json={"programme_id": "x"}, headers=headers), 422, "programme_id"
    )
    own_likert = [item["id"] for item in own["items"] if item["kind"] == "likert"]
    for item_id in own_likert[1:]:
        assert (
            assessment.delete(f"/api/v1/surveys/{own['id']}/items/{item_id}", headers=headers).status_code
            == 204
        )
    assert_error(
        assessment.delete(f"/api/v1/surveys/{own['id']}/items/{own_likert[0]}", headers=headers), 422
    )
    assert_error(
        assessment.delete(f"/api/v1/surveys/{default['id']}/items/{own_likert[0]}", headers=headers), 404
    )

    complete_activity(embedded, fajar["id"], programme_id=42)
    complete_activity(embedded, fajar["id"], programme_id=43)
    handled(embedded, complete_activity(embedded, fajar["id"], programme_id=44, session_id=None))
    by_programme = {
        i["programme_id"]: i
        for i in wait_for(lambda: len(invitations(embedded, fajar)) == 3 and invitations(embedded, fajar))
    }
    assert by_programme[42]["survey"]["id"] == own["id"]
    assert [item["kind"] for item in by_programme[42]["survey"]["items"]] == ["likert", "text", "text"]
    assert by_programme[43]["survey"]["id"] == default["id"]
    assert by_programme[44]["session_id"] is None
    answered = respond(embedded, fajar, by_programme[42], {own_likert[0]: 5})
    assert answered.status_code == 201, answered.json


def test_coordinators_edit_a_survey_on_its_page(embedded):
    seed_default_survey(embedded)
    (coordinator,) = members(embedded, "koordinator")
    web = signed_in(embedded, coordinator)
    page = web.get("/surveys/manage")
    assert page.status_code == 200 and "Survei umpan balik kegiatan" in page.text
    survey_path = re.search(r'href="[^"]*(/surveys/manage/\d+)"', page.text).group(1)
    survey_id = int(survey_path.rsplit("/", 1)[1])
    page = web.get(survey_path)
    token_value = csrf_token(page.text)

    refused = web.post(
        f"{survey_path}/items",
        data={"csrf_token": token_value, "kind": "text", "text_id": "", "text_en": "x"},
    )
    assert refused.status_code == 400 and "wajib diisi" in refused.text
    assert refused.text.split('name="text_en"')[1].split("</textarea>")[0].endswith("\nx")  # kept
    added = web.post(
        f"{survey_path}/items",
        data={
            "csrf_token": token_value,
            "kind": "text",
            "text_id": "Saran topik berikutnya?",
            "text_en": "Next topics?",
        },
    )
    assert added.status_code == 302

    def survey_items():
        return embedded.query(
            "assessment",
            lambda s: [(i.id, i.kind, i.text_id) for i in surveys.get_survey(s, survey_id).active_items],
        )

    items = survey_items()
    assert items[-1][1:] == ("text", "Saran topik berikutnya?") and len(items) == 9
    new_id = items[-1][0]
    edit_page = web.get(f"{survey_path}/items/{new_id}")
    assert "Saran topik berikutnya?" in edit_page.text
    saved = web.post(
        f"{survey_path}/items/{new_id}",
        data={
            "csrf_token": csrf_token(edit_page.text),
            "text_id": "Topik apa berikutnya?",
            "text_en": "Which topics next?",
        },
    )
    assert saved.status_code == 302
    assert (
        web.post(
            f"{survey_path}/items/{new_id}/move", data={"csrf_token": token_value, "direction": "up"}
        ).status_code
        == 302
    )
    assert [item[0] for item in survey_items()][-2:] == [new_id, items[-2][0]]
    assert (
        web.post(
            f"{survey_path}/items/{new_id}/move", data={"csrf_token": token_value, "direction": "sideways"}
        ).status_code
        == 400
    )
    assert (
        web.post(f"{survey_path}/items/{new_id}/remove", data={"csrf_token": token_value}).status_code == 302
    )
    assert [item[0] for item in survey_items()] == [item[0] for item in items[:-1]]
    assert (
        web.post(f"{survey_path}/items/{new_id}/remove", data={"csrf_token": token_value}).status_code == 404
    )

    titled = web.post(
        survey_path,
        data={"csrf_token": token_value, "title_id": "Survei kepuasan", "title_en": "Satisfaction survey"},
    )
    assert titled.status_code == 302 and "Survei kepuasan" in web.get(survey_path).text
    assert (
        web.post(survey_path, data={"csrf_token": token_value, "title_id": "", "title_en": "x"}).status_code
        == 400
    )
