"""Competency pages: "my competencies" (level per area, a chart over time, the evidence), the same
for coordinators of any staff member, the framework (admins edit it) and the follow-ups after
training. Thin views over ``competencies.py``; the charts are SVG drawn here, readable without
JavaScript, each with a table of the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from shared.app import select_language
from shared.auth import cookie_identity, web_login_required
from shared.db import utcnow
from shared.errors import Invalid, NotFound
from shared.forms import PustakaForm
from shared.i18n import N_

from . import competencies
from .competency_api import COORDINATORS, followups_csv_response, grace
from .mentoring_web import LEVEL_LABELS, show_errors
from .models import User, db

competency_web = Blueprint("competencies", __name__, url_prefix="/competencies")

KIND_LABELS = {
    competencies.QUIZ: _l("Quiz"),
    competencies.PROGRAMME: _l("Completed programme"),
    competencies.MENTORING: _l("Confirmed mentoring goal"),
    competencies.LMS: _l("External course"),
}
STATE_LABELS = {
    competencies.UPCOMING: _l("Upcoming"),
    competencies.DUE: _l("Due"),
    competencies.OVERDUE: _l("Overdue"),
    competencies.DONE: _l("Done"),
}


# The chart -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A step line of the level over time, in SVG user units."""

    width: int
    height: int
    left: int
    right: int  # the x of the plot's right edge
    path: str  # empty when nothing was evidenced
    points: list[tuple[float, float, competencies.LevelChange]]
    level_y: dict[int, float]
    start: datetime
    end: datetime


def level_chart(changes: list[competencies.LevelChange], now: datetime) -> Chart:
    """From the first rise (or a month ago) to now; a level holds until the next rise."""
    width, height, left, right, top, bottom = 480, 150, 34, 468, 12, 126
    end = max(now, changes[-1].at) if changes else now  # an LMS may date a completion ahead of our clock
    start = min(changes[0].at, end - timedelta(days=1)) if changes else end - timedelta(days=30)
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round(left + (right - left) * (moment - start).total_seconds() / span, 1)

    level_y = {level: round(bottom - (bottom - top) * (level - 1) / 3, 1) for level in competencies.LEVELS}
    points = [(x(change.at), level_y[change.level], change) for change in changes]
    path = ""
    if points:
        path = f"M{points[0][0]},{points[0][1]}"
        for px, py, _change in points[1:]:
            path += f" H{px} V{py}"
        path += f" H{right}"
    return Chart(width, height, left, right, path, points, level_y, start, end)


# Profiles --------------------------------------------------------------------------------------


def _profile_page(user: User, own: bool):
    now = utcnow()
    profiles = competencies.profile(db.session, user.id)
    return render_template(
        "competencies/profile.html",
        person=user,
        own=own,
        profiles=profiles,
        charts={item.area.code: level_chart(item.changes, now) for item in profiles},
        level_labels=LEVEL_LABELS,
        kind_labels=KIND_LABELS,
    )


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such account."))
    return user


@competency_web.get("")
@web_login_required()
def mine():
    return _profile_page(_user(cookie_identity().user_id), own=True)


@competency_web.get("/staff")
@web_login_required(*COORDINATORS)
def staff():
    return render_template(
        "competencies/staff.html",
        rows=competencies.staff_levels(db.session),
        areas=competencies.framework(db.session),
    )


@competency_web.get("/staff/<int:user_id>")
@web_login_required(*COORDINATORS)
def staff_member(user_id: int):
    return _profile_page(_user(user_id), own=False)


# The framework ---------------------------------------------------------------------------------


@competency_web.get("/framework")
def framework():
    return render_template(
        "competencies/framework.html", areas=competencies.framework(db.session), level_labels=LEVEL_LABELS
    )


def area_form(area: competencies.CompetencyArea | None) -> PustakaForm:
    """The names, then per level its descriptor in both languages, filled from the area."""

    class AreaForm(PustakaForm):
        name_id = StringField(
            _l("Name (Indonesian)"), validators=[DataRequired(), Length(max=competencies.MAX_NAME)]
        )
        name_en = StringField(
            _l("Name (English)"), validators=[DataRequired(), Length(max=competencies.MAX_NAME)]
        )

    limits = [DataRequired(), Length(max=competencies.MAX_DESCRIPTOR)]
    for level in competencies.LEVELS:
        setattr(
            AreaForm,
            f"level_{level}_id",
            TextAreaField(_l("Level %(level)s (Indonesian)", level=level), validators=limits),
        )
        setattr(
            AreaForm,
            f"level_{level}_en",
            TextAreaField(_l("Level %(level)s (English)", level=level), validators=limits),
        )
    data = {}
    if area is not None:
        data = {"name_id": area.name_id, "name_en": area.name_en}
        for row in area.levels:
            data[f"level_{row.level}_id"], data[f"level_{row.level}_en"] = (
                row.descriptor_id,
                row.descriptor_en,
            )
    return AreaForm(data=data)


@competency_web.route("/framework/<code>", methods=["GET", "POST"])
@web_login_required("admin")
def edit_area(code: str):
    area = competencies.get_area(db.session, code)
    form = area_form(area)
    if form.validate_on_submit():
        descriptors = {
            level: (form[f"level_{level}_id"].data, form[f"level_{level}_en"].data)
            for level in competencies.LEVELS
        }
        try:
            competencies.update_area(
                db.session,
                code,
                name_id=form.name_id.data,
                name_en=form.name_en.data,
                descriptors=descriptors,
            )
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Competency area saved."))
            return redirect(url_for("competencies.framework"))
    return render_template("competencies/area_form.html", area=area, form=form), 400 if form.errors else 200


# Follow-ups ------------------------------------------------------------------------------------


class SettingForm(PustakaForm):
    programme_id = SelectField(_l("Programme"), coerce=int)
    weeks = IntegerField(
        _l("Weeks after completion"),
        validators=[InputRequired(), NumberRange(min=1, max=competencies.MAX_FOLLOWUP_WEEKS)],
    )
    quiz_slug = StringField(_l("Follow-up quiz (slug)"), validators=[Optional(), Length(max=100)])


def with_programmes(form: SettingForm) -> list[competencies.ProgrammeFollowUp]:
    """The staff programmes with their follow-up rules, which are also the form's choices."""
    settings = competencies.followup_settings(db.session, current_app.config["PUSTAKA_FOLLOWUP_WEEKS"])
    language = select_language()
    form.programme_id.choices = [
        SelectChoice(item.programme.id, item.programme.title(language)) for item in settings
    ]
    return settings


def _followups_page(form: SettingForm, status: int = 200):
    now = utcnow()
    settings = with_programmes(form)
    lines = competencies.followup_lines(
        db.session, now, grace(), (competencies.OVERDUE, competencies.DUE, competencies.UPCOMING)
    )
    return render_template(
        "competencies/followups.html",
        overdue=[line for line in lines if line.state == competencies.OVERDUE],
        due=[line for line in lines if line.state == competencies.DUE],
        upcoming=[line for line in lines if line.state == competencies.UPCOMING],
        settings=settings,
        form=form,
        default_weeks=current_app.config["PUSTAKA_FOLLOWUP_WEEKS"],
        grace_days=grace().days,
        now=now,
        grace=grace(),
        state_labels=STATE_LABELS,
    ), status


@competency_web.get("/follow-ups")
@web_login_required(*COORDINATORS)
def followups():
    return _followups_page(SettingForm(formdata=None, weeks=current_app.config["PUSTAKA_FOLLOWUP_WEEKS"]))


@competency_web.get("/follow-ups.csv")
@web_login_required(*COORDINATORS)
def followups_csv():
    return followups_csv_response((competencies.OVERDUE, competencies.DUE))


@competency_web.post("/follow-ups/settings")
@web_login_required(*COORDINATORS)
def set_followup_setting():
    form = SettingForm()
    with_programmes(form)
    if form.validate_on_submit():
        try:
            competencies.set_followup_setting(
                db.session, form.programme_id.data, form.weeks.data, form.quiz_slug.data
            )
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Follow-up setting saved."))
            return redirect(url_for("competencies.followups"))
    return _followups_page(form, status=400)
