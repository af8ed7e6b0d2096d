"""W3C trace context: one trace id follows a user action through every service's logs."""

from __future__ import annotations

import contextvars
import logging
import re
import secrets

TRACEPARENT_PATTERN = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")

current_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_traceparent", default=None
)


def new_traceparent(trace_id: str | None = None) -> str:
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child_of(traceparent: str | None) -> str:
    """A traceparent that continues the given trace, or starts a new one if it is invalid."""
    match = TRACEPARENT_PATTERN.match(traceparent or "")
    return new_traceparent(match.group(1) if match else None)


def trace_id(traceparent: str | None) -> str:
    match = TRACEPARENT_PATTERN.match(traceparent or "")
    return match.group(1) if match else "-"


class TraceIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = trace_id(current_traceparent.get())
        return True


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(TraceIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(name)s] trace=%(trace_id)s %(message)s")
    )
    root = logging.getLogger()
    if not any(isinstance(f, TraceIdFilter) for h in root.handlers for f in h.filters):
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
