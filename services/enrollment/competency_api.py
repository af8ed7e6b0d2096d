"""The competency API: the framework (admins edit it), profiles (your own; coordinators see any
staff member's) and the follow-up assessments after training (coordinators). One use-case call per view."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.auth import api_identity, api_login_required
from shared.db import utcnow

from . import competencies
from .mentoring_api import PersonOut
from .models import db

COORDINATORS = ("coordinator", "admin")

competency_api = Blueprint(
    "competency_api",
    __name__,
    url_prefix="/api/v1",
    description="Competency framework, profiles and follow-up assessments",
)


class LevelOut(Schema):
    level = fields.Integer()
    descriptor_id = fields.String()
    descriptor_en = fields.String()


class AreaOut(Schema):
    code = fields.String()
    name_id = fields.String()
    name_en = fields.String()
    levels = fields.List(fields.Nested(LevelOut))


class LevelIn(Schema):
    level = fields.Integer(required=True, validate=validate.OneOf(competencies.LEVELS))
    descriptor_id = fields.String(required=True)
    descriptor_en = fields.String(required=True)


class AreaUpdate(Schema):
    name_id = fields.String(required=True)
    name_en = fields.String(required=True)
    levels = fields.List(
        fields.Nested(LevelIn), required=True, metadata={"description": "The descriptors of levels 1 to 4"}
    )


class EvidenceOut(Schema):
    id = fields.Integer()
    area = fields.String()
    level = fields.Integer()
    kind = fields.String(metadata={"description": "quiz, programme, mentoring_goal or lms"})
    reference = fields.String()
    detail = fields.String()
    detail_en = fields.String(allow_none=True)
    score = fields.Float(allow_none=True, metadata={"description": "The quiz area's percent"})
    occurred_at = fields.AwareDateTime()


class ChangeOut(Schema):
    at = fields.AwareDateTime()
    level = fields.Integer()
    evidence_id = fields.Function(lambda change: change.evidence.id)


class AreaProfileOut(Schema):
    area = fields.Function(lambda profile: profile.area.code)
    name_id = fields.Function(lambda profile: profile.area.name_id)
    name_en = fields.Function(lambda profile: profile.area.name_en)
    level = fields.Integer(allow_none=True, metadata={"description": "The highest level evidenced"})
    changes = fields.List(fields.Nested(ChangeOut), metadata={"description": "Each rise of the level"})
    evidence = fields.List(fields.Nested(EvidenceOut), metadata={"description": "Newest first"})


class StaffLevelsOut(Schema):
    user = fields.Nested(PersonOut)
    levels = fields.Dict(keys=fields.String(), values=fields.Integer())


class FollowUpQuery(Schema):
    state = fields.List(
        fields.String(validate=validate.OneOf(competencies.FOLLOWUP_STATES)),
        load_default=[competencies.DUE, competencies.OVERDUE],
        metadata={"description": "upcoming, due, overdue or done; due and overdue by default"},
    )


class FollowUpOut(Schema):
    id = fields.Integer(attribute="followup.id")
    user = fields.Nested(PersonOut, attribute="followup.user")
    programme_id = fields.Integer(attribute="followup.programme_id")
    quiz_slug = fields.String(attribute="followup.quiz_slug", allow_none=True)
    completed_at = fields.AwareDateTime(attribute="followup.completed_at")
    due_at = fields.AwareDateTime(attribute="followup.due_at")
    done_at = fields.AwareDateTime(attribute="followup.done_at", allow_none=True)
    state = fields.String(metadata={"description": "upcoming, due, overdue or done"})


class SettingIn(Schema):
    weeks = fields.Integer(required=True, metadata={"description": "1 to 104"})
    quiz_slug = fields.String(load_default=None, allow_none=True)


class SettingOut(Schema):
    programme_id = fields.Function(lambda item: item.programme.id)
    title_id = fields.Function(lambda item: item.programme.title_id)
    title_en = fields.Function(lambda item: item.programme.title_en)
    weeks = fields.Integer()
    quiz_slug = fields.String(allow_none=True)
    own = fields.Boolean(metadata={"description": "False: the default of PUSTAKA_FOLLOWUP_WEEKS applies"})


def grace() -> timedelta:
    return timedelta(days=current_app.config["PUSTAKA_FOLLOWUP_GRACE_DAYS"])


@competency_api.route("/competency-framework")
@competency_api.response(200, AreaOut(many=True))
def get_framework():
    """The competency areas with the descriptors of their levels 1–4."""
    return competencies.framework(db.session)


@competency_api.route("/competency-framework/<code>", methods=["PUT"])
@api_login_required("admin")
@competency_api.arguments(AreaUpdate)
@competency_api.response(200, AreaOut)
def update_area(data, code):
    """Rename an area and rewrite its four level descriptors (admins)."""
    descriptors = {item["level"]: (item["descriptor_id"], item["descriptor_en"]) for item in data["levels"]}
    area = competencies.update_area(
        db.session, code, name_id=data["name_id"], name_en=data["name_en"], descriptors=descriptors
    )
    db.session.commit()
    return area


@competency_api.route("/me/competencies")
@api_login_required()
@competency_api.response(200, AreaProfileOut(many=True))
def my_competencies():
    """Your level in each area, each rise of it and the evidence behind it."""
    return competencies.profile(db.session, api_identity().user_id)


@competency_api.route("/staff/competencies")
@api_login_required(*COORDINATORS)
@competency_api.response(200, StaffLevelsOut(many=True))
def staff_levels():
    """Every staff member's current level per area (coordinators)."""
    return competencies.staff_levels(db.session)


@competency_api.route("/staff/<int:user_id>/competencies")
@api_login_required(*COORDINATORS)
@competency_api.response(200, AreaProfileOut(many=True))
def staff_competencies(user_id):
    """A staff member's profile (coordinators)."""
    return competencies.profile(db.session, user_id)


@competency_api.route("/follow-ups")
@api_login_required(*COORDINATORS)
@competency_api.arguments(FollowUpQuery, location="query")
@competency_api.response(200, FollowUpOut(many=True))
def followups(query):
    """Follow-up assessments after training, longest due first (coordinators)."""
    return competencies.followup_lines(db.session, utcnow(), grace(), query["state"])


@competency_api.route("/follow-ups.csv")
@api_login_required(*COORDINATORS)
@competency_api.arguments(FollowUpQuery, location="query")
@competency_api.alt_response(200, success=True, content_type="text/csv", description="One row per follow-up.")
def followups_csv(query):
    """The follow-ups as CSV (coordinators)."""
    return followups_csv_response(query["state"])


def followups_csv_response(states) -> Response:
    now = utcnow()
    lines = competencies.followup_lines(db.session, now, grace(), states)
    return Response(
        competencies.followups_csv(lines, now, grace()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="follow-ups.csv"'},
    )


@competency_api.route("/follow-up-settings")
@api_login_required(*COORDINATORS)
@competency_api.response(200, SettingOut(many=True))
def followup_settings():
    """Every staff programme's follow-up rule: weeks after completion and quiz (coordinators)."""
    return competencies.followup_settings(db.session, current_app.config["PUSTAKA_FOLLOWUP_WEEKS"])


@competency_api.route("/follow-up-settings/<int:programme_id>", methods=["PUT"])
@api_login_required(*COORDINATORS)
@competency_api.arguments(SettingIn)
@competency_api.response(200, SettingIn)
def set_followup_setting(data, programme_id):
    """Set a programme's follow-up rule; follow-ups not yet announced move to the new time (coordinators)."""
    setting = competencies.set_followup_setting(db.session, programme_id, data["weeks"], data["quiz_slug"])
    db.session.commit()
    return setting
