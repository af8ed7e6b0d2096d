"""The LMS API: the ingress external LMSs post to, and the clients' administration (admins). One
use-case call of ``lms.py`` per view."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.auth import api_login_required
from shared.errors import DomainError

from . import lms
from .lms_schemas import (
    ClientCreate,
    ClientDetailOut,
    ClientOut,
    ClientPatch,
    ClientSecretOut,
    CourseIn,
    CourseOut,
    ExternalIdIn,
    ExternalIdOut,
    PendingOut,
    ReceiptOut,
    RotateIn,
)
from .models import db

lms_api = Blueprint("lms_api", __name__, url_prefix="/api/v1/lms", description="External LMS ingress")

BODY_DOC = {
    "description": "A CloudEvent (structured: application/cloudevents+json or application/json; binary: "
    "ce-* headers and JSON data), a batch (application/cloudevents-batch+json), or xAPI statements "
    "(application/json, one or an array), signed as Standard Webhooks specify.",
    "content": {
        media: {"schema": {"type": "object"}}
        for media in (
            "application/cloudevents+json",
            "application/cloudevents-batch+json",
            "application/json",
        )
    },
}


def _box() -> lms.SecretBox:
    return lms.secret_box(current_app.config)


@lms_api.route("/events", methods=["POST"])
@lms_api.doc(requestBody=BODY_DOC)
@lms_api.response(200, ReceiptOut)
@lms_api.alt_response(401, description="No valid signature, or a timestamp more than 5 minutes off")
@lms_api.alt_response(403, description="The client is disabled")
@lms_api.alt_response(409, description="The webhook-id came before with another body")
@lms_api.alt_response(413, description="A body over 1 MiB")
@lms_api.alt_response(422, description="Malformed: the errors name each field, e.g. statement.0.actor.mbox")
def receive_events():
    """Receive learning events of an external LMS (``webhook-id``, ``webhook-timestamp`` and
    ``webhook-signature`` headers). A repeated ``webhook-id`` with the same body is answered with
    status ``duplicate`` and adds nothing."""
    request.max_content_length = lms.MAX_BODY
    body = request.get_data(cache=False)
    try:
        receipt = lms.receive(db.session, _box(), request.headers, body)
    except DomainError as error:
        if error.status in (401, 403):
            current_app.logger.warning("LMS delivery refused: %s", error.message)
        raise
    db.session.commit()
    return receipt


@lms_api.route("/clients")
class Clients(MethodView):
    @api_login_required("admin")
    @lms_api.response(200, ClientOut(many=True))
    def get(self):
        """Every LMS client, by name (admin)."""
        return lms.list_clients(db.session)

    @api_login_required("admin")
    @lms_api.arguments(ClientCreate)
    @lms_api.response(201, ClientSecretOut)
    @lms_api.alt_response(409, description="The name is taken")
    def post(self, data):
        """Register an external LMS (admin); the response carries its signing secret, this once."""
        client, secret = lms.create_client(db.session, _box(), data["name"])
        db.session.commit()
        return _with_secret(client, secret)


def _with_secret(client: lms.LmsClient, secret: str) -> dict:
    return {name: getattr(client, name) for name in ClientOut().fields} | {"secret": secret}


@lms_api.route("/clients/<int:client_id>")
class ClientResource(MethodView):
    @api_login_required("admin")
    @lms_api.response(200, ClientDetailOut)
    def get(self, client_id):
        """One client with its course mapping and the external ids of learners (admin)."""
        return lms.get_client(db.session, client_id)

    @api_login_required("admin")
    @lms_api.arguments(ClientPatch)
    @lms_api.response(200, ClientOut)
    def patch(self, data, client_id):
        """Disable a client (its posts are refused with 403) or enable it again (admin)."""
        client = lms.set_active(db.session, client_id, data["active"])
        db.session.commit()
        return client


@lms_api.route("/clients/<int:client_id>/rotate", methods=["POST"])
@api_login_required("admin")
@lms_api.arguments(RotateIn)
@lms_api.response(200, ClientSecretOut)
def rotate_secret(data, client_id):
    """A new secret, shown this once; the current one is still accepted for ``overlap_hours`` (admin)."""
    client, secret = lms.rotate_secret(db.session, _box(), client_id, timedelta(hours=data["overlap_hours"]))
    db.session.commit()
    return _with_secret(client, secret)


@lms_api.route("/clients/<int:client_id>/courses")
class Courses(MethodView):
    @api_login_required("admin")
    @lms_api.response(200, CourseOut(many=True))
    def get(self, client_id):
        """The client's courses mapped to programmes and competency areas (admin)."""
        return lms.get_client(db.session, client_id).courses

    @api_login_required("admin")
    @lms_api.arguments(CourseIn)
    @lms_api.response(200, CourseOut)
    @lms_api.alt_response(422, description="An unknown competency area or programme")
    def post(self, data, client_id):
        """Map a course, or change its mapping (admin)."""
        course = lms.set_course(db.session, client_id, **data)
        db.session.commit()
        return course


@lms_api.route("/clients/<int:client_id>/courses/<int:mapping_id>", methods=["DELETE"])
@api_login_required("admin")
@lms_api.response(204)
def remove_course(client_id, mapping_id):
    """Forget a course's mapping (admin); what was recorded stays."""
    lms.remove_course(db.session, client_id, mapping_id)
    db.session.commit()


@lms_api.route("/clients/<int:client_id>/external-ids")
class ExternalIds(MethodView):
    @api_login_required("admin")
    @lms_api.response(200, ExternalIdOut(many=True))
    def get(self, client_id):
        """How the client names our learners (admin)."""
        return lms.get_client(db.session, client_id).external_ids

    @api_login_required("admin")
    @lms_api.arguments(ExternalIdIn)
    @lms_api.response(201, ExternalIdOut)
    @lms_api.alt_response(409, description="The external id belongs to another account")
    def post(self, data, client_id):
        """Store a learner's id at the LMS (admin); items kept for it are recorded at once."""
        row = lms.add_external_id(db.session, client_id, data["external_id"], data["email"])[0]
        db.session.commit()
        return row


@lms_api.route("/clients/<int:client_id>/external-ids/<int:row_id>", methods=["DELETE"])
@api_login_required("admin")
@lms_api.response(204)
def remove_external_id(client_id, row_id):
    """Forget an external id (admin)."""
    lms.remove_external_id(db.session, client_id, row_id)
    db.session.commit()


@lms_api.route("/clients/<int:client_id>/pending")
@api_login_required("admin")
@lms_api.response(200, PendingOut(many=True))
def pending(client_id):
    """Items waiting for their learner's account or external id (admin)."""
    lms.get_client(db.session, client_id)
    return lms.pending_items(db.session, client_id)
