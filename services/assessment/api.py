"""Assessment's REST API (flask-smorest)."""

from __future__ import annotations

from flask_smorest import Blueprint

from shared.auth import bearer_identity

from . import handlers
from .models import db
from .schemas import AttemptCreate, AttemptOut, QuizOut, QuizSummary

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


API_BLUEPRINTS = (quizzes_api,)
