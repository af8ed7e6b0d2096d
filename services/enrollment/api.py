"""Enrollment's REST API (flask-smorest): translates HTTP to one handler call each."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError
from sqlalchemy import select

from shared.app import runtime
from shared.auth import TokenIssuer, api_identity, api_login_required
from shared.webhooks import WebhookVerificationError, verify

from . import handlers
from .models import LmsClient, User, db
from .schemas import (
    EnrollmentOut,
    LearnerRecordOut,
    LmsClientCreate,
    LmsClientOut,
    LmsEvent,
    LmsReceipt,
    ProgrammeCreate,
    ProgrammeOut,
    SessionCreate,
    SessionOut,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserOut,
)

auth_api = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth", description="Sign in")
users_api = Blueprint("users_api", __name__, url_prefix="/api/v1/users", description="Accounts")
programmes_api = Blueprint(
    "programmes_api", __name__, url_prefix="/api/v1", description="Programmes, sessions, enrollments"
)
lms_api = Blueprint("lms_api", __name__, url_prefix="/api/v1/lms", description="External LMS ingress")


def token_issuer() -> TokenIssuer:
    return TokenIssuer(runtime().private_key_file.read_bytes())


@auth_api.route("/token", methods=["POST"])
@auth_api.arguments(TokenRequest)
@auth_api.response(200, TokenResponse)
def issue_token(credentials):
    """Exchange email and password for a bearer token."""
    user = handlers.authenticate(db.session, credentials["email"], credentials["password"])
    issuer = token_issuer()
    return {
        "access_token": issuer.issue(handlers.identity_of(user)),
        "token_type": "Bearer",
        "expires_in": int(issuer.lifetime.total_seconds()),
    }


@users_api.route("")
class Users(MethodView):
    @api_login_required("admin")
    @users_api.response(200, UserOut(many=True))
    def get(self):
        """List accounts (admin)."""
        return db.session.scalars(select(User).order_by(User.id)).all()

    @api_login_required("admin")
    @users_api.arguments(UserCreate)
    @users_api.response(201, UserOut)
    def post(self, data):
        """Create an account (admin)."""
        user = handlers.create_user(db.session, **data)
        db.session.commit()
        return user


@users_api.route("/me")
@api_login_required()
@users_api.response(200, UserOut)
def me():
    """The signed-in account."""
    identity = api_identity()
    user = db.session.get(User, identity.user_id)
    if user is None:
        abort(404, message="This account no longer exists.")
    return user


@programmes_api.route("/programmes")
class Programmes(MethodView):
    @programmes_api.response(200, ProgrammeOut(many=True))
    def get(self):
        """Published programmes, newest first."""
        return handlers.published_programmes(db.session)

    @api_login_required("coordinator", "admin")
    @programmes_api.arguments(ProgrammeCreate)
    @programmes_api.response(201, ProgrammeOut)
    def post(self, data):
        """Create a programme (coordinator or admin)."""
        identity = api_identity()
        programme = handlers.create_programme(db.session, data, identity)
        db.session.commit()
        return programme


@programmes_api.route("/programmes/<int:programme_id>")
@programmes_api.response(200, ProgrammeOut)
def get_programme(programme_id):
    """One programme with its sessions."""
    return handlers.get_programme(db.session, programme_id)


@programmes_api.route("/programmes/<int:programme_id>/sessions", methods=["POST"])
@api_login_required("coordinator", "admin")
@programmes_api.arguments(SessionCreate)
@programmes_api.response(201, SessionOut)
def create_session(data, programme_id):
    """Schedule a session of a programme (coordinator or admin)."""
    programme_session = handlers.add_session(db.session, programme_id, data)
    db.session.commit()
    return programme_session


@programmes_api.route("/sessions/<int:session_id>/enrollments", methods=["POST"])
@api_login_required()
@programmes_api.response(201, EnrollmentOut)
@programmes_api.alt_response(409, description="Already enrolled")
def enroll(session_id):
    """Enroll the signed-in person: confirmed while seats remain, waitlisted after."""
    identity = api_identity()
    enrollment = handlers.enroll(db.session, session_id, identity.user_id)
    db.session.commit()
    return enrollment


@programmes_api.route("/me/enrollments")
@api_login_required()
@programmes_api.response(200, EnrollmentOut(many=True))
def my_enrollments():
    """The signed-in person's enrollments."""
    return handlers.enrollments_of(db.session, api_identity().user_id)


@programmes_api.route("/me/record")
@api_login_required()
@programmes_api.response(200, LearnerRecordOut(many=True))
def my_record():
    """The signed-in person's learner record: quiz results and LMS activities."""
    return handlers.learner_record(db.session, api_identity().user_id)


@lms_api.route("/clients", methods=["POST"])
@api_login_required("admin")
@lms_api.arguments(LmsClientCreate)
@lms_api.response(201, LmsClientOut)
def create_lms_client(data):
    """Register an external LMS (admin); the response carries its signing secret once."""
    client = handlers.create_lms_client(db.session, data["name"])
    db.session.commit()
    return client


@lms_api.route("/events", methods=["POST"])
@lms_api.response(200, LmsReceipt)
@lms_api.alt_response(401, description="Bad signature or stale timestamp")
@lms_api.alt_response(422, description="Malformed event")
def receive_lms_event():
    """Receive a CloudEvent signed as Standard Webhooks specify (``webhook-*`` headers)."""
    body = request.get_data(cache=False)
    clients = db.session.scalars(select(LmsClient).where(LmsClient.active.is_(True))).all()
    try:
        secret = verify([client.secret for client in clients], request.headers, body)
    except WebhookVerificationError as error:
        current_app.logger.warning("LMS event refused: %s", error)
        abort(401, message=f"Signature refused: {error}.")
    client = next(client for client in clients if client.secret == secret)
    try:
        event = LmsEvent().loads(body or b"null")
    except ValidationError as error:
        abort(422, message="The event is malformed.", errors=_flatten(error.messages))
    except ValueError:
        abort(422, message="The body is not JSON.")
    data = event["data"]
    recorded = handlers.record_lms_completion(
        db.session,
        client,
        handlers.CourseCompletion(
            webhook_id=request.headers["webhook-id"],
            learner_email=data["learner_email"],
            course_id=data["course_id"],
            course_title=data["course_title"],
            completed_at=data["completed_at"],
            score=data["score"],
            max_score=data["max_score"],
        ),
    )
    db.session.commit()
    return {"status": "recorded" if recorded else "duplicate"}


def _flatten(messages, prefix: str = "") -> dict:
    """Nested marshmallow messages as ``{"data.learner_email": [...]}``."""
    if isinstance(messages, list):
        return {prefix or "_schema": messages}
    flat: dict = {}
    for key, value in messages.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


API_BLUEPRINTS = (auth_api, users_api, programmes_api, lms_api)
