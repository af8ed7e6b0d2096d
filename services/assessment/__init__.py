"""Assessment: question bank, quizzes, attempts and grading."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from shared.app import create_service_app

from .api import API_BLUEPRINTS
from .handlers import EVENT_HANDLERS, expire_attempts
from .models import db
from .web import WEB_BLUEPRINTS

log = logging.getLogger(__name__)

# How often the worker looks for attempts whose time is up, in seconds.
EXPIRY_INTERVAL = 1.0


def create_app(config: Mapping | None = None) -> Flask:
    return create_service_app(
        "assessment",
        __name__,
        db=db,
        handlers=EVENT_HANDLERS,
        api_blueprints=API_BLUEPRINTS,
        web_blueprints=WEB_BLUEPRINTS,
        config=config,
        api_description="Question bank, quizzes, attempts and grading, item analysis.",
        background_tasks=(close_expired_attempts,),
    )


def close_expired_attempts(app: Flask, stop: threading.Event) -> None:
    """The worker's task: close attempts past their deadline even if no browser comes back."""
    with app.app_context():
        sessions = app.extensions["pustaka"].session_factory()
    while not stop.is_set():
        session = sessions()
        try:
            if expire_attempts(session):
                session.commit()
        except SQLAlchemyError as error:
            session.rollback()
            log.warning("closing expired attempts: database unavailable: %s", error)
        except Exception:  # a bug must not silently end the worker's task
            session.rollback()
            log.exception("closing expired attempts: unexpected error")
        finally:
            session.close()
        stop.wait(EXPIRY_INTERVAL)
