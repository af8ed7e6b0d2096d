"""Enrollment: accounts, programmes, sessions, seats, learner records and the LMS ingress."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from shared.app import create_service_app

from .api import API_BLUEPRINTS
from .handlers import EVENT_HANDLERS, ensure_admin
from .models import db
from .web import WEB_BLUEPRINTS


def create_app(config: Mapping | None = None) -> Flask:
    return create_service_app(
        "enrollment",
        __name__,
        db=db,
        handlers=EVENT_HANDLERS,
        api_blueprints=API_BLUEPRINTS,
        web_blueprints=WEB_BLUEPRINTS,
        config=config,
        api_description="Accounts, programmes, sessions, enrollments, learner records, LMS ingress.",
    )


def bootstrap(app: Flask) -> list[str]:
    """At start: the first admin, from PUSTAKA_ADMIN_EMAIL and PUSTAKA_ADMIN_PASSWORD when set."""
    email, password = app.config["PUSTAKA_ADMIN_EMAIL"], app.config["PUSTAKA_ADMIN_PASSWORD"]
    if not (email and password):
        return []
    with app.app_context():
        created = ensure_admin(db.session, email, password)
        db.session.commit()
    return [f"admin: {email} (from PUSTAKA_ADMIN_EMAIL)"] if created else []
