"""Enrollment: accounts, programmes, sessions, seats, learner records and the LMS ingress."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Flask

from shared.app import create_service_app

from .competencies import ensure_framework
from .completion import event_handlers
from .dashboards import with_read_models
from .followup_worker import followup_loop
from .handlers import ensure_admin
from .holds import hold_expiry_loop
from .models import db


def create_app(config: Mapping | None = None, *, web: bool = True) -> Flask:
    return create_service_app(
        "enrollment",
        __name__,
        db=db,
        handlers=lambda app: with_read_models(event_handlers(app)),
        blueprints=_blueprints,
        web=web,
        config=config,
        api_description="Accounts, programmes, sessions, enrollments, learner records, LMS ingress.",
        background_tasks=(hold_expiry_loop, followup_loop),
    )


def _blueprints() -> tuple[tuple[Blueprint, ...], tuple[Blueprint, ...]]:
    """The API's blueprints and the pages'."""
    from .api import API_BLUEPRINTS
    from .web import WEB_BLUEPRINTS

    return API_BLUEPRINTS, WEB_BLUEPRINTS


def bootstrap(app: Flask) -> list[str]:
    """At start: the competency framework's missing areas, and the first admin, from
    PUSTAKA_ADMIN_EMAIL and PUSTAKA_ADMIN_PASSWORD when set."""
    email, password = app.config["PUSTAKA_ADMIN_EMAIL"], app.config["PUSTAKA_ADMIN_PASSWORD"]
    lines = []
    with app.app_context():
        if added := ensure_framework(db.session):
            lines.append(f"enrollment: {added} competency areas added to the framework")
        if email and password and ensure_admin(db.session, email, password):
            lines.append(f"admin: {email} (from PUSTAKA_ADMIN_EMAIL)")
        db.session.commit()
    return lines
