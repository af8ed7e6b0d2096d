"""The LMS ingress's schemas: the bodies external LMSs post (CloudEvents and xAPI statements), and
what the admin API reads and writes. Plain marshmallow, free of Flask: ``lms.py`` reads bodies with
them, ``lms_api.py`` documents and checks its requests with them."""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

VERBS = ("completed", "passed", "failed", "attempted")
# The CloudEvent types an LMS posts, one per verb.
CE_TYPES = {f"lms.course.{verb}": verb for verb in VERBS}
# xAPI verbs by their ADL IRIs; statements with other verbs are counted as ignored.
XAPI_VERBS = {f"http://adlnet.gov/expapi/verbs/{verb}": verb for verb in VERBS}

IRI = validate.Regexp(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", error="Not an IRI.")


class _Lenient(Schema):
    """Fields we do not read are allowed: CloudEvents extensions, the rest of an xAPI statement."""

    class Meta:
        unknown = EXCLUDE


def _check_score(data: Mapping, score: str, low: str, high: str) -> None:
    """A score within its range, a range whose bottom is below its top."""
    value, bottom, top = data.get(score), data.get(low), data.get(high)
    if bottom is not None and top is not None and bottom >= top:
        raise ValidationError(f"Must be less than {high}.", low)
    if value is not None and top is not None and not (bottom or 0) <= value <= top:
        raise ValidationError(f"Must be between {low} (0 when not given) and {high}.", score)


# CloudEvents ------------------------------------------------------------------------------------


class CourseActivityData(_Lenient):
    """The ``data`` of an ``lms.course.*`` CloudEvent."""

    learner_email = fields.Email(validate=validate.Length(max=254))
    learner_id = fields.String(
        validate=validate.Length(min=1, max=254),
        metadata={"description": "The LMS's own id of the learner, matched to a stored external id"},
    )
    course_id = fields.String(required=True, validate=validate.Length(min=1, max=500))
    course_title = fields.String(validate=validate.Length(min=1, max=300))
    completed_at = fields.AwareDateTime(metadata={"description": "When it happened; else the event's time"})
    score = fields.Float(allow_none=True)
    min_score = fields.Float(allow_none=True)
    max_score = fields.Float(allow_none=True)
    success = fields.Boolean(allow_none=True)

    @validates_schema
    def _learner_and_score(self, data: dict, **_kwargs) -> None:
        if not data.get("learner_email") and not data.get("learner_id"):
            raise ValidationError("Give learner_email or learner_id.", "learner_email")
        _check_score(data, "score", "min_score", "max_score")


class LmsCloudEvent(_Lenient):
    """A CloudEvent 1.0 of an external LMS: its attributes, and ``data``."""

    specversion = fields.String(required=True, validate=validate.Equal("1.0"))
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.Length(min=1, max=500))
    type = fields.String(required=True, validate=validate.OneOf(tuple(CE_TYPES)))
    time = fields.AwareDateTime(load_default=None)
    datacontenttype = fields.String(
        load_default="application/json",
        validate=validate.Regexp(r"^application/(.+\+)?json\b", error="The data must be JSON."),
    )
    data = fields.Nested(CourseActivityData, required=True)

    @validates_schema
    def _when(self, data: dict, **_kwargs) -> None:
        if data.get("time") is None and not (data.get("data") or {}).get("completed_at"):
            raise ValidationError("Give the event's time or data.completed_at.", "time")


# xAPI statements --------------------------------------------------------------------------------


def _mailto(value: str) -> None:
    address = value.removeprefix("mailto:")
    if address == value:
        raise ValidationError("Not a mailto: IRI.")
    validate.Email(error="Not a mailto: IRI of an email address.")(address)


class XapiAccount(_Lenient):
    homePage = fields.String(required=True, validate=IRI)  # noqa: N815 - xAPI's own name
    name = fields.String(required=True, validate=validate.Length(min=1, max=254))


class XapiActor(_Lenient):
    objectType = fields.String(  # noqa: N815
        validate=validate.Equal("Agent", error="Only an agent (one person) is taken.")
    )
    name = fields.String()
    mbox = fields.String(validate=[validate.Length(max=len("mailto:") + 254), _mailto])
    account = fields.Nested(XapiAccount)

    @validates_schema
    def _identified(self, data: dict, **_kwargs) -> None:
        if not data.get("mbox") and not data.get("account"):
            raise ValidationError("Give mbox (mailto:) or account: other identifiers are not taken.", "mbox")


class XapiVerb(_Lenient):
    id = fields.String(required=True, validate=IRI)


class XapiDefinition(_Lenient):
    name = fields.Dict(keys=fields.String(), values=fields.String())


class XapiObject(_Lenient):
    objectType = fields.String(validate=validate.Equal("Activity"))  # noqa: N815
    id = fields.String(required=True, validate=[IRI, validate.Length(max=500)])
    definition = fields.Nested(XapiDefinition)


class XapiScore(_Lenient):
    scaled = fields.Float(validate=validate.Range(-1, 1))
    raw = fields.Float()
    min = fields.Float()
    max = fields.Float()

    @validates_schema
    def _range(self, data: dict, **_kwargs) -> None:
        _check_score(data, "raw", "min", "max")


class XapiResult(_Lenient):
    score = fields.Nested(XapiScore)
    success = fields.Boolean()
    completion = fields.Boolean()


class XapiStatement(_Lenient):
    id = fields.UUID()
    actor = fields.Nested(XapiActor, required=True)
    verb = fields.Nested(XapiVerb, required=True)
    object = fields.Nested(XapiObject, required=True)
    result = fields.Nested(XapiResult)
    timestamp = fields.AwareDateTime()


def field_errors(messages: dict | list, prefix: str = "") -> dict[str, list[str]]:
    """Nested marshmallow messages as ``{"statement.0.actor.mbox": [...]}``."""
    if isinstance(messages, list):
        return {prefix or "body": [str(message) for message in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
        flat.update(field_errors(value, name))
    return flat


# The admin API ----------------------------------------------------------------------------------


class ClientCreate(Schema):
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), validate.Regexp(r"^[a-z0-9][a-z0-9._-]*$")],
        metadata={"description": "Lower-case letters, digits, dots, hyphens and underscores"},
    )


class ClientPatch(Schema):
    active = fields.Boolean(required=True, metadata={"description": "False: its posts are refused with 403"})


class RotateIn(Schema):
    overlap_hours = fields.Integer(
        load_default=24,
        validate=validate.Range(0, 168),
        metadata={"description": "How long the old secret is still accepted (0 to 168 hours)"},
    )


class CourseIn(Schema):
    course_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The LMS's id of the course: data.course_id, or the xAPI object id"},
    )
    title = fields.String(load_default="", validate=validate.Length(max=300))
    programme_id = fields.Integer(load_default=None, allow_none=True)
    competency_areas = fields.List(fields.String(), load_default=list)


class CourseOut(Schema):
    id = fields.Integer()
    course_id = fields.String()
    title = fields.String()
    programme_id = fields.Integer(allow_none=True)
    competency_areas = fields.List(fields.String())


class ExternalIdIn(Schema):
    external_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=254),
        metadata={"description": "The learner's id at the LMS: learner_id, xAPI account name, or an email"},
    )
    email = fields.Email(required=True, metadata={"description": "The email of our account"})


class ExternalIdOut(Schema):
    id = fields.Integer()
    external_id = fields.String()
    user_id = fields.Integer()
    email = fields.String(attribute="user.email")


class ClientOut(Schema):
    id = fields.Integer()
    name = fields.String()
    active = fields.Boolean()
    created_at = fields.AwareDateTime()
    rotated_at = fields.AwareDateTime(allow_none=True)
    previous_secret_expires_at = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "Until then the secret before the last rotation is accepted"},
    )


class ClientDetailOut(ClientOut):
    courses = fields.List(fields.Nested(CourseOut))
    external_ids = fields.List(fields.Nested(ExternalIdOut))


class ClientSecretOut(ClientOut):
    secret = fields.String(metadata={"description": "The whsec_ signing secret, shown this once"})


class PendingOut(Schema):
    id = fields.Integer()
    actor_email = fields.String(allow_none=True)
    actor_account = fields.String(allow_none=True)
    verb = fields.String(attribute="activity.verb")
    course_id = fields.String(attribute="activity.course_id")
    occurred_at = fields.String(attribute="activity.occurred_at")
    received_at = fields.AwareDateTime()


class ReceiptOut(Schema):
    status = fields.String(metadata={"description": "recorded; duplicate when the webhook-id was seen"})
    recorded = fields.Integer(metadata={"description": "Items added to learner records"})
    pending = fields.Integer(metadata={"description": "Items kept until their learner's account appears"})
    duplicates = fields.Integer(
        metadata={"description": "Items received before (same event or statement id)"}
    )
    ignored = fields.Integer(metadata={"description": "xAPI statements with verbs the ingress does not take"})
