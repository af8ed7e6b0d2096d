"""External LMSs: their clients (secrets, course mapping, the external ids of our learners) and the
ingress of what they post into learner records and competency evidence.

Plain use cases over a SQLAlchemy session, free of Flask; ``lms_api.py`` and ``lms_web.py`` are thin
layers over them.

- **Secrets at rest.** Standard Webhooks signatures are HMACs, so the ingress needs each secret
  itself: it cannot be hashed. Secrets are encrypted (Fernet: AES-128-CBC with HMAC-SHA256) with a
  key from ``PUSTAKA_LMS_SECRET_KEY`` (any long random string; several separated by commas while the
  key is being replaced: the first encrypts, each decrypts), else one generated into the data dir
  beside the token keys. A copy of the database alone gives no usable secret.
- **Rotation.** A new secret replaces the current one; the old one is still accepted for an overlap
  period (24 hours by default), then refused.
- **What is taken.** CloudEvents ``lms.course.{completed,passed,failed,attempted}`` (structured,
  binary or batched) and xAPI statements with the ADL verbs of the same names (others are counted
  as ignored: an LMS may send every statement it has). Each item is one learner-record entry:
  ``lms_completion`` for completed or passed (unless ``success`` is false), else ``lms_attempt``.
  A completion of a mapped course is competency evidence in its areas.
- **Actors.** A learner is found by a stored external id of the client (an LMS user id, an xAPI
  account name, or another email), else by the email of our account. An unknown learner's items are
  kept as pending and recorded when the account appears: ``handlers.create_user`` calls
  :func:`attach_pending` in the transaction that creates the account (the records are there when
  the person first signs in, and no broker is needed), and :func:`add_external_id` attaches the
  items of the id it stores.
- **Idempotency.** A ``webhook-id`` is stored with the digest of its body: the same id with the same
  body again adds nothing, with another body it is refused. An item (a CloudEvent ``source`` and
  ``id``, an xAPI statement ``id``) is recorded once, whichever delivery brings it.

The ingress writes only to this database, so nothing is lost while the broker is away.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from marshmallow import Schema, ValidationError
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shared.competencies import AREAS
from shared.db import UTCDateTime, utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from shared.i18n import N_
from shared.keys import secret_key
from shared.webhooks import SECRET_PREFIX, WebhookVerificationError, verify

from . import competencies
from .lms_schemas import CE_TYPES, XAPI_VERBS, LmsCloudEvent, XapiStatement, field_errors
from .models import LearnerRecord, Programme, User, db

log = logging.getLogger(__name__)

LMS_COMPLETION, LMS_ATTEMPT = "lms_completion", "lms_attempt"
DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=7)
MAX_BODY = 1024 * 1024
MAX_ITEMS = 500
CLIENT_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
CE_STRUCTURED, CE_BATCH = "application/cloudevents+json", "application/cloudevents-batch+json"
JSON_MEDIA = re.compile(r"^(application/(.+\+)?json)?$")


# Models ----------------------------------------------------------------------------------------


class LmsClient(db.Model):
    """An external LMS allowed to post, with its Standard Webhooks secret (encrypted)."""

    __tablename__ = "lms_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # The secret before the last rotation, accepted until it expires.
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    courses: Mapped[list[LmsCourse]] = relationship(
        back_populates="client", order_by="LmsCourse.course_id", cascade="all, delete-orphan"
    )
    external_ids: Mapped[list[LmsExternalId]] = relationship(
        back_populates="client", order_by="LmsExternalId.external_id", cascade="all, delete-orphan"
    )

    def accepted_secrets(self, box: SecretBox, now: datetime) -> list[str]:
        accepted = [box.open(self.secret_encrypted)]
        if self.previous_secret_encrypted and self.previous_secret_expires_at > now:
            accepted.append(box.open(self.previous_secret_encrypted))
        return accepted


class LmsCourse(db.Model):
    """What a course of the client is here: a title, a programme, competency areas."""

    __tablename__ = "lms_courses"
    __table_args__ = (UniqueConstraint("client_id", "course_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("lms_clients.id"))
    course_id: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(300), default="")
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    competency_areas: Mapped[list[str]] = mapped_column(JSON, default=list)

    client: Mapped[LmsClient] = relationship(back_populates="courses")
    programme: Mapped[Programme | None] = relationship()


class LmsExternalId(db.Model):
    """How the client names one of our learners: its user id, an xAPI account name, an email."""

    __tablename__ = "lms_external_ids"
    __table_args__ = (UniqueConstraint("client_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("lms_clients.id"))
    external_id: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    client: Mapped[LmsClient] = relationship(back_populates="external_ids")
    user: Mapped[User] = relationship(lazy="joined")


class LmsDelivery(db.Model):
    """A ``webhook-id`` received, with the digest of its body and what it brought."""

    __tablename__ = "lms_deliveries"
    __table_args__ = (UniqueConstraint("client_id", "webhook_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("lms_clients.id"))
    webhook_id: Mapped[str] = mapped_column(String(200))
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    receipt: Mapped[dict] = mapped_column(JSON, default=dict)


class LmsPending(db.Model):
    """An item for a learner not known yet, kept until the account or the external id appears."""

    __tablename__ = "lms_pending"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("lms_clients.id"), index=True)
    actor_email: Mapped[str | None] = mapped_column(String(254), index=True)
    actor_account: Mapped[str | None] = mapped_column(String(254))
    # The learner-record entry's source_ref to be.
    source_ref: Mapped[str] = mapped_column(String(300), unique=True)
    activity: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[LmsClient] = relationship()


# Secrets ---------------------------------------------------------------------------------------


class SecretUnreadable(ValueError):
    """A sealed secret that none of the keys opens: the key was changed without keeping the old one."""


class SecretBox:
    """Seals secrets for the database and opens them again."""

    def __init__(self, keys: Sequence[str]):
        # Only where secrets are handled: workers never load cryptography.
        from cryptography.fernet import Fernet, MultiFernet

        self._fernet = MultiFernet([Fernet(_fernet_key(key)) for key in keys])

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no key opens this secret") from None


def _fernet_key(material: str) -> bytes:
    """Any long random string is a key: Fernet's own is its SHA-256, base64-encoded."""
    return base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())


def secret_box(config: Mapping) -> SecretBox:
    """The box of ``PUSTAKA_LMS_SECRET_KEY``, else of a key generated into the data dir."""
    configured = config.get("PUSTAKA_LMS_SECRET_KEY") or ""
    keys = [key.strip() for key in configured.split(",") if key.strip()]
    return SecretBox(keys or [secret_key(Path(config["PUSTAKA_DATA_DIR"]), "lms")])


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


# Clients ---------------------------------------------------------------------------------------


def list_clients(session: Session) -> list[LmsClient]:
    return list(session.scalars(select(LmsClient).order_by(LmsClient.name)))


def get_client(session: Session, client_id: int) -> LmsClient:
    client = session.get(LmsClient, client_id)
    if client is None:
        raise NotFound(N_("No such LMS client."))
    return client


def create_client(session: Session, box: SecretBox, name: str) -> tuple[LmsClient, str]:
    """A new client and its secret, which is shown this once."""
    name = name.strip()
    if not CLIENT_NAME.match(name):
        raise Invalid(
            N_("The LMS client has invalid fields."),
            {"name": [N_("Up to 100 lower-case letters, digits, dots, hyphens and underscores.")]},
        )
    if session.scalar(select(LmsClient.id).where(LmsClient.name == name)):
        raise Conflict(
            N_("An LMS client with this name exists."), {"name": [N_("An LMS client with this name exists.")]}
        )
    secret = new_secret()
    client = LmsClient(name=name, secret_encrypted=box.seal(secret))
    session.add(client)
    session.flush()
    return client, secret


def rotate_secret(
    session: Session,
    box: SecretBox,
    client_id: int,
    overlap: timedelta = DEFAULT_OVERLAP,
    now: datetime | None = None,
) -> tuple[LmsClient, str]:
    """A new secret; the current one is still accepted for ``overlap`` (none: refused at once).
    A secret older than the current one is refused from now on."""
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise Invalid(N_("The rotation has invalid fields."), {"overlap_hours": [N_("Give 0 to 168 hours.")]})
    now = now or utcnow()
    client = get_client(session, client_id)
    secret = new_secret()
    client.previous_secret_encrypted = client.secret_encrypted if overlap else None
    client.previous_secret_expires_at = now + overlap if overlap else None
    client.secret_encrypted, client.rotated_at = box.seal(secret), now
    session.flush()
    return client, secret


def set_active(session: Session, client_id: int, active: bool) -> LmsClient:
    """Enable or disable a client; a disabled client's posts are refused (403)."""
    client = get_client(session, client_id)
    client.active = active
    session.flush()
    return client


# Course mapping and external ids ----------------------------------------------------------------


def set_course(
    session: Session,
    client_id: int,
    *,
    course_id: str,
    title: str = "",
    programme_id: int | None = None,
    competency_areas: Iterable[str] = (),
) -> LmsCourse:
    """Map a course of the client (added, or changed when mapped already)."""
    client = get_client(session, client_id)
    course_id, title, areas = course_id.strip(), title.strip(), list(dict.fromkeys(competency_areas))
    errors: dict[str, list[str]] = {}
    if not 1 <= len(course_id) <= 500:
        errors["course_id"] = [N_("Give the LMS's id of the course, at most 500 characters.")]
    if len(title) > 300:
        errors["title"] = [N_("At most 300 characters.")]
    if any(code not in AREAS for code in areas):
        errors["competency_areas"] = [N_("Not a competency area of the framework.")]
    if programme_id is not None and session.get(Programme, programme_id) is None:
        errors["programme_id"] = [N_("No such programme.")]
    if errors:
        raise Invalid(N_("The course mapping has invalid fields."), errors)
    course = session.scalar(
        select(LmsCourse).where(LmsCourse.client_id == client.id, LmsCourse.course_id == course_id)
    )
    if course is None:
        course = LmsCourse(client=client, course_id=course_id)
        session.add(course)
    course.title, course.programme_id, course.competency_areas = title, programme_id, areas
    session.flush()
    return course


def mappable_programmes(session: Session) -> list[Programme]:
    """The programmes a course may count for: all but the archived ones."""
    return list(
        session.scalars(select(Programme).where(Programme.status != "archived").order_by(Programme.title_id))
    )


def remove_course(session: Session, client_id: int, mapping_id: int) -> None:
    course = session.get(LmsCourse, mapping_id)
    if course is None or course.client_id != client_id:
        raise NotFound(N_("No such course mapping."))
    session.delete(course)
    session.flush()


def add_external_id(
    session: Session, client_id: int, external_id: str, email: str
) -> tuple[LmsExternalId, int]:
    """Store how the client names the account of ``email``; its pending items are recorded now.
    Returns the row and how many items were recorded."""
    client = get_client(session, client_id)
    external_id = external_id.strip()
    errors: dict[str, list[str]] = {}
    if not 1 <= len(external_id) <= 254:
        errors["external_id"] = [N_("Give the learner's id at the LMS, at most 254 characters.")]
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        errors["email"] = [N_("No account has this email.")]
    if errors:
        raise Invalid(N_("The external id has invalid fields."), errors)
    row = session.scalar(
        select(LmsExternalId).where(
            LmsExternalId.client_id == client.id, LmsExternalId.external_id == external_id
        )
    )
    if row is not None and row.user_id != user.id:
        raise Conflict(
            N_("This external id belongs to another account."),
            {"external_id": [N_("This external id belongs to another account.")]},
        )
    if row is None:
        row = LmsExternalId(client=client, external_id=external_id, user_id=user.id)
        session.add(row)
        session.flush()
    pending = session.scalars(
        select(LmsPending).where(
            LmsPending.client_id == client.id,
            or_(LmsPending.actor_account == external_id, LmsPending.actor_email == external_id.lower()),
        )
    ).all()
    return row, _record_pending(session, pending, user.id)


def remove_external_id(session: Session, client_id: int, row_id: int) -> None:
    row = session.get(LmsExternalId, row_id)
    if row is None or row.client_id != client_id:
        raise NotFound(N_("No such external id."))
    session.delete(row)
    session.flush()


def pending_items(session: Session, client_id: int) -> list[LmsPending]:
    """The client's items waiting for their learner, oldest first."""
    return list(
        session.scalars(select(LmsPending).where(LmsPending.client_id == client_id).order_by(LmsPending.id))
    )


def recent_deliveries(session: Session, client_id: int, limit: int = 20) -> list[LmsDelivery]:
    return list(
        session.scalars(
            select(LmsDelivery)
            .where(LmsDelivery.client_id == client_id)
            .order_by(LmsDelivery.id.desc())
            .limit(limit)
        )
    )


def attach_pending(session: Session, user: User) -> int:
    """For a new account: the items kept for its email go into its record; how many."""
    pending = session.scalars(select(LmsPending).where(LmsPending.actor_email == user.email)).all()
    return _record_pending(session, pending, user.id)


# What LMSs post --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    """One item of a delivery, whichever format brought it."""

    reference: str  # unique per client: "ce:<source>#<id>", "xapi:<statement id>"
    verb: str
    course_id: str
    occurred_at: datetime
    actor_email: str | None = None
    actor_account: str | None = None
    course_title: str | None = None
    score: float | None = None
    min_score: float | None = None
    max_score: float | None = None
    scaled: float | None = None
    success: bool | None = None
    completion: bool | None = None

    @property
    def completed(self) -> bool:
        return self.verb in ("completed", "passed") and self.success is not False

    @property
    def percent(self) -> float | None:
        if self.scaled is not None:
            return max(0.0, self.scaled * 100)
        if self.score is not None and self.max_score is not None and self.max_score > (self.min_score or 0):
            low = self.min_score or 0
            return (self.score - low) / (self.max_score - low) * 100
        return None

    def to_json(self) -> dict:
        return asdict(self) | {"occurred_at": self.occurred_at.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping) -> Activity:
        return cls(**(dict(data) | {"occurred_at": datetime.fromisoformat(data["occurred_at"])}))


@dataclass(frozen=True)
class Delivery:
    activities: list[Activity]
    ignored: int = 0  # xAPI statements with other verbs


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:  # also a body that is not UTF-8
        raise Invalid(N_("The body is not JSON."), {"body": ["Not JSON."]}) from None


def _load(
    schema: Schema,
    document: object,
    errors: dict[str, list[str]],
    prefix: str = "",
    names: Mapping[str, str] | None = None,
) -> dict | None:
    """The loaded document, or None with its field messages added to ``errors``."""
    try:
        return schema.load(document)
    except ValidationError as error:
        messages = error.messages
        if names and isinstance(messages, dict):
            messages = {names.get(key, key): value for key, value in messages.items()}
        errors.update(field_errors(messages, prefix))
        return None


def _from_cloud_event(event: Mapping) -> Activity:
    data = event["data"]
    return Activity(
        reference=f"ce:{event['source']}#{event['id']}",
        verb=CE_TYPES[event["type"]],
        course_id=data["course_id"],
        occurred_at=data.get("completed_at") or event["time"],
        actor_email=(data.get("learner_email") or "").lower() or None,
        actor_account=data.get("learner_id"),
        course_title=data.get("course_title"),
        score=data.get("score"),
        min_score=data.get("min_score"),
        max_score=data.get("max_score"),
        success=data.get("success"),
    )


def _title(names: Mapping[str, str]) -> str | None:
    """An xAPI language map's text: Indonesian, else English, else the first."""
    for prefix in ("id", "en", ""):
        for tag, text in names.items():
            if tag.lower().startswith(prefix) and text.strip():
                return text.strip()[:300]
    return None


def _from_statement(statement: Mapping, fallback_reference: str, now: datetime) -> Activity | None:
    verb = XAPI_VERBS.get(statement["verb"]["id"])
    if verb is None:
        return None
    actor, target = statement["actor"], statement["object"]
    result = statement.get("result") or {}
    score = result.get("score") or {}
    return Activity(
        reference=f"xapi:{statement['id']}" if statement.get("id") else fallback_reference,
        verb=verb,
        course_id=target["id"],
        occurred_at=statement.get("timestamp") or now,
        actor_email=actor["mbox"].removeprefix("mailto:").lower() if actor.get("mbox") else None,
        actor_account=(actor.get("account") or {}).get("name"),
        course_title=_title((target.get("definition") or {}).get("name") or {}),
        score=score.get("raw"),
        min_score=score.get("min"),
        max_score=score.get("max"),
        scaled=score.get("scaled"),
        success=result.get("success"),
        completion=result.get("completion"),
    )


# Binary mode names attributes by their headers; the data's type is the Content-Type.
_BINARY_NAMES = {"specversion": "ce-specversion", "id": "ce-id", "source": "ce-source", "type": "ce-type"}
_BINARY_NAMES |= {"time": "ce-time", "datacontenttype": "content-type"}


def parse_delivery(headers: Mapping[str, str], body: bytes, webhook_id: str, now: datetime) -> Delivery:
    """The items of a body (``headers`` with lower-case names). Raises Invalid naming every bad field:
    ``data.course_id``, ``ce-type``, ``event.2.data.learner_email``, ``statement.0.actor.mbox``."""
    media = headers.get("content-type", "").partition(";")[0].strip().lower()
    errors: dict[str, list[str]] = {}
    events: list[dict | None] = []
    statements: list[tuple[int, dict | None]] = []
    if "ce-specversion" in headers:
        if not JSON_MEDIA.match(media):
            raise Invalid(N_("The event is malformed."), {"content-type": ["The data must be JSON."]})
        attributes = {name[3:]: value for name, value in headers.items() if name.startswith("ce-")}
        document = attributes | {"datacontenttype": media or "application/json", "data": _json(body)}
        events.append(_load(LmsCloudEvent(), document, errors, names=_BINARY_NAMES))
    elif media == CE_BATCH:
        batch = _json(body)
        if not isinstance(batch, list):
            raise Invalid(N_("The event is malformed."), {"body": ["A batch is a JSON array."]})
        _check_size(batch)
        events = [_load(LmsCloudEvent(), item, errors, f"event.{i}") for i, item in enumerate(batch)]
    elif media == CE_STRUCTURED or JSON_MEDIA.match(media):
        document = _json(body)
        if media == CE_STRUCTURED or (isinstance(document, dict) and "specversion" in document):
            events.append(_load(LmsCloudEvent(), document, errors))
        elif isinstance(document, list):
            _check_size(document)
            statements = [
                (i, _load(XapiStatement(), item, errors, f"statement.{i}")) for i, item in enumerate(document)
            ]
        else:
            statements = [(0, _load(XapiStatement(), document, errors, "statement"))]
    else:
        raise Invalid(
            N_("The event is malformed."),
            {"content-type": [f"Not taken: {media}. Send JSON, CloudEvents or xAPI statements."]},
        )
    if errors:
        raise Invalid(N_("The event is malformed."), errors)
    activities = [_from_cloud_event(event) for event in events]
    from_statements = [
        _from_statement(statement, f"xapi:{webhook_id}#{index}", now) for index, statement in statements
    ]
    activities += [activity for activity in from_statements if activity is not None]
    return Delivery(activities, ignored=from_statements.count(None))


def _check_size(items: list) -> None:
    if not 1 <= len(items) <= MAX_ITEMS:
        raise Invalid(N_("The event is malformed."), {"body": [f"Send 1 to {MAX_ITEMS} items at once."]})


# The ingress -----------------------------------------------------------------------------------

RECORDED, PENDING, DUPLICATE = "recorded", "pending", "duplicate"


@dataclass(frozen=True)
class Receipt:
    status: str  # recorded, or duplicate: the webhook-id was seen (the counts are of its first time)
    recorded: int = 0
    pending: int = 0
    duplicates: int = 0
    ignored: int = 0


def authenticate(
    session: Session, box: SecretBox, headers: Mapping[str, str], body: bytes, now: datetime
) -> LmsClient:
    """The client whose secret signed the body. Unauthorized: no valid signature, or a timestamp
    more than 5 minutes off; Forbidden: the client is disabled."""
    candidates: dict[str, LmsClient] = {}
    for client in session.scalars(select(LmsClient).order_by(LmsClient.id)):
        try:
            candidates |= {secret: client for secret in client.accepted_secrets(box, now)}
        except SecretUnreadable:
            log.error("LMS client %s: no PUSTAKA_LMS_SECRET_KEY key opens its secret", client.name)
    try:
        secret = verify(candidates, headers, body, now=now.timestamp())
    except WebhookVerificationError as error:
        raise Unauthorized(f"Signature refused: {error}.") from None
    client = candidates[secret]
    if not client.active:
        raise Forbidden(N_("This LMS client is disabled."))
    return client


def receive(
    session: Session,
    box: SecretBox,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
) -> Receipt:
    """Take a signed delivery: check it, then record its items or keep them for their learner.
    The caller commits."""
    now = now or utcnow()
    headers = {name.lower(): value for name, value in headers.items()}
    client = authenticate(session, box, headers, body, now)
    client_id, webhook_id = client.id, headers["webhook-id"]
    if len(webhook_id) > 200:
        raise Invalid(N_("The event is malformed."), {"webhook-id": ["At most 200 characters."]})
    digest = hashlib.sha256(body).hexdigest()
    if (seen := _seen(session, client_id, webhook_id, digest)) is not None:
        return seen
    delivery = parse_delivery(headers, body, webhook_id, now)
    row = LmsDelivery(client_id=client_id, webhook_id=webhook_id, body_sha256=digest, received_at=now)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # The same webhook-id, stored meanwhile by a concurrent request: nothing else was written yet.
        session.rollback()
        seen = _seen(session, client_id, webhook_id, digest)
        if seen is None:
            raise
        return seen
    counts = Counter(_take(session, client, activity, now) for activity in delivery.activities)
    row.receipt = {
        "recorded": counts[RECORDED],
        "pending": counts[PENDING],
        "duplicates": counts[DUPLICATE],
        "ignored": delivery.ignored,
    }
    return Receipt(RECORDED, **row.receipt)


def _seen(session: Session, client_id: int, webhook_id: str, digest: str) -> Receipt | None:
    row = session.scalar(
        select(LmsDelivery).where(LmsDelivery.client_id == client_id, LmsDelivery.webhook_id == webhook_id)
    )
    if row is None:
        return None
    if row.body_sha256 != digest:
        raise Conflict(
            N_("This webhook-id came before with another body."),
            {"webhook-id": ["Already used for another body."]},
        )
    return Receipt(DUPLICATE, **row.receipt)


def _source_ref(client_id: int, reference: str) -> str:
    return f"lms:{client_id}:{hashlib.sha256(reference.encode()).hexdigest()[:40]}"


def _learner(session: Session, client_id: int, activity: Activity) -> int | None:
    """Our account of the item's actor: by a stored external id, else by email."""
    names = []
    if activity.actor_account:
        names.append(LmsExternalId.external_id == activity.actor_account)
    if activity.actor_email:
        names.append(func.lower(LmsExternalId.external_id) == activity.actor_email)
    user_id = session.scalar(
        select(LmsExternalId.user_id).where(LmsExternalId.client_id == client_id, or_(*names)).limit(1)
    )
    if user_id is None and activity.actor_email:
        user_id = session.scalar(select(User.id).where(User.email == activity.actor_email))
    return user_id


def _take(session: Session, client: LmsClient, activity: Activity, now: datetime) -> str:
    source_ref = _source_ref(client.id, activity.reference)
    for model in (LearnerRecord, LmsPending):
        if session.scalar(select(model.id).where(model.source_ref == source_ref)):
            return DUPLICATE
    user_id = _learner(session, client.id, activity)
    try:
        with session.begin_nested():
            if user_id is None:
                session.add(
                    LmsPending(
                        client_id=client.id,
                        actor_email=activity.actor_email,
                        actor_account=activity.actor_account,
                        source_ref=source_ref,
                        activity=activity.to_json(),
                        received_at=now,
                    )
                )
                session.flush()
            else:
                _record(session, client, activity, user_id, source_ref)
    except IntegrityError:  # the same item, taken meanwhile from a concurrent delivery
        return DUPLICATE
    return PENDING if user_id is None else RECORDED


def _record_pending(session: Session, pending: Iterable[LmsPending], user_id: int) -> int:
    count = 0
    for row in pending:
        client, source_ref, activity = row.client, row.source_ref, Activity.from_json(row.activity)
        session.delete(row)
        session.flush()
        _record(session, client, activity, user_id, source_ref)
        count += 1
    return count


def _record(session: Session, client: LmsClient, activity: Activity, user_id: int, source_ref: str) -> None:
    """The learner-record entry; a completion of a course mapped to areas is evidence there too."""
    course = session.scalar(
        select(LmsCourse).where(LmsCourse.client_id == client.id, LmsCourse.course_id == activity.course_id)
    )
    title = activity.course_title or (course.title if course and course.title else activity.course_id)
    score, max_score = activity.score, activity.max_score
    if score is None and activity.scaled is not None:
        score, max_score = round(activity.scaled * 100, 2), 100.0
    details = {
        "verb": activity.verb,
        "course_id": activity.course_id,
        "success": activity.success,
        "completion": activity.completion,
        "percent": activity.percent,
    }
    if course:
        details |= {"programme_id": course.programme_id, "competency_areas": course.competency_areas}
    session.add(
        LearnerRecord(
            user_id=user_id,
            kind=LMS_COMPLETION if activity.completed else LMS_ATTEMPT,
            title=title[:300],
            source=client.name,
            source_ref=source_ref,
            score=score,
            max_score=max_score,
            occurred_at=activity.occurred_at,
            details=details,
        )
    )
    session.flush()
    if activity.completed and course and course.competency_areas:
        competencies.record_lms_evidence(
            session,
            user_id,
            course.competency_areas,
            reference=f"lms:{client.name}:{activity.course_id}",
            title=title,
            completed_at=activity.occurred_at,
            percent=activity.percent,
        )
