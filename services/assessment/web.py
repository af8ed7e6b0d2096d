"""Assessment's web pages: the public quiz, no account needed; the coordinators' item analysis."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from shared.app import select_language
from shared.auth import cookie_identity, web_login_required
from shared.errors import NotFound

from . import handlers, item_analysis
from .api import csv_response
from .models import db
from .survey_web import SURVEY_WEB_BLUEPRINTS

web = Blueprint("web", __name__)

# Anonymous takers see their own results through the signed session cookie.
OWN_ATTEMPTS = "own_attempts"


@web.get("/")
@web.get("/quizzes")
def quizzes():
    return render_template("quizzes.html", quizzes=handlers.published_quizzes(db.session))


@web.route("/quizzes/<slug>", methods=["GET", "POST"])
def take_quiz(slug: str):
    quiz = handlers.get_quiz(db.session, slug)
    form = FlaskForm()
    missing: set[int] = set()
    if form.validate_on_submit():
        answers = {}
        for question in quiz.questions:
            chosen = request.form.get(f"question-{question.id}", type=int)
            if chosen is None:
                missing.add(question.id)
            else:
                answers[question.id] = chosen
        if not missing:
            identity = cookie_identity()
            attempt = handlers.submit_attempt(
                db.session,
                quiz,
                answers,
                user_id=identity.user_id if identity else None,
                language=select_language(),
            )
            db.session.commit()
            session[OWN_ATTEMPTS] = [*session.get(OWN_ATTEMPTS, [])[-19:], attempt.id]
            return redirect(url_for("web.result", attempt_id=attempt.id))
    status = 400 if (form.errors or missing) else 200
    return render_template("quiz.html", quiz=quiz, form=form, missing=missing, chosen=request.form), status


@web.get("/attempts/<int:attempt_id>")
def result(attempt_id: int):
    attempt = handlers.get_attempt(db.session, attempt_id)
    identity = cookie_identity()
    owns = attempt.id in session.get(OWN_ATTEMPTS, []) or (
        identity is not None and attempt.user_id == identity.user_id
    )
    if not owns:
        raise NotFound(_("No such attempt."))
    return render_template("result.html", attempt=attempt)


FLAG_LABELS = {
    item_analysis.FLAG_TOO_EASY: _l("Too easy"),
    item_analysis.FLAG_TOO_HARD: _l("Too hard"),
    item_analysis.FLAG_LOW_DISCRIMINATION: _l("Low discrimination"),
    item_analysis.FLAG_NEGATIVE_DISCRIMINATION: _l("Negative discrimination"),
    item_analysis.FLAG_UNUSED_DISTRACTOR: _l("A distractor no one chooses"),
    item_analysis.FLAG_DISTRACTOR_BEATS_KEY: _l("A distractor the upper group prefers to the key"),
    item_analysis.FLAG_NO_RESPONSES: _l("No one answered"),
}


@web.get("/quizzes/<slug>/analysis")
@web_login_required("coordinator", "admin")
def analysis(slug: str):
    report = item_analysis.quiz_item_analysis(db.session, slug)
    return render_template("item_analysis.html", report=report, flag_labels=FLAG_LABELS)


@web.get("/quizzes/<slug>/analysis.csv")
@web_login_required("coordinator", "admin")
def analysis_csv(slug: str):
    return csv_response(item_analysis.quiz_item_analysis(db.session, slug))


WEB_BLUEPRINTS = (web, *SURVEY_WEB_BLUEPRINTS)
