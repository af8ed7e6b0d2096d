"""The enrollment worker's background task: frees the seats of public holds nobody confirmed.

Seat counts never wait for it (a hold past its time no longer counts as a taken seat); it marks
such holds expired and tells their people. Any number of workers may run it: each session's holds
are expired under the session's row lock, once.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from shared.bus import backoff_delay

from .handlers import expire_holds

log = logging.getLogger(__name__)
INTERVAL = 60.0  # seconds; a hold lasts hours


def hold_expiry_loop(app: Flask, stop: threading.Event) -> None:
    with app.app_context():
        sessions = app.extensions["pustaka"].session_factory()
    failures = 0
    while not stop.is_set():
        try:
            with sessions() as session:
                expired = expire_holds(session)
                session.commit()
            failures = 0
        except SQLAlchemyError as error:
            failures += 1
            log.warning("hold expiry: database unavailable: %s", error)
            stop.wait(backoff_delay(failures))
            continue
        except Exception:  # a bug must not silently end the expiry
            failures += 1
            log.exception("hold expiry: unexpected error")
            stop.wait(backoff_delay(failures))
            continue
        if expired:
            log.info("public holds expired: %d", expired)
        stop.wait(INTERVAL)
