"""The feedback-survey API: coordinators edit the surveys and read the aggregates; learners answer
the surveys they were invited to."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.auth import api_identity, api_login_required

from . import surveys
from .models import db
from .survey_schemas import (
    FeedbackProgrammeOut,
    InvitationOut,
    ItemOrder,
    ProgrammeFeedbackOut,
    ResponseIn,
    ResponseOut,
    SurveyCreate,
    SurveyItemIn,
    SurveyItemOut,
    SurveyItemUpdate,
    SurveyOut,
    SurveyUpdate,
)

COORDINATORS = ("coordinator", "admin")

surveys_api = Blueprint(
    "surveys_api", __name__, url_prefix="/api/v1/surveys", description="Feedback surveys (coordinators)"
)
invitations_api = Blueprint(
    "survey_invitations_api",
    __name__,
    url_prefix="/api/v1/survey-invitations",
    description="Your feedback surveys to answer",
)
feedback_api = Blueprint(
    "feedback_api",
    __name__,
    url_prefix="/api/v1/feedback",
    description="Feedback per programme and session (coordinators)",
)


# Surveys ---------------------------------------------------------------------------------------


@surveys_api.route("")
class Surveys(MethodView):
    @api_login_required(*COORDINATORS)
    @surveys_api.response(200, SurveyOut(many=True))
    def get(self):
        """The default survey, then the programmes' own."""
        return surveys.list_surveys(db.session)

    @api_login_required(*COORDINATORS)
    @surveys_api.arguments(SurveyCreate)
    @surveys_api.response(201, SurveyOut)
    @surveys_api.alt_response(409, description="The programme has its own survey already")
    def post(self, data):
        """Give a programme its own survey, starting from the default's items."""
        survey = surveys.create_programme_survey(db.session, **data)
        db.session.commit()
        return survey


@surveys_api.route("/<int:survey_id>")
class SurveyResource(MethodView):
    @api_login_required(*COORDINATORS)
    @surveys_api.response(200, SurveyOut)
    def get(self, survey_id):
        """One survey with its items in order."""
        return surveys.get_survey(db.session, survey_id)

    @api_login_required(*COORDINATORS)
    @surveys_api.arguments(SurveyUpdate)
    @surveys_api.response(200, SurveyOut)
    def put(self, data, survey_id):
        """Change the survey's titles."""
        survey = surveys.update_survey(db.session, survey_id, data)
        db.session.commit()
        return survey


@surveys_api.route("/<int:survey_id>/items", methods=["POST"])
@api_login_required(*COORDINATORS)
@surveys_api.arguments(SurveyItemIn)
@surveys_api.response(201, SurveyItemOut)
def add_item(data, survey_id):
    """Add an item at the end of the survey."""
    item = surveys.add_item(db.session, survey_id, **data)
    db.session.commit()
    return item


@surveys_api.route("/<int:survey_id>/items/<int:item_id>")
class SurveyItemResource(MethodView):
    @api_login_required(*COORDINATORS)
    @surveys_api.arguments(SurveyItemUpdate)
    @surveys_api.response(200, SurveyItemOut)
    def put(self, data, survey_id, item_id):
        """Change an item's texts."""
        item = surveys.update_item(db.session, survey_id, item_id, data)
        db.session.commit()
        return item

    @api_login_required(*COORDINATORS)
    @surveys_api.response(204)
    def delete(self, survey_id, item_id):
        """Remove an item; the answers it already has stay in the results."""
        surveys.remove_item(db.session, survey_id, item_id)
        db.session.commit()


@surveys_api.route("/<int:survey_id>/order", methods=["PUT"])
@api_login_required(*COORDINATORS)
@surveys_api.arguments(ItemOrder)
@surveys_api.response(200, SurveyOut)
def reorder(data, survey_id):
    """Put the items in a new order."""
    survey = surveys.reorder_items(db.session, survey_id, data["item_ids"])
    db.session.commit()
    return survey


# Invitations and responses ---------------------------------------------------------------------


@invitations_api.route("")
@api_login_required()
@invitations_api.response(200, InvitationOut(many=True))
def pending():
    """Your surveys still to answer, with their items."""
    return surveys.pending_invitations(db.session, api_identity().user_id)


@invitations_api.route("/<int:invitation_id>")
@api_login_required()
@invitations_api.response(200, InvitationOut)
def get_invitation(invitation_id):
    """One of your survey invitations."""
    return surveys.get_invitation(db.session, invitation_id, api_identity().user_id)


@invitations_api.route("/<int:invitation_id>/response", methods=["POST"])
@api_login_required()
@invitations_api.arguments(ResponseIn)
@invitations_api.response(201, ResponseOut)
@invitations_api.alt_response(409, description="You have answered this survey already")
def respond(data, invitation_id):
    """Answer the survey, once. Errors name the items by id."""
    invitation = surveys.get_invitation(db.session, invitation_id, api_identity().user_id)
    response = surveys.submit_response(db.session, invitation, data["ratings"], data["comments"])
    db.session.commit()
    return response


# Aggregates ------------------------------------------------------------------------------------


@feedback_api.route("/programmes")
@api_login_required(*COORDINATORS)
@feedback_api.response(200, FeedbackProgrammeOut(many=True))
def programmes():
    """The programmes whose learners were invited to a survey, with invitation and response counts."""
    return surveys.feedback_programmes(db.session)


@feedback_api.route("/programmes/<int:programme_id>")
@api_login_required(*COORDINATORS)
@feedback_api.response(200, ProgrammeFeedbackOut)
def programme(programme_id):
    """A programme's feedback: means, distributions and comments, all sessions together and per session."""
    return surveys.programme_feedback(db.session, programme_id)


@feedback_api.route("/programmes/<int:programme_id>.csv")
@api_login_required(*COORDINATORS)
@feedback_api.alt_response(
    200, success=True, content_type="text/csv", description="One row per rating item and per comment."
)
def programme_csv(programme_id):
    """A programme's feedback as CSV."""
    return feedback_csv_response(surveys.programme_feedback(db.session, programme_id))


def feedback_csv_response(report: surveys.ProgrammeFeedback) -> Response:
    return Response(
        surveys.feedback_csv(report),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="programme-{report.programme_id}-feedback.csv"'
        },
    )


SURVEY_API_BLUEPRINTS = (surveys_api, invitations_api, feedback_api)
