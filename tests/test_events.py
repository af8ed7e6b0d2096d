"""The event backbone: catalog, envelope, inbox idempotency, retries and dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from shared import catalog
from shared.consumer import InboxProcessor
from shared.envelope import CloudEvent, MalformedEnvelope, checked, new_event
from shared.messaging import DeadLetter, InboxEntry, MessagingBase
from shared.tracing import current_traceparent, new_traceparent, trace_id


def enrollment_data(**changes) -> dict:
    data = {
        "enrollment_id": 1,
        "session_id": 2,
        "programme_id": 3,
        "programme_title": {"id": "Pelatihan", "en": "Training"},
        "starts_at": datetime(2030, 1, 1, 2, tzinfo=UTC),
        "user_id": 4,
        "language": "id",
    }
    return data | changes


def test_every_catalog_type_is_versioned_and_described():
    assert catalog.CATALOG
    for name, event_type in catalog.CATALOG.items():
        assert catalog.NAME_PATTERN.match(name) and event_type.description.endswith(".")
    with pytest.raises(ValueError):
        catalog.declare("pustaka.enrollment.confirmed", catalog.EnrollmentChanged, "No version.", {})
    with pytest.raises(ValueError):
        catalog.declare("pustaka.enrollment.confirmed.v1", catalog.EnrollmentChanged, "Twice.", {})


def test_publishing_undeclared_types_or_bad_data_is_an_error():
    with pytest.raises(catalog.UnknownEventType):
        new_event("pustaka.enrollment.exploded.v1", {}, service="enrollment")
    with pytest.raises(catalog.InvalidEventData) as error:
        new_event("pustaka.enrollment.confirmed.v1", enrollment_data(language="fr"), service="enrollment")
    assert "language" in error.value.errors
    with pytest.raises(catalog.InvalidEventData):
        new_event(
            "pustaka.enrollment.confirmed.v1", enrollment_data(starts_at="tomorrow"), service="enrollment"
        )


def test_the_envelope_is_a_cloudevent_carrying_the_trace():
    token = current_traceparent.set(new_traceparent())
    try:
        event = new_event(
            "pustaka.enrollment.confirmed.v1",
            enrollment_data(),
            service="enrollment",
            subject="enrollments/1",
        )
        parent = current_traceparent.get()
    finally:
        current_traceparent.reset(token)
    attributes = json.loads(event.to_json())
    assert {"specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data"} <= set(
        attributes
    )
    assert attributes["specversion"] == "1.0" and attributes["source"] == "/pustaka/enrollment"
    assert attributes["data"]["starts_at"] == "2030-01-01T02:00:00+00:00"
    assert trace_id(attributes["traceparent"]) == trace_id(parent)
    assert checked(CloudEvent.from_json(event.to_json())) == event


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"specversion": "1.0", "type": "x"}',
        b'{"specversion": "0.3", "id": "1", "source": "s", "type": "t"}',
    ],
)
def test_malformed_envelopes_are_refused(body):
    with pytest.raises(MalformedEnvelope):
        CloudEvent.from_json(body)


def test_consuming_undeclared_types_or_bad_data_is_an_error():
    event = CloudEvent(type="pustaka.enrollment.exploded.v1", source="/x", data={})
    with pytest.raises(catalog.UnknownEventType):
        checked(event)
    bad = CloudEvent(type="pustaka.enrollment.confirmed.v1", source="/x", data={"user_id": "x"})
    with pytest.raises(catalog.InvalidEventData):
        checked(bad)


class Recorder:
    """A handler that fails a given number of times, then records what it saw."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.calls = 0
        self.handled: list[tuple[str, str | None]] = []

    def __call__(self, event, session):
        self.calls += 1
        session.add(DeadLetter(consumer="side-effect", body="written by the handler", error="", attempts=0))
        if self.calls <= self.failures:
            raise RuntimeError(f"failure {self.calls}")
        self.handled.append((event.id, current_traceparent.get()))


@pytest.fixture
def sessions(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'inbox.sqlite'}")
    MessagingBase.metadata.create_all(engine)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def processor(sessions, handler, max_attempts: int = 3) -> InboxProcessor:
    return InboxProcessor(
        "notification",
        {"pustaka.enrollment.confirmed.v1": handler},
        sessions,
        max_attempts=max_attempts,
        backoff=0.5,
        sleep=lambda seconds: None,
    )


def confirmed_body() -> str:
    current_traceparent.set(new_traceparent())
    return new_event("pustaka.enrollment.confirmed.v1", enrollment_data(), service="enrollment").to_json()


def count(sessions, model, *where) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_an_event_is_handled_once_however_often_it_arrives(sessions):
    handler = Recorder()
    inbox = processor(sessions, handler)
    body = confirmed_body()
    assert [inbox.process(body) for _ in range(3)] == ["handled", "duplicate", "duplicate"]
    assert handler.calls == 1
    event = CloudEvent.from_json(body)
    assert handler.handled == [(event.id, event.traceparent)]
    assert count(sessions, InboxEntry, InboxEntry.event_id == event.id) == 1


def test_a_failing_handler_is_retried_with_its_writes_rolled_back(sessions):
    handler = Recorder(failures=2)
    delays: list[float] = []
    inbox = processor(sessions, handler, max_attempts=3)
    inbox.sleep = delays.append
    assert inbox.process(confirmed_body()) == "handled"
    assert handler.calls == 3 and delays == [0.5, 1.0]
    assert count(sessions, DeadLetter, DeadLetter.consumer == "side-effect") == 1


def test_after_the_last_attempt_the_message_is_dead_lettered_with_its_error(sessions):
    handler = Recorder(failures=99)
    inbox = processor(sessions, handler, max_attempts=3)
    body = confirmed_body()
    assert inbox.process(body) == "dead-lettered"
    assert handler.calls == 3
    with sessions() as session:
        letter = session.scalars(select(DeadLetter).where(DeadLetter.consumer == "notification")).one()
        assert letter.body == body and letter.attempts == 3 and "failure 3" in letter.error
    assert count(sessions, InboxEntry) == 0
    assert count(sessions, DeadLetter, DeadLetter.consumer == "side-effect") == 0


@pytest.mark.parametrize(
    "body",
    [
        b"\xff not json",
        CloudEvent(type="pustaka.enrollment.exploded.v1", source="/x", data={}).to_json(),
        CloudEvent(type="pustaka.enrollment.confirmed.v1", source="/x", data={"user_id": 1}).to_json(),
        CloudEvent(type="pustaka.attempt.graded.v1", source="/x", data={}).to_json(),
    ],
)
def test_poison_messages_go_straight_to_the_dead_letters(sessions, body):
    handler = Recorder()
    assert processor(sessions, handler).process(body) == "dead-lettered"
    assert handler.calls == 0
    assert count(sessions, DeadLetter, DeadLetter.consumer == "notification", DeadLetter.attempts == 1) == 1
