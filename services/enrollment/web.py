"""Enrollment's web pages: thin views that validate a form and call one handler."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from shared.app import runtime, select_language
from shared.auth import TOKEN_COOKIE, TokenIssuer, cookie_identity, web_login_required
from shared.competencies import area_name
from shared.db import utcnow
from shared.errors import DomainError, Invalid

from . import completion, handlers
from .competency_web import competency_web
from .completion_web import completion_web
from .dashboard_web import dashboard_web
from .forms import (
    PARTNER_KIND_LABELS,
    STATUS_LABELS,
    TRACK_LABELS,
    TYPE_LABELS,
    ActionForm,
    CancelSessionForm,
    CapacityForm,
    CatalogForm,
    LoginForm,
    NewProgrammeForm,
    NewSessionForm,
    PartnerForm,
    ProgrammeForm,
    PublicSeatForm,
    SessionForm,
    UserForm,
    attendance_form,
    reason,
    show_errors,
)
from .links import public_links
from .lms_web import lms_web
from .mentoring_web import mentoring_web
from .models import db
from .roster_web import roster_web

web = Blueprint("web", __name__)
MANAGERS = ("coordinator", "admin")


@web.app_context_processor
def labels():
    return {
        "type_labels": TYPE_LABELS,
        "track_labels": TRACK_LABELS,
        "status_labels": STATUS_LABELS,
        "partner_kind_labels": PARTNER_KIND_LABELS,
        "area_name": area_name,
        "manages": handlers.manages(cookie_identity()),
    }


def _refused(error: DomainError, target: str):
    """A business rule said no: its reason on the page the person came from."""
    db.session.rollback()
    flash(reason(error), "error")
    return redirect(target)


@web.get("/")
def home():
    return render_template("home.html", programmes=handlers.published_programmes(db.session)[:6])


def _safe_next(target: str | None) -> str:
    """Only back to ourselves: this host, or one of the configured service URLs."""
    fallback = url_for("web.programmes")
    if not target:
        return fallback
    parsed = urlparse(target)
    if not parsed.netloc and target.startswith("/") and not target.startswith("//"):
        return target
    allowed = [url for url in current_app.config["PUSTAKA_SERVICE_URLS"].values() if "://" in url]
    if parsed.netloc == request.host or any(target.startswith(url) for url in allowed):
        return target
    return fallback


@web.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = handlers.authenticate(db.session, form.email.data, form.password.data)
        except DomainError:
            form.password.errors.append(_("Wrong email or password."))
        else:
            issuer = TokenIssuer(runtime().private_key_file.read_bytes())
            response = redirect(_safe_next(request.args.get("next")))
            response.set_cookie(
                TOKEN_COOKIE,
                issuer.issue(handlers.identity_of(user)),
                max_age=int(issuer.lifetime.total_seconds()),
                httponly=True,
                samesite="Lax",
                secure=request.is_secure,
                path="/",
            )
            return response
    return render_template("login.html", form=form), 400 if form.errors else 200


@web.post("/logout")
def logout():
    response = redirect(url_for("web.home"))
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return response


# The catalog and programmes -------------------------------------------------------------


@web.get("/programmes")
def programmes():
    form = CatalogForm(formdata=request.args).set_choices(select_language())
    found = handlers.search_programmes(db.session, form.query()) if form.validate() else []
    drafts = []
    if handlers.manages(cookie_identity()):
        drafts = handlers.search_programmes(db.session, handlers.CatalogQuery(status="draft"))
    return render_template("programmes.html", form=form, programmes=found, drafts=drafts), (
        400 if form.errors else 200
    )


def _programme_form(form_class: type[ProgrammeForm]) -> ProgrammeForm:
    return form_class().set_choices(handlers.list_partners(db.session), select_language())


@web.route("/programmes/new", methods=["GET", "POST"])
@web_login_required(*MANAGERS)
def new_programme():
    form = _programme_form(NewProgrammeForm)
    if form.validate_on_submit():
        try:
            programme = handlers.create_programme(db.session, form.programme_data(), cookie_identity())
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Programme published.") if programme.status == "published" else _("Draft saved."))
            return redirect(url_for("web.programme", programme_id=programme.id))
    return render_template("programme_form.html", form=form, programme=None), 400 if form.errors else 200


@web.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@web_login_required(*MANAGERS)
def edit_programme(programme_id: int):
    programme = handlers.get_programme(db.session, programme_id)
    form = _programme_form(ProgrammeForm)
    if request.method == "GET":
        form.fill(programme)
    if form.validate_on_submit():
        try:
            handlers.update_programme(db.session, programme_id, form.programme_data())
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Programme saved."))
            return redirect(url_for("web.programme", programme_id=programme_id))
    return render_template("programme_form.html", form=form, programme=programme), 400 if form.errors else 200


@web.post("/programmes/<int:programme_id>/<any(publish, archive):action>")
@web_login_required(*MANAGERS)
def change_programme_status(programme_id: int, action: str):
    back = url_for("web.programme", programme_id=programme_id)
    change = handlers.publish_programme if action == "publish" else handlers.archive_programme
    try:
        change(db.session, programme_id)
    except DomainError as error:
        if error.status == 404:
            raise
        return _refused(error, back)
    db.session.commit()
    flash(_("Programme published.") if action == "publish" else _("Programme archived."))
    return redirect(back)


@web.get("/programmes/<int:programme_id>")
def programme(programme_id: int):
    identity = cookie_identity()
    enrolled = {}
    if identity:
        enrolled = {
            e.session_id: e
            for e in handlers.enrollments_of(db.session, identity.user_id)
            if e.status in ("confirmed", "waitlisted")
        }
    return render_template(
        "programme.html",
        programme=handlers.visible_programme(db.session, programme_id, identity),
        action_form=ActionForm(),
        enrolled=enrolled,
    )


# Sessions -------------------------------------------------------------------------------


def _session_form(form_class: type[SessionForm], programme_session=None) -> SessionForm:
    form = form_class()
    if request.method == "GET" and programme_session is not None:
        form.fill(programme_session)
    return form.set_choices(handlers.list_partners(db.session))


@web.get("/programmes/<int:programme_id>/sessions/new")
@web_login_required(*MANAGERS)
def new_session(programme_id: int):
    programme = handlers.get_programme(db.session, programme_id)
    return render_template("session_form.html", form=_session_form(NewSessionForm), programme=programme)


@web.post("/programmes/<int:programme_id>/sessions")
@web_login_required(*MANAGERS)
def add_session(programme_id: int):
    programme = handlers.get_programme(db.session, programme_id)
    form = _session_form(NewSessionForm)
    if form.validate_on_submit():
        try:
            handlers.add_session(db.session, programme_id, form.session_data())
        except DomainError as error:
            db.session.rollback()
            if error.status == 404:
                raise
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Session scheduled."))
            return redirect(url_for("web.programme", programme_id=programme_id))
    return render_template("session_form.html", form=form, programme=programme), 400


@web.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@web_login_required(*MANAGERS)
def edit_session(session_id: int):
    programme_session = handlers.get_session(db.session, session_id)
    form = _session_form(SessionForm, programme_session)
    if form.validate_on_submit():
        try:
            handlers.update_session(db.session, session_id, form.session_data())
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Session saved."))
            return redirect(url_for("web.programme", programme_id=programme_session.programme_id))
    return render_template(
        "session_form.html",
        form=form,
        programme=programme_session.programme,
        programme_session=programme_session,
    ), 400 if form.errors else 200


def _roster_page(session_id: int, status: int = 200, **forms):
    roster = handlers.roster(db.session, session_id)
    forms.setdefault("attendance_form", attendance_form(roster.confirmed))
    forms.setdefault("capacity_form", CapacityForm(formdata=None, data={"capacity": roster.session.capacity}))
    forms.setdefault("cancel_form", CancelSessionForm(formdata=None))
    return render_template("roster.html", roster=roster, action_form=ActionForm(), **forms), status


@web.get("/sessions/<int:session_id>/roster")
@web_login_required(*MANAGERS)
def roster(session_id: int):
    return _roster_page(session_id)


@web.post("/sessions/<int:session_id>/attendance")
@web_login_required(*MANAGERS)
def mark_attendance(session_id: int):
    form = attendance_form(handlers.roster(db.session, session_id).confirmed)
    if form.validate_on_submit():
        try:
            made = completion.mark_attendance(
                db.session,
                session_id,
                form.marks(),
                cookie_identity().user_id,
                completion.Settings.from_config(current_app.config),
            )[1]
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Attendance saved."))
            if made:
                flash(_("%(count)d learners completed the programme.", count=len(made)))
            return redirect(url_for("web.roster", session_id=session_id))
    return _roster_page(session_id, 400, attendance_form=form)


@web.post("/sessions/<int:session_id>/capacity")
@web_login_required(*MANAGERS)
def set_capacity(session_id: int):
    form = CapacityForm()
    status = 400
    if form.validate_on_submit():
        try:
            promoted = handlers.set_capacity(db.session, session_id, form.capacity.data)[1]
        except DomainError as error:
            db.session.rollback()
            if error.status == 404:
                raise
            form.capacity.errors = [reason(error)]
            status = error.status
        else:
            db.session.commit()
            flash(_("Capacity saved; %(count)d from the waiting list got a seat.", count=len(promoted)))
            return redirect(url_for("web.roster", session_id=session_id))
    return _roster_page(session_id, status, capacity_form=form)


@web.post("/sessions/<int:session_id>/cancel")
@web_login_required(*MANAGERS)
def cancel_session(session_id: int):
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            handlers.cancel_session(db.session, session_id, form.reason.data or "")
        except DomainError as error:
            db.session.rollback()
            if error.status == 404:
                raise
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Session cancelled; everyone in it is being told."))
            return redirect(url_for("web.roster", session_id=session_id))
    return _roster_page(session_id, 400, cancel_form=form)


# Enrolling ------------------------------------------------------------------------------


@web.post("/sessions/<int:session_id>/enroll")
@web_login_required()
def enroll(session_id: int):
    back = request.referrer or url_for("web.my_learning")
    try:
        enrollment = handlers.enroll(db.session, session_id, cookie_identity().user_id)
    except DomainError as error:
        if error.status == 404:
            raise
        return _refused(error, back)
    db.session.commit()
    if enrollment.status == "confirmed":
        flash(_("Your seat is confirmed."))
    else:
        flash(_("The session is full: you are on the waiting list."))
    return redirect(url_for("web.my_learning"))


@web.post("/enrollments/<int:enrollment_id>/cancel")
@web_login_required()
def cancel_enrollment(enrollment_id: int):
    back = request.referrer or url_for("web.my_learning")
    try:
        handlers.cancel_enrollment(db.session, enrollment_id, cookie_identity())
    except DomainError as error:
        if error.status == 404:
            raise
        return _refused(error, back)
    db.session.commit()
    flash(_("Your enrollment is cancelled."))
    return redirect(back)


@web.get("/my-learning")
@web_login_required()
def my_learning():
    identity = cookie_identity()
    return render_template(
        "my_learning.html",
        enrollments=handlers.enrollments_of(db.session, identity.user_id),
        records=handlers.learner_record(db.session, identity.user_id),
        completions=completion.completions_of(db.session, identity.user_id),
        action_form=ActionForm(),
        now=utcnow(),
    )


# Public classes -------------------------------------------------------------------------


@web.route("/sessions/<int:session_id>/join", methods=["GET", "POST"])
def join_public_class(session_id: int):
    programme_session = handlers.public_session(db.session, session_id)
    form = PublicSeatForm()
    if form.validate_on_submit():
        try:
            enrollment = handlers.request_public_seat(
                db.session,
                session_id,
                name=form.name.data,
                email=form.email.data,
                language=select_language(),
                links=lambda enrollment_id: public_links(current_app.config, enrollment_id),
            )
        except DomainError as error:
            db.session.rollback()
            if error.status == 404:
                raise
            show_errors(form, error)
        else:
            db.session.commit()
            return render_template("public_requested.html", enrollment=enrollment)
    return render_template("public_join.html", form=form, programme_session=programme_session), (
        400 if form.errors else 200
    )


@web.route("/public/<any(confirm, cancel):action>/<token>", methods=["GET", "POST"])
def public_seat(action: str, token: str):
    """The links of a public seat's email. A GET only asks (mail scanners follow links); the
    page's button acts."""
    enrollment_id = handlers.read_public_token(current_app.config["SECRET_KEY"], token, action)
    enrollment = handlers.get_public_seat(db.session, enrollment_id)
    form = ActionForm()
    done = action == "confirm" and enrollment.status == "confirmed"
    if request.method == "POST":  # the form's CSRF token was checked before the view
        change = handlers.confirm_public_seat if action == "confirm" else handlers.cancel_public_seat
        try:
            enrollment = change(db.session, enrollment_id)
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            return render_template(
                "public_seat.html", enrollment=enrollment, action=action, done=True, form=form
            )
    return render_template("public_seat.html", enrollment=enrollment, action=action, done=done, form=form), (
        409 if form.errors else 200
    )


# Partners -------------------------------------------------------------------------------


@web.get("/partners")
@web_login_required(*MANAGERS)
def partners():
    return render_template("partners.html", partners=handlers.list_partners(db.session))


@web.route("/partners/new", methods=["GET", "POST"])
@web.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@web_login_required(*MANAGERS)
def partner_form(partner_id: int | None = None):
    partner = handlers.get_partner(db.session, partner_id) if partner_id else None
    form = PartnerForm(obj=partner)
    if form.validate_on_submit():
        try:
            if partner:
                handlers.update_partner(db.session, partner_id, form.partner_data())
            else:
                partner = handlers.create_partner(db.session, form.partner_data())
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Partner “%(name)s” saved.", name=partner.name))
            return redirect(url_for("web.partners"))
    return render_template("partner_form.html", form=form, partner=partner), 400 if form.errors else 200


# Accounts -------------------------------------------------------------------------------


@web.route("/admin/users/new", methods=["GET", "POST"])
@web_login_required("admin")
def new_user():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = handlers.create_user(
                db.session,
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                language=form.language.data,
                roles=form.roles.data,
            )
        except DomainError:
            db.session.rollback()
            form.email.errors.append(_("An account with this email already exists."))
        else:
            db.session.commit()
            flash(_("Account created for %(email)s.", email=user.email))
            return redirect(url_for("web.new_user"))
    return render_template("user_form.html", form=form), 400 if form.errors else 200


WEB_BLUEPRINTS = (
    web,
    mentoring_web,
    competency_web,
    lms_web,
    roster_web,
    completion_web,
    dashboard_web,
)
