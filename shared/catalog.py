"""The event catalog: every event type of Pustaka, declared once.

A type has a versioned name ``pustaka.<subject>.<action>.v<N>``, a marshmallow schema for
its data and a one-line description. Publishing or consuming an undeclared type, or data
that fails its schema, raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from marshmallow import Schema, fields, validate

NAME_PATTERN = re.compile(r"^pustaka\.[a-z_]+\.[a-z_]+\.v[1-9][0-9]*$")


class UnknownEventType(LookupError):
    pass


class InvalidEventData(ValueError):
    def __init__(self, type_name: str, errors: dict):
        super().__init__(f"{type_name}: {errors}")
        self.errors = errors


@dataclass(frozen=True)
class EventType:
    name: str
    schema: type[Schema]
    description: str
    example: dict  # valid data, for previews, documentation and tests

    @cached_property
    def _schema(self) -> Schema:
        return self.schema()  # one instance: dump and validate keep no state between calls

    def validated(self, data: dict) -> dict:
        """The publisher's data as JSON-ready primitives, or InvalidEventData."""
        try:
            payload = self._schema.dump(data)
        except (AttributeError, TypeError, ValueError) as error:
            raise InvalidEventData(self.name, {"_schema": [str(error)]}) from None
        return self.check(payload)

    def check(self, payload: dict) -> dict:
        """The received JSON data if it fits the schema, or InvalidEventData."""
        errors = self._schema.validate(payload)
        if errors:
            raise InvalidEventData(self.name, errors)
        return payload


CATALOG: dict[str, EventType] = {}


def declare(name: str, schema: type[Schema], description: str, example: dict) -> EventType:
    if not NAME_PATTERN.match(name):
        raise ValueError(f"event type name {name!r} is not pustaka.<subject>.<action>.v<N>")
    if name in CATALOG:
        raise ValueError(f"event type {name!r} declared twice")
    event_type = EventType(name, schema, description, example)
    event_type.check(example)
    CATALOG[name] = event_type
    return event_type


def get(name: str) -> EventType:
    try:
        return CATALOG[name]
    except KeyError:
        raise UnknownEventType(name) from None


class LocalizedText(Schema):
    id = fields.String(required=True)
    en = fields.String(required=True)


LANGUAGES = ("id", "en")
ROLES = ("admin", "coordinator", "mentor", "staff")


class UserRegistered(Schema):
    user_id = fields.Integer(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True)


class ProgrammePublished(Schema):
    programme_id = fields.Integer(required=True)
    title = fields.Nested(LocalizedText, required=True)
    track = fields.String(required=True, validate=validate.OneOf(("staff", "public")))
    type = fields.String(required=True)
    competency_areas = fields.List(fields.String(), required=True)
    coordinator_id = fields.Integer(allow_none=True, load_default=None)


class EnrollmentChanged(Schema):
    enrollment_id = fields.Integer(required=True)
    session_id = fields.Integer(required=True)
    programme_id = fields.Integer(required=True)
    programme_title = fields.Nested(LocalizedText, required=True)
    starts_at = fields.AwareDateTime(required=True)
    user_id = fields.Integer(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    waitlist_position = fields.Integer(allow_none=True, load_default=None)


class SessionCancelled(Schema):
    session_id = fields.Integer(required=True)
    programme_id = fields.Integer(required=True)
    programme_title = fields.Nested(LocalizedText, required=True)
    starts_at = fields.AwareDateTime(required=True)
    reason = fields.String(load_default="")


class PublicSeat(Schema):
    """A community member's seat in a public class: no account, just a name and an email."""

    enrollment_id = fields.Integer(required=True)
    session_id = fields.Integer(required=True)
    programme_id = fields.Integer(required=True)
    programme_title = fields.Nested(LocalizedText, required=True)
    starts_at = fields.AwareDateTime(required=True)
    name = fields.String(required=True)
    email = fields.Email(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class PublicEnrollmentRequested(PublicSeat):
    venue = fields.String(load_default="")
    online_link = fields.String(load_default="")
    hold_expires_at = fields.AwareDateTime(required=True)
    confirm_url = fields.Url(required=True, require_tld=False)
    cancel_url = fields.Url(required=True, require_tld=False)


class PublicEnrollmentCancelled(PublicSeat):
    reason = fields.String(
        required=True, validate=validate.OneOf(("cancelled", "expired", "session_cancelled"))
    )


class AttemptGraded(Schema):
    attempt_id = fields.Integer(required=True)
    quiz_slug = fields.String(required=True)
    quiz_title = fields.Nested(LocalizedText, required=True)
    purpose = fields.String(required=True)
    programme_id = fields.Integer(allow_none=True, load_default=None)
    user_id = fields.Integer(allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None)  # left by an anonymous taker for the result
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    score = fields.Float(required=True)
    max_score = fields.Float(required=True)
    percent = fields.Float(required=True, validate=validate.Range(0, 100))
    passed = fields.Boolean(required=True)
    area_scores = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    graded_at = fields.AwareDateTime(required=True)


class MentoringPaired(Schema):
    pair_id = fields.Integer(required=True)
    mentor_id = fields.Integer(required=True)
    mentee_id = fields.Integer(required=True)
    mentor_name = fields.String(required=True)
    mentee_name = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    competency_areas = fields.List(fields.String(), required=True)


class MentoringMeetingLogged(Schema):
    pair_id = fields.Integer(required=True)
    mentor_id = fields.Integer(required=True)
    mentee_id = fields.Integer(required=True)
    met_on = fields.Date(required=True)
    topics = fields.String(required=True)
    logged_by = fields.Integer(required=True)


class FollowUpDue(Schema):
    user_id = fields.Integer(required=True)
    programme_id = fields.Integer(required=True)
    programme_title = fields.Nested(LocalizedText, required=True)
    quiz_slug = fields.String(allow_none=True, load_default=None)
    due_at = fields.AwareDateTime(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class QuizScheduled(Schema):
    quiz_slug = fields.String(required=True)
    quiz_title = fields.Nested(LocalizedText, required=True)
    programme_id = fields.Integer(allow_none=True, load_default=None)
    purpose = fields.String(required=True)
    opens_at = fields.AwareDateTime(allow_none=True, load_default=None)
    closes_at = fields.AwareDateTime(allow_none=True, load_default=None)


class ActivityCompleted(Schema):
    user_id = fields.Integer(required=True)
    programme_id = fields.Integer(required=True)
    programme_title = fields.Nested(LocalizedText, required=True)
    session_id = fields.Integer(allow_none=True, load_default=None)
    competency_areas = fields.List(fields.String(), required=True)
    hours = fields.Float(required=True, validate=validate.Range(min=0))
    certificate_code = fields.String(allow_none=True, load_default=None)
    # Absolute links for the learner's messages: the certificate's PDF (none until one is issued)
    # and the feedback surveys the completion invites to.
    certificate_url = fields.Url(required=True, allow_none=True, require_tld=False)
    survey_url = fields.Url(required=True, require_tld=False)
    completed_at = fields.AwareDateTime(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class LikertItemSummary(Schema):
    item_id = fields.Integer(required=True)
    statement = fields.Nested(LocalizedText, required=True)
    responses = fields.Integer(required=True)
    mean = fields.Float(allow_none=True, load_default=None)
    # counts of the answers 1..5, in that order
    distribution = fields.List(fields.Integer(), required=True, validate=validate.Length(equal=5))


class CommentsSummary(Schema):
    item_id = fields.Integer(required=True)
    statement = fields.Nested(LocalizedText, required=True)
    texts = fields.List(fields.String(), required=True)  # in the order they were given, without names


class FeedbackSummarised(Schema):
    programme_id = fields.Integer(required=True)
    session_id = fields.Integer(allow_none=True, load_default=None)
    responses = fields.Integer(required=True)
    overall_mean = fields.Float(allow_none=True, load_default=None)
    items = fields.List(fields.Nested(LikertItemSummary), required=True)
    # Added after the first publishers: optional, so that their events stay valid.
    comments = fields.List(fields.Nested(CommentsSummary), load_default=list)
    summarised_at = fields.AwareDateTime(required=True)


TITLE = {"id": "Pelatihan Katalogisasi", "en": "Cataloguing Training"}

USER_REGISTERED = declare(
    "pustaka.user.registered.v1",
    UserRegistered,
    "An account was created in enrollment.",
    {
        "user_id": 7,
        "email": "budi@pustaka.local",
        "name": "Budi Santoso",
        "language": "id",
        "roles": ["staff"],
    },
)
PROGRAMME_PUBLISHED = declare(
    "pustaka.programme.published.v1",
    ProgrammePublished,
    "A programme was published and is open to its track.",
    {
        "programme_id": 3,
        "title": TITLE,
        "track": "staff",
        "type": "training",
        "competency_areas": ["cataloguing"],
        "coordinator_id": 2,
    },
)
ENROLLMENT_EXAMPLE = {
    "enrollment_id": 11,
    "session_id": 5,
    "programme_id": 3,
    "programme_title": TITLE,
    "starts_at": "2030-01-10T02:00:00+00:00",
    "user_id": 7,
    "language": "id",
    "waitlist_position": None,
}
ENROLLMENT_CONFIRMED = declare(
    "pustaka.enrollment.confirmed.v1",
    EnrollmentChanged,
    "A person holds a seat in a session.",
    ENROLLMENT_EXAMPLE,
)
ENROLLMENT_WAITLISTED = declare(
    "pustaka.enrollment.waitlisted.v1",
    EnrollmentChanged,
    "A session was full; the person waits in line for a seat.",
    ENROLLMENT_EXAMPLE | {"waitlist_position": 2},
)
SESSION_CANCELLED = declare(
    "pustaka.session.cancelled.v1",
    SessionCancelled,
    "A coordinator cancelled a session; everyone holding or waiting for a seat is told.",
    {
        "session_id": 5,
        "programme_id": 3,
        "programme_title": TITLE,
        "starts_at": "2030-01-10T02:00:00+00:00",
        "reason": "Narasumber berhalangan hadir.",
    },
)
PUBLIC_SEAT_EXAMPLE = {
    "enrollment_id": 12,
    "session_id": 6,
    "programme_id": 4,
    "programme_title": {"id": "Kelas Literasi Informasi", "en": "Information Literacy Class"},
    "starts_at": "2030-01-11T02:00:00+00:00",
    "name": "Siti Aminah",
    "email": "siti@example.org",
    "language": "id",
}
PUBLIC_ENROLLMENT_REQUESTED = declare(
    "pustaka.public_enrollment.requested.v1",
    PublicEnrollmentRequested,
    "A community member asked for a seat in a public class; the seat is held until the email's link confirms it.",
    PUBLIC_SEAT_EXAMPLE
    | {
        "venue": "Perpustakaan Kota Semarang",
        "online_link": "",
        "hold_expires_at": "2030-01-05T02:00:00+00:00",
        "confirm_url": "https://pustaka.example.org/enrollment/public/confirm/abc",
        "cancel_url": "https://pustaka.example.org/enrollment/public/cancel/def",
    },
)
PUBLIC_ENROLLMENT_CANCELLED = declare(
    "pustaka.public_enrollment.cancelled.v1",
    PublicEnrollmentCancelled,
    "A public seat was given up: by its holder, by an unconfirmed hold expiring, or by the session being cancelled.",
    PUBLIC_SEAT_EXAMPLE | {"reason": "expired"},
)
ENROLLMENT_CANCELLED = declare(
    "pustaka.enrollment.cancelled.v1",
    EnrollmentChanged,
    "A person gave up a seat or a place in the waiting list, or a coordinator ended it.",
    ENROLLMENT_EXAMPLE,
)
ATTEMPT_GRADED = declare(
    "pustaka.attempt.graded.v1",
    AttemptGraded,
    "A quiz attempt was submitted and graded, with its score per competency area.",
    {
        "attempt_id": 21,
        "quiz_slug": "literasi-informasi-dasar",
        "quiz_title": {"id": "Kuis Literasi Informasi Dasar", "en": "Basic Information Literacy Quiz"},
        "purpose": "practice",
        "programme_id": None,
        "user_id": 7,
        "email": None,
        "language": "id",
        "score": 4.0,
        "max_score": 5.0,
        "percent": 80.0,
        "passed": True,
        "area_scores": {"searching": 100.0, "evaluating": 50.0},
        "graded_at": "2030-01-10T02:00:00+00:00",
    },
)
MENTORING_PAIRED = declare(
    "pustaka.mentoring.paired.v1",
    MentoringPaired,
    "A coordinator paired a senior librarian (mentor) with a junior one (mentee).",
    {
        "pair_id": 4,
        "mentor_id": 2,
        "mentee_id": 7,
        "mentor_name": "Sri Wahyuni",
        "mentee_name": "Budi Santoso",
        "starts_on": "2030-01-06",
        "ends_on": "2030-06-30",
        "competency_areas": ["cataloguing"],
    },
)
MENTORING_MEETING_LOGGED = declare(
    "pustaka.mentoring.meeting_logged.v1",
    MentoringMeetingLogged,
    "A mentor or mentee recorded a mentoring meeting.",
    {"pair_id": 4, "mentor_id": 2, "mentee_id": 7, "met_on": "2030-01-13", "topics": "RDA", "logged_by": 7},
)
FOLLOWUP_DUE = declare(
    "pustaka.followup.due.v1",
    FollowUpDue,
    "Weeks after a completed programme, the learner's follow-up assessment is due.",
    {
        "user_id": 7,
        "programme_id": 3,
        "programme_title": TITLE,
        "quiz_slug": "katalogisasi-lanjutan",
        "due_at": "2030-03-10T02:00:00+00:00",
        "language": "id",
    },
)
QUIZ_SCHEDULED = declare(
    "pustaka.quiz.scheduled.v1",
    QuizScheduled,
    "A quiz was opened for a time window, for the public or a programme's participants.",
    {
        "quiz_slug": "post-test-katalogisasi",
        "quiz_title": {"id": "Post-test Katalogisasi", "en": "Cataloguing Post-test"},
        "programme_id": 3,
        "purpose": "post_test",
        "opens_at": "2030-01-10T02:00:00+00:00",
        "closes_at": "2030-01-17T02:00:00+00:00",
    },
)
ACTIVITY_COMPLETED = declare(
    "pustaka.activity.completed.v1",
    ActivityCompleted,
    "A learner completed a programme activity by its rules (attendance, post-test); a certificate may follow.",
    {
        "user_id": 7,
        "programme_id": 3,
        "programme_title": TITLE,
        "session_id": 5,
        "competency_areas": ["cataloguing"],
        "hours": 16.0,
        "certificate_code": "PST-7K3M-Q9XW-R2TD",
        "certificate_url": "https://pustaka.example.org/enrollment/certificates/21.pdf",
        "survey_url": "https://pustaka.example.org/assessment/surveys",
        "completed_at": "2030-01-12T09:00:00+00:00",
        "language": "id",
    },
)
FEEDBACK_SUMMARISED = declare(
    "pustaka.feedback.summarised.v1",
    FeedbackSummarised,
    "The feedback survey answers of a programme session, aggregated after a new response.",
    {
        "programme_id": 3,
        "session_id": 5,
        "responses": 12,
        "overall_mean": 4.3,
        "items": [
            {
                "item_id": 1,
                "statement": {
                    "id": "Materi relevan dengan pekerjaan saya.",
                    "en": "The content fits my work.",
                },
                "responses": 12,
                "mean": 4.5,
                "distribution": [0, 0, 1, 4, 7],
            }
        ],
        "comments": [
            {
                "item_id": 7,
                "statement": {"id": "Apa yang paling bermanfaat?", "en": "What was most useful?"},
                "texts": ["Praktik langsung dengan katalog"],
            }
        ],
        "summarised_at": "2030-01-13T09:00:00+00:00",
    },
)
