"""Notification's API schemas: what the API reads and writes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.catalog import CATALOG, LANGUAGES

from . import admin, defaults
from .models import CATEGORIES, DELIVERY_STATES, PRIORITIES, RECIPIENT_KINDS


class NotificationOut(Schema):
    id = fields.Integer()
    event_type = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
    read = fields.Function(lambda notification: notification.read_at is not None)


class InboxOut(Schema):
    unread_count = fields.Integer()
    items = fields.List(fields.Nested(NotificationOut))


class InboxQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MarkedAllRead(Schema):
    marked = fields.Integer()


# Preferences -----------------------------------------------------------------------------

CLOCK = validate.Regexp(admin.CLOCK.pattern, error="Use HH:MM, for example 21:30.")


class ChannelChoices(Schema):
    in_app = fields.Boolean()
    email = fields.Boolean()


class PreferencesOut(Schema):
    preferences = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Boolean()),
        metadata={"description": "category → channel → on/off, defaults filled in"},
    )
    essential_categories = fields.List(fields.String(), metadata={"description": "Always on."})
    quiet_start = fields.String(allow_none=True)
    quiet_end = fields.String(allow_none=True)
    daily_digest = fields.Boolean()
    profile_synced = fields.Boolean(
        metadata={
            "description": "False until the account is known to notification; until then quiet"
            " hours and the digest cannot be kept."
        }
    )


class PreferencesIn(Schema):
    """What to change; whatever is left out stays as it is."""

    preferences = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CATEGORIES)),
        values=fields.Nested(ChannelChoices),
        load_default=dict,
    )
    quiet_start = fields.String(allow_none=True, validate=CLOCK, metadata={"description": "HH:MM or null"})
    quiet_end = fields.String(allow_none=True, validate=CLOCK, metadata={"description": "HH:MM or null"})
    daily_digest = fields.Boolean()


class UnsubscribeOut(Schema):
    category = fields.String()
    channel = fields.String()
    enabled = fields.Boolean()


# Rules and templates ---------------------------------------------------------------------


class RuleIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    event_type = fields.String(required=True, validate=validate.OneOf(defaults.known_event_types()))
    recipients = fields.List(
        fields.String(validate=validate.OneOf(RECIPIENT_KINDS)),
        required=True,
        validate=validate.Length(min=1),
    )
    template_key = fields.String(required=True, validate=validate.Length(min=1, max=100))
    channels = fields.List(
        fields.String(),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Names of installed channels: in_app, email, webhook, or a plugin's."},
    )
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    enabled = fields.Boolean(load_default=True)


class RuleUpdate(Schema):
    """The fields to change; the others stay as they are."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    event_type = fields.String(validate=validate.OneOf(defaults.known_event_types()))
    recipients = fields.List(
        fields.String(validate=validate.OneOf(RECIPIENT_KINDS)), validate=validate.Length(min=1)
    )
    template_key = fields.String(validate=validate.Length(min=1, max=100))
    channels = fields.List(fields.String(), validate=validate.Length(min=1))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    enabled = fields.Boolean()


class RuleOut(Schema):
    id = fields.Integer()
    name = fields.String()
    event_type = fields.String()
    recipients = fields.List(fields.String())
    template_key = fields.String()
    channels = fields.List(fields.String())
    category = fields.String()
    priority = fields.String()
    enabled = fields.Boolean()
    builtin = fields.Boolean()


class TemplateIn(Schema):
    """Jinja text run in a sandbox; fields left out stay as they are."""

    subject_id = fields.String(validate=validate.Length(min=1, max=300))
    subject_en = fields.String(validate=validate.Length(min=1, max=300))
    text_id = fields.String(validate=validate.Length(min=1))
    text_en = fields.String(validate=validate.Length(min=1))
    html_id = fields.String()
    html_en = fields.String()


class TemplateOut(Schema):
    key = fields.String()
    subject_id = fields.String()
    subject_en = fields.String()
    text_id = fields.String()
    text_en = fields.String()
    html_id = fields.String()
    html_en = fields.String()
    updated_at = fields.AwareDateTime()


class PreviewIn(TemplateIn):
    """The sample event of ``event_type`` through the template, with any texts given here
    instead of the stored ones; nothing is saved."""

    event_type = fields.String(required=True, validate=validate.OneOf(defaults.known_event_types()))
    language = fields.String(load_default="id", validate=validate.OneOf(LANGUAGES))


class PreviewOut(Schema):
    event_type = fields.String()
    language = fields.String()
    subject = fields.String()
    text = fields.String()
    html = fields.String()


# Webhooks and the delivery log ------------------------------------------------------------


class WebhookIn(Schema):
    url = fields.String(
        required=True, validate=validate.Length(min=1, max=500), metadata={"description": "http(s)"}
    )
    event_types = fields.List(
        fields.String(validate=validate.OneOf(list(CATALOG))), required=True, validate=validate.Length(min=1)
    )


class WebhookOut(Schema):
    id = fields.Integer()
    url = fields.String()
    event_types = fields.List(fields.String())
    active = fields.Boolean()
    consecutive_failures = fields.Integer()
    disabled_reason = fields.String(allow_none=True)
    owner_user_id = fields.Integer()
    created_at = fields.AwareDateTime()


class WebhookCreated(WebhookOut):
    secret = fields.String(metadata={"description": "The signing secret (Standard Webhooks), shown once."})


class WebhookPatch(Schema):
    active = fields.Boolean(required=True)


class DeliveryQuery(Schema):
    state = fields.String(validate=validate.OneOf(DELIVERY_STATES))
    channel = fields.String()
    event_type = fields.String()
    recipient = fields.String(metadata={"description": "Part of the recipient key, e.g. an email address."})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class DeliveryOut(Schema):
    id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    rule_id = fields.Integer(allow_none=True)
    recipient_key = fields.String()
    channel = fields.String()
    category = fields.String()
    priority = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    target = fields.String()
    subject = fields.String()
    created_at = fields.AwareDateTime()
    next_attempt_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)


class DeliveryAttemptOut(Schema):
    number = fields.Integer()
    attempted_at = fields.AwareDateTime()
    succeeded = fields.Boolean()
    error = fields.String(allow_none=True)


class DeliveryDetail(DeliveryOut):
    text = fields.String()
    attempt_log = fields.List(fields.Nested(DeliveryAttemptOut))


class DeliveryPage(Schema):
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    items = fields.List(fields.Nested(DeliveryOut))
