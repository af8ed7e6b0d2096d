"""Notification's REST API: each person's own in-app inbox."""

from __future__ import annotations

from flask_smorest import Blueprint

from shared.auth import api_identity, api_login_required

from . import handlers
from .models import db
from .schemas import InboxOut, InboxQuery, MarkedAllRead, NotificationOut

inbox_api = Blueprint("inbox_api", __name__, url_prefix="/api/v1/inbox", description="In-app inbox")


@inbox_api.route("")
@api_login_required()
@inbox_api.arguments(InboxQuery, location="query")
@inbox_api.response(200, InboxOut)
def list_inbox(query):
    """The signed-in person's notifications, newest first, with the unread count."""
    items, unread = handlers.inbox(db.session, api_identity().user_id, query["limit"])
    return {"items": items, "unread_count": unread}


@inbox_api.route("/<int:notification_id>/read", methods=["POST"])
@api_login_required()
@inbox_api.response(200, NotificationOut)
def mark_read(notification_id):
    """Mark one of your notifications read."""
    notification = handlers.mark_read(db.session, api_identity().user_id, notification_id)
    db.session.commit()
    return notification


@inbox_api.route("/read-all", methods=["POST"])
@api_login_required()
@inbox_api.response(200, MarkedAllRead)
def mark_all_read():
    """Mark all your notifications read."""
    marked = handlers.mark_all_read(db.session, api_identity().user_id)
    db.session.commit()
    return {"marked": marked}


API_BLUEPRINTS = (inbox_api,)
