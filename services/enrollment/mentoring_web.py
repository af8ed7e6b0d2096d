"""Mentoring pages: "my mentoring" for mentors and mentees, a pair's page (goals, meetings), and for
coordinators the pairing form and every pair's activity. Thin views: a form, then one call into
``mentoring.py``."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, FieldList, FormField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from shared.app import select_language
from shared.auth import cookie_identity, web_login_required
from shared.db import utcnow
from shared.errors import Conflict, DomainError, Invalid
from shared.forms import PustakaForm
from shared.localtime import JAKARTA

from . import competencies, mentoring
from .models import User, db

mentoring_web = Blueprint("mentoring", __name__, url_prefix="/mentoring")


@mentoring_web.app_template_filter("date_dmy")
def date_dmy(day: date | datetime) -> str:
    """A calendar day as Semarang writes it; a moment as its day in Semarang."""
    if isinstance(day, datetime):
        day = day.astimezone(JAKARTA).date()
    return day.strftime("%d-%m-%Y")


GOAL_ROWS = 3
LEVEL_LABELS = {
    1: _l("1 · Foundational"),
    2: _l("2 · Practitioner"),
    3: _l("3 · Advanced"),
    4: _l("4 · Expert"),
}


# Forms -----------------------------------------------------------------------------------------


class GoalForm(PustakaForm):
    """One goal; as a row of the pairing form it may be left empty."""

    class Meta:
        csrf = False  # a row of the pairing form, which carries the token

    # Not Optional(): that would skip the checks below, which need the other field of the row.
    area = SelectField(_l("Competency area"))
    description = StringField(_l("Goal"), validators=[Length(max=mentoring.MAX_DESCRIPTION)])
    target_level = SelectField(
        _l("Target level"),
        coerce=int,
        default=2,
        choices=[SelectChoice(level, label) for level, label in LEVEL_LABELS.items()],
    )

    def is_blank(self) -> bool:
        return not self.area.data and not (self.description.data or "").strip()

    def validate_area(self, field) -> None:
        if not field.data and (self.description.data or "").strip():
            raise ValidationError(_l("Choose a competency area."))

    def validate_description(self, field) -> None:
        if self.area.data and not (field.data or "").strip():
            raise ValidationError(_l("Describe the goal."))

    def spec(self) -> dict:
        return {
            "area": self.area.data,
            "description": self.description.data,
            "target_level": self.target_level.data,
        }


class NewGoalForm(GoalForm):
    class Meta:
        csrf = True  # posted on its own

    area = SelectField(_l("Competency area"), validators=[DataRequired()])
    description = StringField(_l("Goal"), validators=[DataRequired(), Length(max=mentoring.MAX_DESCRIPTION)])


class PairForm(PustakaForm):
    mentor_id = SelectField(_l("Mentor (senior librarian)"), coerce=int)
    mentee_id = SelectField(_l("Mentee (junior librarian)"), coerce=int)
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    goals = FieldList(FormField(GoalForm), min_entries=GOAL_ROWS, max_entries=GOAL_ROWS)

    def validate_mentee_id(self, field) -> None:
        if field.data == self.mentor_id.data:
            raise ValidationError(_l("The mentee must be someone other than the mentor."))

    def validate_ends_on(self, field) -> None:
        if self.starts_on.data and field.data and field.data <= self.starts_on.data:
            raise ValidationError(_l("The period must end after it starts."))


class MeetingForm(PustakaForm):
    met_on = DateField(_l("Date of the meeting"), validators=[DataRequired()])
    topics = TextAreaField(_l("Topics"), validators=[DataRequired(), Length(max=mentoring.MAX_NOTES)])
    actions = TextAreaField(_l("Agreed actions"), validators=[Optional(), Length(max=mentoring.MAX_NOTES)])


class ActionForm(PustakaForm):
    """Just the CSRF token: the goal and the person come from the URL and the login."""


def area_choices() -> list[SelectChoice]:
    language = select_language()
    return [SelectChoice(area.code, area.name(language)) for area in competencies.framework(db.session)]


def with_area_choices(form: GoalForm, blank: bool) -> GoalForm:
    form.area.choices = ([SelectChoice("", "—")] if blank else []) + area_choices()
    return form


def show_errors(form: PustakaForm, error: DomainError) -> None:
    """A business rule's refusal on the form: each message under its field, the rest above it."""
    for key, messages in error.errors.items():
        field = form._fields.get(key)
        translated = [_(message) for message in messages]
        if field is None or isinstance(field, FieldList):
            form.form_errors.extend(translated)
        else:
            field.errors = [*field.errors, *translated]
    if not error.errors:
        form.form_errors.append(_(error.message))


# My mentoring ----------------------------------------------------------------------------------


@mentoring_web.get("")
@web_login_required()
def mine():
    identity = cookie_identity()
    return render_template(
        "mentoring/mine.html", pairs=mentoring.activity(db.session, utcnow(), user_id=identity.user_id)
    )


@mentoring_web.get("/pairs/<int:pair_id>")
@web_login_required()
def pair_page(pair_id: int):
    return _pair_page(pair_id, MeetingForm(formdata=None), NewGoalForm(formdata=None))


def _pair_page(pair_id: int, meeting_form: MeetingForm, goal_form: NewGoalForm, status: int = 200):
    identity = cookie_identity()
    found = mentoring.visible_pair(db.session, pair_id, identity)
    areas = {area.code: area for area in competencies.framework(db.session)}
    return render_template(
        "mentoring/pair.html",
        pair=found,
        role=found.role_of(identity.user_id),
        can_set_goals=identity.user_id == found.mentor_id or identity.has_any(*mentoring.COORDINATORS),
        areas=areas,
        level_labels=LEVEL_LABELS,
        meeting_form=meeting_form,
        goal_form=with_area_choices(goal_form, blank=False),
        action_form=ActionForm(),
    ), status


@mentoring_web.post("/pairs/<int:pair_id>/meetings")
@web_login_required()
def log_meeting(pair_id: int):
    form = MeetingForm()
    if form.validate_on_submit():
        try:
            mentoring.log_meeting(
                db.session,
                pair_id,
                cookie_identity().user_id,
                met_on=form.met_on.data,
                topics=form.topics.data,
                actions=form.actions.data or "",
                now=utcnow(),
            )
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Meeting recorded."))
            return redirect(url_for("mentoring.pair_page", pair_id=pair_id))
    return _pair_page(pair_id, form, NewGoalForm(formdata=None), status=400)


@mentoring_web.post("/pairs/<int:pair_id>/goals")
@web_login_required()
def add_goal(pair_id: int):
    form = with_area_choices(NewGoalForm(), blank=False)
    if form.validate_on_submit():
        try:
            mentoring.add_goal(db.session, pair_id, cookie_identity(), form.spec())
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Goal added."))
            return redirect(url_for("mentoring.pair_page", pair_id=pair_id))
    return _pair_page(pair_id, MeetingForm(formdata=None), form, status=400)


@mentoring_web.post("/pairs/<int:pair_id>/goals/<int:goal_id>/met")
@web_login_required()
def mark_goal_met(pair_id: int, goal_id: int):
    if ActionForm().validate_on_submit():
        mentoring.mark_goal_met(db.session, pair_id, goal_id, cookie_identity().user_id, utcnow())
        db.session.commit()
        flash(_("Goal marked met: your mentor will confirm it."))
    return redirect(url_for("mentoring.pair_page", pair_id=pair_id))


@mentoring_web.post("/pairs/<int:pair_id>/goals/<int:goal_id>/confirm")
@web_login_required()
def confirm_goal(pair_id: int, goal_id: int):
    if ActionForm().validate_on_submit():
        try:
            mentoring.confirm_goal(db.session, pair_id, goal_id, cookie_identity().user_id, utcnow())
        except Conflict as error:
            db.session.rollback()
            flash(_(error.message), "error")
        else:
            db.session.commit()
            flash(_("Goal confirmed: it now counts in the mentee's competency profile."))
    return redirect(url_for("mentoring.pair_page", pair_id=pair_id))


# Coordinators ----------------------------------------------------------------------------------


@mentoring_web.get("/pairs")
@web_login_required(*mentoring.COORDINATORS)
def pairs():
    return render_template("mentoring/pairs.html", pairs=mentoring.activity(db.session, utcnow()))


@mentoring_web.route("/pairs/new", methods=["GET", "POST"])
@web_login_required(*mentoring.COORDINATORS)
def new_pair():
    form = PairForm()
    people = [SelectChoice(user.id, f"{user.name} ({user.email})") for user in db.session.scalars(
        select(User).order_by(User.name, User.id)
    )]  # fmt: skip
    form.mentor_id.choices = form.mentee_id.choices = people
    for row in form.goals:
        with_area_choices(row.form, blank=True)
    if form.validate_on_submit():
        rows = [row.form for row in form.goals if not row.form.is_blank()]
        try:
            created = mentoring.pair(
                db.session,
                mentor_id=form.mentor_id.data,
                mentee_id=form.mentee_id.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                goals=[row.spec() for row in rows],
                created_by=cookie_identity().user_id,
            )
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Pair created: both were told."))
            return redirect(url_for("mentoring.pair_page", pair_id=created.id))
    return render_template(
        "mentoring/pair_form.html", form=form, level_labels=LEVEL_LABELS
    ), 400 if form.errors or form.form_errors else 200
