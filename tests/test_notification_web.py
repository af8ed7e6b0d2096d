"""Notification's pages and API: preferences, unsubscribe links, and the admin's rules,
templates, webhooks and delivery log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from services.notification.channels import unsubscribe_url
from services.notification.handlers import preferences_of
from services.notification.models import Delivery, MessageTemplate, Preference, Recipient, Rule
from shared import catalog
from tests.support import csrf_token, wait_for
from tests.test_skeleton import ADMIN, admin_token, bearer, login, people, programme_with_session, token

CONFIRMED = catalog.ENROLLMENT_CONFIRMED.name


@pytest.fixture
def embedded(make_system):
    return make_system("embedded")


def signed_in(running, address: str, password: str | None = None):
    """A notification web client with the person's login cookie."""
    enrollment = running.client("enrollment")
    login(enrollment, address, *([password] if password else []))
    web = running.client("notification")
    web.set_cookie("pustaka_token", enrollment.get_cookie("pustaka_token").value)
    return web


def admin_web(running):
    admin_token(running)  # creates the admin
    return signed_in(running, *ADMIN)


def user_id(running, access_token: str) -> int:
    return running.client("enrollment").get("/api/v1/users/me", headers=bearer(access_token)).json["id"]


def wait_for_recipient(running, uid: int) -> None:
    """Notification learns of the account from its event, a moment after it was created."""
    wait_for(lambda: running.query("notification", lambda s: s.get(Recipient, uid)), what="the recipient")


def deliveries(running, *conditions) -> list[Delivery]:
    return running.query("notification", lambda s: s.scalars(select(Delivery).where(*conditions)).all())


def enroll_and_wait(running, staff: str, uid: int, coordinator: str) -> dict[str, str]:
    """Enroll the person in a new session; the states of their confirmation, by channel."""
    enrollment = running.client("enrollment")
    _, session = programme_with_session(enrollment, coordinator, seats=5)
    response = enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(staff))
    assert response.status_code == 201, response.json

    def states():
        rows = deliveries(running, Delivery.event_type == CONFIRMED, Delivery.recipient_key == f"user:{uid}")
        return {row.channel: row.state for row in rows} if len(rows) == 2 else None

    return wait_for(states, what="the confirmation's deliveries")


def assert_error(response, status: int, *fields: str) -> None:
    assert response.status_code == status, (response.status_code, response.json)
    assert response.json["message"]
    for field in fields:
        assert response.json["errors"][field], response.json


# Preferences ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_preferences_through_the_api_suppress_the_next_email(make_system, mode):
    running = make_system(mode)
    enrollment, notification = running.client("enrollment"), running.client("notification")
    coordinator_email, staff_email = people(running, "koordinator", "sari")
    coordinator, staff = token(enrollment, coordinator_email), token(enrollment, staff_email)
    uid = user_id(running, staff)
    wait_for_recipient(running, uid)

    assert notification.get("/api/v1/preferences").status_code == 401
    mine = notification.get("/api/v1/preferences", headers=bearer(staff))
    assert mine.status_code == 200, mine.json
    assert mine.json["preferences"]["enrollment"] == {"in_app": True, "email": True}
    assert mine.json["essential_categories"] == ["account"] and mine.json["profile_synced"] is True

    # Account messages stay on; nothing of a refused request is kept.
    refused = notification.put(
        "/api/v1/preferences",
        json={"preferences": {"account": {"email": False}, "enrollment": {"email": False}}},
        headers=bearer(staff),
    )
    assert_error(refused, 422, "preferences.account.email")
    assert_error(
        notification.put(
            "/api/v1/preferences", json={"preferences": {"gossip": {"email": False}}}, headers=bearer(staff)
        ),
        422,
        "preferences",
    )
    assert_error(
        notification.put("/api/v1/preferences", json={"quiet_start": "22:00"}, headers=bearer(staff)),
        422,
        "quiet_end",
    )
    assert_error(
        notification.put(
            "/api/v1/preferences", json={"quiet_start": "25:00", "quiet_end": "06:00"}, headers=bearer(staff)
        ),
        422,
        "quiet_start",
    )
    assert running.query("notification", lambda s: s.scalars(select(Preference)).all()) == []

    saved = notification.put(
        "/api/v1/preferences",
        json={"preferences": {"enrollment": {"email": False}}, "quiet_start": "22:00", "quiet_end": "05:30"},
        headers=bearer(staff),
    )
    assert saved.status_code == 200, saved.json
    assert saved.json["preferences"]["enrollment"] == {"in_app": True, "email": False}
    assert saved.json["preferences"]["results"] == {"in_app": True, "email": True}
    assert (saved.json["quiet_start"], saved.json["quiet_end"]) == ("22:00", "05:30")

    assert enroll_and_wait(running, staff, uid, coordinator) == {"in_app": "sent", "email": "suppressed"}


def test_the_preferences_form(embedded):
    running = embedded
    coordinator_email, staff_email = people(running, "koordinator", "tono")
    enrollment = running.client("enrollment")
    coordinator, staff = token(enrollment, coordinator_email), token(enrollment, staff_email)
    uid = user_id(running, staff)
    wait_for_recipient(running, uid)
    web = signed_in(running, staff_email)

    page = web.get("/preferences")
    assert page.status_code == 200 and "Preferensi notifikasi" in page.text
    assert re.search(r'<input[^>]*checked[^>]*disabled[^>]*name="account_email"', page.text)
    assert re.search(r'<input[^>]*checked[^>]*name="enrollment_email"', page.text)
    assert 'href="/notification/preferences"' in page.text  # the link in the menu

    everything_but_enrollment_email = {
        f"{category}_{channel}": "y"
        for category in ("enrollment", "reminders", "results", "programmes")
        for channel in ("in_app", "email")
        if (category, channel) != ("enrollment", "email")
    }
    # No CSRF token: refused.
    assert web.post("/preferences", data=everything_but_enrollment_email).status_code == 400
    # Half of the quiet hours: refused, with the typed value kept.
    response = web.post(
        "/preferences",
        data={"csrf_token": csrf_token(page.text), "quiet_start": "21:00", "quiet_end": ""}
        | everything_but_enrollment_email,
    )
    assert response.status_code == 400
    assert "Isi awal dan akhir jam tenang, atau kosongkan keduanya." in response.text
    assert 'value="21:00"' in response.text
    # Turning account messages off: refused.
    response = web.post(
        "/preferences",
        data={"csrf_token": csrf_token(page.text), "account_email": "false"}
        | everything_but_enrollment_email,
    )
    assert response.status_code == 400
    assert "Pesan akun dan keamanan tidak dapat dimatikan." in response.text
    assert running.query("notification", lambda s: s.scalars(select(Preference)).all()) == []

    response = web.post(
        "/preferences",
        data={
            "csrf_token": csrf_token(page.text),
            "quiet_start": "21:00",
            "quiet_end": "05:00",
            "daily_digest": "y",
        }
        | everything_but_enrollment_email,
    )
    assert response.status_code == 302
    page = web.get("/preferences")
    assert "Preferensi Anda sudah disimpan." in page.text
    assert re.search(r'<input[^>]*name="enrollment_email"', page.text)
    assert not re.search(r'<input[^>]*checked[^>]*name="enrollment_email"', page.text)
    assert re.search(r'<input[^>]*checked[^>]*name="enrollment_in_app"', page.text)
    profile = running.query("notification", lambda s: s.get(Recipient, uid))
    assert (profile.quiet_start, profile.quiet_end, profile.daily_digest) == ("21:00", "05:00", True)

    assert enroll_and_wait(running, staff, uid, coordinator) == {"in_app": "sent", "email": "suppressed"}


# Unsubscribe links ---------------------------------------------------------------------------


def link_path(running, key: str, category: str) -> str:
    """The path (under /notification) of the link an email's List-Unsubscribe header carries."""
    url = unsubscribe_url(running.apps["notification"].config, key, category)
    return url.split("/notification", 1)[1]


def test_unsubscribe_links(embedded):
    running = embedded
    web = running.client("notification")  # nobody signed in
    key = "email:tamu@contoh.id"
    path = link_path(running, key, "results")

    page = web.get(path)
    assert page.status_code == 200
    assert "Hasil kuis" in page.text and "tamu@contoh.id" in page.text and "<button" in page.text
    assert running.query("notification", lambda s: s.scalars(select(Preference)).all()) == []

    # RFC 8058 one-click: the mail client posts this body, with no CSRF token and no cookie.
    response = web.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and "tidak akan lagi menerima email" in response.text
    rows = running.query("notification", lambda s: s.scalars(select(Preference)).all())
    assert [(row.recipient_key, row.category, row.channel, row.enabled) for row in rows] == [
        (key, "results", "email", False)
    ]
    choices = running.query("notification", lambda s: preferences_of(s, key))
    assert choices["results"] == {"in_app": True, "email": False}
    assert choices["enrollment"] == {"in_app": True, "email": True}

    # The page's own button, for an account holder's link.
    member = link_path(running, "user:41", "enrollment")
    assert web.post(member, data={}).status_code == 200
    choices = running.query("notification", lambda s: preferences_of(s, "user:41"))
    assert choices["enrollment"]["email"] is False and choices["reminders"]["email"] is True

    # Through the API, without a token.
    api = web.post(f"/api/v1{link_path(running, 'user:42', 'reminders')}")
    assert api.status_code == 200 and api.json == {
        "category": "reminders",
        "channel": "email",
        "enabled": False,
    }

    forged = path[:-3] + ("xyz" if not path.endswith("xyz") else "abc")
    assert web.get(forged).status_code == 404
    assert web.post(forged, data="List-Unsubscribe=One-Click").status_code == 404
    assert web.post(f"/api/v1{forged}").status_code == 404
    essential = link_path(running, "user:41", "account")
    assert web.get(essential).status_code == 400
    assert web.post(essential, data="List-Unsubscribe=One-Click").status_code == 400
    assert_error(web.post(f"/api/v1{essential}"), 422, "category")
    assert running.query("notification", lambda s: preferences_of(s, "user:41"))["account"]["email"] is True


# Rules -------------------------------------------------------------------------------------------


def rule_id(running, event_type: str) -> int:
    return running.query(
        "notification", lambda s: s.scalar(select(Rule.id).where(Rule.event_type == event_type, Rule.builtin))
    )


def test_admins_edit_rules(embedded):
    running = embedded
    notification = running.client("notification")
    admin = bearer(admin_token(running))
    confirmed = rule_id(running, CONFIRMED)

    listed = notification.get("/api/v1/rules", headers=admin)
    assert listed.status_code == 200 and {rule["event_type"] for rule in listed.json} >= {CONFIRMED}
    path = f"/api/v1/rules/{confirmed}"
    before = notification.get(path, headers=admin).json

    assert_error(
        notification.put(path, json={"event_type": "pustaka.nope.v1"}, headers=admin), 422, "event_type"
    )
    assert_error(notification.put(path, json={"channels": ["sms"]}, headers=admin), 422, "channels")
    assert_error(notification.put(path, json={"template_key": "nope"}, headers=admin), 422, "template_key")
    # The welcome template needs a name and an email the enrollment event does not have.
    assert_error(notification.put(path, json={"template_key": "welcome"}, headers=admin), 422, "template_key")
    assert notification.get(path, headers=admin).json == before

    changed = notification.put(path, json={"priority": "low", "enabled": False}, headers=admin)
    assert changed.status_code == 200 and (changed.json["priority"], changed.json["enabled"]) == (
        "low",
        False,
    )
    created = notification.post(
        "/api/v1/rules",
        json={
            "name": "Coordinators hear of waitlists",
            "event_type": catalog.ENROLLMENT_WAITLISTED.name,
            "recipients": ["programme_coordinators"],
            "template_key": "enrollment_waitlisted",
            "channels": ["in_app"],
            "category": "enrollment",
        },
        headers=admin,
    )
    assert created.status_code == 201 and created.json["builtin"] is False, created.json
    assert_error(notification.post("/api/v1/rules", json={"name": "x"}, headers=admin), 422, "event_type")

    # The pages.
    web = admin_web(running)
    page = web.get("/admin/rules")
    assert page.status_code == 200 and "Coordinators hear of waitlists" in page.text
    form = web.get(f"/admin/rules/{confirmed}")
    assert form.status_code == 200
    fields = {
        "csrf_token": csrf_token(form.text),
        "name": "Seat confirmed",
        "event_type": "pustaka.nope.v1",
        "recipients": ["subject"],
        "template_key": "enrollment_confirmed",
        "channels": ["in_app", "email"],
        "category": "enrollment",
        "priority": "normal",
        "enabled": "y",
    }
    refused = web.post(f"/admin/rules/{confirmed}", data=fields)
    assert refused.status_code == 400 and "Pilihan tidak valid." in refused.text
    refused = web.post(
        f"/admin/rules/{confirmed}", data=fields | {"event_type": CONFIRMED, "template_key": "welcome"}
    )
    assert (
        refused.status_code == 400
        and "Templat tidak dapat ditampilkan dengan contoh jenis peristiwa ini." in refused.text
    )
    assert 'value="Seat confirmed"' in refused.text
    renamed = notification.put(path, json={"name": "Renamed"}, headers=admin)
    assert_error(renamed, 422, "name")  # built-in rules are known by their name at start
    saved = web.post(f"/admin/rules/{confirmed}", data=fields | {"event_type": CONFIRMED})
    assert saved.status_code == 302
    rule = running.query("notification", lambda s: s.get(Rule, confirmed))
    assert (rule.priority, rule.enabled) == ("normal", True)

    new = web.get("/admin/rules/new")
    response = web.post(
        "/admin/rules/new",
        data=fields
        | {
            "csrf_token": csrf_token(new.text),
            "name": "Copy",
            "event_type": CONFIRMED,
            "channels": ["in_app"],
        },
    )
    assert response.status_code == 302
    assert running.query("notification", lambda s: s.scalar(select(Rule.id).where(Rule.name == "Copy")))


# Templates ---------------------------------------------------------------------------------------


def stored(running, key: str) -> MessageTemplate:
    return running.query(
        "notification", lambda s: s.scalar(select(MessageTemplate).where(MessageTemplate.key == key))
    )


def test_templates_are_checked_before_they_are_saved(embedded):
    running = embedded
    notification = running.client("notification")
    admin = bearer(admin_token(running))
    path = "/api/v1/templates/enrollment_confirmed"
    before = notification.get(path, headers=admin).json
    assert before["subject_id"] == "Kursi Anda terkonfirmasi"

    broken = notification.put(path, json={"text_id": "Halo {{ event.nope.x }}"}, headers=admin)
    assert_error(broken, 422, "text_id")
    assert "UndefinedError" in broken.json["errors"]["text_id"][0]
    syntax = notification.put(path, json={"subject_en": "{% if %}"}, headers=admin)
    assert_error(syntax, 422, "subject_en")
    assert "TemplateSyntaxError" in syntax.json["errors"]["subject_en"][0]
    for escape in ("{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}"):
        refused = notification.put(path, json={"text_en": escape}, headers=admin)
        assert_error(refused, 422, "text_en")
        assert "SecurityError" in refused.json["errors"]["text_en"][0]
    # A template no rule uses is not rendered at save, and still refuses such text.
    waitlisted = rule_id(running, catalog.ENROLLMENT_WAITLISTED.name)
    assert (
        notification.put(
            f"/api/v1/rules/{waitlisted}", json={"template_key": "enrollment_confirmed"}, headers=admin
        ).status_code
        == 200
    )
    unused = notification.put(
        "/api/v1/templates/enrollment_waitlisted",
        json={"html_id": "<p>{{ event|attr('__class__') }}</p>"},
        headers=admin,
    )
    assert_error(unused, 422, "html_id")
    assert "SecurityError" in unused.json["errors"]["html_id"][0]
    assert notification.get(path, headers=admin).json == before
    assert stored(running, "enrollment_waitlisted").html_id == ""

    saved = notification.put(path, json={"text_en": "Seat: {{ event.programme_title.en }}"}, headers=admin)
    assert saved.status_code == 200 and saved.json["text_en"] == "Seat: {{ event.programme_title.en }}"
    assert stored(running, "enrollment_confirmed").text_id == before["text_id"]

    preview = notification.post(
        f"{path}/preview", json={"event_type": CONFIRMED, "language": "id"}, headers=admin
    )
    assert preview.status_code == 200, preview.json
    assert preview.json["subject"] == "Kursi Anda terkonfirmasi"
    assert preview.json["text"] == "Anda terdaftar di Pelatihan Katalogisasi, mulai 10-01-2030 09:00 WIB."
    english = notification.post(
        f"{path}/preview", json={"event_type": CONFIRMED, "language": "en"}, headers=admin
    )
    assert (english.json["subject"], english.json["text"]) == (
        "Your seat is confirmed",
        "Seat: Cataloguing Training",
    )
    assert english.json["html"] == "<p>Seat: Cataloguing Training</p>\n"
    assert_error(
        notification.post(f"{path}/preview", json={"event_type": "x"}, headers=admin), 422, "event_type"
    )
    assert notification.get("/api/v1/templates/nope", headers=admin).status_code == 404

    # The page: a preview of unsaved text in both languages, a refused save, a save.
    web = admin_web(running)
    page = web.get("/admin/templates/enrollment_confirmed")
    assert page.status_code == 200
    texts = {
        "csrf_token": csrf_token(page.text),
        "subject_id": "Kursi untuk {{ recipient.name }}",
        "subject_en": "A seat for {{ recipient.name }}",
        "text_id": "Sampai jumpa di {{ event.programme_title.id }}.",
        "text_en": "See you at {{ event.programme_title.en }}.",
        "html_id": "",
        "html_en": "",
        "preview_event_type": CONFIRMED,
    }
    preview = web.post("/admin/templates/enrollment_confirmed", data=texts | {"preview": "Pratinjau"})
    assert preview.status_code == 200
    assert "Sampai jumpa di Pelatihan Katalogisasi." in preview.text
    assert "See you at Cataloguing Training." in preview.text
    assert stored(running, "enrollment_confirmed").text_id == before["text_id"]
    refused = web.post(
        "/admin/templates/enrollment_confirmed",
        data=texts | {"text_id": "{{ ''.__class__.__mro__ }}", "save": "Simpan"},
    )
    assert refused.status_code == 400 and "SecurityError" in refused.text
    assert stored(running, "enrollment_confirmed").text_id == before["text_id"]
    saved = web.post("/admin/templates/enrollment_confirmed", data=texts | {"save": "Simpan"})
    assert saved.status_code == 302
    assert (
        stored(running, "enrollment_confirmed").text_id == "Sampai jumpa di {{ event.programme_title.id }}."
    )
    assert web.get("/admin/templates").status_code == 200


# Webhooks --------------------------------------------------------------------------------------


def test_webhook_subscriptions(embedded):
    running = embedded
    notification = running.client("notification")
    admin = bearer(admin_token(running))

    ftp = notification.post(
        "/api/v1/webhooks", json={"url": "ftp://example.org/in", "event_types": [CONFIRMED]}, headers=admin
    )
    assert_error(ftp, 422, "url")
    assert_error(
        notification.post(
            "/api/v1/webhooks", json={"url": "https://example.org/in", "event_types": []}, headers=admin
        ),
        422,
        "event_types",
    )
    created = notification.post(
        "/api/v1/webhooks", json={"url": "https://example.org/in", "event_types": [CONFIRMED]}, headers=admin
    )
    assert created.status_code == 201 and created.json["secret"].startswith("whsec_")
    listed = notification.get("/api/v1/webhooks", headers=admin).json
    assert [hook["url"] for hook in listed] == ["https://example.org/in"] and "secret" not in listed[0]
    path = f"/api/v1/webhooks/{created.json['id']}"
    assert notification.patch(path, json={"active": False}, headers=admin).json["active"] is False
    assert notification.get(path, headers=admin).json["disabled_reason"]
    enabled = notification.patch(path, json={"active": True}, headers=admin).json
    assert enabled["active"] is True and enabled["disabled_reason"] is None

    web = admin_web(running)
    page = web.get("/admin/webhooks")
    assert page.status_code == 200 and "https://example.org/in" in page.text
    refused = web.post(
        "/admin/webhooks",
        data={"csrf_token": csrf_token(page.text), "url": "ftp://example.org/x", "event_types": [CONFIRMED]},
    )
    assert refused.status_code == 400 and 'value="ftp://example.org/x"' in refused.text
    made = web.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf_token(page.text),
            "url": "http://127.0.0.1:9/hook",
            "event_types": [CONFIRMED],
        },
    )
    assert made.status_code == 200
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', made.text).group(1)
    second = notification.get("/api/v1/webhooks", headers=admin).json[-1]
    detail = web.get(f"/admin/webhooks/{second['id']}")
    assert detail.status_code == 200 and secret not in detail.text
    toggled = web.post(
        f"/admin/webhooks/{second['id']}/active", data={"csrf_token": csrf_token(detail.text), "active": "0"}
    )
    assert toggled.status_code == 302
    assert notification.get(f"/api/v1/webhooks/{second['id']}", headers=admin).json["active"] is False


# The delivery log ---------------------------------------------------------------------------------


def test_the_delivery_log_and_replays(embedded):
    running = embedded
    notification = running.client("notification")
    admin = bearer(admin_token(running))
    (staff_email,) = people(running, "wulan")  # a coordinator: the welcome is all we need
    # No SMTP server is configured here: every welcome email fails for good.
    failed = wait_for(
        lambda: deliveries(running, Delivery.state == "failed", Delivery.channel == "email"),
        what="a failed email",
    )

    listed = notification.get("/api/v1/deliveries?state=failed", headers=admin)
    assert listed.status_code == 200 and listed.json["total"] >= 1
    assert {item["state"] for item in listed.json["items"]} == {"failed"}
    assert "email is not configured" in listed.json["items"][0]["last_error"]
    uid = user_id(running, token(running.client("enrollment"), staff_email))
    mine = notification.get(f"/api/v1/deliveries?recipient=USER:{uid}", headers=admin)
    assert mine.status_code == 200 and mine.json["total"] >= 1
    assert all(item["recipient_key"].startswith(f"user:{uid}") for item in mine.json["items"])
    assert_error(notification.get("/api/v1/deliveries?state=lost", headers=admin), 422, "state")
    in_app = notification.get("/api/v1/deliveries?channel=in_app&limit=1", headers=admin).json
    assert in_app["limit"] == 1 and len(in_app["items"]) == 1

    replayed = notification.post(f"/api/v1/deliveries/{failed[0].id}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.json
    assert (replayed.json["state"], replayed.json["attempts"]) == ("queued", 0)
    assert_error(
        notification.post(f"/api/v1/deliveries/{in_app['items'][0]['id']}/replay", headers=admin), 409
    )
    assert_error(notification.post("/api/v1/deliveries/999999/replay", headers=admin), 404)

    web = admin_web(running)
    page = web.get("/admin/deliveries?state=failed")
    assert page.status_code == 200
    states = set(re.findall(r'data-state="([a-z]+)"', page.text))
    assert states <= {"failed"}
    wait_for(
        lambda: deliveries(running, Delivery.id == failed[0].id, Delivery.state == "failed"),
        what="the retry to fail",
    )
    page = web.get("/admin/deliveries?state=failed&channel=email")
    assert f'data-delivery="{failed[0].id}"' in page.text
    response = web.post(
        f"/admin/deliveries/{failed[0].id}/replay",
        data={"csrf_token": csrf_token(page.text), "next": "/notification/admin/deliveries?state=failed"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/deliveries?state=failed"
    )
    assert web.get("/admin/deliveries?state=nope").status_code == 400


def test_only_admins_administer(embedded):
    running = embedded
    notification = running.client("notification")
    (coordinator_email,) = people(running, "yudi")
    other = bearer(token(running.client("enrollment"), coordinator_email))
    for method, path in (
        ("GET", "/api/v1/rules"),
        ("POST", "/api/v1/rules"),
        ("PUT", "/api/v1/rules/1"),
        ("GET", "/api/v1/templates"),
        ("PUT", "/api/v1/templates/welcome"),
        ("POST", "/api/v1/templates/welcome/preview"),
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("PATCH", "/api/v1/webhooks/1"),
        ("GET", "/api/v1/deliveries"),
        ("POST", "/api/v1/deliveries/1/replay"),
    ):
        response = notification.open(path, method=method, json={}, headers=other)
        assert response.status_code == 403, (method, path, response.status_code)
        assert notification.open(path, method=method, json={}).status_code == 401
    web = signed_in(running, coordinator_email)
    assert 'href="/notification/admin/"' not in web.get("/preferences").text
    for path in ("/admin/", "/admin/rules", "/admin/rules/1", "/admin/rules/new", "/admin/templates",
                 "/admin/templates/welcome", "/admin/webhooks", "/admin/deliveries"):  # fmt: skip
        assert web.get(path).status_code == 403, path
    assert admin_web(running).get("/admin/").status_code == 200
    assert 'href="/notification/admin/"' in admin_web(running).get("/preferences").text
