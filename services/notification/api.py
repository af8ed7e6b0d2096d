"""Notification's REST API: each person's inbox and preferences, the unsubscribe links, and
for admins the rules, templates, webhook subscriptions and the delivery log."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.auth import api_identity, api_login_required
from shared.errors import Conflict

from . import admin, handlers
from .models import db
from .schemas import (
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    DeliveryQuery,
    InboxOut,
    InboxQuery,
    MarkedAllRead,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    PreviewIn,
    PreviewOut,
    RuleIn,
    RuleOut,
    RuleUpdate,
    TemplateIn,
    TemplateOut,
    UnsubscribeOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)

inbox_api = Blueprint("inbox_api", __name__, url_prefix="/api/v1/inbox", description="In-app inbox")
preferences_api = Blueprint(
    "preferences_api", __name__, url_prefix="/api/v1", description="Your notification preferences"
)
rules_api = Blueprint("rules_api", __name__, url_prefix="/api/v1/rules", description="Rules (admin)")
templates_api = Blueprint(
    "templates_api", __name__, url_prefix="/api/v1/templates", description="Message templates (admin)"
)
webhooks_api = Blueprint(
    "webhooks_api", __name__, url_prefix="/api/v1/webhooks", description="Webhook subscriptions (admin)"
)
deliveries_api = Blueprint(
    "deliveries_api", __name__, url_prefix="/api/v1/deliveries", description="The delivery log (admin)"
)


# The inbox -------------------------------------------------------------------------------


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


# Preferences and unsubscribe links --------------------------------------------------------


@preferences_api.route("/preferences")
class Preferences(MethodView):
    @api_login_required()
    @preferences_api.response(200, PreferencesOut)
    def get(self):
        """Your choices: category → channel → on/off, quiet hours and the daily digest."""
        return admin.preferences_for(db.session, api_identity().user_id)

    @api_login_required()
    @preferences_api.arguments(PreferencesIn)
    @preferences_api.response(200, PreferencesOut)
    @preferences_api.alt_response(409, description="Your account is not known to notification yet")
    def put(self, data):
        """Change your choices; what is left out stays. Account messages cannot be turned off."""
        user_id = api_identity().user_id
        choices = data.pop("preferences")
        if not admin.update_preferences(db.session, user_id, choices, **data):
            db.session.rollback()
            raise Conflict(
                "Quiet hours and the daily digest cannot be saved until your account is known to"
                " notification; try again in a minute."
            )
        db.session.commit()
        return admin.preferences_for(db.session, user_id)


@preferences_api.route("/unsubscribe/<token>", methods=["POST"])
@preferences_api.response(200, UnsubscribeOut)
def unsubscribe(token):
    """Turn off the link's category on email, without signing in (the link of an email)."""
    _, category = admin.unsubscribe(db.session, current_app.config["SECRET_KEY"], token)
    db.session.commit()
    return {"category": category, "channel": "email", "enabled": False}


# Rules -----------------------------------------------------------------------------------


@rules_api.route("")
class Rules(MethodView):
    @api_login_required("admin")
    @rules_api.response(200, RuleOut(many=True))
    def get(self):
        """Every rule."""
        return admin.list_rules(db.session)

    @api_login_required("admin")
    @rules_api.arguments(RuleIn)
    @rules_api.response(201, RuleOut)
    def post(self, data):
        """Add a rule: its template must render the sample event of its type."""
        rule = admin.create_rule(db.session, data)
        db.session.commit()
        return rule


@rules_api.route("/<int:rule_id>")
class RuleResource(MethodView):
    @api_login_required("admin")
    @rules_api.response(200, RuleOut)
    def get(self, rule_id):
        """One rule."""
        return admin.get_rule(db.session, rule_id)

    @api_login_required("admin")
    @rules_api.arguments(RuleUpdate)
    @rules_api.response(200, RuleOut)
    def put(self, data, rule_id):
        """Change a rule; fields left out stay as they are."""
        rule = admin.update_rule(db.session, rule_id, data)
        db.session.commit()
        return rule


# Templates -------------------------------------------------------------------------------


@templates_api.route("")
@api_login_required("admin")
@templates_api.response(200, TemplateOut(many=True))
def list_templates():
    """Every message template."""
    return admin.list_templates(db.session)


@templates_api.route("/<key>")
class TemplateResource(MethodView):
    @api_login_required("admin")
    @templates_api.response(200, TemplateOut)
    def get(self, key):
        """One template."""
        return admin.get_template(db.session, key)

    @api_login_required("admin")
    @templates_api.arguments(TemplateIn)
    @templates_api.response(200, TemplateOut)
    def put(self, data, key):
        """Change a template's texts; refused (422) unless it renders, in both languages, the
        sample event of every rule that uses it."""
        template = admin.update_template(db.session, key, data)
        db.session.commit()
        return template


@templates_api.route("/<key>/preview", methods=["POST"])
@api_login_required("admin")
@templates_api.arguments(PreviewIn)
@templates_api.response(200, PreviewOut)
def preview_template(data, key):
    """Render the template with the sample event of a type; nothing is saved."""
    event_type, language = data.pop("event_type"), data.pop("language")
    message = admin.preview_template(db.session, key, event_type, (language,), changes=data)[language]
    return {
        "event_type": event_type,
        "language": language,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
    }


# Webhook subscriptions -------------------------------------------------------------------


@webhooks_api.route("")
class Webhooks(MethodView):
    @api_login_required("admin")
    @webhooks_api.response(200, WebhookOut(many=True))
    def get(self):
        """Every webhook subscription (without secrets)."""
        return admin.list_webhooks(db.session)

    @api_login_required("admin")
    @webhooks_api.arguments(WebhookIn)
    @webhooks_api.response(201, WebhookCreated)
    def post(self, data):
        """Subscribe an http(s) URL to event types; the response carries its secret, once."""
        subscription = admin.create_webhook(
            db.session, api_identity().user_id, data["url"], data["event_types"]
        )
        db.session.commit()
        return subscription


@webhooks_api.route("/<int:subscription_id>")
class WebhookResource(MethodView):
    @api_login_required("admin")
    @webhooks_api.response(200, WebhookOut)
    def get(self, subscription_id):
        """One webhook subscription."""
        return admin.get_webhook(db.session, subscription_id)

    @api_login_required("admin")
    @webhooks_api.arguments(WebhookPatch)
    @webhooks_api.response(200, WebhookOut)
    def patch(self, data, subscription_id):
        """Disable or enable a subscription."""
        subscription = admin.set_webhook_active(db.session, subscription_id, data["active"])
        db.session.commit()
        return subscription


# The delivery log ------------------------------------------------------------------------


@deliveries_api.route("")
@api_login_required("admin")
@deliveries_api.arguments(DeliveryQuery, location="query")
@deliveries_api.response(200, DeliveryPage)
def list_deliveries(query):
    """The delivery log, newest first, filtered by state, channel, event type and recipient."""
    items, total = admin.list_deliveries(db.session, **query)
    return {"total": total, "limit": query["limit"], "offset": query["offset"], "items": items}


@deliveries_api.route("/<int:delivery_id>")
@api_login_required("admin")
@deliveries_api.response(200, DeliveryDetail)
def get_delivery(delivery_id):
    """One delivery with its message and every attempt."""
    return admin.delivery_detail(db.session, delivery_id)


@deliveries_api.route("/<int:delivery_id>/replay", methods=["POST"])
@api_login_required("admin")
@deliveries_api.response(200, DeliveryOut)
@deliveries_api.alt_response(409, description="Not a failed or sent email or webhook")
def replay_delivery(delivery_id):
    """Queue a failed (or sent) email or webhook once more, due now."""
    delivery = admin.replay_delivery(db.session, delivery_id)
    db.session.commit()
    return delivery


API_BLUEPRINTS = (inbox_api, preferences_api, rules_api, templates_api, webhooks_api, deliveries_api)
