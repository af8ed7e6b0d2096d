"""Assessment's web pages: quizzes anyone can take on a phone, no account needed for public
ones; the coordinators' grading of essays and item analysis."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as SchemaValidationError
from marshmallow import validate
from wtforms import EmailField
from wtforms.validators import Length, Optional, ValidationError

from shared.app import select_language
from shared.auth import cookie_identity, login_url, web_login_required
from shared.competencies import area_name
from shared.db import utcnow
from shared.errors import Conflict, Invalid, NotFound
from shared.forms import PustakaForm

from . import handlers, item_analysis
from .api import COORDINATORS, csv_response
from .bank_web import BANK_WEB_BLUEPRINTS
from .forms import form_response
from .models import Attempt, db
from .survey_web import SURVEY_WEB_BLUEPRINTS

web = Blueprint("web", __name__)

# Anonymous takers find their attempts again through the signed session cookie.
OWN_ATTEMPTS = "own_attempts"
REMEMBERED_ATTEMPTS = 20

GRADING_METHOD_LABELS = {
    "highest": _l("the highest grade of your attempts counts"),
    "last": _l("your last attempt counts"),
    "first": _l("your first attempt counts"),
    "average": _l("the average of your attempts counts"),
}
CORRECTNESS_LABELS = {
    "correct": _l("Correct"),
    "partial": _l("Partly correct"),
    "wrong": _l("Not correct"),
    "needs_grading": _l("Waiting for a coordinator's grade"),
}


def web_taker() -> handlers.Taker:
    identity = cookie_identity()
    if identity is not None:
        return handlers.Taker(identity.user_id, identity.roles)
    return handlers.Taker(attempt_ids=tuple(session.get(OWN_ATTEMPTS, [])))


def remember(attempt: Attempt) -> None:
    own = session.get(OWN_ATTEMPTS, [])
    if attempt.user_id is None and attempt.id not in own:
        session[OWN_ATTEMPTS] = [*own[1 - REMEMBERED_ATTEMPTS :], attempt.id]


def taker_attempt(attempt_id: int) -> Attempt:
    """The visitor's own attempt, closed first if its time is up."""
    attempt = handlers.attempt_of(db.session, attempt_id, web_taker())
    if handlers.close_if_expired(db.session, attempt):
        db.session.commit()
        flash(_("Time is up: your attempt was submitted with the answers saved so far."))
    return attempt


@web.app_template_filter("bilingual")
def bilingual_text(text) -> str:
    """A {"id", "en"} text in the page's language, or in the other one when that is empty."""
    if not isinstance(text, dict):
        return "" if text is None else str(text)
    language = select_language()
    return text.get(language) or text.get("en" if language == "id" else "id") or ""


def _option_texts(body: dict) -> dict[str, str]:
    """key → text of the options a public body lists (choices, true/false, matching answers)."""
    return {
        option["key"]: bilingual_text(option.get("text"))
        for values in body.values()
        if isinstance(values, list)
        for option in values
        if isinstance(option, dict) and "key" in option and "text" in option
    }


@web.app_template_global()
def response_text(item: dict) -> str:
    """A taker's response in words, for the review."""
    response = item.get("response")
    if response is None:
        return _("No answer")
    options = _option_texts(item["body"])
    if isinstance(response, dict):  # matching: prompt key → answer key
        prompts = {
            prompt["key"]: bilingual_text(prompt["prompt"]) for prompt in item["body"].get("prompts", [])
        }
        return "; ".join(
            f"{prompts.get(key, key)} → {options.get(value, value)}" for key, value in response.items()
        )
    if options:
        chosen = chosen_keys(response)
        return ", ".join(text for key, text in options.items() if key in chosen)
    return f"{response:g}" if isinstance(response, float) else str(response)


@web.app_template_global()
def correct_answer_text(item: dict) -> str:
    """The right answer a question type's review describes, in words."""
    answer = item.get("correct_answer")
    if isinstance(answer, bool):
        key = "true" if answer else "false"
        return _option_texts(item["body"]).get(key, key)
    parts = []
    for entry in answer if isinstance(answer, list) else [answer]:
        if isinstance(entry, dict) and "prompt" in entry:
            parts.append(f"{bilingual_text(entry['prompt'])} → {bilingual_text(entry.get('answer'))}")
        elif isinstance(entry, dict) and "value" in entry:
            tolerance = entry.get("tolerance") or 0
            parts.append(f"{entry['value']:g}" + (f" ± {tolerance:g}" if tolerance else ""))
        elif isinstance(entry, dict) and "text" in entry:
            parts.append(bilingual_text(entry["text"]))
        else:
            parts.append(bilingual_text(entry))
    return "; ".join(parts)


@web.app_template_filter("chosen_keys")
def chosen_keys(response) -> set[str]:
    """The option keys a saved response chose, to check radios and boxes (true/false is a bool)."""
    if isinstance(response, bool):
        return {"true" if response else "false"}
    if isinstance(response, list):
        return set(response)
    return {response} if isinstance(response, str) else set()


@web.app_context_processor
def assessment_helpers():
    return {"area_name": area_name, "correctness_labels": CORRECTNESS_LABELS}


# Quizzes -----------------------------------------------------------------------------------


@web.get("/")
@web.get("/quizzes")
def quizzes():
    return render_template("quizzes.html", quizzes=handlers.quizzes_for(db.session, web_taker()))


@web.get("/quizzes/<slug>")
def quiz(slug: str):
    quiz = handlers.get_quiz(db.session, slug)
    taker, now = web_taker(), utcnow()
    attempts = handlers.takers_attempts(db.session, quiz, taker)
    if any(handlers.close_if_expired(db.session, attempt, now) for attempt in attempts):
        db.session.commit()
    return render_template(
        "quiz.html",
        quiz=quiz,
        allowed=handlers.may_take(db.session, quiz, taker),
        signed_in=taker.user_id is not None,
        attempts=attempts,
        open_attempt=next((attempt for attempt in attempts if attempt.finished_at is None), None),
        refusal=handlers.start_refusal(quiz, attempts, now),
        grade=handlers.my_grade(db.session, quiz, taker, now),
        question_count=handlers.question_count(quiz),
        grading_method=GRADING_METHOD_LABELS[quiz.grading_method],
        login=login_url(request.url),
    )


@web.post("/quizzes/<slug>/start")
def start(slug: str):
    quiz = handlers.get_quiz(db.session, slug)
    taker = web_taker()
    if quiz.audience != "public" and taker.user_id is None:
        return redirect(login_url(url_for("web.quiz", slug=slug, _external=True)))
    try:
        attempt, _token = handlers.start_attempt(db.session, quiz, taker, language=select_language())
    except Conflict as error:
        db.session.rollback()
        flash(_(error.message), "error")
        return redirect(url_for("web.quiz", slug=slug))
    db.session.commit()
    remember(attempt)
    return redirect(url_for("web.attempt_page", attempt_id=attempt.id, page=0))


# Taking an attempt -------------------------------------------------------------------------


@web.route("/attempts/<int:attempt_id>/pages/<int:page>", methods=["GET", "POST"])
def attempt_page(attempt_id: int, page: int):
    attempt = taker_attempt(attempt_id)
    if attempt.finished_at is not None:
        return redirect(url_for("web.result", attempt_id=attempt.id))
    if not 0 <= page < attempt.pages:
        raise NotFound(_("No such page."))
    errors, entered = {}, {}
    if request.method == "POST":
        entered = {
            str(s.question_id): form_response(s.question_id, s.version, request.form)
            for s in attempt.slots
            if s.page == page
        }
        action = request.form.get("action", "save")
        try:
            handlers.save_responses(db.session, attempt, page, entered)
        except Invalid as error:
            errors = error.errors
        if action == "timeout":  # the countdown reached zero: keep what is valid, hand it in
            if errors:
                valid = {key: value for key, value in entered.items() if f"responses.{key}" not in errors}
                handlers.save_responses(db.session, attempt, page, valid)
            handlers.submit_attempt(db.session, attempt, time_up=True)
            db.session.commit()
            flash(_("Time is up: your attempt was submitted."))
            return redirect(url_for("web.result", attempt_id=attempt.id))
        if not errors:
            db.session.commit()
            if action == "finish":
                return redirect(url_for("web.confirm_submit", attempt_id=attempt.id))
            if action == "save":
                flash(_("Your answers are saved."))
            target = {"previous": page - 1, "next": page + 1}.get(action, page)
            return redirect(
                url_for(
                    "web.attempt_page", attempt_id=attempt.id, page=min(max(target, 0), attempt.pages - 1)
                )
            )
    view = handlers.attempt_view(attempt, utcnow(), page)
    if errors:  # show what was entered, which was not saved
        for item in view["questions"]:
            item["response"] = entered[str(item["question_id"])]
    return render_template("attempt.html", attempt=attempt, view=view, errors=errors), 400 if errors else 200


def email_address(form, field) -> None:
    """The API's rule, so that the page and the API accept the same addresses."""
    try:
        validate.Email()(field.data or "")
    except SchemaValidationError:
        raise ValidationError(_l("Enter a valid email address.")) from None


class SubmitForm(PustakaForm):
    email = EmailField(
        _l("Your email, to receive the result (optional)"),
        validators=[Optional(), email_address, Length(max=254)],
    )


@web.route("/attempts/<int:attempt_id>/submit", methods=["GET", "POST"])
def confirm_submit(attempt_id: int):
    attempt = taker_attempt(attempt_id)
    if attempt.finished_at is not None:
        return redirect(url_for("web.result", attempt_id=attempt.id))
    form = SubmitForm() if request.method == "POST" else SubmitForm(email=attempt.email)
    problems = []
    if form.validate_on_submit():
        if attempt.user_id is None:  # an account's result reaches the account anyway
            handlers.set_email(attempt, form.email.data or None)
        try:
            handlers.submit_attempt(db.session, attempt)
        except Invalid as error:
            problems = [
                (slot, error.errors[f"responses.{slot.question_id}"])
                for slot in attempt.slots
                if f"responses.{slot.question_id}" in error.errors
            ]
        else:
            db.session.commit()
            return redirect(url_for("web.result", attempt_id=attempt.id))
    view = handlers.attempt_view(attempt, utcnow())
    return render_template("submit.html", attempt=attempt, view=view, form=form, problems=problems), (
        400 if form.errors or problems else 200
    )


@web.get("/attempts/<int:attempt_id>")
def result(attempt_id: int):
    attempt = taker_attempt(attempt_id)
    if attempt.finished_at is None:
        return redirect(url_for("web.attempt_page", attempt_id=attempt.id, page=0))
    now = utcnow()
    return render_template(
        "result.html",
        attempt=attempt,
        view=handlers.attempt_view(attempt, now),
        recommendations=handlers.recommended_classes(db.session, attempt, now),
        grade=handlers.my_grade(db.session, attempt.quiz, web_taker(), now),
        grading_method=GRADING_METHOD_LABELS[attempt.quiz.grading_method],
    )


# Grading by hand ---------------------------------------------------------------------------


@web.get("/grading")
@web_login_required(*COORDINATORS)
def grading():
    return render_template("grading.html", attempts=handlers.attempts_to_grade(db.session))


@web.route("/grading/<int:attempt_id>", methods=["GET", "POST"])
@web_login_required(*COORDINATORS)
def grade_attempt(attempt_id: int):
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(_("No such attempt."))
    errors: dict[int, str] = {}
    if request.method == "POST":
        question_id = request.form.get("question_id", type=int)
        slot = next((slot for slot in attempt.slots if slot.question_id == question_id), None)
        points = _number(request.form.get("points", ""))
        if slot is None:
            raise NotFound(_("Not a question of this attempt."))
        if points is None or not 0 <= points <= slot.version.points:
            errors[slot.question_id] = _("Give points from 0 to %(max)s.", max=f"{slot.version.points:g}")
        else:
            handlers.grade_response(db.session, attempt.id, slot.question_id, points / slot.version.points)
            db.session.commit()
            flash(_("The grade is saved."))
            if attempt.graded_at is not None:
                return redirect(url_for("web.grading"))
            return redirect(url_for("web.grade_attempt", attempt_id=attempt.id))
    pending = [slot for slot in attempt.slots if slot.fraction is None]
    return render_template("grade_attempt.html", attempt=attempt, pending=pending, errors=errors), (
        400 if errors else 200
    )


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


# Item analysis -----------------------------------------------------------------------------

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
@web_login_required(*COORDINATORS)
def analysis(slug: str):
    report = item_analysis.quiz_item_analysis(db.session, slug)
    return render_template("item_analysis.html", report=report, flag_labels=FLAG_LABELS)


@web.get("/quizzes/<slug>/analysis.csv")
@web_login_required(*COORDINATORS)
def analysis_csv(slug: str):
    return csv_response(item_analysis.quiz_item_analysis(db.session, slug))


WEB_BLUEPRINTS = (web, *SURVEY_WEB_BLUEPRINTS, *BANK_WEB_BLUEPRINTS)
