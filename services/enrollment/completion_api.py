"""The completion API: programmes' completion rules and learners' progress (coordinators), one's own
completions, certificates (PDF, issue by hand, revoke) and their public verification. One use-case
call of ``completion.py`` per view."""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.auth import api_identity, api_login_required, bearer_identity
from shared.errors import NotFound

from . import completion, handlers
from .mentoring_api import PersonOut
from .models import db

COORDINATORS = ("coordinator", "admin")

completion_api = Blueprint(
    "completion_api",
    __name__,
    url_prefix="/api/v1",
    description="Completion rules, completions, certificates and their verification",
)


def settings() -> completion.Settings:
    return completion.Settings.from_config(current_app.config)


class RuleIn(Schema):
    min_attendance_percent = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Share (1–100) of the sessions with a seat that the learner must attend"},
    )
    post_test_required = fields.Boolean(
        load_default=True,
        metadata={"description": "Each attended session's post-test quiz, where it has one, must be passed"},
    )
    automatic_certificate = fields.Boolean(
        load_default=True,
        metadata={"description": "Issue the certificate on completion; otherwise a coordinator issues it"},
    )


class RuleOut(RuleIn):
    programme_id = fields.Integer()
    own = fields.Function(
        lambda rule: rule.updated_at is not None,
        metadata={"description": "False: the programme has no rule of its own and the defaults apply"},
    )


class LocalizedOut(Schema):
    id = fields.String()
    en = fields.String()


class CertificateOut(Schema):
    id = fields.Integer()
    code = fields.String(metadata={"description": "The verification code printed on it"})
    status = fields.String(metadata={"description": "valid or revoked"})
    user_id = fields.Integer()
    programme_id = fields.Integer()
    completion_id = fields.Integer()
    learner_name = fields.String()
    programme_title = fields.Function(
        lambda c: {"id": c.programme_title_id, "en": c.programme_title_en}, metadata={"type": "object"}
    )
    programme_type = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    hours = fields.Float()
    competency_areas = fields.List(fields.String())
    partners = fields.List(fields.String())
    issued_at = fields.AwareDateTime()
    issued_by = fields.Integer(allow_none=True, metadata={"description": "None: issued on completion"})
    revoked_at = fields.AwareDateTime(allow_none=True)
    revoke_reason = fields.String()


class CompletionOut(Schema):
    id = fields.Integer()
    user = fields.Nested(PersonOut)
    programme_id = fields.Integer()
    programme_title = fields.Function(
        lambda c: {"id": c.programme.title_id, "en": c.programme.title_en}, metadata={"type": "object"}
    )
    session_id = fields.Integer(allow_none=True, metadata={"description": "The one session attended, if one"})
    starts_at = fields.AwareDateTime(metadata={"description": "Start of the first session attended"})
    ends_at = fields.AwareDateTime(metadata={"description": "End of the last session attended"})
    hours = fields.Float(metadata={"description": "Hours of the sessions attended"})
    completed_at = fields.AwareDateTime()
    certificates = fields.List(fields.Nested(CertificateOut), metadata={"description": "Newest first"})


class PostTestOut(Schema):
    quiz_slug = fields.String()
    passed = fields.Boolean()


class ProgressOut(Schema):
    user = fields.Nested(PersonOut)
    sessions_enrolled = fields.Function(lambda p: len(p.enrolled))
    sessions_attended = fields.Function(lambda p: len(p.attended))
    attendance_percent = fields.Float()
    attendance_met = fields.Boolean()
    post_tests = fields.Function(
        lambda p: [{"quiz_slug": slug, "passed": passed} for slug, passed in sorted(p.post_tests.items())],
        metadata={"type": "array", "items": {"type": "object"}},
    )
    post_tests_met = fields.Boolean()
    completion = fields.Nested(CompletionOut, allow_none=True)


class RuleSavedOut(Schema):
    rule = fields.Nested(RuleOut)
    completed_user_ids = fields.List(
        fields.Integer(), metadata={"description": "The learners the new rule completed at once"}
    )


class RevokeIn(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=completion.MAX_REASON),
        metadata={"description": "Why it is withdrawn (kept for coordinators)"},
    )


class VerifyQuery(Schema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "The code as printed; case, spaces, dashes and the PST prefix do not matter"
        },
    )


class VerificationOut(Schema):
    code = fields.String(metadata={"description": "The code in its printed form"})
    status = fields.String(metadata={"description": "valid or revoked"})
    learner_name = fields.String(attribute="certificate.learner_name")
    programme_title = fields.Function(
        lambda v: {"id": v.certificate.programme_title_id, "en": v.certificate.programme_title_en},
        metadata={"type": "object"},
    )
    starts_at = fields.AwareDateTime(attribute="certificate.starts_at")
    ends_at = fields.AwareDateTime(attribute="certificate.ends_at")
    hours = fields.Float(attribute="certificate.hours")
    issued_at = fields.AwareDateTime(attribute="certificate.issued_at")
    revoked_at = fields.AwareDateTime(attribute="certificate.revoked_at", allow_none=True)


@completion_api.route("/programmes/<int:programme_id>/completion-rule")
class Rule(MethodView):
    @completion_api.response(200, RuleOut)
    @completion_api.alt_response(404, description="No such programme (a draft is seen by coordinators only)")
    def get(self, programme_id):
        """A programme's completion rule (the defaults while it has none of its own)."""
        handlers.visible_programme(db.session, programme_id, bearer_identity())
        return completion.rule_for(db.session, programme_id)

    @api_login_required(*COORDINATORS)
    @completion_api.arguments(RuleIn)
    @completion_api.response(200, RuleSavedOut)
    @completion_api.alt_response(422, description="The share is not from 1 to 100")
    def put(self, data, programme_id):
        """Set a programme's completion rule (coordinators); whoever it completes now completes."""
        rule, made = completion.set_rule(db.session, programme_id, data, settings())
        db.session.commit()
        return {"rule": rule, "completed_user_ids": [made_one.user_id for made_one in made]}


@completion_api.route("/programmes/<int:programme_id>/completions")
@api_login_required(*COORDINATORS)
@completion_api.response(200, ProgressOut(many=True))
def programme_progress(programme_id):
    """Every learner with a seat in the programme: attendance, post-tests, completion and
    certificates, by name (coordinators)."""
    return completion.programme_progress(db.session, programme_id)


@completion_api.route("/me/completions")
@api_login_required()
@completion_api.response(200, CompletionOut(many=True))
def my_completions():
    """The signed-in learner's completed programmes with their certificates, the latest first."""
    return completion.completions_of(db.session, api_identity().user_id)


@completion_api.route("/completions/<int:completion_id>/certificates", methods=["POST"])
@api_login_required(*COORDINATORS)
@completion_api.response(201, CertificateOut)
@completion_api.alt_response(409, description="The completion has a valid certificate already")
def issue_certificate(completion_id):
    """Issue a completion's certificate by hand (coordinators): where the rule issues none on its
    own, or after the last one was revoked."""
    certificate = completion.issue_certificate(db.session, completion_id, api_identity(), settings())
    db.session.commit()
    return certificate


@completion_api.route("/certificates/<int:certificate_id>")
@api_login_required()
@completion_api.response(200, CertificateOut)
@completion_api.alt_response(404, description="No such certificate, or another learner's")
def get_certificate(certificate_id):
    """One certificate: your own, or any for coordinators."""
    return completion.get_certificate(db.session, certificate_id, api_identity())


@completion_api.route("/certificates/<int:certificate_id>/pdf")
@api_login_required()
@completion_api.alt_response(
    200,
    success=True,
    schema={"type": "string", "format": "binary"},
    content_type="application/pdf",
    description="The certificate, A4 landscape, Indonesian with English",
)
@completion_api.alt_response(404, description="No such certificate, or another learner's")
@completion_api.alt_response(410, description="The certificate was revoked")
def certificate_pdf(certificate_id):
    """A certificate as PDF: your own, or any for coordinators."""
    certificate = completion.get_certificate(db.session, certificate_id, api_identity())
    return pdf_response(certificate)


def pdf_response(certificate: completion.Certificate) -> Response:
    return Response(
        completion.certificate_pdf(certificate, settings()),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{completion.pdf_filename(certificate)}"'},
    )


@completion_api.route("/certificates/<int:certificate_id>/revoke", methods=["POST"])
@api_login_required(*COORDINATORS)
@completion_api.arguments(RevokeIn)
@completion_api.response(200, CertificateOut)
@completion_api.alt_response(409, description="Revoked already")
def revoke_certificate(data, certificate_id):
    """Revoke a certificate with a reason (coordinators): its verification denies it from now on."""
    certificate = completion.revoke_certificate(db.session, certificate_id, data["reason"], api_identity())
    db.session.commit()
    return certificate


@completion_api.route("/certificates/verify")
@completion_api.arguments(VerifyQuery, location="query")
@completion_api.response(200, VerificationOut)
@completion_api.alt_response(404, description="No certificate has this code")
@completion_api.alt_response(422, description="The text cannot be a certificate code")
def verify_certificate(query):
    """Check a certificate by its code, without signing in: valid (name, programme, dates) or revoked."""
    verification = completion.verify(db.session, query["code"])
    if verification.certificate is None:
        raise NotFound("No certificate has this code.")
    return verification
