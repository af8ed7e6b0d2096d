"""Enrollment's web pages: thin views that validate a form and call one handler."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from shared.app import runtime
from shared.auth import TOKEN_COOKIE, TokenIssuer, cookie_identity, web_login_required
from shared.errors import DomainError

from . import handlers
from .forms import TRACK_LABELS, TYPE_LABELS, EnrollForm, LoginForm, ProgrammeForm, SessionForm, UserForm
from .models import db

web = Blueprint("web", __name__)


@web.app_context_processor
def labels():
    return {"type_labels": TYPE_LABELS, "track_labels": TRACK_LABELS}


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


@web.get("/programmes")
def programmes():
    return render_template("programmes.html", programmes=handlers.published_programmes(db.session))


@web.route("/programmes/new", methods=["GET", "POST"])
@web_login_required("coordinator", "admin")
def new_programme():
    form = ProgrammeForm()
    if form.validate_on_submit():
        programme = handlers.create_programme(db.session, form.programme_data(), cookie_identity())
        db.session.commit()
        flash(_("Programme created."))
        return redirect(url_for("web.programme", programme_id=programme.id))
    return render_template("programme_form.html", form=form), 400 if form.errors else 200


@web.get("/programmes/<int:programme_id>")
def programme(programme_id: int):
    return _programme_page(programme_id, SessionForm(formdata=None))


def _programme_page(programme_id: int, session_form: SessionForm, status: int = 200):
    identity = cookie_identity()
    enrolled = {}
    if identity:
        enrolled = {e.session_id: e for e in handlers.enrollments_of(db.session, identity.user_id)}
    return render_template(
        "programme.html",
        programme=handlers.get_programme(db.session, programme_id),
        session_form=session_form,
        enroll_form=EnrollForm(),
        enrolled=enrolled,
    ), status


@web.post("/programmes/<int:programme_id>/sessions")
@web_login_required("coordinator", "admin")
def add_session(programme_id: int):
    form = SessionForm()
    if not form.validate_on_submit():
        return _programme_page(programme_id, form, status=400)
    handlers.add_session(db.session, programme_id, form.session_data())
    db.session.commit()
    flash(_("Session scheduled."))
    return redirect(url_for("web.programme", programme_id=programme_id))


@web.post("/sessions/<int:session_id>/enroll")
@web_login_required()
def enroll(session_id: int):
    try:
        enrollment = handlers.enroll(db.session, session_id, cookie_identity().user_id)
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(_("You are already enrolled in this session."), "error")
        return redirect(request.referrer or url_for("web.my_learning"))
    db.session.commit()
    if enrollment.status == "confirmed":
        flash(_("Your seat is confirmed."))
    else:
        flash(_("The session is full: you are on the waiting list."))
    return redirect(url_for("web.my_learning"))


@web.get("/my-learning")
@web_login_required()
def my_learning():
    identity = cookie_identity()
    return render_template(
        "my_learning.html",
        enrollments=handlers.enrollments_of(db.session, identity.user_id),
        records=handlers.learner_record(db.session, identity.user_id),
    )


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


WEB_BLUEPRINTS = (web,)
