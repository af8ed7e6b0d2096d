"""Assessment: question bank, quizzes, attempts and grading."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from flask import Blueprint, Flask
from sqlalchemy.exc import SQLAlchemyError

from shared.app import create_service_app

from .handlers import EVENT_HANDLERS, expire_attempts
from .models import db
from .surveys import ensure_default_survey

log = logging.getLogger(__name__)

# How often the worker looks for attempts whose time is up, in seconds.
EXPIRY_INTERVAL = 1.0


def create_app(config: Mapping | None = None, *, web: bool = True) -> Flask:
    app = create_service_app(
        "assessment",
        __name__,
        db=db,
        handlers=EVENT_HANDLERS,
        blueprints=_blueprints,
        web=web,
        config=config,
        api_description="Question bank, quizzes, attempts and grading, item analysis, pre/post gains.",
        background_tasks=(close_expired_attempts,),
    )
    if web:  # a worker takes no quizzes: no limiter, nor its Redis client
        from .rate_limits import init_rate_limits

        init_rate_limits(app)
    return app


def _blueprints() -> tuple[tuple[Blueprint, ...], tuple[Blueprint, ...]]:
    """The API's blueprints and the pages'."""
    from .api import API_BLUEPRINTS
    from .gains_api import GAINS_API_BLUEPRINTS
    from .gains_web import GAINS_WEB_BLUEPRINTS
    from .web import WEB_BLUEPRINTS

    return (*API_BLUEPRINTS, *GAINS_API_BLUEPRINTS), (*WEB_BLUEPRINTS, *GAINS_WEB_BLUEPRINTS)


def bootstrap(app: Flask) -> list[str]:
    """At start: the default feedback survey, when missing (an existing one is left as it is)."""
    with app.app_context():
        ensure_default_survey(db.session)
        db.session.commit()
    return []


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
