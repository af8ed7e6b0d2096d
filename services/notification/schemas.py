"""Notification's API schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


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
