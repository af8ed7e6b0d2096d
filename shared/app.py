"""The app-factory helpers every service uses: config, extensions, errors, health, i18n."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, g, jsonify, render_template, request
from flask_babel import Babel
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException

from . import auth
from .bus import EventBus
from .config import service_config
from .consumer import Handler
from .errors import DomainError
from .i18n import N_
from .keys import secret_key, signing_key_files
from .localtime import local_time
from .tracing import child_of, configure_logging, current_traceparent

SHARED_DIR = Path(__file__).parent
LANGUAGE_COOKIE = "pustaka_lang"

log = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    """What a service's entrypoints need, passed around instead of imported globals."""

    name: str
    bus: EventBus
    db: SQLAlchemy
    handlers: Mapping[str, Handler]
    verifier: auth.TokenVerifier
    private_key_file: Path | None = None
    # Loops a service's worker runs beside its relay and consumer, each given the app and a stop event.
    background_tasks: tuple[Callable[[Flask, threading.Event], None], ...] = ()

    def session_factory(self) -> Callable[[], Session]:
        return sessionmaker(bind=self.db.engine, expire_on_commit=False)


def create_service_app(
    service: str,
    import_name: str,
    *,
    db: SQLAlchemy,
    handlers: Mapping[str, Handler] | Callable[[Flask], Mapping[str, Handler]],
    blueprints: Callable[[], tuple[Iterable[Blueprint], Iterable[Blueprint]]],
    web: bool = True,
    config: Mapping | None = None,
    api_description: str = "",
    background_tasks: Iterable[Callable[[Flask, threading.Event], None]] = (),
) -> Flask:
    """A service's Flask app; ``handlers`` may be a function of the app, for handlers that need its settings.

    ``blueprints`` returns the API's blueprints and the pages'. A worker's app (``web=False``)
    serves neither, so it never calls it and never imports their modules (memory of idle workers)."""
    configure_logging()
    package_dir = Path(__import__(import_name, fromlist=["_"]).__file__).parent
    app = Flask(import_name, template_folder=None, static_folder=str(SHARED_DIR / "static"))
    app.config.from_mapping(service_config(service, overrides=config))
    app.config.update(
        API_TITLE=f"Pustaka {service}",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"info": {"description": api_description}},
        BABEL_DEFAULT_LOCALE="id",
        BABEL_TRANSLATION_DIRECTORIES=f"{package_dir / 'translations'};{SHARED_DIR / 'translations'}",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config or {})  # over the defaults just set
    data_dir = Path(app.config["PUSTAKA_DATA_DIR"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(data_dir, service)
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(package_dir / "templates"), FileSystemLoader(SHARED_DIR / "templates")]
    )

    private_file, public_file = _key_files(app.config, data_dir)
    db.init_app(app)
    app.config["PUSTAKA_MIGRATIONS"] = str(package_dir / "migrations")
    app.extensions["pustaka"] = ServiceRuntime(
        name=service,
        bus=EventBus(
            app.config["PUSTAKA_BROKER_URL"],
            app.config["PUSTAKA_EXCHANGE"],
            app.config["PUSTAKA_QUEUE_PREFIX"],
        ),
        db=db,
        handlers=handlers,
        verifier=auth.TokenVerifier(public_file.read_bytes()),
        private_key_file=private_file,
        background_tasks=tuple(background_tasks),
    )
    if callable(handlers):
        app.extensions["pustaka"].handlers = handlers(app)

    csrf = CSRFProtect(app)
    Babel(app, locale_selector=select_language)
    api = Api(app)
    api_blueprints, web_blueprints = blueprints() if web else ((), ())
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)  # the API authenticates by bearer token, never by cookie
        api.register_blueprint(blueprint)
    for blueprint in web_blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(_operations_blueprint())
    _register_error_handlers(app)
    _register_tracing(app)
    _register_template_helpers(app)
    return app


def init_migrations(app: Flask) -> str:
    """Register Flask-Migrate (Alembic) on demand: web and worker processes never load it."""
    from flask_migrate import Migrate

    if "migrate" not in app.extensions:
        Migrate(
            app,
            app.extensions["pustaka"].db,
            directory=app.config["PUSTAKA_MIGRATIONS"],
            render_as_batch=True,
        )
    return app.config["PUSTAKA_MIGRATIONS"]


def _key_files(config: Mapping, data_dir: Path) -> tuple[Path | None, Path]:
    if config.get("PUSTAKA_JWT_PUBLIC_KEY_FILE"):
        private = config.get("PUSTAKA_JWT_PRIVATE_KEY_FILE")
        return (Path(private) if private else None), Path(config["PUSTAKA_JWT_PUBLIC_KEY_FILE"])
    return signing_key_files(data_dir)


def select_language() -> str:
    chosen = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in ("id", "en"):
        return chosen
    identity = auth.cookie_identity() if "Authorization" not in request.headers else None
    return identity.language if identity else "id"


def runtime() -> ServiceRuntime:
    from flask import current_app

    return current_app.extensions["pustaka"]


def _operations_blueprint() -> Blueprint:
    ops = Blueprint("ops", __name__)

    @ops.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @ops.get("/readyz")
    def readyz():
        checks = {}
        try:
            runtime().db.session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"unreachable: {type(error).__name__}"
        try:
            runtime().bus.ping()
            checks["broker"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["broker"] = f"unreachable: {type(error).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return jsonify(status="ready" if ready else "not ready", checks=checks), (200 if ready else 503)

    return ops


def wants_json() -> bool:
    return (
        "/api/" in request.path
        or request.path.endswith(".json")
        or (request.accept_mimetypes.best == "application/json")
    )


def _field_errors(error: HTTPException) -> dict:
    """webargs puts field messages under their location; clients want them by field."""
    data = getattr(error, "data", None) or {}
    if data.get("errors"):
        return data["errors"]
    messages = data.get("messages") or {}
    flat: dict = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            flat.update(location_messages)
    return flat


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = (getattr(error, "data", None) or {}).get("message") or error.description
        errors = _field_errors(error)
        if error.code == 422 and errors and not (getattr(error, "data", None) or {}).get("message"):
            message = N_("The request has invalid fields.")
        if wants_json():
            body = {"code": error.code, "status": error.name, "message": message}
            if errors:
                body["errors"] = errors
            return jsonify(body), error.code
        return render_template("error.html", status=error.code, message=message), error.code

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if wants_json():
            body = {"code": error.status, "message": error.message}
            if error.errors:
                body["errors"] = error.errors
            return jsonify(body), error.status
        return render_template("error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("error.html", status=400, message=error.description), 400

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error")
        if wants_json():
            return jsonify(code=500, status="Internal Server Error", message=N_("Unexpected error.")), 500
        return render_template("error.html", status=500, message=N_("Unexpected error.")), 500


def _register_tracing(app: Flask) -> None:
    @app.before_request
    def start_trace():
        g.traceparent = child_of(request.headers.get("traceparent"))
        g.trace_token = current_traceparent.set(g.traceparent)

    @app.after_request
    def return_trace(response):
        response.headers["traceparent"] = g.get("traceparent", "")
        log.info("%s %s%s %s", request.method, request.script_root, request.path, response.status_code)
        return response

    @app.teardown_request
    def end_trace(_error):
        token = g.pop("trace_token", None)
        if token is not None:
            current_traceparent.reset(token)


def _public_link(urls: Mapping[str, str], path: str) -> str:
    """``/<service>/rest`` as that service's public URL, which may be on another host."""
    service, _, rest = path.lstrip("/").partition("/")
    return urls[service] + "/" + rest if service in urls else path


def _register_template_helpers(app: Flask) -> None:
    app.add_template_filter(local_time, "wib")

    @app.context_processor
    def helpers():
        urls = app.config["PUSTAKA_SERVICE_URLS"]
        return {
            "current_user": auth.cookie_identity(),
            "service_url": lambda name, path="": urls[name] + path,
            "public_link": lambda path: _public_link(urls, path),
            "current_language": select_language(),
            "service_name": app.config["PUSTAKA_SERVICE"],
        }
