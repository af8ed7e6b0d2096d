"""WSGI entrypoint for gunicorn: ``gunicorn 'services.wsgi:application("enrollment")'``."""

from __future__ import annotations

from services.system import wsgi


def application(service: str):
    return wsgi([service])
