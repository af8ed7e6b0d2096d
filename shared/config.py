"""Configuration from the environment, one place for every service.

Embedded default: SQLite files under ``PUSTAKA_DATA_DIR`` and kombu's in-memory transport.
Distributed: set ``PUSTAKA_BROKER_URL`` and ``PUSTAKA_<SERVICE>_DATABASE_URL``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SERVICES = ("enrollment", "assessment", "notification")
DEFAULT_PORTS = {"enrollment": 8001, "assessment": 8002, "notification": 8003}


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("PUSTAKA_DATA_DIR", "var")).resolve()


def service_config(
    service: str, environ: Mapping[str, str] = os.environ, overrides: Mapping | None = None
) -> dict:
    """The Flask config of one service, read from the environment, then the overrides."""
    overrides = overrides or {}
    folder = (
        Path(overrides["PUSTAKA_DATA_DIR"]).resolve()
        if "PUSTAKA_DATA_DIR" in overrides
        else data_dir(environ)
    )
    upper = service.upper()
    database_url = environ.get(f"PUSTAKA_{upper}_DATABASE_URL", f"sqlite:///{folder / (service + '.sqlite')}")
    config = {
        "PUSTAKA_SERVICE": service,
        "PUSTAKA_DATA_DIR": str(folder),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "PUSTAKA_BROKER_URL": environ.get("PUSTAKA_BROKER_URL", "memory://localhost/"),
        "PUSTAKA_EXCHANGE": environ.get("PUSTAKA_EXCHANGE", "pustaka.events"),
        "PUSTAKA_QUEUE_PREFIX": environ.get("PUSTAKA_QUEUE_PREFIX", "pustaka"),
        "PUSTAKA_MAX_ATTEMPTS": int(environ.get("PUSTAKA_MAX_ATTEMPTS", "5")),
        "PUSTAKA_RETRY_BACKOFF": float(environ.get("PUSTAKA_RETRY_BACKOFF", "0.5")),
        "PUSTAKA_RELAY_INTERVAL": float(environ.get("PUSTAKA_RELAY_INTERVAL", "0.05")),
        "SECRET_KEY": environ.get(f"PUSTAKA_{upper}_SECRET_KEY") or environ.get("PUSTAKA_SECRET_KEY"),
        "PUSTAKA_JWT_PRIVATE_KEY_FILE": environ.get("PUSTAKA_JWT_PRIVATE_KEY_FILE"),
        "PUSTAKA_JWT_PUBLIC_KEY_FILE": environ.get("PUSTAKA_JWT_PUBLIC_KEY_FILE"),
        "PUSTAKA_LMS_SECRET_KEY": environ.get("PUSTAKA_LMS_SECRET_KEY"),
        "PUSTAKA_ADMIN_EMAIL": environ.get("PUSTAKA_ADMIN_EMAIL"),
        "PUSTAKA_ADMIN_PASSWORD": environ.get("PUSTAKA_ADMIN_PASSWORD"),
        "PUSTAKA_SERVICE_URLS": {
            name: environ.get(f"PUSTAKA_{name.upper()}_URL", f"/{name}") for name in SERVICES
        },
        "PUSTAKA_PUBLIC_URL": environ.get("PUSTAKA_PUBLIC_URL", "http://127.0.0.1:8000"),
        "PUSTAKA_SMTP_HOST": environ.get("PUSTAKA_SMTP_HOST"),
        "PUSTAKA_SMTP_PORT": int(environ.get("PUSTAKA_SMTP_PORT", "25")),
        "PUSTAKA_SMTP_TLS": environ.get("PUSTAKA_SMTP_TLS", "none"),  # none, starttls or ssl
        "PUSTAKA_SMTP_USER": environ.get("PUSTAKA_SMTP_USER"),
        "PUSTAKA_SMTP_PASSWORD": environ.get("PUSTAKA_SMTP_PASSWORD"),
        "PUSTAKA_SMTP_FROM": environ.get("PUSTAKA_SMTP_FROM", "Pustaka <pustaka@localhost>"),
        "PUSTAKA_DELIVERY_MAX_ATTEMPTS": int(environ.get("PUSTAKA_DELIVERY_MAX_ATTEMPTS", "8")),
        "PUSTAKA_DELIVERY_BACKOFF": float(environ.get("PUSTAKA_DELIVERY_BACKOFF", "30")),
        "PUSTAKA_DELIVERY_INTERVAL": float(environ.get("PUSTAKA_DELIVERY_INTERVAL", "1")),
        "PUSTAKA_DIGEST_HOUR": int(environ.get("PUSTAKA_DIGEST_HOUR", "7")),
        "PUSTAKA_WEBHOOK_TIMEOUT": float(environ.get("PUSTAKA_WEBHOOK_TIMEOUT", "10")),
        "PUSTAKA_WEBHOOK_DISABLE_AFTER": int(environ.get("PUSTAKA_WEBHOOK_DISABLE_AFTER", "10")),
        "PUSTAKA_FOLLOWUP_WEEKS": int(environ.get("PUSTAKA_FOLLOWUP_WEEKS", "8")),
        "PUSTAKA_FOLLOWUP_GRACE_DAYS": int(environ.get("PUSTAKA_FOLLOWUP_GRACE_DAYS", "14")),
        "PUSTAKA_FOLLOWUP_INTERVAL": float(environ.get("PUSTAKA_FOLLOWUP_INTERVAL", "60")),
        "PUSTAKA_CERTIFICATE_SIGNER_NAME": environ.get("PUSTAKA_CERTIFICATE_SIGNER_NAME", ""),
        "PUSTAKA_CERTIFICATE_SIGNER_TITLE": environ.get(
            "PUSTAKA_CERTIFICATE_SIGNER_TITLE", "Kepala Dinas Arsip dan Perpustakaan Kota Semarang"
        ),
        "PUSTAKA_ASSESSMENT_RATE_LIMIT": environ.get("PUSTAKA_ASSESSMENT_RATE_LIMIT", "30/minute"),
        "PUSTAKA_RATE_LIMIT_STORAGE_URL": environ.get("PUSTAKA_RATE_LIMIT_STORAGE_URL", "memory://"),
        "PUSTAKA_TRUSTED_PROXIES": int(environ.get("PUSTAKA_TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_NAME": f"pustaka_{service}_session",
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
    }
    config.update(overrides)
    return config


def engine_options(database_url: str) -> dict:
    if database_url.startswith("sqlite"):
        # Threads of the embedded process share the file; wait for the writer instead of failing.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}
