"""CloudEvents 1.0 envelope in JSON structured mode, with a ``traceparent`` extension."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from . import catalog
from .tracing import child_of, current_traceparent

REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type")


class MalformedEnvelope(ValueError):
    pass


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    data: dict
    subject: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    traceparent: str | None = None
    specversion: str = "1.0"
    datacontenttype: str = "application/json"

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None})

    @classmethod
    def from_json(cls, text: str | bytes) -> CloudEvent:
        try:
            attributes = json.loads(text)
        except (TypeError, ValueError) as error:
            raise MalformedEnvelope(f"not JSON: {error}") from None
        if not isinstance(attributes, dict):
            raise MalformedEnvelope("a CloudEvent is a JSON object")
        missing = [name for name in REQUIRED_ATTRIBUTES if not attributes.get(name)]
        if missing:
            raise MalformedEnvelope(f"missing attributes: {', '.join(missing)}")
        if attributes["specversion"] != "1.0":
            raise MalformedEnvelope("specversion must be 1.0")
        known = {name: attributes[name] for name in cls.__dataclass_fields__ if name in attributes}
        if not isinstance(known.get("data", {}), dict):
            raise MalformedEnvelope("data must be a JSON object")
        known.setdefault("data", {})
        return cls(**known)


def new_event(type_name: str, data: dict, *, service: str, subject: str | None = None) -> CloudEvent:
    """A catalog event from this service, carrying the trace of the current action."""
    event_type = catalog.get(type_name)
    return CloudEvent(
        type=event_type.name,
        source=f"/pustaka/{service}",
        subject=subject,
        data=event_type.validated(data),
        traceparent=child_of(current_traceparent.get()),
    )


def checked(event: CloudEvent) -> CloudEvent:
    """The event if its type is declared and its data fits the schema; raises otherwise."""
    catalog.get(event.type).check(event.data)
    return event
