"""Rate limits on taking quizzes (Flask-Limiter).

Anyone may start, save and submit attempts of a public quiz without an account, so each client
gets one budget (``PUSTAKA_ASSESSMENT_RATE_LIMIT``, e.g. "30/minute") shared by those requests on
the pages and in the API; reading pages and results is not limited. The counters live where
``PUSTAKA_RATE_LIMIT_STORAGE_URL`` says: in Redis in distributed mode, so that every web worker
counts against the same budget, or in the process's memory when embedded. Over the limit the
answer is 429, as JSON for the API and as a page for the web; when Redis is away, each process
counts in its own memory until it is back.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import parse_many

from shared.i18n import N_

# The endpoints that write: start, save a page, submit. Their GETs (the pages) are not limited.
QUIZ_TAKING_ENDPOINTS = (
    "web.start",
    "web.attempt_page",
    "web.confirm_submit",
    "quizzes_api.start",
    "attempts_api.save_page",
    "attempts_api.submit",
)
LIMITED_METHODS = ["POST", "PUT"]
TOO_MANY = N_("Too many requests from your connection in a short time. Please wait a moment and try again.")
# A Redis that does not answer must not hold up a taker for long: the in-memory fallback takes over.
REDIS_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 2}


def client_address() -> str:
    """Who is counted: the client's address. Behind ``PUSTAKA_TRUSTED_PROXIES`` reverse proxies that
    each append to X-Forwarded-For, the address the outermost one saw (werkzeug's ProxyFix rule);
    without them the header is not trusted, since a client can write it."""
    hops = current_app.config["PUSTAKA_TRUSTED_PROXIES"]
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.remote_addr or ""


def init_rate_limits(app: Flask) -> Limiter:
    """A limiter of the app's own (its storage is per app), on the quiz-taking endpoints."""
    rate = app.config["PUSTAKA_ASSESSMENT_RATE_LIMIT"]
    parse_many(rate)  # a malformed limit stops the start; Flask-Limiter would skip it silently
    limiter = Limiter(
        client_address,
        storage_uri=app.config["PUSTAKA_RATE_LIMIT_STORAGE_URL"],
        # Redis keys start with the installation's prefix (memory storage ignores these options).
        storage_options=REDIS_TIMEOUTS | {"key_prefix": f"{app.config['PUSTAKA_QUEUE_PREFIX']}.assessment"},
        strategy="moving-window",
        headers_enabled=True,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    # The limited views hold the limiter weakly, and Flask-Limiter keeps none when it is disabled
    # (RATELIMIT_ENABLED=False): without this reference those views would fail.
    app.extensions["pustaka_rate_limiter"] = limiter
    taking = limiter.shared_limit(
        rate,
        scope="quiz-taking",
        methods=LIMITED_METHODS,
        error_message=TOO_MANY,
    )
    for endpoint in QUIZ_TAKING_ENDPOINTS:
        app.view_functions[endpoint] = taking(app.view_functions[endpoint])
    return limiter
