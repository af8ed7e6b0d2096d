"""Admin pages of the external LMSs: the clients, a client's secret (shown once, at creation and at
each rotation), its course mapping, the external ids of learners, and what waits for its learner.
Thin views: a form, then one call into ``lms.py``."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from shared.app import select_language
from shared.auth import web_login_required
from shared.competencies import AREAS
from shared.db import utcnow
from shared.errors import DomainError
from shared.forms import PustakaForm

from . import lms
from .forms import ActionForm, CheckboxesField, email_address, show_errors
from .models import db

lms_web = Blueprint("lms", __name__, url_prefix="/admin/lms")


class ClientForm(PustakaForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("Lower-case letters, digits, dots, hyphens and underscores, e.g. moodle-dispusip."),
    )


class RotateForm(PustakaForm):
    overlap_hours = IntegerField(
        _l("Hours the current secret is still accepted"),
        default=24,
        validators=[NumberRange(min=0, max=168)],
    )


class CourseForm(PustakaForm):
    course_id = StringField(_l("Course id at the LMS"), validators=[DataRequired(), Length(max=500)])
    title = StringField(_l("Title"), validators=[Length(max=300)])
    programme_id = SelectField(_l("Programme"), coerce=lambda value: int(value) if value else None)
    competency_areas = CheckboxesField(_l("Competency areas"))

    def with_choices(self, programmes: list) -> CourseForm:
        language = select_language()
        self.programme_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(programme.id, programme.title(language)) for programme in programmes
        ]
        self.competency_areas.choices = [
            SelectChoice(code, area.name(language)) for code, area in AREAS.items()
        ]
        return self


class ExternalIdForm(PustakaForm):
    external_id = StringField(_l("Learner's id at the LMS"), validators=[DataRequired(), Length(max=254)])
    email = EmailField(
        _l("Email of the account"), validators=[DataRequired(), email_address, Length(max=254)]
    )


@lms_web.route("", methods=["GET", "POST"])
@web_login_required("admin")
def clients():
    form = ClientForm()
    if form.validate_on_submit():
        try:
            client, secret = lms.create_client(db.session, lms.secret_box(current_app.config), form.name.data)
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            return render_template("lms/secret.html", client=client, secret=secret, created=True)
    page = render_template("lms/clients.html", clients=lms.list_clients(db.session), form=form)
    return page, 400 if form.errors or form.form_errors else 200


def _client_page(client_id: int, status: int = 200, **forms: PustakaForm):
    """The client's page, with the forms given (a refused one keeps its input and errors)."""
    client = lms.get_client(db.session, client_id)
    page = render_template(
        "lms/client.html",
        client=client,
        pending=lms.pending_items(db.session, client_id),
        deliveries=lms.recent_deliveries(db.session, client_id),
        action_form=ActionForm(),
        rotate_form=forms.get("rotate_form") or RotateForm(formdata=None),
        course_form=forms.get("course_form")
        or CourseForm(formdata=None).with_choices(lms.mappable_programmes(db.session)),
        external_id_form=forms.get("external_id_form") or ExternalIdForm(formdata=None),
        area_names={code: area.name(select_language()) for code, area in AREAS.items()},
        now=utcnow(),
    )
    return page, status


@lms_web.get("/<int:client_id>")
@web_login_required("admin")
def client(client_id: int):
    return _client_page(client_id)


@lms_web.post("/<int:client_id>/active")
@web_login_required("admin")
def toggle(client_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        client = lms.get_client(db.session, client_id)
        lms.set_active(db.session, client_id, not client.active)
        db.session.commit()
        flash(
            _("The client is enabled.")
            if client.active
            else _("The client is disabled: its posts are refused.")
        )
    return redirect(url_for("lms.client", client_id=client_id))


@lms_web.post("/<int:client_id>/rotate")
@web_login_required("admin")
def rotate(client_id: int):
    form = RotateForm()
    if not form.validate_on_submit():
        return _client_page(client_id, 400, rotate_form=form)
    box = lms.secret_box(current_app.config)
    client, secret = lms.rotate_secret(db.session, box, client_id, timedelta(hours=form.overlap_hours.data))
    db.session.commit()
    return render_template("lms/secret.html", client=client, secret=secret, created=False)


@lms_web.post("/<int:client_id>/courses")
@web_login_required("admin")
def map_course(client_id: int):
    form = CourseForm().with_choices(lms.mappable_programmes(db.session))
    if form.validate_on_submit():
        try:
            lms.set_course(
                db.session,
                client_id,
                course_id=form.course_id.data,
                title=form.title.data or "",
                programme_id=form.programme_id.data,
                competency_areas=form.competency_areas.data or [],
            )
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Course %(course)s mapped.", course=form.course_id.data.strip()))
            return redirect(url_for("lms.client", client_id=client_id))
    return _client_page(client_id, 400, course_form=form)


@lms_web.post("/<int:client_id>/courses/<int:mapping_id>/delete")
@web_login_required("admin")
def unmap_course(client_id: int, mapping_id: int):
    if ActionForm().validate_on_submit():
        lms.remove_course(db.session, client_id, mapping_id)
        db.session.commit()
        flash(_("The course mapping is removed."))
    return redirect(url_for("lms.client", client_id=client_id))


@lms_web.post("/<int:client_id>/external-ids")
@web_login_required("admin")
def add_external_id(client_id: int):
    form = ExternalIdForm()
    if form.validate_on_submit():
        try:
            attached = lms.add_external_id(db.session, client_id, form.external_id.data, form.email.data)[1]
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("External id stored; %(count)d waiting items recorded.", count=attached))
            return redirect(url_for("lms.client", client_id=client_id))
    return _client_page(client_id, 400, external_id_form=form)


@lms_web.post("/<int:client_id>/external-ids/<int:row_id>/delete")
@web_login_required("admin")
def remove_external_id(client_id: int, row_id: int):
    if ActionForm().validate_on_submit():
        lms.remove_external_id(db.session, client_id, row_id)
        db.session.commit()
        flash(_("The external id is removed."))
    return redirect(url_for("lms.client", client_id=client_id))
