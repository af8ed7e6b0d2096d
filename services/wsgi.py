"""WSGI entrypoint for gunicorn: ``gunicorn 'services.wsgi:application("enrollment")'``."""

from __future__ import annotations

from services.system import freeze_startup_objects, wsgi


def application(service: str):
    app = wsgi([service])
    freeze_startup_objects()
    return app
