"""Enrollment's REST API (flask-smorest): translates HTTP to one handler call each."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from shared.app import runtime
from shared.auth import TokenIssuer, api_identity, api_login_required, bearer_identity, require_api_identity

from . import completion, handlers
from .competency_api import competency_api
from .completion_api import completion_api
from .dashboard_api import dashboard_api
from .links import public_links
from .lms_api import lms_api
from .mentoring_api import mentoring_api
from .models import User, db
from .roster_api import roster_api
from .schemas import (
    AttendanceIn,
    AttendanceOut,
    CapacityIn,
    CapacityOut,
    CatalogQuery,
    EnrollmentOut,
    LearnerRecordOut,
    PartnerIn,
    PartnerOut,
    PartnerPatch,
    ProgrammeCreate,
    ProgrammeOut,
    ProgrammePatch,
    PublicEnrollmentIn,
    PublicEnrollmentOut,
    PublicTokenIn,
    RosterOut,
    SessionCancelIn,
    SessionCreate,
    SessionOut,
    SessionPatch,
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
partners_api = Blueprint(
    "partners_api", __name__, url_prefix="/api/v1/partners", description="Partner institutions"
)
public_api = Blueprint(
    "public_api", __name__, url_prefix="/api/v1/public", description="Public classes, without an account"
)


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


def _catalog_query(args: dict) -> handlers.CatalogQuery:
    if args["status"] != "published":
        require_api_identity("coordinator", "admin")
    return handlers.CatalogQuery(
        text=args["q"],
        type=args.get("type"),
        area=args.get("area"),
        track=args.get("track"),
        starts_from=args.get("starts_from"),
        starts_to=args.get("starts_to"),
        status=args["status"],
    )


@programmes_api.route("/programmes")
class Programmes(MethodView):
    @programmes_api.arguments(CatalogQuery, location="query")
    @programmes_api.response(200, ProgrammeOut(many=True))
    def get(self, args):
        """The catalog: published programmes, newest first, found by title words, type, competency
        area, track and session dates (``from``/``to``, days in WIB)."""
        return handlers.search_programmes(db.session, _catalog_query(args))

    @api_login_required("coordinator", "admin")
    @programmes_api.arguments(ProgrammeCreate)
    @programmes_api.response(201, ProgrammeOut)
    @programmes_api.alt_response(422, description="Invalid fields, e.g. an unknown competency area")
    def post(self, data):
        """Create a programme (coordinator or admin): a draft unless ``status`` is published."""
        programme = handlers.create_programme(db.session, data, api_identity())
        db.session.commit()
        return programme


@programmes_api.route("/programmes/<int:programme_id>")
class ProgrammeResource(MethodView):
    @programmes_api.response(200, ProgrammeOut)
    @programmes_api.alt_response(404, description="No such programme (a draft is seen by coordinators only)")
    def get(self, programme_id):
        """One programme with its partners and sessions."""
        return handlers.visible_programme(db.session, programme_id, bearer_identity())

    @api_login_required("coordinator", "admin")
    @programmes_api.arguments(ProgrammePatch)
    @programmes_api.response(200, ProgrammeOut)
    @programmes_api.alt_response(409, description="The track cannot change once people enrolled")
    def patch(self, data, programme_id):
        """Change a programme's fields (coordinator or admin); ``partners`` replaces the list."""
        programme = handlers.update_programme(db.session, programme_id, data)
        db.session.commit()
        return programme


@programmes_api.route("/programmes/<int:programme_id>/publish", methods=["POST"])
@api_login_required("coordinator", "admin")
@programmes_api.response(200, ProgrammeOut)
@programmes_api.alt_response(409, description="Not a draft")
def publish_programme(programme_id):
    """Publish a draft: listed, open for enrollment, announced (``pustaka.programme.published.v1``)."""
    programme = handlers.publish_programme(db.session, programme_id)
    db.session.commit()
    return programme


@programmes_api.route("/programmes/<int:programme_id>/archive", methods=["POST"])
@api_login_required("coordinator", "admin")
@programmes_api.response(200, ProgrammeOut)
@programmes_api.alt_response(409, description="Archived already")
def archive_programme(programme_id):
    """Archive a programme: off the catalog and closed for enrollment."""
    programme = handlers.archive_programme(db.session, programme_id)
    db.session.commit()
    return programme


@programmes_api.route("/programmes/<int:programme_id>/sessions", methods=["POST"])
@api_login_required("coordinator", "admin")
@programmes_api.arguments(SessionCreate)
@programmes_api.response(201, SessionOut)
@programmes_api.alt_response(422, description="Invalid fields, e.g. dates out of order")
def create_session(data, programme_id):
    """Schedule a session of a programme (coordinator or admin)."""
    programme_session = handlers.add_session(db.session, programme_id, data)
    db.session.commit()
    return handlers.get_session(db.session, programme_session.id)


def _visible_session(session_id: int):
    programme_session = handlers.get_session(db.session, session_id)
    handlers.visible_programme(db.session, programme_session.programme_id, bearer_identity())
    return programme_session


@programmes_api.route("/sessions/<int:session_id>")
class SessionResource(MethodView):
    @programmes_api.response(200, SessionOut)
    def get(self, session_id):
        """One session."""
        return _visible_session(session_id)

    @api_login_required("coordinator", "admin")
    @programmes_api.arguments(SessionPatch)
    @programmes_api.response(200, SessionOut)
    @programmes_api.alt_response(409, description="The session was cancelled")
    def patch(self, data, session_id):
        """Change a session's fields (coordinator or admin); the capacity has its own resource."""
        handlers.update_session(db.session, session_id, data)
        db.session.commit()
        return handlers.get_session(db.session, session_id)


@programmes_api.route("/sessions/<int:session_id>/capacity", methods=["PUT"])
@api_login_required("coordinator", "admin")
@programmes_api.arguments(CapacityIn)
@programmes_api.response(200, CapacityOut)
@programmes_api.alt_response(409, description="Lower than the seats taken, or the session was cancelled")
def set_capacity(data, session_id):
    """Raise or lower the seats; a raise seats the waiting list at once, in order."""
    _, promoted = handlers.set_capacity(db.session, session_id, data["capacity"])
    db.session.commit()
    return {"session": handlers.get_session(db.session, session_id), "promoted": [e.id for e in promoted]}


@programmes_api.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@api_login_required("coordinator", "admin")
@programmes_api.arguments(SessionCancelIn)
@programmes_api.response(200, SessionOut)
@programmes_api.alt_response(409, description="Cancelled already, or over")
def cancel_session(data, session_id):
    """Cancel a session: its enrollments end and everyone in it is told (``pustaka.session.cancelled.v1``)."""
    handlers.cancel_session(db.session, session_id, data["reason"])
    db.session.commit()
    return handlers.get_session(db.session, session_id)


@programmes_api.route("/sessions/<int:session_id>/roster")
@api_login_required("coordinator", "admin")
@programmes_api.response(200, RosterOut)
def session_roster(session_id):
    """Who holds a seat, who waits (in order), whose public seat is pending, who cancelled."""
    return handlers.roster(db.session, session_id)


@programmes_api.route("/sessions/<int:session_id>/attendance", methods=["PUT"])
@api_login_required("coordinator", "admin")
@programmes_api.arguments(AttendanceIn)
@programmes_api.response(200, AttendanceOut(many=True))
@programmes_api.alt_response(422, description="An entry is not a confirmed enrollment of the session")
def mark_attendance(data, session_id):
    """Mark confirmed enrollments attended or absent; marking again overwrites. Whoever it completes
    a programme for completes (``pustaka.activity.completed.v1``)."""
    marks = {mark["enrollment_id"]: mark["status"] for mark in data["marks"]}
    marked = completion.mark_attendance(
        db.session,
        session_id,
        marks,
        api_identity().user_id,
        completion.Settings.from_config(current_app.config),
    )[0]
    db.session.commit()
    return marked


@programmes_api.route("/sessions/<int:session_id>/enrollments", methods=["POST"])
@api_login_required()
@programmes_api.response(201, EnrollmentOut)
@programmes_api.alt_response(404, description="No such session")
@programmes_api.alt_response(
    409, description="Already enrolled, or enrollment is not open (the reason says why)"
)
def enroll(session_id):
    """Enroll the signed-in person: confirmed while seats remain, waitlisted after."""
    identity = api_identity()
    enrollment = handlers.enroll(db.session, session_id, identity.user_id)
    db.session.commit()
    return enrollment


@programmes_api.route("/enrollments/<int:enrollment_id>/cancel", methods=["POST"])
@api_login_required()
@programmes_api.response(200, EnrollmentOut)
@programmes_api.alt_response(409, description="Cancelled already, or the session has started")
def cancel_enrollment(enrollment_id):
    """Give up a seat or a place in the waiting list (a coordinator may do it for anyone); the first
    person waiting gets the seat."""
    enrollment = handlers.cancel_enrollment(db.session, enrollment_id, api_identity())
    db.session.commit()
    return enrollment


@programmes_api.route("/me/enrollments")
@api_login_required()
@programmes_api.response(200, EnrollmentOut(many=True))
def my_enrollments():
    """The signed-in person's enrollments, with waitlist positions and attendance."""
    return handlers.enrollments_of(db.session, api_identity().user_id)


@partners_api.route("")
class Partners(MethodView):
    @partners_api.response(200, PartnerOut(many=True))
    def get(self):
        """Every partner institution, by name."""
        return handlers.list_partners(db.session)

    @api_login_required("coordinator", "admin")
    @partners_api.arguments(PartnerIn)
    @partners_api.response(201, PartnerOut)
    @partners_api.alt_response(409, description="The name is taken")
    def post(self, data):
        """Add a partner institution (coordinator or admin)."""
        partner = handlers.create_partner(db.session, data)
        db.session.commit()
        return partner


@partners_api.route("/<int:partner_id>")
class PartnerResource(MethodView):
    @partners_api.response(200, PartnerOut)
    def get(self, partner_id):
        """One partner institution."""
        return handlers.get_partner(db.session, partner_id)

    @api_login_required("coordinator", "admin")
    @partners_api.arguments(PartnerPatch)
    @partners_api.response(200, PartnerOut)
    def patch(self, data, partner_id):
        """Change a partner institution (coordinator or admin)."""
        partner = handlers.update_partner(db.session, partner_id, data)
        db.session.commit()
        return partner


@public_api.route("/sessions/<int:session_id>/enrollments", methods=["POST"])
@public_api.arguments(PublicEnrollmentIn)
@public_api.response(201, PublicEnrollmentOut)
@public_api.alt_response(409, description="Full, not open, or this email holds a seat already")
def request_public_seat(data, session_id):
    """Ask for a seat in a public class with a name and an email, no account. The seat is held as
    pending for 24 hours (at most until enrollment closes); the email gets the link that confirms it
    and one that frees it."""
    enrollment = handlers.request_public_seat(
        db.session,
        session_id,
        name=data["name"],
        email=data["email"],
        language=data["language"],
        links=lambda enrollment_id: public_links(current_app.config, enrollment_id),
    )
    db.session.commit()
    return enrollment


@public_api.route("/enrollments/confirm", methods=["POST"])
@public_api.arguments(PublicTokenIn)
@public_api.response(200, PublicEnrollmentOut)
@public_api.alt_response(404, description="The token is not valid")
@public_api.alt_response(409, description="The hold expired, or the seat was given up")
def confirm_public_seat(data):
    """Confirm a held seat with the token of the email's confirm link."""
    enrollment_id = handlers.read_public_token(current_app.config["SECRET_KEY"], data["token"], "confirm")
    enrollment = handlers.confirm_public_seat(db.session, enrollment_id)
    db.session.commit()
    return enrollment


@public_api.route("/enrollments/cancel", methods=["POST"])
@public_api.arguments(PublicTokenIn)
@public_api.response(200, PublicEnrollmentOut)
@public_api.alt_response(404, description="The token is not valid")
def cancel_public_seat(data):
    """Free a public seat with the token of the email's cancel link."""
    enrollment_id = handlers.read_public_token(current_app.config["SECRET_KEY"], data["token"], "cancel")
    enrollment = handlers.cancel_public_seat(db.session, enrollment_id)
    db.session.commit()
    return enrollment


@programmes_api.route("/me/record")
@api_login_required()
@programmes_api.response(200, LearnerRecordOut(many=True))
def my_record():
    """The signed-in person's learner record: quiz results and LMS activities."""
    return handlers.learner_record(db.session, api_identity().user_id)


API_BLUEPRINTS = (
    auth_api,
    users_api,
    programmes_api,
    partners_api,
    public_api,
    lms_api,
    mentoring_api,
    competency_api,
    roster_api,
    completion_api,
    dashboard_api,
)
