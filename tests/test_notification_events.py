"""Mentoring, follow-up and quiz-window events reach the right people, published on the bus
as the other services will publish them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.notification import delivery
from services.notification.channels import load_channels
from services.notification.models import Notification, Reminder
from shared import catalog
from shared.envelope import CloudEvent, checked
from tests.support import wait_for
from tests.test_skeleton import bearer, people, programme_with_session, token, wait_for_inbox


def publish(running, type_name: str, data: dict) -> None:
    """Publish a catalog event on the topic exchange, as its service's relay would."""
    event = checked(CloudEvent(type=type_name, source="/pustaka/test", data=data))
    bus = running.apps["notification"].extensions["pustaka"].bus
    with bus.connection() as connection:
        bus.publish(connection.Producer(), event.to_json(), event.type, None)


def staff(running, *names: str) -> list[tuple[int, str]]:
    """(user id, token) of new accounts, known to notification."""
    enrollment = running.client("enrollment")
    result = []
    for address in people(running, *names):
        access = token(enrollment, address)
        result.append((enrollment.get("/api/v1/users/me", headers=bearer(access)).json["id"], access))
    return result


def titles(running, access: str) -> list[str]:
    return [item["title"] for item in wait_for_inbox(running, access)["items"]]


def test_a_mentoring_pair_and_its_meetings_reach_mentor_and_mentee(make_system):
    running = make_system("embedded")
    (mentor, mentor_token), (mentee, mentee_token) = staff(running, "sri", "budi")
    pair = catalog.MENTORING_PAIRED.example | {"mentor_id": mentor, "mentee_id": mentee}
    publish(running, catalog.MENTORING_PAIRED.name, pair)
    for access in (mentor_token, mentee_token):
        assert titles(running, access) == ["Pasangan mentoring baru: Sri Wahyuni dan Budi Santoso"]

    meeting = catalog.MENTORING_MEETING_LOGGED.example | {"mentor_id": mentor, "mentee_id": mentee}
    publish(running, catalog.MENTORING_MEETING_LOGGED.name, meeting)
    wait_for(lambda: len(wait_for_inbox(running, mentor_token)["items"]) == 2, what="the meeting")
    assert titles(running, mentee_token)[0] == "Pertemuan mentoring 2030-01-13 tercatat"


def test_a_due_follow_up_reminds_the_learner(make_system):
    running = make_system("embedded")
    ((learner, learner_token),) = staff(running, "citra")
    publish(running, catalog.FOLLOWUP_DUE.name, catalog.FOLLOWUP_DUE.example | {"user_id": learner})
    (item,) = wait_for_inbox(running, learner_token)["items"]
    assert item["title"] == "Saatnya asesmen lanjutan: Pelatihan Katalogisasi"
    assert item["link"] == "/assessment/quizzes/katalogisasi-lanjutan"


def test_a_programme_quiz_window_tells_its_participants_and_reminds_them_before_it_closes(make_system):
    running = make_system("embedded")
    enrollment = running.client("enrollment")
    (coordinator_email,) = people(running, "koordinator")
    (dewi, dewi_token), (eko, eko_token) = staff(running, "dewi", "eko")
    programme, session = programme_with_session(enrollment, token(enrollment, coordinator_email), seats=5)
    enrollment.post(f"/api/v1/sessions/{session['id']}/enrollments", headers=bearer(dewi_token))
    wait_for_inbox(running, dewi_token)

    closes = datetime.now(UTC) + timedelta(days=3)
    window = catalog.QUIZ_SCHEDULED.example | {
        "programme_id": programme["id"],
        "closes_at": closes.isoformat(),
    }
    publish(running, catalog.QUIZ_SCHEDULED.name, window)
    wait_for(lambda: len(wait_for_inbox(running, dewi_token)["items"]) == 2, what="the quiz window")
    assert titles(running, dewi_token)[0] == "Kuis dibuka: Post-test Katalogisasi"
    assert wait_for_inbox(running, eko_token, count=0)["items"] == []  # not in the programme

    reminders = running.query("notification", lambda s: s.scalars(select(Reminder)).all())
    assert [(r.kind, r.due_at) for r in reminders if r.kind.startswith("reminder.quiz")] == [
        ("reminder.quiz_closing.24h", closes - timedelta(hours=24))
    ]

    def make_due(session):
        for reminder in session.scalars(select(Reminder).where(Reminder.kind == "reminder.quiz_closing.24h")):
            reminder.due_at = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()

    running.query("notification", make_due)
    app = running.apps["notification"]
    with app.app_context():
        sessions = app.extensions["pustaka"].session_factory()
    assert delivery.fire_due_reminders(sessions, load_channels(), app.config) >= 1
    closing = running.query(
        "notification",
        lambda s: s.scalars(
            select(Notification.title).where(Notification.event_id.like("reminder:reminder.quiz%"))
        ).all(),
    )
    assert closing == [f"Pengingat: Post-test Katalogisasi ditutup {_wib(closes)}"]


def _wib(moment: datetime) -> str:
    from shared.localtime import local_time

    return local_time(moment)
