"""The enrollment worker's background task: announces follow-up assessments as they fall due.

Any number of workers may run it: :func:`competencies.publish_due_followups` claims each follow-up
once, and the event goes out through the outbox of the claiming transaction.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from shared.bus import backoff_delay
from shared.db import utcnow

from .competencies import publish_due_followups

log = logging.getLogger(__name__)
BATCH = 50


def followup_loop(app: Flask, stop: threading.Event) -> None:
    with app.app_context():
        sessions = app.extensions["pustaka"].session_factory()
    interval = app.config["PUSTAKA_FOLLOWUP_INTERVAL"]
    failures = 0
    while not stop.is_set():
        try:
            with sessions() as session:
                announced = publish_due_followups(session, utcnow(), limit=BATCH)
                session.commit()
            failures = 0
        except SQLAlchemyError as error:
            failures += 1
            log.warning("follow-up loop: database unavailable: %s", error)
            stop.wait(backoff_delay(failures))
            continue
        except Exception:  # a bug must not silently end the announcements
            failures += 1
            log.exception("follow-up loop: unexpected error")
            stop.wait(backoff_delay(failures))
            continue
        if announced:
            log.info("follow-ups due: %d announced", announced)
        if announced < BATCH:
            stop.wait(interval)
