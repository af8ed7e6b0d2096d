"""Notification: turns events into in-app messages, email and signed webhooks."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from shared.app import create_service_app

from .api import API_BLUEPRINTS
from .channels import load_channels
from .defaults import ensure_builtins
from .delivery import delivery_loop
from .handlers import event_handlers
from .models import db
from .web import WEB_BLUEPRINTS


def create_app(config: Mapping | None = None) -> Flask:
    return create_service_app(
        "notification",
        __name__,
        db=db,
        handlers=lambda app: event_handlers(load_channels(), app.config),
        api_blueprints=API_BLUEPRINTS,
        web_blueprints=WEB_BLUEPRINTS,
        config=config,
        api_description="Inbox, preferences, rules and templates, webhooks, delivery log.",
        background_tasks=(delivery_loop,),
    )


def bootstrap(app: Flask) -> list[str]:
    """At start: the built-in rules and templates that are missing."""
    with app.app_context():
        added = ensure_builtins(db.session)
        db.session.commit()
    return [f"notification: {added} built-in rules and templates added"] if added else []
