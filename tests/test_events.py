"""The event backbone: catalog, envelope, inbox idempotency, retries and dead letters."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from shared import catalog
from shared.bus import EventBus
from shared.consumer import InboxConsumer, InboxProcessor
from shared.envelope import CloudEvent, MalformedEnvelope, checked, new_event
from shared.messaging import DeadLetter, InboxEntry, MessagingBase
from shared.tracing import current_traceparent, new_traceparent, trace_id
from tests.support import AMQP_URL, delete_broker_objects, new_prefix, wait_for


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


# Batches: several messages in one transaction, each alone when anything in it fails ------------


def test_a_batch_is_handled_in_one_transaction(sessions):
    handler = Recorder()
    inbox = processor(sessions, handler)
    bodies = [confirmed_body() for _ in range(3)]
    assert inbox.process_batch(bodies) is True
    assert [event_id for event_id, _ in handler.handled] == [CloudEvent.from_json(b).id for b in bodies]
    assert count(sessions, InboxEntry) == 3
    assert [inbox.process(body) for body in bodies] == ["duplicate"] * 3


@pytest.mark.parametrize("spoiler", ["failing", "duplicate", "poison"])
def test_a_batch_with_one_bad_message_writes_nothing_and_each_is_then_handled_alone(sessions, spoiler):
    handler = Recorder(failures=2 if spoiler == "failing" else 0)
    inbox = processor(sessions, handler)
    bodies = [confirmed_body() for _ in range(3)]
    if spoiler == "duplicate":
        assert inbox.process(bodies[1]) == "handled"
    elif spoiler == "poison":
        bodies[1] = b"\xff not json"
    handled_before = len(handler.handled)

    assert inbox.process_batch(bodies) is False
    assert len(handler.handled) == handled_before, "no handler's work is kept"
    assert count(sessions, InboxEntry) == handled_before
    assert count(sessions, DeadLetter, DeadLetter.consumer == "side-effect") == handled_before

    expected = {
        "failing": ["handled", "handled", "handled"],  # the first fails once more alone, then passes
        "duplicate": ["handled", "duplicate", "handled"],
        "poison": ["handled", "dead-lettered", "handled"],
    }[spoiler]
    assert [inbox.process(body) for body in bodies] == expected


def test_the_consumer_handles_the_waiting_messages_as_a_batch_and_acks_every_one(real_servers, sessions):
    prefix = new_prefix()
    bus = EventBus(AMQP_URL, exchange=f"{prefix}.events", queue_prefix=prefix)
    inbox = processor(sessions, Recorder())
    batches: list[int] = []

    def consume_until(handled: int) -> None:
        consumer = InboxConsumer(bus, "notification", inbox)
        handle = consumer.handle
        consumer.handle = lambda messages: batches.append(len(messages)) or handle(messages)
        stop = threading.Event()
        thread = threading.Thread(target=consumer.run_until, args=(stop,), daemon=True)
        thread.start()
        wait_for(lambda: count(sessions, InboxEntry) == handled, timeout=10, what=f"{handled} events handled")
        stop.set()
        thread.join(5)

    try:
        with bus.connection() as connection:
            queue = bus.declare(connection, "notification", inbox.handlers)
            producer = connection.Producer()

            def publish(bodies) -> None:
                for body in bodies:
                    producer.publish(
                        body, exchange=bus.exchange, routing_key="pustaka.enrollment.confirmed.v1"
                    )

            def waiting() -> int:
                return queue(connection.default_channel).queue_declare(passive=True).message_count

            # Messages already waiting come as one batch, unless the broker paused between them.
            publish([confirmed_body() for _ in range(3)])
            consume_until(handled=3)
            assert sum(batches) == 3 and waiting() == 0

            publish([confirmed_body(), confirmed_body(), b"\xff not json", confirmed_body()])
            consume_until(handled=6)
            assert sum(batches) == 7
            assert count(sessions, DeadLetter, DeadLetter.consumer == "notification") == 1
            assert waiting() == 0
    finally:
        delete_broker_objects(prefix)
