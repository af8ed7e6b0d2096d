"""Completion pages: a programme's completion rule and its learners' progress, with the certificates
to issue by hand or revoke (coordinators); a certificate's PDF (its learner, or coordinators); and the
public verification page the certificate's QR code links to. Thin views over ``completion.py``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from shared.auth import cookie_identity, web_login_required
from shared.errors import DomainError
from shared.forms import PustakaForm

from . import completion, handlers
from .forms import ActionForm, reason, show_errors
from .models import db

MANAGERS = ("coordinator", "admin")

completion_web = Blueprint("completion", __name__)


def settings() -> completion.Settings:
    return completion.Settings.from_config(current_app.config)


class RuleForm(PustakaForm):
    min_attendance_percent = IntegerField(
        _l("Minimum attendance (percent of the sessions with a seat)"),
        validators=[InputRequired(), NumberRange(min=1, max=100)],
    )
    post_test_required = BooleanField(_l("The post-test must be passed, where a session has one"))
    automatic_certificate = BooleanField(_l("Issue the certificate on completion"))

    def rule_data(self) -> dict:
        return {
            "min_attendance_percent": self.min_attendance_percent.data,
            "post_test_required": self.post_test_required.data,
            "automatic_certificate": self.automatic_certificate.data,
        }


class RevokeForm(PustakaForm):
    reason = TextAreaField(
        _l("Reason for revoking"), validators=[DataRequired(), Length(max=completion.MAX_REASON)]
    )


class VerifyForm(PustakaForm):
    class Meta(PustakaForm.Meta):
        csrf = False  # a look-up, read from the query string

    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=100)])


def revoke_form(certificate_id: int, formdata=None) -> RevokeForm:
    """Each certificate's form on the page has fields of its own (``revoke-<id>-reason``)."""
    return RevokeForm(formdata=formdata, prefix=f"revoke-{certificate_id}")


def _programme_page(
    programme_id: int, form: RuleForm | None = None, failed: tuple[int, RevokeForm] | None = None
):
    """The page, with the rule form or a revoke form (of the certificate with this id) as posted."""
    programme = handlers.get_programme(db.session, programme_id)
    if form is None:
        rule = completion.rule_for(db.session, programme_id)
        form = RuleForm(formdata=None, obj=rule)
    progress = completion.programme_progress(db.session, programme_id)
    forms = {}
    for line in progress:
        certificate = line.completion.certificate if line.completion else None
        if certificate and certificate.revoked_at is None:
            forms[certificate.id] = revoke_form(certificate.id)
    if failed is not None:
        forms[failed[0]] = failed[1]
    status = 400 if form.errors or failed else 200
    return render_template(
        "completion/programme.html",
        programme=programme,
        form=form,
        progress=progress,
        revoke_forms=forms,
        action_form=ActionForm(),
    ), status


@completion_web.route("/programmes/<int:programme_id>/completion", methods=["GET", "POST"])
@web_login_required(*MANAGERS)
def programme(programme_id: int):
    form = RuleForm() if request.method == "POST" else None
    if form is not None and form.validate_on_submit():
        try:
            made = completion.set_rule(db.session, programme_id, form.rule_data(), settings())[1]
        except DomainError as error:
            db.session.rollback()
            if error.status == 404:
                raise
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Rule saved; %(count)d learners completed the programme with it now.", count=len(made)))
            return redirect(url_for("completion.programme", programme_id=programme_id))
    return _programme_page(programme_id, form)


@completion_web.post("/completions/<int:completion_id>/certificate")
@web_login_required(*MANAGERS)
def issue(completion_id: int):
    done = completion.get_completion(db.session, completion_id)
    back = url_for("completion.programme", programme_id=done.programme_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(back)
    try:
        certificate = completion.issue_certificate(db.session, completion_id, cookie_identity(), settings())
    except DomainError as error:
        db.session.rollback()
        flash(reason(error), "error")
    else:
        db.session.commit()
        flash(_("Certificate %(code)s issued.", code=certificate.code))
    return redirect(back)


@completion_web.post("/certificates/<int:certificate_id>/revoke")
@web_login_required(*MANAGERS)
def revoke(certificate_id: int):
    certificate = completion.get_certificate(db.session, certificate_id, cookie_identity())
    programme_id = certificate.programme_id
    form = revoke_form(certificate_id, request.form)
    if form.validate_on_submit():
        try:
            completion.revoke_certificate(db.session, certificate_id, form.reason.data, cookie_identity())
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Certificate %(code)s revoked.", code=certificate.code))
            return redirect(url_for("completion.programme", programme_id=programme_id))
    return _programme_page(programme_id, failed=(certificate_id, form))


@completion_web.get("/certificates/<int:certificate_id>.pdf")
@web_login_required()
def download(certificate_id: int):
    certificate = completion.get_certificate(db.session, certificate_id, cookie_identity())
    return Response(
        completion.certificate_pdf(certificate, settings()),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{completion.pdf_filename(certificate)}"'},
    )


@completion_web.get("/certificates/verify")
def verify_form():
    """The form; a code typed in it goes to its page, in its printed form."""
    form = VerifyForm(formdata=request.args if "code" in request.args else None)
    if form.code.data is not None and form.validate():
        try:
            code = completion.verify(db.session, form.code.data).code
        except DomainError as error:
            show_errors(form, error)
        else:
            return redirect(url_for("completion.verify", code=code))
    return render_template(
        "completion/verify.html", form=form, verification=None
    ), 400 if form.errors else 200


@completion_web.get("/certificates/verify/<path:code>")
def verify(code: str):
    """What the QR code links to: the certificate confirmed (name, programme, dates) or denied."""
    form = VerifyForm(formdata=None, data={"code": code})
    try:
        verification = completion.verify(db.session, code)
    except DomainError as error:
        show_errors(form, error)
        return render_template("completion/verify.html", form=form, verification=None), 400
    status = 404 if verification.status == "unknown" else 200
    return render_template("completion/verify.html", form=form, verification=verification), status
