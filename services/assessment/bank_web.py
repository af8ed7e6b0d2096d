"""The coordinators' question-bank pages: the bank with its filters, a form per question type,
versions, preview, retiring, and GIFT/Aiken files in and out. Thin views: a form, then one call
into ``handlers.py``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer

from shared.auth import web_login_required
from shared.errors import Conflict, Invalid

from . import handlers
from .api import COORDINATORS, UPLOAD_OVERHEAD, gift_response, limit_body
from .forms import (
    DIFFICULTY_LABELS,
    FORMAT_LABELS,
    BodyForm,
    ConfirmForm,
    FilterForm,
    QuestionForm,
    UploadForm,
    form_response,
    form_types,
    show_errors,
)
from .models import Question, db
from .question_types import question_types

bank_web = Blueprint("bank", __name__, url_prefix="/questions")

STATUS_LABELS = {
    "new": _l("New"),
    "new_version": _l("Changed: saved as a new version"),
    "updated": _l("Areas or difficulty changed"),
    "unchanged": _l("Already in the bank: skipped"),
}
# The checked file travels in the confirming form: compressed, at most this much.
CONFIRM_LIMIT = 3 * handlers.MAX_IMPORT_BYTES


@bank_web.app_context_processor
def bank_helpers():
    return {
        "type_labels": {name: kind.label for name, kind in question_types().items()},
        "difficulty_labels": DIFFICULTY_LABELS,
    }


@bank_web.get("")
@web_login_required(*COORDINATORS)
def questions():
    filters = FilterForm(request.args).set_choices(handlers.categories(db.session))
    return render_template(
        "bank/questions.html",
        filters=filters,
        questions=handlers.find_questions(db.session, **filters.filters()),
        new_types=form_types(),
    )


# A question --------------------------------------------------------------------------------------


def _question_page(form: QuestionForm, body: BodyForm, question=None):
    errors = form.errors or form.form_errors or body.errors
    return render_template(
        "bank/question.html",
        form=form,
        body=body,
        question=question,
        categories=handlers.categories(db.session),
    ), (400 if errors else 200)


def _save(form: QuestionForm, body: BodyForm, save: Callable[[dict], Question]) -> Question | None:
    """Check the form, then let the bank check the question; every fault shows at once."""
    if request.form.get("action") == "rows":  # more empty rows, nothing saved
        body.add_rows()
        return None
    if not form.validate_on_submit():
        body.show_errors(_body_faults(body))
        return None
    try:
        question = save(form.spec(body.type, body.body()))
    except (Invalid, Conflict) as error:
        db.session.rollback()
        show_errors(form, body, error)
        return None
    db.session.commit()
    return question


def _body_faults(body: BodyForm) -> dict[str, list[str]]:
    try:
        question_types()[body.type].normalise_body(body.body())
    except Invalid as error:
        return error.errors
    return {}


@bank_web.route("/new", methods=["GET", "POST"])
@web_login_required(*COORDINATORS)
def new_question():
    type_name = request.args.get("type", "")
    form = QuestionForm()
    if request.method == "GET":
        return _question_page(form, BodyForm.new(type_name))
    body = BodyForm.posted(type_name, request.form)
    question = _save(form, body, partial(handlers.create_question, db.session))
    if question is not None:
        flash(_("The question is saved."))
        return redirect(url_for("bank.edit_question", question_id=question.id))
    return _question_page(form, body)


@bank_web.route("/<int:question_id>", methods=["GET", "POST"])
@web_login_required(*COORDINATORS)
def edit_question(question_id: int):
    question = handlers.get_question(db.session, question_id)
    type_name = question.current.type
    if request.method == "GET":
        spec = handlers.question_spec(question)
        return _question_page(QuestionForm.of_spec(spec), BodyForm.of_body(type_name, spec["body"]), question)
    form, body = QuestionForm(), BodyForm.posted(type_name, request.form)
    before = question.version_number
    if _save(form, body, partial(handlers.update_question, db.session, question_id)):
        if question.version_number > before:
            flash(_("The question is saved as version %(number)s.", number=question.version_number))
        else:
            flash(_("The question is saved; its content is the same, so no new version."))
        return redirect(url_for("bank.edit_question", question_id=question_id))
    return _question_page(form, body, question)


@bank_web.post("/<int:question_id>/<any(retire, unretire):action>")
@web_login_required(*COORDINATORS)
def retire(question_id: int, action: str):
    handlers.set_retired(db.session, question_id, action == "retire")
    db.session.commit()
    flash(_("The question is retired.") if action == "retire" else _("The question is in use again."))
    return redirect(url_for("bank.edit_question", question_id=question_id))


@bank_web.route("/<int:question_id>/preview", methods=["GET", "POST"])
@web_login_required(*COORDINATORS)
def preview_question(question_id: int):
    """The question as a taker sees it; a coordinator may try an answer and see its review."""
    question = handlers.get_question(db.session, question_id)
    item = handlers.preview(question) | {"position": 1, "response": None}
    review, errors = handlers.answer_preview(question, None), []
    tried = request.method == "POST"
    if tried:
        item["response"] = form_response(question.id, question.current, request.form)
        try:
            review = handlers.answer_preview(question, item["response"])
        except Invalid as error:
            errors = error.errors.get("response") or [error.message]
            tried = False
    if not tried:  # before an answer is tried, only what does not depend on it
        review = {key: review[key] for key in ("correct_answer", "general_feedback")} | {"feedback": []}
    return render_template(
        "bank/preview.html", question=question, item=item, review=item | review, errors=errors
    ), (400 if errors else 200)


# GIFT and Aiken files ---------------------------------------------------------------------------


def _pending_imports() -> URLSafeSerializer:
    # No state between checking a file and importing it: the confirming form carries it, signed.
    return URLSafeSerializer(current_app.secret_key, salt="question-import")


@bank_web.route("/import", methods=["GET", "POST"])
@web_login_required(*COORDINATORS)
def import_upload():
    """Upload a file: a dry run reports what importing it would do, for the user to confirm."""
    form = UploadForm(formdata=None)
    if request.method == "GET":
        return render_template("bank/import.html", form=form, formats=FORMAT_LABELS)
    try:
        limit_body(handlers.MAX_IMPORT_BYTES + UPLOAD_OVERHEAD)
        form = UploadForm()
        if form.validate_on_submit():
            text = handlers.import_text(form.file.data.stream.read(handlers.MAX_IMPORT_BYTES + 1))
            upload = {
                "file": form.file.data.filename,
                "format": form.format.data,
                "category": form.category.data,
                "text": text,
            }
            return _report_page(upload, ConfirmForm(formdata=None, upload=_pending_imports().dumps(upload)))
    except Invalid as error:
        form.file.errors = [*form.file.errors, *(_(message) for message in error.errors.get("file", []))]
        return render_template("bank/import.html", form=form, formats=FORMAT_LABELS), error.status
    return render_template("bank/import.html", form=form, formats=FORMAT_LABELS), 400


def _report_page(upload: dict, confirm: ConfirmForm, status: int = 200):
    result = handlers.import_questions(
        db.session, upload["text"], format=upload["format"], category=upload["category"], dry_run=True
    )
    return render_template(
        "bank/import_report.html",
        upload=upload,
        result=result,
        confirm=confirm,
        statuses=STATUS_LABELS,
        formats=FORMAT_LABELS,
    ), status


@bank_web.post("/import/confirm")
@web_login_required(*COORDINATORS)
def import_confirm():
    limit_body(CONFIRM_LIMIT)
    request.max_form_memory_size = CONFIRM_LIMIT
    confirm = ConfirmForm()
    try:
        upload = _pending_imports().loads(confirm.upload.data or "")
    except BadData:
        flash(_("The checked file could not be read back: upload it again."), "error")
        return redirect(url_for("bank.import_upload"))
    if not confirm.validate_on_submit():
        return _report_page(upload, confirm, 400)
    result = handlers.import_questions(
        db.session,
        upload["text"],
        format=upload["format"],
        category=upload["category"],
        accept_partial=confirm.accept_partial.data,
    )
    if not result.imported:
        db.session.rollback()
        confirm.form_errors.append(
            _(
                "The file has problems, so nothing was imported. Tick the box to import the valid questions only."
            )
        )
        return _report_page(upload, confirm, 400)
    db.session.commit()
    flash(
        _(
            "Imported: %(new)s new, %(new_version)s new versions, %(updated)s updated, %(unchanged)s unchanged.",
            **result.counts(),
        )
    )
    return redirect(url_for("bank.questions"))


@bank_web.record_once
def _check_csrf_in_the_forms(state) -> None:
    # The app's CSRF check reads the whole body before any view runs; these views first set the
    # size limits, then their forms check the token themselves.
    csrf = state.app.extensions["csrf"]
    csrf.exempt(import_upload)
    csrf.exempt(import_confirm)


@bank_web.get("/export.gift")
@web_login_required(*COORDINATORS)
def export():
    return gift_response(request.args.get("category") or None)


BANK_WEB_BLUEPRINTS = (bank_web,)
