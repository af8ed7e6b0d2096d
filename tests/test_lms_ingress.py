"""External LMS ingress: every kind of body (CloudEvents structured, plain JSON, binary and batched;
xAPI statements one or many) into learner records and competency evidence; signatures, rotation with
an overlap (clock injected), disabled clients, idempotency and conflicts, malformed bodies named by
field; unknown learners kept until their account or external id appears; secrets encrypted at rest;
the broker away changes nothing; the admin pages."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from services.enrollment import lms
from services.enrollment.competencies import Evidence
from shared.errors import DomainError
from shared.webhooks import sign
from tests.support import AMQP_URL, TcpProxy, csrf_token, wait_for
from tests.test_skeleton import ADMIN, admin_token, bearer, create_user, email, login, people, token

ADL = "http://adlnet.gov/expapi/verbs/"
COURSE_7 = "https://lms.example.org/course/view.php?id=7"
CE_JSON, CE_BATCH = "application/cloudevents+json", "application/cloudevents-batch+json"
WELCOME = "pustaka.user.registered.v1"


@pytest.fixture(params=["embedded", "distributed"])
def system(request, make_system):
    return make_system(request.param)


@pytest.fixture
def embedded(make_system):
    return make_system("embedded")


def new_client(running, admin: str) -> dict:
    response = running.client("enrollment").post(
        "/api/v1/lms/clients", json={"name": f"moodle-{uuid.uuid4().hex[:6]}"}, headers=bearer(admin)
    )
    assert response.status_code == 201, response.json
    assert response.json["secret"].startswith("whsec_")
    return response.json


def signed_headers(secrets: list[str], body: bytes, webhook_id: str, timestamp: int) -> dict:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(secret, webhook_id, timestamp, body) for secret in secrets),
    }


def deliver(
    client,
    secret: str,
    body,
    *,
    content_type: str = CE_JSON,
    webhook_id: str | None = None,
    timestamp: int | None = None,
    headers: dict | None = None,
):
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return client.post(
        "/api/v1/lms/events",
        data=body,
        content_type=content_type,
        headers=signed_headers([secret], body, webhook_id, timestamp) | (headers or {}),
    )


def cloud_event(verb: str = "completed", course: str = "MDL-42", **data) -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "https://moodle.example.org",
        "type": f"lms.course.{verb}",
        "time": datetime.now(UTC).isoformat(),
        "data": {"course_id": course, "course_title": "Metadata Dasar", "score": 88, "max_score": 100} | data,
    }


def statement(verb: str, course: str = COURSE_7, *, mbox: str = "", account: str = "", result=None) -> dict:
    actor = {"objectType": "Agent"}
    if mbox:
        actor["mbox"] = f"mailto:{mbox}"
    if account:
        actor["account"] = {"homePage": "https://lms.example.org", "name": account}
    body = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": ADL + verb, "display": {"en-US": verb}},
        "object": {
            "objectType": "Activity",
            "id": course,
            "definition": {"name": {"en-US": "Digital Services", "id-ID": "Layanan Digital"}},
        },
        "timestamp": datetime.now(UTC).isoformat(),
    }
    return body | ({"result": result} if result else {})


def record(client, address: str) -> list[dict]:
    response = client.get("/api/v1/me/record", headers=bearer(token(client, address)))
    assert response.status_code == 200, response.json
    return response.json


def user_id(client, address: str) -> int:
    return client.get("/api/v1/users/me", headers=bearer(token(client, address))).json["id"]


def receipt(response) -> tuple:
    assert response.status_code == 200, response.json
    body = response.json
    return body["status"], body["recorded"], body["pending"], body["duplicates"], body["ignored"]


def test_every_kind_of_body_lands_in_the_learner_record(system):
    enrollment, admin = system.client("enrollment"), admin_token(system)
    coordinator, ani, budi = people(system, "koordinator", "ani", "budi")
    programme = enrollment.post(
        "/api/v1/programmes",
        json={"title_id": "Katalogisasi", "title_en": "Cataloguing", "track": "staff", "type": "training"},
        headers=bearer(token(enrollment, coordinator)),
    ).json
    client = new_client(system, admin)
    base, secret = f"/api/v1/lms/clients/{client['id']}", client["secret"]
    for mapping in (
        {"course_id": "MDL-42", "programme_id": programme["id"], "competency_areas": ["cataloguing"]},
        {"course_id": COURSE_7, "title": "Layanan digital", "competency_areas": ["digital_services"]},
    ):
        assert enrollment.post(f"{base}/courses", json=mapping, headers=bearer(admin)).status_code == 200
    stored = enrollment.post(
        f"{base}/external-ids", json={"external_id": "budi-77", "email": budi}, headers=bearer(admin)
    )
    assert stored.status_code == 201 and stored.json["email"] == budi

    structured = deliver(enrollment, secret, cloud_event(learner_email=ani.upper()))
    as_json = deliver(
        enrollment,
        secret,
        cloud_event("attempted", "MDL-43", learner_email=ani),
        content_type="application/json",
    )
    failed = cloud_event("failed", COURSE_7, learner_id="budi-77", score=10, max_score=50)
    binary = deliver(
        enrollment,
        secret,
        failed["data"],
        content_type="application/json; charset=utf-8",
        headers={f"ce-{name}": failed[name] for name in ("specversion", "id", "source", "type", "time")},
    )
    batch = deliver(
        enrollment,
        secret,
        [
            cloud_event("passed", learner_id="budi-77", score=9, max_score=10),
            cloud_event(course="MDL-45", learner_email=ani, course_title="Pengantar SLiMS"),
        ],
        content_type=CE_BATCH,
    )
    one_statement = deliver(
        enrollment,
        secret,
        statement("completed", mbox=ani, result={"score": {"scaled": 0.9}, "completion": True}),
        content_type="application/json",
    )
    statements = deliver(
        enrollment,
        secret,
        [
            statement(
                "passed",
                account="budi-77",
                result={"score": {"raw": 45, "min": 0, "max": 50}, "success": True},
            ),
            statement("experienced", mbox=ani),
            statement("attempted", mbox=ani),
        ],
        content_type="application/json",
    )
    assert [receipt(r) for r in (structured, as_json, binary, batch, one_statement, statements)] == [
        ("recorded", 1, 0, 0, 0),
        ("recorded", 1, 0, 0, 0),
        ("recorded", 1, 0, 0, 0),
        ("recorded", 2, 0, 0, 0),
        ("recorded", 1, 0, 0, 0),
        ("recorded", 2, 0, 0, 1),
    ]

    entries = sorted((e["kind"], e["title"], e["score"], e["max_score"]) for e in record(enrollment, ani))
    assert entries == [
        ("lms_attempt", "Layanan Digital", None, None),
        ("lms_attempt", "Metadata Dasar", 88.0, 100.0),
        ("lms_completion", "Layanan Digital", 90.0, 100.0),
        ("lms_completion", "Metadata Dasar", 88.0, 100.0),
        ("lms_completion", "Pengantar SLiMS", 88.0, 100.0),
    ]
    budi_record = record(enrollment, budi)
    assert sorted((e["kind"], e["details"]["verb"], e["score"]) for e in budi_record) == [
        ("lms_attempt", "failed", 10.0),
        ("lms_completion", "passed", 9.0),
        ("lms_completion", "passed", 45.0),
    ]
    assert {e["source"] for e in budi_record} == {client["name"]}
    # A completion of a course mapped to a programme says so; it counts for the programme's areas.
    mapped = [e for e in record(enrollment, ani) if e["details"]["course_id"] == "MDL-42"]
    assert mapped[0]["details"]["programme_id"] == programme["id"]
    evidence = system.query(
        "enrollment",
        lambda s: sorted(
            s.execute(select(Evidence.user_id, Evidence.area, Evidence.level).where(Evidence.kind == "lms"))
        ),
    )
    ani_id, budi_id = user_id(enrollment, ani), user_id(enrollment, budi)
    # The failed course gave no evidence: budi's level in digital services is his pass's, 90 %.
    assert evidence == sorted(
        [
            (ani_id, "cataloguing", 4),
            (ani_id, "digital_services", 4),
            (budi_id, "cataloguing", 4),
            (budi_id, "digital_services", 4),
        ]
    )


def test_signatures_repeats_and_malformed_bodies_are_answered_by_code(system):
    enrollment, admin = system.client("enrollment"), admin_token(system)
    (ani,) = people(system, "ani")
    client = new_client(system, admin)
    secret, body = client["secret"], json.dumps(cloud_event(learner_email=ani)).encode()

    first = deliver(enrollment, secret, body, webhook_id="msg_1")
    again = deliver(enrollment, secret, body, webhook_id="msg_1")
    assert receipt(first) == ("recorded", 1, 0, 0, 0)
    assert receipt(again) == ("duplicate", 1, 0, 0, 0)
    other_body = deliver(enrollment, secret, cloud_event(learner_email=ani), webhook_id="msg_1")
    assert other_body.status_code == 409 and other_body.json["errors"]["webhook-id"]
    # The same event under another webhook-id is recognised by its source and id.
    assert receipt(deliver(enrollment, secret, body, webhook_id="msg_2")) == ("recorded", 0, 0, 1, 0)

    wrong = deliver(enrollment, lms.new_secret(), body)
    stale = deliver(enrollment, secret, body, timestamp=int(time.time()) - 301)
    ahead = deliver(enrollment, secret, body, timestamp=int(time.time()) + 301)
    unsigned = enrollment.post("/api/v1/lms/events", data=body, content_type=CE_JSON)
    assert [r.status_code for r in (wrong, stale, ahead, unsigned)] == [401, 401, 401, 401]
    assert "5 minutes" in stale.json["message"]

    base = f"/api/v1/lms/clients/{client['id']}"
    assert enrollment.patch(base, json={"active": False}, headers=bearer(admin)).json["active"] is False
    disabled = deliver(enrollment, secret, cloud_event(learner_email=ani))
    assert disabled.status_code == 403
    assert enrollment.patch(base, json={"active": True}, headers=bearer(admin)).status_code == 200
    assert deliver(enrollment, secret, cloud_event(learner_email=ani)).status_code == 200

    event = cloud_event(learner_email=ani)
    cases = [
        (b'{"specversion": "1.0"', CE_JSON, {}, "body"),
        (cloud_event(), CE_JSON, {}, "data.learner_email"),
        (
            event | {"data": {k: v for k, v in event["data"].items() if k != "course_id"}},
            CE_JSON,
            {},
            "data.course_id",
        ),
        (event | {"data": event["data"] | {"score": 120}}, CE_JSON, {}, "data.score"),
        ({k: v for k, v in event.items() if k != "time"}, CE_JSON, {}, "time"),
        (event | {"type": "lms.course.viewed"}, CE_JSON, {}, "type"),
        ([event, cloud_event()], CE_BATCH, {}, "event.1.data.learner_email"),
        ({"not": "a batch"}, CE_BATCH, {}, "body"),
        (
            event["data"],
            "application/json",
            {"ce-specversion": "1.0", "ce-id": "x", "ce-source": "s", "ce-type": "t"},
            "ce-type",
        ),
        (event["data"], "text/plain", {"ce-specversion": "1.0"}, "content-type"),
        (event, "text/plain", {}, "content-type"),
        ([statement("completed", mbox="ani@")], "application/json", {}, "statement.0.actor.mbox"),
        ([statement("completed", mbox=ani), {"actor": {}}], "application/json", {}, "statement.1.verb"),
        (statement("completed"), "application/json", {}, "statement.actor.mbox"),
        (
            statement("completed", course="not an iri", mbox=ani),
            "application/json",
            {},
            "statement.object.id",
        ),
        (
            statement("passed", mbox=ani, result={"score": {"scaled": 2}}),
            "application/json",
            {},
            "statement.result.score.scaled",
        ),
        ([], "application/json", {}, "body"),
    ]
    for document, content_type, headers, field in cases:
        response = deliver(enrollment, secret, document, content_type=content_type, headers=headers)
        assert response.status_code == 422, (field, response.json)
        assert field in response.json["errors"], (field, response.json)
    too_large = deliver(enrollment, secret, b" " * (lms.MAX_BODY + 1))
    assert too_large.status_code == 413
    assert len(record(enrollment, ani)) == 2


def test_rotation_accepts_the_old_secret_for_the_overlap_then_refuses_it(embedded):
    app = embedded.apps["enrollment"]
    box = lms.secret_box(app.config)
    (ani,) = people(embedded, "ani")
    start = datetime(2030, 1, 1, 8, tzinfo=UTC)

    def scenario(session):
        client, old = lms.create_client(session, box, "rotating")
        _, new = lms.rotate_secret(session, box, client.id, timedelta(hours=24), now=start)
        session.commit()

        def post(secrets: list[str], hours: float) -> str | int:
            at, body = start + timedelta(hours=hours), json.dumps(cloud_event(learner_email=ani)).encode()
            headers = signed_headers(secrets, body, uuid.uuid4().hex, int(at.timestamp()))
            try:
                result = lms.receive(session, box, headers | {"Content-Type": CE_JSON}, body, now=at).status
            except DomainError as error:
                session.rollback()
                return error.status
            session.commit()
            return result

        results = [post([old], 23), post([new], 23), post([old], 25), post([new], 25), post([old, new], 25)]
        # Without an overlap the secret just replaced is refused at once.
        _, newest = lms.rotate_secret(session, box, client.id, timedelta(0), now=start + timedelta(hours=26))
        session.commit()
        results += [post([new], 26), post([newest], 26)]
        with pytest.raises(DomainError) as refused:
            lms.rotate_secret(session, box, client.id, timedelta(days=8))
        return results, refused.value.errors

    results, errors = embedded.query("enrollment", scenario)
    assert results == ["recorded", "recorded", 401, "recorded", "recorded", 401, "recorded"]
    assert errors == {"overlap_hours": ["Give 0 to 168 hours."]}

    # Through the API, with the real clock: the new secret works, and the old one still does.
    enrollment, admin = embedded.client("enrollment"), admin_token(embedded)
    client = new_client(embedded, admin)
    rotated = enrollment.post(
        f"/api/v1/lms/clients/{client['id']}/rotate", json={"overlap_hours": 2}, headers=bearer(admin)
    )
    assert rotated.status_code == 200 and rotated.json["secret"] != client["secret"]
    expires = datetime.fromisoformat(rotated.json["previous_secret_expires_at"])
    assert timedelta(minutes=119) < expires - datetime.now(UTC) <= timedelta(hours=2)
    for secret in (client["secret"], rotated.json["secret"]):
        assert deliver(enrollment, secret, cloud_event(learner_email=ani)).status_code == 200
    refused = enrollment.post(
        f"/api/v1/lms/clients/{client['id']}/rotate", json={"overlap_hours": 169}, headers=bearer(admin)
    )
    assert refused.status_code == 422 and "overlap_hours" in refused.json["errors"]


def test_unknown_learners_wait_for_their_account_or_external_id(system):
    enrollment, admin = system.client("enrollment"), admin_token(system)
    (coordinator,) = people(system, "koordinator")
    client = new_client(system, admin)
    base, secret = f"/api/v1/lms/clients/{client['id']}", client["secret"]
    citra = email("citra")
    event = cloud_event(learner_email=citra)
    assert receipt(deliver(enrollment, secret, event)) == ("recorded", 0, 1, 0, 0)
    by_account = deliver(
        enrollment, secret, [statement("completed", account="dedi-9")], content_type="application/json"
    )
    assert receipt(by_account) == ("recorded", 0, 1, 0, 0)
    waiting = enrollment.get(f"{base}/pending", headers=bearer(admin)).json
    assert {(item["actor_email"], item["actor_account"]) for item in waiting} == {
        (citra, None),
        (None, "dedi-9"),
    }
    # Sent again under another webhook-id: known, not kept twice.
    assert receipt(deliver(enrollment, secret, event)) == ("recorded", 0, 0, 1, 0)

    create_user(enrollment, admin, citra, ["staff"])
    assert [(e["kind"], e["title"]) for e in record(enrollment, citra)] == [
        ("lms_completion", "Metadata Dasar")
    ]
    _, dedi = people(system, "koordinator2", "dedi")
    stored = enrollment.post(
        f"{base}/external-ids", json={"external_id": "dedi-9", "email": dedi}, headers=bearer(admin)
    )
    assert stored.status_code == 201
    assert [(e["kind"], e["title"]) for e in record(enrollment, dedi)] == [
        ("lms_completion", "Layanan Digital")
    ]
    assert enrollment.get(f"{base}/pending", headers=bearer(admin)).json == []
    taken = enrollment.post(
        f"{base}/external-ids", json={"external_id": "dedi-9", "email": coordinator}, headers=bearer(admin)
    )
    assert taken.status_code == 409 and "external_id" in taken.json["errors"]
    unknown = enrollment.post(
        f"{base}/external-ids", json={"external_id": "x", "email": email("nobody")}, headers=bearer(admin)
    )
    assert unknown.status_code == 422 and "email" in unknown.json["errors"]
    bad_mapping = enrollment.post(
        f"{base}/courses",
        json={"course_id": "MDL-1", "programme_id": 99999, "competency_areas": ["juggling"]},
        headers=bearer(admin),
    )
    assert bad_mapping.status_code == 422
    assert {"programme_id", "competency_areas"} <= set(bad_mapping.json["errors"])
    staff = token(enrollment, dedi)
    assert enrollment.get(f"{base}/pending", headers=bearer(staff)).status_code == 403


def test_the_ingress_takes_deliveries_while_the_broker_is_away(make_system, monkeypatch):
    target = urlparse(AMQP_URL)
    proxy = TcpProxy(target.hostname, target.port).start()
    monkeypatch.setattr("tests.support.AMQP_URL", f"amqp://guest:guest@127.0.0.1:{proxy.port}//")
    running = make_system("distributed")
    enrollment, admin = running.client("enrollment"), admin_token(running)
    client = new_client(running, admin)
    eka = email("eka")
    time.sleep(0.5)  # the consumer and relay are connected through the proxy before the outage

    proxy.cut()
    assert enrollment.get("/readyz").status_code == 503
    assert receipt(deliver(enrollment, client["secret"], cloud_event(learner_email=eka))) == (
        "recorded",
        0,
        1,
        0,
        0,
    )
    create_user(enrollment, admin, eka, ["staff"])  # its welcome waits in the outbox
    assert [e["title"] for e in record(enrollment, eka)] == ["Metadata Dasar"]

    proxy.restore()
    eka_token = token(enrollment, eka)
    notification = running.client("notification")
    wait_for(
        lambda: any(
            item["event_type"] == WELCOME
            for item in notification.get("/api/v1/inbox", headers=bearer(eka_token)).json["items"]
        ),
        timeout=30,
        what="the welcome after the outage",
    )


def test_secrets_are_encrypted_at_rest(embedded, tmp_path):
    enrollment, admin = embedded.client("enrollment"), admin_token(embedded)
    (ani,) = people(embedded, "ani")
    client = new_client(embedded, admin)
    sealed = embedded.query(
        "enrollment",
        lambda s: s.scalar(select(lms.LmsClient.secret_encrypted).where(lms.LmsClient.id == client["id"])),
    )
    assert client["secret"] not in sealed and "whsec_" not in sealed
    key = (tmp_path / "secret-lms.key").read_text().strip()
    assert lms.SecretBox([key]).open(sealed) == client["secret"]
    with pytest.raises(lms.SecretUnreadable):
        lms.SecretBox(["another key"]).open(sealed)

    # The key replaced without the old one: the client's posts are refused, not a server error.
    config = embedded.apps["enrollment"].config
    config["PUSTAKA_LMS_SECRET_KEY"] = "a new key"
    assert deliver(enrollment, client["secret"], cloud_event(learner_email=ani)).status_code == 401
    # With the old key beside the new one, its secrets open again; new ones are sealed with the new key.
    config["PUSTAKA_LMS_SECRET_KEY"] = f"a new key,{key}"
    assert deliver(enrollment, client["secret"], cloud_event(learner_email=ani)).status_code == 200
    newer = new_client(embedded, admin)
    sealed_newer = embedded.query(
        "enrollment",
        lambda s: s.scalar(select(lms.LmsClient.secret_encrypted).where(lms.LmsClient.id == newer["id"])),
    )
    assert lms.SecretBox(["a new key"]).open(sealed_newer) == newer["secret"]


def test_admin_pages_register_map_rotate_and_disable(embedded):
    enrollment = embedded.client("enrollment")
    admin_token(embedded)
    (coordinator, ani) = people(embedded, "koordinator", "ani")
    login(enrollment, ADMIN[0], ADMIN[1])
    page = enrollment.get("/admin/lms")
    assert page.status_code == 200 and "LMS eksternal" in page.text

    bad = enrollment.post("/admin/lms", data={"csrf_token": csrf_token(page.text), "name": "Bad Name"})
    assert bad.status_code == 400 and "huruf kecil" in bad.text
    created = enrollment.post("/admin/lms", data={"csrf_token": csrf_token(page.text), "name": "moodle-web"})
    assert (
        created.status_code == 200
        and "whsec_" in created.text
        and "hanya ditampilkan sekali ini" in created.text
    )
    client_id = embedded.query(
        "enrollment", lambda s: s.scalar(select(lms.LmsClient.id).where(lms.LmsClient.name == "moodle-web"))
    )
    client_page = enrollment.get(f"/admin/lms/{client_id}")
    assert client_page.status_code == 200 and "whsec_" not in client_page.text
    csrf = csrf_token(client_page.text)

    empty = enrollment.post(f"/admin/lms/{client_id}/courses", data={"csrf_token": csrf, "course_id": ""})
    assert empty.status_code == 400 and "Kolom ini wajib diisi." in empty.text
    mapped = enrollment.post(
        f"/admin/lms/{client_id}/courses",
        data={
            "csrf_token": csrf,
            "course_id": "MDL-42",
            "title": "Metadata",
            "programme_id": "",
            "competency_areas": ["cataloguing"],
        },
    )
    assert mapped.status_code == 302
    assert "Katalogisasi dan metadata" in enrollment.get(f"/admin/lms/{client_id}").text
    nobody = enrollment.post(
        f"/admin/lms/{client_id}/external-ids",
        data={"csrf_token": csrf, "external_id": "ani-1", "email": email("nobody")},
    )
    assert nobody.status_code == 400 and "Tidak ada akun dengan email ini." in nobody.text
    stored = enrollment.post(
        f"/admin/lms/{client_id}/external-ids",
        data={"csrf_token": csrf, "external_id": "ani-1", "email": ani},
    )
    assert stored.status_code == 302 and "ani-1" in enrollment.get(f"/admin/lms/{client_id}").text

    rotated = enrollment.post(
        f"/admin/lms/{client_id}/rotate", data={"csrf_token": csrf, "overlap_hours": "24"}
    )
    assert rotated.status_code == 200 and "whsec_" in rotated.text and "masih diterima sampai" in rotated.text
    assert "masih diterima sampai" in enrollment.get(f"/admin/lms/{client_id}").text
    toggled = enrollment.post(f"/admin/lms/{client_id}/active", data={"csrf_token": csrf})
    assert toggled.status_code == 302
    assert embedded.query("enrollment", lambda s: s.get(lms.LmsClient, client_id).active) is False

    coordinator_web = embedded.client("enrollment")
    login(coordinator_web, coordinator)
    assert coordinator_web.get("/admin/lms").status_code == 403
