"""Enrollment's API schemas: what the API reads and writes."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.catalog import LANGUAGES, ROLES

from .models import PROGRAMME_TYPES, TRACKS


class TokenRequest(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1))


class TokenResponse(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class UserCreate(Schema):
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=200))
    language = fields.String(load_default="id", validate=validate.OneOf(LANGUAGES))
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)),
        load_default=["staff"],
        validate=validate.Length(min=1),
    )


class UserOut(Schema):
    id = fields.Integer()
    email = fields.Email()
    name = fields.String()
    language = fields.String()
    roles = fields.List(fields.String())
    created_at = fields.AwareDateTime()


class ProgrammeCreate(Schema):
    title_id = fields.String(required=True, validate=validate.Length(min=1, max=300))
    title_en = fields.String(required=True, validate=validate.Length(min=1, max=300))
    description_id = fields.String(load_default="")
    description_en = fields.String(load_default="")
    track = fields.String(required=True, validate=validate.OneOf(TRACKS))
    type = fields.String(required=True, validate=validate.OneOf(PROGRAMME_TYPES))
    competency_areas = fields.List(fields.String(validate=validate.Length(min=1)), load_default=[])
    status = fields.String(load_default="published", validate=validate.OneOf(("draft", "published")))


class SessionCreate(Schema):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    venue = fields.String(load_default="", validate=validate.Length(max=300))
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=10000))

    @validates_schema(skip_on_field_errors=False)
    def ends_after_start(self, data, **kwargs):
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("Must be after starts_at.", field_name="ends_at")


class SessionOut(Schema):
    id = fields.Integer()
    programme_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    venue = fields.String()
    capacity = fields.Integer()


class ProgrammeOut(Schema):
    id = fields.Integer()
    title_id = fields.String()
    title_en = fields.String()
    description_id = fields.String()
    description_en = fields.String()
    track = fields.String()
    type = fields.String()
    competency_areas = fields.List(fields.String())
    status = fields.String()
    sessions = fields.List(fields.Nested(SessionOut))


class EnrollmentOut(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    user_id = fields.Integer()
    status = fields.String()
    created_at = fields.AwareDateTime()


class LearnerRecordOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    source = fields.String()
    score = fields.Float(allow_none=True)
    max_score = fields.Float(allow_none=True)
    occurred_at = fields.AwareDateTime()
    details = fields.Dict()


class LmsClientCreate(Schema):
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), validate.Regexp(r"^[a-z0-9][a-z0-9._-]*$")],
    )


class LmsClientOut(Schema):
    id = fields.Integer()
    name = fields.String()
    active = fields.Boolean()
    secret = fields.String(metadata={"description": "Shown once, at creation."})


class CourseCompletionData(Schema):
    learner_email = fields.Email(required=True)
    course_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    course_title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    completed_at = fields.AwareDateTime(required=True)
    score = fields.Float(load_default=None, allow_none=True)
    max_score = fields.Float(load_default=None, allow_none=True)


LMS_COURSE_COMPLETED = "lms.course.completed"


class LmsEvent(Schema):
    """A CloudEvent from an external LMS; only course completions are understood so far."""

    specversion = fields.String(required=True, validate=validate.Equal("1.0"))
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.Length(min=1, max=500))
    type = fields.String(required=True, validate=validate.OneOf((LMS_COURSE_COMPLETED,)))
    time = fields.AwareDateTime(load_default=None)
    subject = fields.String(load_default=None)
    datacontenttype = fields.String(load_default="application/json")
    data = fields.Nested(CourseCompletionData, required=True)


class LmsReceipt(Schema):
    status = fields.String(metadata={"description": "recorded, or duplicate"})
