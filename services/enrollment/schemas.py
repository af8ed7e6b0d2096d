"""Enrollment's API schemas: what the API reads and writes."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.catalog import LANGUAGES, ROLES
from shared.competencies import AREAS

from . import handlers
from .models import ATTENDANCE_STATES, PARTNER_KINDS, PARTNER_ROLES, PROGRAMME_STATES, PROGRAMME_TYPES, TRACKS


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


class PartnerIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(PARTNER_KINDS))
    website = fields.String(load_default="", validate=validate.Length(max=300))


class PartnerPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(PARTNER_KINDS))
    website = fields.String(validate=validate.Length(max=300))


class PartnerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    website = fields.String()


class PartnerLinkIn(Schema):
    partner_id = fields.Integer(required=True)
    role = fields.String(required=True, validate=validate.OneOf(PARTNER_ROLES))


class PartnerLinkOut(Schema):
    partner_id = fields.Integer()
    role = fields.String()
    name = fields.String(attribute="partner.name")


class ProgrammePatch(Schema):
    title_id = fields.String(validate=validate.Length(min=1, max=300))
    title_en = fields.String(validate=validate.Length(min=1, max=300))
    description_id = fields.String()
    description_en = fields.String()
    track = fields.String(validate=validate.OneOf(TRACKS))
    type = fields.String(validate=validate.OneOf(PROGRAMME_TYPES))
    competency_areas = fields.List(
        fields.String(validate=validate.Length(min=1)),
        metadata={"description": "Codes of shared.competencies, e.g. cataloguing."},
    )
    partners = fields.List(
        fields.Nested(PartnerLinkIn), metadata={"description": "Replaces the programme's partners."}
    )


class ProgrammeCreate(ProgrammePatch):
    title_id = fields.String(required=True, validate=validate.Length(min=1, max=300))
    title_en = fields.String(required=True, validate=validate.Length(min=1, max=300))
    description_id = fields.String(load_default="")
    description_en = fields.String(load_default="")
    track = fields.String(required=True, validate=validate.OneOf(TRACKS))
    type = fields.String(required=True, validate=validate.OneOf(PROGRAMME_TYPES))
    competency_areas = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    partners = fields.List(fields.Nested(PartnerLinkIn), load_default=list)
    status = fields.String(
        load_default="draft",
        validate=validate.OneOf(("draft", "published")),
        metadata={"description": "draft (the default), or published at once."},
    )


class CatalogQuery(Schema):
    q = fields.String(load_default="", metadata={"description": "Words of the title, in either language."})
    type = fields.String(validate=validate.OneOf(PROGRAMME_TYPES))
    area = fields.String(validate=validate.OneOf(list(AREAS)))
    track = fields.String(validate=validate.OneOf(TRACKS))
    starts_from = fields.Date(
        data_key="from", metadata={"description": "A session starts on or after (WIB)."}
    )
    starts_to = fields.Date(data_key="to", metadata={"description": "A session starts on or before (WIB)."})
    status = fields.String(
        load_default="published",
        validate=validate.OneOf(PROGRAMME_STATES),
        metadata={"description": "Other than published: coordinators and admins only."},
    )

    @validates_schema
    def dates_in_order(self, data, **kwargs):
        if data.get("starts_from") and data.get("starts_to") and data["starts_to"] < data["starts_from"]:
            raise ValidationError("Must not be before from.", field_name="to")


class SpeakerIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    partner_id = fields.Integer(load_default=None, allow_none=True)


class SpeakerOut(Schema):
    name = fields.String()
    partner_id = fields.Integer(allow_none=True)
    partner_name = fields.String(attribute="partner.name")


class SessionPatch(Schema):
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    venue = fields.String(validate=validate.Length(max=300))
    online_link = fields.String(validate=validate.Length(max=500))
    speakers = fields.List(fields.Nested(SpeakerIn), metadata={"description": "Replaces the speakers."})
    pre_test_slug = fields.String(allow_none=True, validate=validate.Length(max=100))
    post_test_slug = fields.String(allow_none=True, validate=validate.Length(max=100))
    enrollment_opens_at = fields.AwareDateTime(allow_none=True)
    enrollment_closes_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "Without one, enrollment closes when the session starts."}
    )


class SessionCreate(SessionPatch):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    venue = fields.String(load_default="", validate=validate.Length(max=300))
    online_link = fields.String(load_default="", validate=validate.Length(max=500))
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=10000))
    speakers = fields.List(fields.Nested(SpeakerIn), load_default=list)
    pre_test_slug = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    post_test_slug = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    enrollment_opens_at = fields.AwareDateTime(load_default=None, allow_none=True)
    enrollment_closes_at = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def fields_agree(self, data, **kwargs):
        errors = handlers.session_problems(data)
        if errors:
            raise ValidationError(errors)


class SessionOut(Schema):
    id = fields.Integer()
    programme_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    venue = fields.String()
    online_link = fields.String()
    capacity = fields.Integer()
    seats_taken = fields.Integer(metadata={"description": "Confirmed seats and holds of public classes."})
    speakers = fields.List(fields.Nested(SpeakerOut))
    pre_test_slug = fields.String(allow_none=True)
    post_test_slug = fields.String(allow_none=True)
    enrollment_opens_at = fields.AwareDateTime(allow_none=True)
    enrollment_closes_at = fields.AwareDateTime(allow_none=True)
    status = fields.String(metadata={"description": "scheduled or cancelled"})
    cancel_reason = fields.String()


class CapacityIn(Schema):
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=10000))


class CapacityOut(Schema):
    session = fields.Nested(SessionOut)
    promoted = fields.List(
        fields.Integer(), metadata={"description": "Enrollments seated from the waiting list."}
    )


class SessionCancelIn(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


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
    partners = fields.List(fields.Nested(PartnerLinkOut), attribute="partner_links")
    sessions = fields.List(fields.Nested(SessionOut))


class EnrolledSession(Schema):
    id = fields.Integer()
    programme_id = fields.Integer()
    programme_title_id = fields.String(attribute="programme.title_id")
    programme_title_en = fields.String(attribute="programme.title_en")
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    status = fields.String()


class EnrollmentOut(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    user_id = fields.Integer()
    status = fields.String(metadata={"description": "confirmed, waitlisted or cancelled"})
    waitlist_position = fields.Integer(allow_none=True)
    attendance = fields.String(attribute="attendance_status", allow_none=True)
    created_at = fields.AwareDateTime()
    cancelled_at = fields.AwareDateTime(allow_none=True)
    session = fields.Nested(EnrolledSession)


class RosterEntry(Schema):
    id = fields.Integer()
    status = fields.String()
    user_id = fields.Integer(allow_none=True, metadata={"description": "None for a public seat."})
    name = fields.String(attribute="person_name")
    email = fields.String(attribute="person_email")
    waitlist_position = fields.Integer(allow_none=True)
    attendance = fields.String(attribute="attendance_status", allow_none=True)
    hold_expires_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    cancelled_at = fields.AwareDateTime(allow_none=True)


class RosterOut(Schema):
    session = fields.Nested(SessionOut)
    confirmed = fields.List(fields.Nested(RosterEntry))
    waitlisted = fields.List(
        fields.Nested(RosterEntry), metadata={"description": "In the order they get seats."}
    )
    pending = fields.List(fields.Nested(RosterEntry))
    cancelled = fields.List(fields.Nested(RosterEntry))


class AttendanceMark(Schema):
    enrollment_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(ATTENDANCE_STATES))


class AttendanceIn(Schema):
    marks = fields.List(fields.Nested(AttendanceMark), required=True, validate=validate.Length(min=1))


class AttendanceOut(Schema):
    enrollment_id = fields.Integer()
    status = fields.String()
    marked_by = fields.Integer(allow_none=True)
    marked_at = fields.AwareDateTime()


class PublicEnrollmentIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    language = fields.String(load_default="id", validate=validate.OneOf(LANGUAGES))


class PublicTokenIn(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=500))


class PublicEnrollmentOut(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    status = fields.String(
        metadata={
            "description": "pending (until the email's link confirms it), confirmed, cancelled or expired"
        }
    )
    name = fields.String()
    email = fields.String()
    hold_expires_at = fields.AwareDateTime(allow_none=True)
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
