"""The mentoring API: coordinators pair mentors with mentees and follow the pairs' activity; the
mentor and the mentee record meetings and work through their goals. One use-case call per view."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from shared.auth import api_identity, api_login_required
from shared.db import utcnow

from . import mentoring
from .models import db

mentoring_api = Blueprint(
    "mentoring_api", __name__, url_prefix="/api/v1", description="Mentoring pairs, goals and meetings"
)


class GoalIn(Schema):
    area = fields.String(
        required=True, metadata={"description": "A competency area code of the framework, e.g. cataloguing"}
    )
    description = fields.String(required=True)
    target_level = fields.Integer(required=True, metadata={"description": "1 to 4"})


class PairCreate(Schema):
    mentor_id = fields.Integer(required=True)
    mentee_id = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "After starts_on"})
    goals = fields.List(fields.Nested(GoalIn), required=True)


class MeetingIn(Schema):
    met_on = fields.Date(required=True, metadata={"description": "Within the period, not in the future"})
    topics = fields.String(required=True)
    actions = fields.String(load_default="", metadata={"description": "What the two agreed to do next"})


class PersonOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.Email()


class GoalOut(Schema):
    id = fields.Integer()
    area = fields.String()
    description = fields.String()
    target_level = fields.Integer()
    state = fields.String(metadata={"description": "open, met (by the mentee) or confirmed (by the mentor)"})
    met_at = fields.AwareDateTime(allow_none=True)
    confirmed_at = fields.AwareDateTime(allow_none=True)


class MeetingOut(Schema):
    id = fields.Integer()
    met_on = fields.Date()
    topics = fields.String()
    actions = fields.String()
    logged_by = fields.Integer()
    logged_at = fields.AwareDateTime()


class PairSummaryOut(Schema):
    id = fields.Integer()
    mentor = fields.Nested(PersonOut)
    mentee = fields.Nested(PersonOut)
    starts_on = fields.Date()
    ends_on = fields.Date()


class PairOut(PairSummaryOut):
    goals = fields.List(fields.Nested(GoalOut))
    meetings = fields.List(fields.Nested(MeetingOut))
    created_at = fields.AwareDateTime()


class ActivityOut(Schema):
    pair = fields.Nested(PairSummaryOut)
    meetings = fields.Integer()
    last_met_on = fields.Date(allow_none=True)
    goals = fields.Function(lambda activity: len(activity.pair.goals))
    goals_met = fields.Integer()
    goals_confirmed = fields.Integer()
    flagged = fields.Boolean(metadata={"description": "In its period with no meeting for 30 days"})


@mentoring_api.route("/mentoring/pairs")
class Pairs(MethodView):
    @api_login_required(*mentoring.COORDINATORS)
    @mentoring_api.response(200, ActivityOut(many=True))
    def get(self):
        """Every pair with its activity, flagged ones first (coordinators)."""
        return mentoring.activity(db.session, utcnow())

    @api_login_required(*mentoring.COORDINATORS)
    @mentoring_api.arguments(PairCreate)
    @mentoring_api.response(201, PairOut)
    def post(self, data):
        """Pair a mentor with a mentee for a period, with goals (coordinators)."""
        created = mentoring.pair(db.session, **data, created_by=api_identity().user_id)
        db.session.commit()
        return created


@mentoring_api.route("/me/mentoring")
@api_login_required()
@mentoring_api.response(200, ActivityOut(many=True))
def my_pairs():
    """The pairs you are the mentor or the mentee of, with their activity."""
    return mentoring.activity(db.session, utcnow(), user_id=api_identity().user_id)


@mentoring_api.route("/mentoring/pairs/<int:pair_id>")
@api_login_required()
@mentoring_api.response(200, PairOut)
def get_pair(pair_id):
    """One pair with its goals and meetings (the pair and coordinators)."""
    return mentoring.visible_pair(db.session, pair_id, api_identity())


@mentoring_api.route("/mentoring/pairs/<int:pair_id>/meetings", methods=["POST"])
@api_login_required()
@mentoring_api.arguments(MeetingIn)
@mentoring_api.response(201, MeetingOut)
def log_meeting(data, pair_id):
    """Record a meeting (the mentor or the mentee)."""
    meeting = mentoring.log_meeting(db.session, pair_id, api_identity().user_id, **data, now=utcnow())
    db.session.commit()
    return meeting


@mentoring_api.route("/mentoring/pairs/<int:pair_id>/goals", methods=["POST"])
@api_login_required()
@mentoring_api.arguments(GoalIn)
@mentoring_api.response(201, GoalOut)
def add_goal(data, pair_id):
    """Add a goal (the pair's mentor or a coordinator)."""
    goal = mentoring.add_goal(db.session, pair_id, api_identity(), data)
    db.session.commit()
    return goal


@mentoring_api.route("/mentoring/pairs/<int:pair_id>/goals/<int:goal_id>/met", methods=["POST"])
@api_login_required()
@mentoring_api.response(200, GoalOut)
def mark_goal_met(pair_id, goal_id):
    """Mark a goal met (the mentee)."""
    goal = mentoring.mark_goal_met(db.session, pair_id, goal_id, api_identity().user_id, utcnow())
    db.session.commit()
    return goal


@mentoring_api.route("/mentoring/pairs/<int:pair_id>/goals/<int:goal_id>/confirm", methods=["POST"])
@api_login_required()
@mentoring_api.response(200, GoalOut)
@mentoring_api.alt_response(409, description="The mentee has not marked the goal met")
def confirm_goal(pair_id, goal_id):
    """Confirm a goal the mentee marked met (the pair's mentor): evidence of the mentee's level."""
    goal = mentoring.confirm_goal(db.session, pair_id, goal_id, api_identity().user_id, utcnow())
    db.session.commit()
    return goal
