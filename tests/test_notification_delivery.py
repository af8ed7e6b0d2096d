"""Notification delivery against real servers: email over SMTP (aiosmtpd), signed webhooks to a
local HTTP receiver, retries and backoff, preferences, quiet hours, digests, reminders, and
exactly-once sending by concurrent delivery loops on PostgreSQL."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from kombu import Connection
from sqlalchemy import func, select, update

from services.notification import defaults, delivery, handlers, rendering
from services.notification.channels import load_channels, unsubscribe_serializer
from services.notification.models import (
    Delivery,
    MessageTemplate,
    Notification,
    Recipient,
    Reminder,
    Rule,
    WebhookSubscription,
)
from shared import catalog
from shared.db import utcnow
from shared.envelope import CloudEvent
from shared.errors import Invalid
from shared.messaging import DeadLetter, InboxEntry
from shared.webhooks import verify
from tests.processes import free_port
from tests.support import AMQP_URL, wait_for
from tests.test_skeleton import admin_token, bearer, create_user, email, people, programme_with_session, token

JAKARTA = ZoneInfo("Asia/Jakarta")
CONFIRMED = catalog.ENROLLMENT_CONFIRMED.name
WAITLISTED = catalog.ENROLLMENT_WAITLISTED.name
GRADED = catalog.ATTEMPT_GRADED.name
WELCOME = catalog.USER_REGISTERED.name
# Delivery loops that wake up often and retry soon, so that tests stay short.
FAST = {"PUSTAKA_DELIVERY_BACKOFF": 0.05, "PUSTAKA_DELIVERY_INTERVAL": 0.05}


# A real SMTP server ------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts, and refuses on demand."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refuse_rcpt: dict[str, str] = {}  # address → reply to RCPT TO
        self.refuse_data: dict[str, str] = {}  # address → reply to DATA

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        reply = self.refuse_rcpt.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        for address in envelope.rcpt_tos:
            if address.lower() in self.refuse_data:
                return self.refuse_data[address.lower()]
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def settings(self) -> dict:
        return {"PUSTAKA_SMTP_HOST": "127.0.0.1", "PUSTAKA_SMTP_PORT": self.port}

    def received(self, to: str | None = None, subject: str | None = None) -> list[EmailMessage]:
        return [
            message
            for message in list(self.mailbox.messages)
            if (to is None or message["To"] == to)
            and (subject is None or str(message["Subject"]).startswith(subject))
        ]


@pytest.fixture
def smtp():
    """Starts aiosmtpd servers on 127.0.0.1 (a free port, or a given one); stops them afterwards."""
    servers: list[SmtpServer] = []

    def make(start: bool = True, port: int | None = None) -> SmtpServer:
        server = SmtpServer(port)
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.stop()


# A webhook receiver ------------------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    at: float
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A local HTTP endpoint that records each POST and answers ``status`` after ``delay`` s."""

    def __init__(self, status: int = 204, delay: float = 0.0):
        self.status, self.delay = status, delay
        self.requests: list[ReceivedRequest] = []
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.requests.append(ReceivedRequest(time.monotonic(), headers, body))
                if receiver.delay:
                    receiver.released.wait(receiver.delay)
                try:
                    self.send_response(receiver.status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pustaka"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver():
    receivers: list[Receiver] = []

    def make(status: int = 204, delay: float = 0.0) -> Receiver:
        receivers.append(Receiver(status, delay))
        return receivers[-1]

    yield make
    for each in receivers:
        each.close()


# Helpers -----------------------------------------------------------------------------------------


def user_id(running, access_token: str) -> int:
    response = running.client("enrollment").get("/api/v1/users/me", headers=bearer(access_token))
    assert response.status_code == 200, response.json
    return response.json["id"]


def enroll(running, staff_token: str, session: dict) -> dict:
    response = running.client("enrollment").post(
        f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(staff_token)
    )
    assert response.status_code == 201, response.json
    return response.json


def rows(running, model, *conditions) -> list:
    return running.query(
        "notification",
        lambda s: s.scalars(select(model).where(*conditions).order_by(*model.__mapper__.primary_key)).all(),
    )


def deliveries(running, *conditions) -> list[Delivery]:
    return rows(running, Delivery, *conditions)


def email_deliveries(running, event_type: str, target: str) -> list[Delivery]:
    return deliveries(
        running, Delivery.event_type == event_type, Delivery.channel == "email", Delivery.target == target
    )


def sessions_of(running):
    """The notification service's session factory, as its delivery loop uses it."""
    app = running.apps["notification"]
    with app.app_context():
        return app.extensions["pustaka"].session_factory()


def in_session(running, function):
    """Run function(session) in notification's database and commit."""

    def run(session):
        result = function(session)
        session.commit()
        return result

    return running.query("notification", run)


def add_recipient(running, user: int, address: str, **fields) -> None:
    in_session(
        running,
        lambda s: s.add(
            Recipient(user_id=user, email=address, **{"name": f"Orang {user}", "language": "id"} | fields)
        ),
    )


def enrollment_data(user: int, session_id: int = 5, starts_at: datetime | None = None) -> dict:
    starts_at = starts_at or datetime(2030, 1, 10, 2, tzinfo=UTC)
    return catalog.ENROLLMENT_EXAMPLE | {
        "user_id": user,
        "session_id": session_id,
        "enrollment_id": 100 + session_id,
        "starts_at": starts_at.isoformat(),
    }


# 1. Email over real SMTP -------------------------------------------------------------------------


def test_enrollment_email_reaches_the_smtp_server_in_the_persons_language(smtp, make_system):
    server = smtp()
    running = make_system("distributed", extra=FAST | server.settings)
    enrollment = running.client("enrollment")
    admin = admin_token(running)
    coordinator_address, ani_address = email("koordinator"), email("ani")
    create_user(enrollment, admin, coordinator_address, ["coordinator"], language="id")
    create_user(enrollment, admin, ani_address, ["staff"], language="en")
    coordinator, ani = token(enrollment, coordinator_address), token(enrollment, ani_address)
    ani_id = user_id(running, ani)
    _, session = programme_with_session(enrollment, coordinator, seats=5)
    enroll(running, ani, session)

    wait_for(
        lambda: [d for d in email_deliveries(running, CONFIRMED, ani_address) if d.state == "sent"],
        timeout=20,
        what="the enrollment email delivery to be sent",
    )
    (confirmed,) = server.received(to=ani_address, subject="Your seat is confirmed")
    assert confirmed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in confirmed.iter_parts()] == ["text/plain", "text/html"]
    text = confirmed.get_body(("plain",)).get_content()
    html = confirmed.get_body(("html",)).get_content()
    assert "You are enrolled in Cataloguing Training" in text and "WIB" in text
    assert "<p>You are enrolled in Cataloguing Training" in html
    link = re.fullmatch(
        r"<(http://127\.0\.0\.1:8000/notification/unsubscribe/([^>]+))>", confirmed["List-Unsubscribe"]
    )
    assert link, confirmed["List-Unsubscribe"]
    secret = running.apps["notification"].config["SECRET_KEY"]
    assert unsubscribe_serializer(secret).loads(link.group(2)) == [f"user:{ani_id}", "enrollment"]
    assert confirmed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    (row,) = email_deliveries(running, CONFIRMED, ani_address)
    assert (row.state, row.attempts, row.last_error, row.category) == ("sent", 1, None, "enrollment")
    assert row.sent_at is not None

    # The welcome message (account category) has no unsubscribe link, in each person's language.
    (welcome,) = wait_for(lambda: server.received(to=ani_address, subject="Welcome to Pustaka"))
    assert welcome["List-Unsubscribe"] is None and welcome["List-Unsubscribe-Post"] is None
    wait_for(lambda: server.received(to=coordinator_address, subject="Selamat datang di Pustaka"))
    time.sleep(0.3)  # a second copy would have arrived by now
    assert len(server.received(to=ani_address)) == 2


# 2. SMTP down, retries, permanent refusals -------------------------------------------------------


def test_smtp_down_is_retried_with_backoff_then_failed_and_a_retry_after_recovery_is_sent(
    smtp, make_system, caplog
):
    port = free_port()  # nothing listens here yet
    running = make_system(
        "distributed",
        extra={
            "PUSTAKA_SMTP_HOST": "127.0.0.1",
            "PUSTAKA_SMTP_PORT": port,
            "PUSTAKA_DELIVERY_BACKOFF": 0.3,
            "PUSTAKA_DELIVERY_INTERVAL": 0.05,
            "PUSTAKA_DELIVERY_MAX_ATTEMPTS": 4,
        },
    )
    enrollment = running.client("enrollment")
    coordinator_address, ani_address, budi_address = people(running, "koordinator", "ani", "budi")
    coordinator, ani, budi = (token(enrollment, a) for a in (coordinator_address, ani_address, budi_address))
    _, session = programme_with_session(enrollment, coordinator, seats=5)
    enroll(running, ani, session)

    # Every retry waits twice as long as the one before: 0.3 s, 0.6 s, … (attempts are never early).
    queued_at: dict[int, datetime] = {}

    def failed_for_good():
        (row,) = email_deliveries(running, CONFIRMED, ani_address) or [None]
        if row is not None and row.state == "queued" and row.attempts:  # waiting for a retry
            assert "SMTP unreachable" in row.last_error
            queued_at.setdefault(row.attempts, row.next_attempt_at)
        return row is not None and row.state == "failed" and row

    failed = wait_for(failed_for_good, timeout=20, what="the delivery to fail for good")
    assert failed.attempts == 4 and "SMTP unreachable" in failed.last_error
    assert sorted(queued_at) == [1, 2, 3]
    assert queued_at[2] - queued_at[1] >= timedelta(seconds=0.6)
    assert queued_at[3] - queued_at[2] >= timedelta(seconds=1.2)
    assert f"delivery {failed.id} to {ani_address} failed for good" in caplog.text
    assert "retrying" in caplog.text  # each failed attempt is logged, not only the last

    # The server comes back between two attempts: the next retry is sent, nothing is lost.
    enroll(running, budi, session)
    wait_for(
        lambda: any(
            d.state == "queued" and d.attempts >= 1
            for d in email_deliveries(running, CONFIRMED, budi_address)
        ),
        timeout=15,
        what="a failed first attempt",
    )
    server = smtp(port=port)
    sent = wait_for(
        lambda: [d for d in email_deliveries(running, CONFIRMED, budi_address) if d.state == "sent"],
        timeout=15,
        what="the retried delivery to be sent",
    )
    assert sent[0].attempts >= 2 and sent[0].last_error is None
    assert len(server.received(to=budi_address, subject="Kursi Anda terkonfirmasi")) == 1
    # The one that had failed for good stays failed, in the log for an admin to see.
    assert [d.state for d in email_deliveries(running, CONFIRMED, ani_address)] == ["failed"]


def test_smtp_refusals_5xx_fail_at_once_and_4xx_are_retried(smtp, make_system):
    server = smtp()
    running = make_system("distributed", extra=FAST | server.settings)
    enrollment = running.client("enrollment")
    admin = admin_token(running)
    gone, greylisted = email("hilang"), email("abu")
    server.mailbox.refuse_data[gone.lower()] = "550 no such user"
    server.mailbox.refuse_rcpt[greylisted.lower()] = "451 4.7.1 greylisted, try again later"
    create_user(enrollment, admin, gone, ["staff"])
    create_user(enrollment, admin, greylisted, ["staff"])

    (failed,) = wait_for(
        lambda: [d for d in email_deliveries(running, WELCOME, gone) if d.state == "failed"],
        timeout=15,
        what="the refused delivery to fail",
    )
    assert failed.attempts == 1 and failed.last_error.startswith("SMTP 550")
    assert server.received(to=gone) == []

    # A temporary refusal of the recipient (greylisting) is retried until the server takes it.
    wait_for(
        lambda: [d for d in email_deliveries(running, WELCOME, greylisted) if d.attempts >= 2],
        timeout=15,
        what="retries after 451",
    )
    (retrying,) = email_deliveries(running, WELCOME, greylisted)
    assert retrying.state in ("queued", "sending") and "451" in retrying.last_error
    del server.mailbox.refuse_rcpt[greylisted.lower()]
    wait_for(lambda: server.received(to=greylisted), timeout=15, what="the greylisted email")
    wait_for(lambda: email_deliveries(running, WELCOME, greylisted)[0].state == "sent")


# 3. A redelivered event sends nothing again ------------------------------------------------------


def test_a_redelivered_event_is_delivered_once(smtp, make_system, caplog):
    server = smtp()
    running = make_system("distributed", extra=FAST | server.settings)
    (ani_address,) = people(running, "ani")
    ani_id = user_id(running, token(running.client("enrollment"), ani_address))
    wait_for(lambda: rows(running, Recipient, Recipient.user_id == ani_id), what="the recipient")

    event = CloudEvent(type=CONFIRMED, source="/pustaka/enrollment", data=enrollment_data(ani_id))
    bus = running.apps["notification"].extensions["pustaka"].bus
    with Connection(AMQP_URL) as connection:
        producer = connection.Producer()
        for _ in range(2):  # what a broker redelivery or a publisher retry looks like
            bus.publish(producer, event.to_json(), event.type, bus.queue_name("notification"))

    wait_for(lambda: f"{event.id} already handled; skipped" in caplog.text, timeout=15, what="the duplicate")
    wait_for(
        lambda: [d for d in deliveries(running, Delivery.event_id == event.id) if d.state == "sent"][1:],
        timeout=15,
        what="in-app and email sent",
    )
    time.sleep(0.3)
    assert sorted(d.channel for d in deliveries(running, Delivery.event_id == event.id)) == [
        "email",
        "in_app",
    ]
    assert len(rows(running, Notification, Notification.event_id == event.id)) == 1
    assert len(server.received(to=ani_address, subject="Kursi Anda terkonfirmasi")) == 1

    # Dispatching the same event twice in one transaction adds nothing the second time.
    channels, config = load_channels(), running.apps["notification"].config

    def twice(session):
        data = enrollment_data(ani_id, session_id=6)
        first = handlers.dispatch(session, "evt-twice", CONFIRMED, data, channels, config)
        second = handlers.dispatch(session, "evt-twice", CONFIRMED, data, channels, config)
        return [(d.channel, d.state) for d in first], second

    first, second = in_session(running, twice)
    assert sorted(first) == [("email", "queued"), ("in_app", "sent")] and second == []
    assert len(rows(running, Notification, Notification.event_id == "evt-twice")) == 1
    wait_for(lambda: server.received(to=ani_address, subject="Kursi Anda terkonfirmasi")[1:], timeout=15)
    time.sleep(0.3)
    assert len(server.received(to=ani_address, subject="Kursi Anda terkonfirmasi")) == 2


# 4. Preferences ----------------------------------------------------------------------------------


def test_turning_email_off_suppresses_it_but_not_in_app_and_account_stays_on(smtp, make_system):
    server = smtp()
    running = make_system("embedded", extra=FAST | server.settings)
    enrollment = running.client("enrollment")
    coordinator_address, ani_address = people(running, "koordinator", "ani")
    coordinator, ani = token(enrollment, coordinator_address), token(enrollment, ani_address)
    key = f"user:{user_id(running, ani)}"

    in_session(running, lambda s: handlers.set_preference(s, key, "enrollment", "email", False))
    with pytest.raises(Invalid):
        running.query("notification", lambda s: handlers.set_preference(s, key, "account", "email", False))
    with pytest.raises(Invalid):
        running.query("notification", lambda s: handlers.set_preference(s, key, "nonsense", "email", False))
    preferences = running.query("notification", lambda s: handlers.preferences_of(s, key))
    assert preferences["enrollment"] == {"in_app": True, "email": False}
    assert preferences["account"] == {"in_app": True, "email": True}

    _, session = programme_with_session(enrollment, coordinator, seats=5)
    enroll(running, ani, session)
    by_channel = wait_for(
        lambda: {d.channel: d.state for d in deliveries(running, Delivery.event_type == CONFIRMED)},
        what="the enrollment deliveries",
    )
    assert by_channel == {"in_app": "sent", "email": "suppressed"}
    items = running.client("notification").get("/api/v1/inbox", headers=bearer(ani)).json["items"]
    assert CONFIRMED in [item["event_type"] for item in items]
    # The welcome email (account) went out all the same; the enrollment one never did.
    wait_for(lambda: server.received(to=ani_address, subject="Selamat datang"), what="the welcome email")
    time.sleep(0.3)
    assert server.received(to=ani_address, subject="Kursi Anda") == []


# 5. Quiet hours ----------------------------------------------------------------------------------


def test_quiet_hours_hold_normal_email_and_let_urgent_through(smtp, make_system):
    server = smtp()
    running = make_system("embedded", extra=FAST | server.settings)
    enrollment = running.client("enrollment")
    coordinator_address, ani_address = people(running, "koordinator", "ani")
    coordinator, ani = token(enrollment, coordinator_address), token(enrollment, ani_address)
    ani_id = user_id(running, ani)
    wait_for(lambda: rows(running, Recipient, Recipient.user_id == ani_id), what="the recipient")
    local_now = datetime.now(JAKARTA)
    quiet_end = (local_now + timedelta(hours=2)).replace(second=0, microsecond=0)
    in_session(
        running,
        lambda s: s.execute(
            update(Recipient)
            .where(Recipient.user_id == ani_id)
            .values(
                quiet_start=(local_now - timedelta(hours=1)).strftime("%H:%M"),
                quiet_end=quiet_end.strftime("%H:%M"),
            )
        ),
    )

    _, session = programme_with_session(enrollment, coordinator, seats=5)
    enroll(running, ani, session)
    (held,) = wait_for(lambda: email_deliveries(running, CONFIRMED, ani_address), what="the email delivery")
    assert held.state == "queued" and held.next_attempt_at == quiet_end.astimezone(UTC)
    assert {
        d.state for d in deliveries(running, Delivery.channel == "in_app", Delivery.event_type == CONFIRMED)
    } == {"sent"}

    # Both session reminders fall due now: the urgent one (1 h before) is sent at once.
    in_session(running, lambda s: s.execute(update(Reminder).values(due_at=utcnow() - timedelta(minutes=1))))
    (urgent,) = wait_for(
        lambda: [
            d
            for d in email_deliveries(running, defaults.SESSION_REMINDER_1H, ani_address)
            if d.state == "sent"
        ],
        timeout=15,
        what="the urgent reminder",
    )
    assert urgent.priority == "urgent"
    (normal,) = email_deliveries(running, defaults.SESSION_REMINDER_24H, ani_address)
    assert normal.state == "queued" and normal.next_attempt_at == quiet_end.astimezone(UTC)
    assert len(server.received(to=ani_address, subject="Pengingat")) == 1
    assert server.received(to=ani_address, subject="Kursi Anda") == []


def quiet(start: str | None, end: str | None, zone: str = "Asia/Jakarta") -> Recipient:
    return Recipient(
        user_id=1, email="a@test.local", name="A", quiet_start=start, quiet_end=end, timezone=zone
    )


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 1, day, hour, minute, tzinfo=JAKARTA)


@pytest.mark.parametrize(
    ("start", "end", "now", "until"),
    [
        ("22:00", "06:00", wib(10, 23, 30), wib(11, 6)),  # before midnight: the end is tomorrow
        ("22:00", "06:00", wib(11, 2, 15), wib(11, 6)),  # after midnight: the end is today
        ("22:00", "06:00", wib(10, 22, 0), wib(11, 6)),  # the start is inside
        ("22:00", "06:00", wib(10, 6, 0), None),  # the end is outside
        ("22:00", "06:00", wib(10, 12, 0), None),
        ("12:00", "13:30", wib(10, 12, 45), wib(10, 13, 30)),  # a window within one day
        ("12:00", "13:30", wib(10, 11, 59), None),
        ("23:59", "00:01", wib(10, 23, 59), wib(11, 0, 1)),
        ("23:59", "00:01", wib(11, 0, 0), wib(11, 0, 1)),
        ("08:00", "08:00", wib(10, 8, 0), None),  # an empty window is no quiet hours
        (None, "06:00", wib(10, 3, 0), None),
    ],
)
def test_quiet_until(start, end, now, until):
    assert handlers.quiet_until(quiet(start, end), now.astimezone(UTC)) == until


def test_quiet_until_in_the_persons_own_zone():
    # 22:00–06:00 in Makassar (UTC+8) at 22:30 there, which is 21:30 in Jakarta.
    now = datetime(2030, 1, 10, 14, 30, tzinfo=UTC)
    until = handlers.quiet_until(quiet("22:00", "06:00", "Asia/Makassar"), now)
    assert until == datetime(2030, 1, 10, 22, 0, tzinfo=UTC)
    assert handlers.quiet_until(None, now) is None


# 6. Digest ---------------------------------------------------------------------------------------


def test_low_priority_email_waits_for_the_daily_digest(smtp, make_system):
    server = smtp()
    running = make_system("embedded", start=False, extra=FAST | server.settings | {"PUSTAKA_DIGEST_HOUR": 7})
    config, channels, sessions = running.apps["notification"].config, load_channels(), sessions_of(running)
    add_recipient(running, 7, "dewi@test.local", language="en", daily_digest=True)
    add_recipient(running, 8, "eko@test.local")  # no digest: the result is emailed as usual

    def graded(event_id: str, user: int = 7, title: str = "Quiz <Search & Find>") -> None:
        data = catalog.ATTEMPT_GRADED.example | {
            "user_id": user,
            "quiz_title": {"id": "Kuis Cari", "en": title},
        }
        in_session(running, lambda s: handlers.dispatch(s, event_id, GRADED, data, channels, config))

    graded("graded-1")
    graded("graded-2", title="Second quiz")
    graded("graded-3", user=8)
    states = {(d.event_id, d.channel): d.state for d in deliveries(running, Delivery.event_type == GRADED)}
    assert states == {
        ("graded-1", "in_app"): "sent",
        ("graded-1", "email"): "digest",
        ("graded-2", "in_app"): "sent",
        ("graded-2", "email"): "digest",
        ("graded-3", "in_app"): "sent",
        ("graded-3", "email"): "queued",
    }

    day = datetime.now(JAKARTA).date() - timedelta(days=2)  # in the past, so the digests are due

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day + timedelta(days=days), datetime.min.time(), JAKARTA).replace(
            hour=hour, minute=minute
        )

    assert delivery.send_digests(sessions, config, now=at(0, 6, 59)) == 0  # before the digest hour
    assert deliveries(running, Delivery.event_type == "digest") == []
    assert delivery.send_digests(sessions, config, now=at(0, 7, 5)) == 1
    (digest,) = deliveries(running, Delivery.event_type == "digest")
    assert digest.event_id == f"digest:{day.isoformat()}:user:7"
    assert (digest.state, digest.channel, digest.target) == ("queued", "email", "dewi@test.local")
    assert digest.subject == "Your daily Pustaka digest (2)"
    assert "Quiz result: Quiz <Search & Find>" in digest.text and "Quiz result: Second quiz" in digest.text
    items = deliveries(running, Delivery.event_id.in_(["graded-1", "graded-2"]), Delivery.channel == "email")
    assert {d.state for d in items} == {"sent"}

    # Later the same day: nothing more; a result arriving now waits for tomorrow's digest.
    assert delivery.send_digests(sessions, config, now=at(0, 20)) == 0
    graded("graded-4", title="Third quiz")
    assert delivery.send_digests(sessions, config, now=at(0, 23, 30)) == 0
    assert len(deliveries(running, Delivery.event_type == "digest")) == 1
    assert delivery.send_digests(sessions, config, now=at(1, 7)) == 1
    digests = deliveries(running, Delivery.event_type == "digest")
    assert [d.event_id for d in digests] == [
        f"digest:{day.isoformat()}:user:7",
        f"digest:{(day + timedelta(days=1)).isoformat()}:user:7",
    ]
    assert digests[1].subject == "Your daily Pustaka digest (1)" and "Third quiz" in digests[1].text

    # Both digests and the ordinary result email go out over SMTP; the HTML part is escaped HTML.
    while delivery.send_due(sessions, channels, config):
        pass
    assert {d.state for d in deliveries(running, Delivery.channel == "email")} == {"sent"}
    first, second = server.received(to="dewi@test.local")
    assert first["Subject"] == "Your daily Pustaka digest (2)" and second["Subject"].endswith("(1)")
    html = first.get_body(("html",)).get_content()
    assert "Quiz &lt;Search &amp; Find&gt;" in html and "<Search" not in html
    assert len(server.received(to="eko@test.local", subject="Hasil kuis")) == 1
    assert len(rows(running, Notification, Notification.user_id == 7)) == 3


# 7. Reminders ------------------------------------------------------------------------------------


def test_session_reminders_are_scheduled_once_and_fired_once_by_concurrent_workers(make_system, caplog):
    running = make_system("distributed", start=False)
    config, channels, sessions = running.apps["notification"].config, load_channels(), sessions_of(running)
    now = utcnow()
    starts = now + timedelta(hours=25)
    people_count = 12
    for user in range(1, people_count + 1):
        add_recipient(running, user, f"orang{user}@test.local")

    def schedule(session):
        for user in range(1, people_count + 1):
            handlers.schedule_session_reminders(session, enrollment_data(user, 40, starts), now=now)

    in_session(running, schedule)
    in_session(running, schedule)  # a second call (a replayed event) adds nothing
    reminders = rows(running, Reminder)
    assert len(reminders) == 2 * people_count
    first = [r for r in reminders if r.data["user_id"] == 1]
    assert {(r.kind, r.due_at, r.state) for r in first} == {
        (defaults.SESSION_REMINDER_24H, starts - timedelta(hours=24), "pending"),
        (defaults.SESSION_REMINDER_1H, starts - timedelta(hours=1), "pending"),
    }
    # A session that starts within the hour gets no reminder in the past.
    in_session(
        running,
        lambda s: handlers.schedule_session_reminders(
            s, enrollment_data(1, 41, now + timedelta(minutes=30)), now=now
        ),
    )
    assert len(rows(running, Reminder)) == 2 * people_count

    assert delivery.fire_due_reminders(sessions, channels, config) == 0  # none is due yet
    # One reminder its template cannot render (no programme title): it must not hold up the others.
    broken = {"user_id": 1, "session_id": 99, "starts_at": starts.isoformat()}
    in_session(
        running,
        lambda s: s.add(Reminder(key="broken", kind=defaults.SESSION_REMINDER_24H, due_at=now, data=broken)),
    )
    in_session(running, lambda s: s.execute(update(Reminder).values(due_at=now - timedelta(seconds=1))))

    fired: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait(5)
            while count := delivery.fire_due_reminders(sessions, channels, config, limit=3):
                fired.append(count)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert sum(fired) == 2 * people_count + 1
    assert {r.key: r.state for r in rows(running, Reminder)} == {r.key: "done" for r in reminders} | {
        "broken": "failed"
    }
    assert "reminder broken failed: TemplateInvalid" in caplog.text
    notified = running.query(
        "notification",
        lambda s: s.execute(
            select(Notification.event_id, func.count()).group_by(Notification.event_id)
        ).all(),
    )
    assert len(notified) == 2 * people_count and {count for _, count in notified} == {1}
    assert {event_id for event_id, _ in notified} == {f"reminder:{r.key}" for r in reminders}
    emails = deliveries(running, Delivery.channel == "email")
    assert len(emails) == 2 * people_count
    assert {d.priority for d in emails} == {"urgent", "normal"}


# 8. Two delivery loops send each email once ------------------------------------------------------


def test_two_delivery_loops_send_each_email_exactly_once(smtp, make_system):
    server = smtp()
    running = make_system("distributed", start=False, extra=FAST | server.settings)
    total = 40

    def queue(session):
        for number in range(total):
            session.add(
                Delivery(
                    event_id=f"bulk-{number}", event_type="test.bulk", recipient_key=f"email:p{number}@test.local",
                    channel="email", category="enrollment", priority="normal", state="queued",
                    next_attempt_at=utcnow(), target=f"p{number}@test.local", subject=f"Bulk {number}",
                    text=f"Message {number}",
                )
            )  # fmt: skip

    in_session(running, queue)
    stop = threading.Event()
    loops = [
        threading.Thread(
            target=delivery.delivery_loop, args=(running.apps["notification"], stop), daemon=True
        )
        for _ in range(2)
    ]
    for loop in loops:
        loop.start()
    try:
        wait_for(
            lambda: all(d.state == "sent" for d in deliveries(running, Delivery.event_type == "test.bulk")),
            timeout=30,
            what="every delivery sent",
        )
        time.sleep(0.3)
    finally:
        stop.set()
        for loop in loops:
            loop.join(10)
    subjects = [str(message["Subject"]) for message in server.received()]
    assert sorted(subjects) == sorted(f"Bulk {number}" for number in range(total))
    assert {d.attempts for d in deliveries(running, Delivery.event_type == "test.bulk")} == {1}


class FlakyChannel:
    """A third-party channel with a bug: its first send raises something unforeseen."""

    name = "email"
    immediate = False

    def __init__(self):
        self.calls = 0

    def send(self, delivery, context):
        self.calls += 1
        if self.calls == 1:
            raise KeyError("smtp_profile")


def test_a_channel_that_raises_anything_is_a_failed_attempt_and_the_loop_goes_on(
    make_system, monkeypatch, caplog
):
    running = make_system("distributed", start=False, extra=FAST)
    flaky = FlakyChannel()
    monkeypatch.setattr(delivery, "load_channels", lambda: {"email": flaky})
    in_session(
        running,
        lambda s: s.add(
            Delivery(
                event_id="flaky-1", event_type="test.flaky", recipient_key="email:x@test.local", channel="email",
                category="enrollment", priority="normal", state="queued", target="x@test.local", subject="x",
            )
        ),
    )  # fmt: skip
    stop = threading.Event()
    loop = threading.Thread(
        target=delivery.delivery_loop, args=(running.apps["notification"], stop), daemon=True
    )
    loop.start()
    try:
        (sent,) = wait_for(
            lambda: [d for d in deliveries(running, Delivery.event_id == "flaky-1") if d.state == "sent"],
            what="the retried delivery",
        )
        assert loop.is_alive()
    finally:
        stop.set()
        loop.join(10)
    assert sent.attempts == 2 and flaky.calls == 2
    assert "the 'email' channel raised" in caplog.text and "KeyError: 'smtp_profile'" in caplog.text


# 9. Webhooks -------------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def subscribe(running, owner: int, url: str, event_types: list[str]) -> WebhookSubscription:
    subscription = WebhookSubscription(
        owner_user_id=owner, url=url, secret=new_secret(), event_types=event_types
    )
    in_session(running, lambda s: s.add(subscription))
    return subscription


def webhook_deliveries(running, subscription: WebhookSubscription) -> list[Delivery]:
    return deliveries(running, Delivery.recipient_key == f"webhook:{subscription.id}")


WEBHOOK_SETTINGS = FAST | {"PUSTAKA_WEBHOOK_TIMEOUT": 0.5, "PUSTAKA_WEBHOOK_DISABLE_AFTER": 3}


def test_webhooks_deliver_signed_cloudevents_of_subscribed_types_only(receiver, make_system):
    hook = receiver()
    running = make_system("distributed", extra=WEBHOOK_SETTINGS)
    admin = admin_token(running)
    subscription = subscribe(running, user_id(running, admin), hook.url, [CONFIRMED])
    enrollment = running.client("enrollment")
    coordinator, ani, budi = (token(enrollment, a) for a in people(running, "koordinator", "ani", "budi"))
    _, session = programme_with_session(enrollment, coordinator, seats=1)
    confirmed = enroll(running, ani, session)
    assert enroll(running, budi, session)["status"] == "waitlisted"

    (request,) = wait_for(lambda: hook.requests, timeout=15, what="the webhook")
    assert request.headers["content-type"] == "application/cloudevents+json"
    assert verify([new_secret(), subscription.secret], request.headers, request.body) == subscription.secret
    body = json.loads(request.body)
    assert body["specversion"] == "1.0" and body["type"] == CONFIRMED
    assert body["source"] == "/pustaka/enrollment" and body["data"]["enrollment_id"] == confirmed["id"]
    (sent,) = wait_for(lambda: [d for d in webhook_deliveries(running, subscription) if d.state == "sent"])
    assert request.headers["webhook-id"] == f"msg_{sent.id}" and sent.event_id == body["id"]

    # Registrations, the programme and the waitlisting are not subscribed: nothing for them.
    wait_for(
        lambda: rows(running, InboxEntry, InboxEntry.event_type == WAITLISTED), what="the waitlisted event"
    )
    time.sleep(0.3)
    assert len(hook.requests) == 1 and len(webhook_deliveries(running, subscription)) == 1


def test_a_failing_webhook_is_retried_then_disabled_and_its_owner_told(receiver, make_system):
    hook = receiver(status=500)
    running = make_system("distributed", extra=WEBHOOK_SETTINGS | {"PUSTAKA_DELIVERY_BACKOFF": 0.1})
    enrollment = running.client("enrollment")
    coordinator, ani = (token(enrollment, a) for a in people(running, "koordinator", "ani"))
    subscription = subscribe(running, user_id(running, coordinator), hook.url, [CONFIRMED])
    _, session = programme_with_session(enrollment, coordinator, seats=5)
    enroll(running, ani, session)

    (failed,) = wait_for(
        lambda: [d for d in webhook_deliveries(running, subscription) if d.state == "failed"],
        timeout=15,
        what="the webhook delivery to fail",
    )
    assert failed.attempts == 4 and "disabled" in failed.last_error
    (disabled,) = rows(running, WebhookSubscription, WebhookSubscription.id == subscription.id)
    assert disabled.active is False and disabled.consecutive_failures == 3
    assert "HTTP 500" in disabled.disabled_reason
    # Three attempts reached the receiver, the same message id each time, each later than the last.
    assert len(hook.requests) == 3
    assert {r.headers["webhook-id"] for r in hook.requests} == {f"msg_{failed.id}"}
    first, second, third = (r.at for r in hook.requests)
    assert second - first >= 0.1 and third - second >= 0.2
    (told,) = rows(running, Notification, Notification.event_type == "webhook.disabled")
    assert told.user_id == subscription.owner_user_id and hook.url in told.title
    items = running.client("notification").get("/api/v1/inbox", headers=bearer(coordinator)).json["items"]
    assert "webhook.disabled" in [item["event_type"] for item in items]
    # Every attempt is in the log, for an admin to read.
    detail = running.client("notification").get(
        f"/api/v1/deliveries/{failed.id}", headers=bearer(admin_token(running))
    )
    assert detail.status_code == 200
    log = detail.json["attempt_log"]
    assert [(a["number"], a["succeeded"]) for a in log] == [(1, False), (2, False), (3, False), (4, False)]
    assert all("HTTP 500" in a["error"] for a in log[:3]) and "disabled" in log[3]["error"]


def test_a_slow_webhook_times_out_and_the_loop_keeps_running(receiver, make_system, caplog):
    slow = receiver(delay=5.0)
    running = make_system(
        "distributed",
        extra=WEBHOOK_SETTINGS | {"PUSTAKA_DELIVERY_MAX_ATTEMPTS": 2, "PUSTAKA_WEBHOOK_DISABLE_AFTER": 10},
    )
    enrollment = running.client("enrollment")
    coordinator, ani, budi = (token(enrollment, a) for a in people(running, "koordinator", "ani", "budi"))
    subscription = subscribe(running, user_id(running, coordinator), slow.url, [CONFIRMED])
    _, session = programme_with_session(enrollment, coordinator, seats=5)
    enroll(running, ani, session)

    started = time.monotonic()
    (failed,) = wait_for(
        lambda: [d for d in webhook_deliveries(running, subscription) if d.state == "failed"],
        timeout=15,
        what="the timed-out delivery to fail",
    )
    assert time.monotonic() - started < 4.5  # two attempts, neither waited for the 5 s answer
    assert failed.attempts == 2 and "ReadTimeout" in failed.last_error
    assert len(slow.requests) == 2
    assert "ReadTimeout" in caplog.text and f"delivery {failed.id}" in caplog.text

    # The worker is alive: the next event's webhook goes out once the receiver answers in time.
    (loop,) = [t for t in running.workers[2].threads if t.name.endswith("delivery_loop")]
    assert loop.is_alive()
    slow.delay = 0
    enroll(running, budi, session)
    wait_for(
        lambda: [d for d in webhook_deliveries(running, subscription) if d.state == "sent"],
        timeout=15,
        what="the next webhook",
    )
    assert loop.is_alive()


def test_concurrent_loops_count_every_webhook_failure(receiver, make_system):
    """Two workers failing for the same subscription at once: no failure goes uncounted."""
    hook = receiver(status=503)
    running = make_system(
        "distributed",
        start=False,
        extra=WEBHOOK_SETTINGS | {"PUSTAKA_DELIVERY_MAX_ATTEMPTS": 1, "PUSTAKA_WEBHOOK_DISABLE_AFTER": 1000},
    )
    subscription = subscribe(running, 1, hook.url, [CONFIRMED])
    total = 30

    def queue(session):
        for number in range(total):
            session.add(
                Delivery(
                    event_id=f"hook-{number}", event_type=CONFIRMED, recipient_key=f"webhook:{subscription.id}",
                    channel="webhook", category="webhooks", priority="normal", state="queued",
                    target=hook.url, payload=json.dumps({"n": number}),
                )
            )  # fmt: skip

    in_session(running, queue)
    stop = threading.Event()
    loops = [
        threading.Thread(
            target=delivery.delivery_loop, args=(running.apps["notification"], stop), daemon=True
        )
        for _ in range(2)
    ]
    for loop in loops:
        loop.start()
    try:
        wait_for(
            lambda: all(d.state == "failed" for d in webhook_deliveries(running, subscription)),
            timeout=30,
            what="every delivery to fail",
        )
    finally:
        stop.set()
        for loop in loops:
            loop.join(10)
    assert len(hook.requests) == total
    (counted,) = rows(running, WebhookSubscription, WebhookSubscription.id == subscription.id)
    assert counted.consecutive_failures == total and counted.active


# 10. An event no rule sends ----------------------------------------------------------------------


def test_an_event_without_enabled_rules_is_acked_and_logged(make_system, caplog):
    running = make_system("embedded", extra=FAST)
    in_session(
        running, lambda s: s.execute(update(Rule).where(Rule.event_type == WAITLISTED).values(enabled=False))
    )
    enrollment = running.client("enrollment")
    coordinator, ani, budi = (token(enrollment, a) for a in people(running, "koordinator", "ani", "budi"))
    _, session = programme_with_session(enrollment, coordinator, seats=1)
    enroll(running, ani, session)
    assert enroll(running, budi, session)["status"] == "waitlisted"

    (entry,) = wait_for(
        lambda: rows(running, InboxEntry, InboxEntry.event_type == WAITLISTED),
        timeout=15,
        what="the waitlisted event in the inbox",
    )
    assert deliveries(running, Delivery.event_id == entry.event_id) == []
    assert rows(running, DeadLetter) == []
    assert f"{WAITLISTED} {entry.event_id}: no rule or subscription sends anything" in caplog.text
    # The rule for confirmations still works.
    wait_for(lambda: deliveries(running, Delivery.event_type == CONFIRMED))


# 11. Sandboxed templates -------------------------------------------------------------------------


def template(text: str, **fields) -> MessageTemplate:
    """A template with the same text in both languages, and no HTML unless given."""
    values = {"subject_id": "Subjek", "subject_en": "Subject", "text_id": text, "text_en": text}
    values |= {"html_id": "", "html_en": ""} | fields
    return MessageTemplate(key=f"t-{uuid.uuid4().hex[:6]}", **values)


def sample(event_type: str = CONFIRMED) -> dict:
    return {
        "event": defaults.example_for(event_type),
        "recipient": {
            "key": "user:7",
            "user_id": 7,
            "email": "budi@test.local",
            "name": "Budi",
            "language": "id",
        },
    }


def test_templates_run_in_a_sandbox():
    escape = template("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(rendering.TemplateInvalid) as error:
        rendering.render(escape, "id", sample())
    assert "SecurityError" in str(error.value)
    with pytest.raises(rendering.TemplateInvalid) as error:
        rendering.check(escape, [sample()])
    assert "SecurityError" in str(error.value)

    with pytest.raises(rendering.TemplateInvalid) as error:
        rendering.check(template("{% if %}ya{% endif %}"), [sample()])
    assert "TemplateSyntaxError" in error.value.errors["text_id"][0]
    with pytest.raises(rendering.TemplateInvalid) as error:
        rendering.check(template("{{ event.nope.x }}"), [sample()])
    assert "UndefinedError" in str(error.value)
    with pytest.raises(rendering.TemplateInvalid):
        rendering.check(template("ok", html_en="<p>{{ event.user_id.__class__ }}</p>"), [sample()])

    good = template(
        "Halo {{ recipient.name }}: {{ event.programme_title.id }}",
        html_id="<b>{{ event.starts_at | wib }}</b>",
    )
    rendering.check(good, [sample()])
    message = rendering.render(good, "id", sample())
    assert (
        message.text == "Halo Budi: Pelatihan Katalogisasi" and message.html == "<b>10-01-2030 09:00 WIB</b>"
    )
    # Text becomes escaped HTML when no HTML is written.
    assert rendering.render(template("a < b\n\nc"), "en", sample()).html == "<p>a &lt; b</p>\n<p>c</p>\n"


def test_dispatch_gives_templates_plain_data_only(make_system):
    """No database object reaches a template: the sandbox would let it call its methods."""
    running = make_system("embedded", start=False)
    config, channels = running.apps["notification"].config, load_channels()
    add_recipient(running, 7, "budi@test.local", name="Budi")
    peek = template(
        "{{ recipient.name }} {{ recipient.email }} {{ recipient.language }} {{ recipient.profile }}"
    )
    in_session(running, lambda s: s.add(peek))
    in_session(
        running,
        lambda s: s.execute(update(Rule).where(Rule.event_type == CONFIRMED).values(template_key=peek.key)),
    )
    with pytest.raises(rendering.TemplateInvalid) as error:
        in_session(
            running, lambda s: handlers.dispatch(s, "e1", CONFIRMED, enrollment_data(7), channels, config)
        )
    assert "profile" in str(error.value)
    in_session(
        running,
        lambda s: s.execute(
            update(MessageTemplate)
            .where(MessageTemplate.key == peek.key)
            .values(text_id="{{ recipient.name }} {{ recipient.email }} {{ recipient.language }}")
        ),
    )
    in_session(running, lambda s: handlers.dispatch(s, "e2", CONFIRMED, enrollment_data(7), channels, config))
    (note,) = rows(running, Notification, Notification.event_id == "e2")
    assert note.body == "Budi budi@test.local id"


@pytest.mark.parametrize("source", ["{{ 'x' * 10**9 }}", "{{ 9 ** 99999 }}", "{{ [0] * 100000 }}"])
def test_templates_cannot_exhaust_memory_or_time(source):
    from services.notification import rendering
    from services.notification.models import MessageTemplate

    template = MessageTemplate(
        key="greedy", subject_id="s", subject_en="s", text_id=source, text_en=source, html_id="", html_en=""
    )
    with pytest.raises(rendering.TemplateInvalid):
        rendering.render(template, "id", {"event": {}})
