"""Assessment: question bank, quizzes, attempts and grading."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from shared.app import create_service_app

from .api import API_BLUEPRINTS
from .handlers import EVENT_HANDLERS
from .models import db
from .web import WEB_BLUEPRINTS


def create_app(config: Mapping | None = None) -> Flask:
    return create_service_app(
        "assessment",
        __name__,
        db=db,
        handlers=EVENT_HANDLERS,
        api_blueprints=API_BLUEPRINTS,
        web_blueprints=WEB_BLUEPRINTS,
        config=config,
        api_description="Quizzes, attempts and grading.",
    )
