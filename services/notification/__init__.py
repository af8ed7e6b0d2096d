"""Notification: turns events into in-app messages, email and signed webhooks."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Flask

from shared.app import create_service_app

from .channels import load_channels
from .defaults import ensure_builtins
from .delivery import delivery_loop
from .handlers import event_handlers
from .models import db


def create_app(config: Mapping | None = None, *, web: bool = True) -> Flask:
    return create_service_app(
        "notification",
        __name__,
        db=db,
        handlers=lambda app: event_handlers(load_channels(), app.config),
        blueprints=_blueprints,
        web=web,
        config=config,
        api_description="Inbox, preferences, rules and templates, webhooks, delivery log.",
        background_tasks=(delivery_loop,),
    )


def _blueprints() -> tuple[tuple[Blueprint, ...], tuple[Blueprint, ...]]:
    """The API's blueprints and the pages'."""
    from .api import API_BLUEPRINTS
    from .web import WEB_BLUEPRINTS

    return API_BLUEPRINTS, WEB_BLUEPRINTS


def bootstrap(app: Flask) -> list[str]:
    """At start: the built-in rules and templates that are missing."""
    with app.app_context():
        added = ensure_builtins(db.session)
        db.session.commit()
    return [f"notification: {added} built-in rules and templates added"] if added else []
