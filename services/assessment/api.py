"""Assessment's REST API (flask-smorest): the question bank and quiz definitions for
coordinators, taking quizzes for everyone, manual grading and item analysis."""

from __future__ import annotations

import functools
import re

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.auth import Identity, api_identity, api_login_required, bearer_identity
from shared.db import utcnow

from . import handlers, item_analysis
from .models import Attempt, db
from .schemas import (
    AttemptOut,
    AttemptStart,
    AttemptStarted,
    AttemptSubmit,
    AttemptToGrade,
    ExportQuery,
    GradeIn,
    ImportFileIn,
    ImportIn,
    ImportOut,
    ItemAnalysisOut,
    MyGradeOut,
    PageResponses,
    PreviewOut,
    QuestionOut,
    QuestionQuery,
    QuestionSpec,
    QuestionSummary,
    QuizDefinition,
    QuizOut,
)
from .survey_api import SURVEY_API_BLUEPRINTS

COORDINATORS = ("coordinator", "admin")
# An anonymous taker's proof of owning an attempt: the token given when it started.
TOKEN_HEADER = "X-Attempt-Token"
TOKEN_PARAMETER = {
    "in": "header",
    "name": TOKEN_HEADER,
    "schema": {"type": "string"},
    "required": False,
    "description": "the attempt's token, for a taker without an account",
}

questions_api = Blueprint(
    "questions_api", __name__, url_prefix="/api/v1/questions", description="The question bank (coordinators)"
)
quizzes_api = Blueprint("quizzes_api", __name__, url_prefix="/api/v1/quizzes", description="Quizzes")
attempts_api = Blueprint(
    "attempts_api",
    __name__,
    url_prefix="/api/v1/attempts",
    description="Taking a quiz: pages, submit, result",
)
grading_api = Blueprint(
    "grading_api", __name__, url_prefix="/api/v1/grading", description="Answers a coordinator grades (essays)"
)


class PageQuery(Schema):
    page = fields.Integer(load_default=0, validate=validate.Range(min=0))


def api_taker(identity: Identity | None = None) -> handlers.Taker:
    """The caller as a taker: ``identity`` when already verified, else the bearer token's."""
    identity = identity or bearer_identity()
    return handlers.Taker(identity.user_id, identity.roles) if identity else handlers.Taker()


# The question bank -------------------------------------------------------------------------


@questions_api.route("")
class Questions(MethodView):
    @api_login_required(*COORDINATORS)
    @questions_api.arguments(QuestionQuery, location="query")
    @questions_api.response(200, QuestionSummary(many=True))
    def get(self, query):
        """Bank questions, filtered by category (and those under it), area, difficulty, type, retired."""
        return handlers.find_questions(db.session, **query)

    @api_login_required(*COORDINATORS)
    @questions_api.arguments(QuestionSpec)
    @questions_api.response(201, QuestionOut)
    def post(self, spec):
        """Add a question; its body is checked by its type."""
        question = handlers.create_question(db.session, spec)
        db.session.commit()
        return question


@questions_api.route("/<int:question_id>")
class QuestionResource(MethodView):
    @api_login_required(*COORDINATORS)
    @questions_api.response(200, QuestionOut)
    def get(self, question_id):
        """A question with its current content and every version."""
        return handlers.get_question(db.session, question_id)

    @api_login_required(*COORDINATORS)
    @questions_api.arguments(QuestionSpec)
    @questions_api.response(200, QuestionOut)
    def put(self, spec, question_id):
        """Change a question; changed content is a new version, past attempts keep theirs."""
        question = handlers.update_question(db.session, question_id, spec)
        db.session.commit()
        return question


@questions_api.route("/<int:question_id>/retire", methods=["POST"])
@api_login_required(*COORDINATORS)
@questions_api.response(200, QuestionOut)
def retire(question_id):
    """Retire a question: no pool draws it, no new quiz takes it."""
    question = handlers.set_retired(db.session, question_id, True)
    db.session.commit()
    return question


@questions_api.route("/<int:question_id>/unretire", methods=["POST"])
@api_login_required(*COORDINATORS)
@questions_api.response(200, QuestionOut)
def unretire(question_id):
    """Bring a retired question back."""
    question = handlers.set_retired(db.session, question_id, False)
    db.session.commit()
    return question


@questions_api.route("/<int:question_id>/preview")
@api_login_required(*COORDINATORS)
@questions_api.response(200, PreviewOut)
def preview(question_id):
    """The question as a taker sees it: no answers, no fractions, no feedback."""
    return handlers.preview(handlers.get_question(db.session, question_id))


# Multipart framing and the form's other fields, beside the file itself.
UPLOAD_OVERHEAD = 64 * 1024


def limit_body(limit: int) -> None:
    """Refuse a request body over ``limit`` bytes before it is read, so that an oversized file is
    never stored, not even in a temporary file."""
    request.max_content_length = limit  # stops a body sent without its length as it arrives
    if request.content_length is not None and request.content_length > limit:
        raise handlers.FileTooLarge


def limited_upload(view):
    """A view taking a question file: the size limit holds before the form is parsed."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        limit_body(handlers.MAX_IMPORT_BYTES + UPLOAD_OVERHEAD)
        return view(*args, **kwargs)

    return wrapped


@questions_api.route("/import", methods=["POST"])
@api_login_required(*COORDINATORS)
@limited_upload
@questions_api.arguments(ImportIn, location="form")
@questions_api.arguments(ImportFileIn, location="files")
@questions_api.response(200, ImportOut)
@questions_api.alt_response(
    422,
    schema=ImportOut,
    description="The file has problems and accept_partial is not set: nothing was imported",
)
@questions_api.alt_response(413, description="The file is larger than 2 MB")
def import_file(form, files):
    """Import a GIFT or Aiken file. A question is known by its category and name: new ones are added,
    changed ones get a new version, the same ones are left alone. Every problem is reported with its
    line; with problems nothing is imported unless accept_partial. A dry run only reports."""
    text = handlers.import_text(files["file"].stream.read(handlers.MAX_IMPORT_BYTES + 1))
    result = handlers.import_questions(
        db.session,
        text,
        format=form["format"],
        category=form["category"],
        dry_run=form["dry_run"],
        accept_partial=form["accept_partial"],
    )
    if result.imported:
        db.session.commit()
    refused = bool(result.problems) and not result.imported and not form["dry_run"]
    return result, 422 if refused else 200


@questions_api.route("/export.gift")
@api_login_required(*COORDINATORS)
@questions_api.arguments(ExportQuery, location="query")
@questions_api.alt_response(
    200, success=True, content_type="text/plain", description="GIFT, which imports back to the same questions"
)
def export(query):
    """The bank, or a category and those under it, as a GIFT file."""
    return gift_response(query.get("category"))


def gift_response(category: str | None) -> Response:
    name = re.sub(r"[^a-z0-9]+", "-", (category or "").lower()).strip("-") or "questions"
    return Response(
        handlers.export_questions(db.session, category),
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{name}.gift"'},
    )


# Quizzes -----------------------------------------------------------------------------------


@quizzes_api.route("")
class Quizzes(MethodView):
    @quizzes_api.response(200, QuizOut(many=True))
    def get(self):
        """The quizzes the caller may take: the public ones, and with a token those for staff or
        for a programme one is enrolled in."""
        return handlers.quizzes_for(db.session, api_taker())

    @api_login_required(*COORDINATORS)
    @quizzes_api.arguments(QuizDefinition)
    @quizzes_api.response(201, QuizDefinition)
    def post(self, definition):
        """Define a quiz (coordinators)."""
        quiz = handlers.create_quiz(db.session, definition)
        db.session.commit()
        return handlers.quiz_definition(quiz)


@quizzes_api.route("/<slug>")
class QuizResource(MethodView):
    @quizzes_api.response(200, QuizOut)
    def get(self, slug):
        """What anyone may know of a quiz before taking it."""
        return handlers.get_quiz(db.session, slug)

    @api_login_required(*COORDINATORS)
    @quizzes_api.arguments(QuizDefinition)
    @quizzes_api.response(200, QuizDefinition)
    def put(self, definition, slug):
        """Change a quiz (coordinators); started attempts keep their questions."""
        quiz = handlers.update_quiz(db.session, slug, definition)
        db.session.commit()
        return handlers.quiz_definition(quiz)


@quizzes_api.route("/<slug>/definition")
@api_login_required(*COORDINATORS)
@quizzes_api.response(200, QuizDefinition)
def get_definition(slug):
    """A quiz's definition, in the portable form (coordinators)."""
    return handlers.quiz_definition(handlers.get_quiz(db.session, slug))


@quizzes_api.route("/<slug>/my-grade")
@api_login_required()
@quizzes_api.response(200, MyGradeOut)
def my_grade(slug):
    """Your grade for the quiz, over your attempts, by its grading method."""
    identity = api_identity()
    taker = handlers.Taker(identity.user_id, identity.roles)
    return handlers.my_grade(db.session, handlers.get_quiz(db.session, slug), taker)


@quizzes_api.route("/<slug>/attempts", methods=["POST"])
@quizzes_api.arguments(AttemptStart)
@quizzes_api.response(201, AttemptStarted)
@quizzes_api.alt_response(200, schema=AttemptStarted, description="Your open attempt, resumed")
@quizzes_api.alt_response(409, description="Not open, or no attempts left")
def start(data, slug):
    """Start an attempt (or resume your open one): its first page. A bearer token ties it to
    your account; without one, keep the returned token to come back."""
    identity = bearer_identity()
    attempt, token = handlers.start_attempt(
        db.session,
        handlers.get_quiz(db.session, slug),
        api_taker(identity),
        language=identity.language if identity else data["language"],
        email=data["email"],
    )
    view = handlers.attempt_view(attempt, utcnow(), page=0)  # before the commit expires what it shows
    db.session.commit()
    return view | {"token": token}, 201 if token else 200


# Attempts ----------------------------------------------------------------------------------


def own_attempt(attempt_id: int) -> Attempt:
    """The caller's attempt, closed first if its time is up."""
    attempt = handlers.attempt_of(db.session, attempt_id, api_taker(), request.headers.get(TOKEN_HEADER))
    if handlers.close_if_expired(db.session, attempt):
        db.session.commit()
    return attempt


@attempts_api.route("/<int:attempt_id>")
@attempts_api.doc(parameters=[TOKEN_PARAMETER])
@attempts_api.arguments(PageQuery, location="query")
@attempts_api.response(200, AttemptOut)
def get_attempt(query, attempt_id):
    """While it runs, one page of questions with your answers; once finished, the result and
    whatever the quiz's review options show."""
    return result_view(own_attempt(attempt_id), query["page"])


@attempts_api.route("/<int:attempt_id>/pages/<int:page>", methods=["PUT"])
@attempts_api.doc(parameters=[TOKEN_PARAMETER])
@attempts_api.arguments(PageResponses)
@attempts_api.response(200, AttemptOut)
@attempts_api.alt_response(409, description="The attempt is closed")
def save_page(data, attempt_id, page):
    """Save answers of one page (question id → response); left-out questions keep theirs."""
    attempt = own_attempt(attempt_id)
    handlers.save_responses(db.session, attempt, page, data["responses"])
    view = handlers.attempt_view(attempt, utcnow(), page)  # before the commit expires what it shows
    db.session.commit()
    return view


@attempts_api.route("/<int:attempt_id>/submit", methods=["POST"])
@attempts_api.doc(parameters=[TOKEN_PARAMETER])
@attempts_api.arguments(AttemptSubmit)
@attempts_api.response(200, AttemptOut)
def submit(data, attempt_id):
    """Finish the attempt and get its result; submitting again changes nothing."""
    attempt = own_attempt(attempt_id)
    handlers.set_email(attempt, data["email"])
    handlers.submit_attempt(db.session, attempt)
    view = result_view(attempt)  # before the commit expires what it shows
    db.session.commit()
    return view


def result_view(attempt: Attempt, page: int | None = None) -> dict:
    """The attempt as its taker may see it, with the classes recommended once the score shows."""
    now = utcnow()
    view = handlers.attempt_view(attempt, now, page)
    return view | {"recommendations": handlers.recommended_classes(db.session, attempt, now)}


# Manual grading ----------------------------------------------------------------------------


@grading_api.route("")
@api_login_required(*COORDINATORS)
@grading_api.response(200, AttemptToGrade(many=True))
def attempts_to_grade():
    """Submitted attempts with answers waiting for a grade, oldest first."""
    return handlers.attempts_to_grade(db.session)


@grading_api.route("/<int:attempt_id>/questions/<int:question_id>", methods=["PUT"])
@api_login_required(*COORDINATORS)
@grading_api.arguments(GradeIn)
@grading_api.response(200, AttemptToGrade)
def grade(data, attempt_id, question_id):
    """Grade one answer (a fraction of its points); the last grade publishes the result."""
    attempt = handlers.grade_response(db.session, attempt_id, question_id, data["fraction"])
    db.session.commit()
    return attempt


# Item analysis -----------------------------------------------------------------------------


@quizzes_api.route("/<slug>/item-analysis")
@api_login_required(*COORDINATORS)
@quizzes_api.response(200, ItemAnalysisOut)
def get_item_analysis(slug):
    """Item analysis over all finished attempts (coordinator or admin)."""
    return item_analysis.quiz_item_analysis(db.session, slug)


@quizzes_api.route("/<slug>/item-analysis.csv")
@api_login_required(*COORDINATORS)
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


API_BLUEPRINTS = (questions_api, quizzes_api, attempts_api, grading_api, *SURVEY_API_BLUEPRINTS)
