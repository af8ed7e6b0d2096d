"""Assessment's REST API (flask-smorest)."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from shared.auth import api_login_required, bearer_identity

from . import handlers, item_analysis
from .models import db
from .schemas import AttemptCreate, AttemptOut, ItemAnalysisOut, QuizOut, QuizSummary
from .survey_api import SURVEY_API_BLUEPRINTS

quizzes_api = Blueprint("quizzes_api", __name__, url_prefix="/api/v1/quizzes", description="Quizzes")


@quizzes_api.route("")
@quizzes_api.response(200, QuizSummary(many=True))
def list_quizzes():
    """Public quizzes anyone may take."""
    return handlers.published_quizzes(db.session)


@quizzes_api.route("/<slug>")
@quizzes_api.response(200, QuizOut)
def get_quiz(slug):
    """A quiz with its questions and choices, never its answers."""
    return handlers.get_quiz(db.session, slug)


@quizzes_api.route("/<slug>/attempts", methods=["POST"])
@quizzes_api.arguments(AttemptCreate)
@quizzes_api.response(201, AttemptOut)
def submit(data, slug):
    """Submit answers and get the score; a bearer token ties the result to the account."""
    identity = bearer_identity()
    attempt = handlers.submit_attempt(
        db.session,
        handlers.get_quiz(db.session, slug),
        data["answers"],
        user_id=identity.user_id if identity else None,
        language=identity.language if identity else data["language"],
    )
    db.session.commit()
    return attempt


@quizzes_api.route("/<slug>/item-analysis")
@api_login_required("coordinator", "admin")
@quizzes_api.response(200, ItemAnalysisOut)
def get_item_analysis(slug):
    """Item analysis over all submitted attempts (coordinator or admin)."""
    return item_analysis.quiz_item_analysis(db.session, slug)


@quizzes_api.route("/<slug>/item-analysis.csv")
@api_login_required("coordinator", "admin")
@quizzes_api.alt_response(
    200, success=True, content_type="text/csv", description="One row per item: figures and flags."
)
def get_item_analysis_csv(slug):
    """The item analysis as CSV (coordinator or admin)."""
    return csv_response(item_analysis.quiz_item_analysis(db.session, slug))


def csv_response(report: item_analysis.QuizItemAnalysis) -> Response:
    return Response(
        item_analysis.analysis_csv(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{report.quiz_slug}-item-analysis.csv"'},
    )


API_BLUEPRINTS = (quizzes_api, *SURVEY_API_BLUEPRINTS)
