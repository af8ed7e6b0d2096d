"""Feedback-survey pages: a learner's surveys to answer, and for coordinators the surveys' items
and the feedback per programme and session. Thin views: a form, then one call into ``surveys.py``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from shared.app import select_language
from shared.auth import cookie_identity, web_login_required
from shared.errors import Conflict, DomainError, Invalid
from shared.forms import PustakaForm

from . import surveys
from .models import db
from .survey_api import COORDINATORS, feedback_csv_response

surveys_web = Blueprint("surveys", __name__, url_prefix="/surveys")

LIKERT_LABELS = (
    _l("Strongly disagree"),
    _l("Disagree"),
    _l("Neither agree nor disagree"),
    _l("Agree"),
    _l("Strongly agree"),
)
KIND_LABELS = {surveys.LIKERT: _l("Rating from 1 to 5"), surveys.TEXT: _l("Free text")}
CHOOSE_ONE = _l("Choose one of the five answers.")
MOVES = {"up": -1, "down": 1}


# Forms -----------------------------------------------------------------------------------------


def item_field(item: surveys.SurveyItem) -> str:
    return f"item_{item.id}"


def response_form(items: list[surveys.SurveyItem], language: str) -> PustakaForm:
    """A form with one field per item: five radio buttons for a rating, a text area for a question."""

    class ResponseForm(PustakaForm):
        pass

    for item in items:
        if item.kind == surveys.LIKERT:
            field = RadioField(
                item.text(language),
                choices=[
                    SelectChoice(str(rating), label)
                    for rating, label in zip(surveys.SCALE, LIKERT_LABELS, strict=True)
                ],
                validators=[InputRequired(message=CHOOSE_ONE)],
                invalid_choice_message=CHOOSE_ONE,
            )
        else:
            field = TextAreaField(
                item.text(language), validators=[Optional(), Length(max=surveys.MAX_COMMENT)]
            )
        setattr(ResponseForm, item_field(item), field)
    return ResponseForm()


class TitleForm(PustakaForm):
    title_id = StringField(_l("Title (Indonesian)"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=300)])


class ItemForm(PustakaForm):
    text_id = TextAreaField(
        _l("Text (Indonesian)"), validators=[DataRequired(), Length(max=surveys.MAX_TEXT)]
    )
    text_en = TextAreaField(_l("Text (English)"), validators=[DataRequired(), Length(max=surveys.MAX_TEXT)])


class NewItemForm(ItemForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(kind, label) for kind, label in KIND_LABELS.items()])


class ProgrammeSurveyForm(PustakaForm):
    programme_id = SelectField(_l("Programme"), coerce=int)


def show_errors(form: PustakaForm, error: DomainError, prefix: str = "") -> None:
    """A business rule's refusal on the form: each message under its field, the rest above the form."""
    for key, messages in error.errors.items():
        field = form._fields.get(prefix + key)
        translated = [_(message) for message in messages]
        if field is None:
            form.form_errors.extend(translated)
        else:
            field.errors = [*field.errors, *translated]
    if not error.errors:
        form.form_errors.append(_(error.message))


# A learner's surveys ---------------------------------------------------------------------------


@surveys_web.get("")
@web_login_required()
def pending():
    invitations = surveys.pending_invitations(db.session, cookie_identity().user_id)
    return render_template("surveys/pending.html", invitations=invitations)


@surveys_web.route("/<int:invitation_id>", methods=["GET", "POST"])
@web_login_required()
def answer(invitation_id: int):
    invitation = surveys.get_invitation(db.session, invitation_id, cookie_identity().user_id)
    items = invitation.survey.active_items
    form = response_form(items, select_language())
    if invitation.answered_at is None and form.validate_on_submit():
        ratings = {item.id: int(form[item_field(item)].data) for item in items if item.kind == surveys.LIKERT}
        comments = {item.id: form[item_field(item)].data or "" for item in items if item.kind == surveys.TEXT}
        try:
            surveys.submit_response(db.session, invitation, ratings, comments)
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error, prefix="item_")
        except Conflict:
            db.session.rollback()
        else:
            db.session.commit()
            flash(_("Thank you! Your answers are saved."))
            return redirect(url_for("surveys.pending"))
    if invitation.answered_at is not None:
        return render_template("surveys/answered.html", invitation=invitation), (
            409 if request.method == "POST" else 200
        )
    return render_template(
        "surveys/answer.html", invitation=invitation, items=items, form=form, field_of=item_field
    ), 400 if form.errors else 200


# Feedback for coordinators ---------------------------------------------------------------------


@surveys_web.get("/results")
@web_login_required(*COORDINATORS)
def results():
    return render_template("surveys/results.html", programmes=surveys.feedback_programmes(db.session))


@surveys_web.get("/results/<int:programme_id>")
@web_login_required(*COORDINATORS)
def programme_results(programme_id: int):
    report = surveys.programme_feedback(db.session, programme_id)
    return render_template("surveys/programme_results.html", report=report, labels=LIKERT_LABELS)


@surveys_web.get("/results/<int:programme_id>.csv")
@web_login_required(*COORDINATORS)
def programme_results_csv(programme_id: int):
    return feedback_csv_response(surveys.programme_feedback(db.session, programme_id))


# Editing surveys (the app's CSRF protection checks every form posted here) --------------------


def _programme_choices() -> list[SelectChoice]:
    language = select_language()
    return [
        SelectChoice(programme.programme_id, programme.title_en if language == "en" else programme.title_id)
        for programme in surveys.programmes_on_default_survey(db.session)
    ]


@surveys_web.route("/manage", methods=["GET", "POST"])
@web_login_required(*COORDINATORS)
def manage():
    form = ProgrammeSurveyForm()
    form.programme_id.choices = _programme_choices()
    if form.validate_on_submit():
        try:
            survey = surveys.create_programme_survey(db.session, form.programme_id.data)
        except (Conflict, Invalid) as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The programme has its own survey now, a copy of the default one."))
            return redirect(url_for("surveys.edit_survey", survey_id=survey.id))
    return render_template(
        "surveys/manage.html", surveys=surveys.list_surveys(db.session), form=form
    ), 400 if form.errors else 200


def _survey_page(
    survey: surveys.Survey, title_form: TitleForm | None = None, item_form: NewItemForm | None = None
):
    title_form = title_form or TitleForm(formdata=None, obj=survey)
    item_form = item_form or NewItemForm(formdata=None)
    status = 400 if (title_form.errors or item_form.errors) else 200
    return render_template(
        "surveys/survey.html",
        survey=survey,
        title_form=title_form,
        item_form=item_form,
        kind_labels=KIND_LABELS,
    ), status


@surveys_web.route("/manage/<int:survey_id>", methods=["GET", "POST"])
@web_login_required(*COORDINATORS)
def edit_survey(survey_id: int):
    survey = surveys.get_survey(db.session, survey_id)
    if request.method == "GET":
        return _survey_page(survey)
    form = TitleForm()
    if form.validate_on_submit():
        try:
            surveys.update_survey(
                db.session, survey_id, {"title_id": form.title_id.data, "title_en": form.title_en.data}
            )
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The survey is saved."))
            return redirect(url_for("surveys.edit_survey", survey_id=survey_id))
    return _survey_page(survey, title_form=form)


@surveys_web.post("/manage/<int:survey_id>/items")
@web_login_required(*COORDINATORS)
def add_item(survey_id: int):
    survey = surveys.get_survey(db.session, survey_id)
    form = NewItemForm()
    if form.validate_on_submit():
        try:
            surveys.add_item(db.session, survey_id, form.kind.data, form.text_id.data, form.text_en.data)
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The item is added."))
            return redirect(url_for("surveys.edit_survey", survey_id=survey_id))
    return _survey_page(survey, item_form=form)


@surveys_web.route("/manage/<int:survey_id>/items/<int:item_id>", methods=["GET", "POST"])
@web_login_required(*COORDINATORS)
def edit_item(survey_id: int, item_id: int):
    item = surveys.get_item(db.session, survey_id, item_id)
    form = ItemForm(obj=item)
    if form.validate_on_submit():
        try:
            surveys.update_item(
                db.session, survey_id, item_id, {"text_id": form.text_id.data, "text_en": form.text_en.data}
            )
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The item is saved."))
            return redirect(url_for("surveys.edit_survey", survey_id=survey_id))
    return render_template("surveys/item.html", item=item, form=form, kind_labels=KIND_LABELS), (
        400 if form.errors else 200
    )


@surveys_web.post("/manage/<int:survey_id>/items/<int:item_id>/move")
@web_login_required(*COORDINATORS)
def move_item(survey_id: int, item_id: int):
    offset = MOVES.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    surveys.move_item(db.session, survey_id, item_id, offset)
    db.session.commit()
    return redirect(url_for("surveys.edit_survey", survey_id=survey_id))


@surveys_web.post("/manage/<int:survey_id>/items/<int:item_id>/remove")
@web_login_required(*COORDINATORS)
def remove_item(survey_id: int, item_id: int):
    try:
        surveys.remove_item(db.session, survey_id, item_id)
    except Invalid as error:
        db.session.rollback()
        flash(_(error.message), "error")
    else:
        db.session.commit()
        flash(_("The item is removed."))
    return redirect(url_for("surveys.edit_survey", survey_id=survey_id))


SURVEY_WEB_BLUEPRINTS = (surveys_web,)
