"""Enrollment's use cases and event handlers: plain functions over a SQLAlchemy session.

They know nothing of Flask or kombu; each stages its events in the outbox of the same
transaction, and the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import String, and_, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload, undefer

from shared import catalog
from shared.auth import Identity
from shared.competencies import AREAS
from shared.db import utcnow
from shared.envelope import CloudEvent, new_event
from shared.errors import Conflict, Invalid, NotFound, Unauthorized
from shared.i18n import N_
from shared.localtime import JAKARTA, local_time
from shared.messaging import add_to_outbox

from . import competencies, lms
from .models import (
    ACTIVE_STATES,
    ATTENDANCE_STATES,
    ENROLLMENT_STATES,
    PARTNER_KINDS,
    PARTNER_ROLES,
    TRACKS,
    Attendance,
    Enrollment,
    LearnerRecord,
    Partner,
    Programme,
    ProgrammePartner,
    ProgrammeSession,
    SessionSpeaker,
    User,
)

SERVICE = "enrollment"
password_hasher = PasswordHasher()


def publish(session: Session, type_name: str, data: dict, subject: str) -> None:
    add_to_outbox(session, new_event(type_name, data, service=SERVICE, subject=subject))


def identity_of(user: User) -> Identity:
    return Identity(user.id, user.email, user.name, user.language, frozenset(user.roles))


# Accounts ------------------------------------------------------------------------------


def create_user(
    session: Session, *, email: str, name: str, password: str, language: str, roles: list[str]
) -> User:
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict("An account with this email already exists.", {"email": ["Already taken."]})
    user = User(
        email=email,
        name=name.strip(),
        language=language,
        roles=sorted(set(roles)),
        password_hash=password_hasher.hash(password),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("An account with this email already exists.", {"email": ["Already taken."]}) from None
    publish(
        session,
        catalog.USER_REGISTERED.name,
        {
            "user_id": user.id,
            "email": user.email,
            "name": user.name,
            "language": user.language,
            "roles": user.roles,
        },
        subject=f"users/{user.id}",
    )
    lms.attach_pending(session, user)  # what an external LMS reported before the account existed
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        if user is None:
            raise VerifyMismatchError
        password_hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        raise Unauthorized("Wrong email or password.") from None
    return user


def ensure_admin(session: Session, email: str, password: str) -> bool:
    """Create the first admin from the environment, once; True if it was created now."""
    if session.scalar(select(User.id).where(User.email == email.strip().lower())):
        return False
    create_user(session, email=email, name="Administrator", password=password, language="id", roles=["admin"])
    return True


# Programmes and partners ----------------------------------------------------------------


class Refused(Conflict):
    """A 409 whose reason carries values: in English for the API, translatable by the pages as
    ``gettext(error.template) % error.params``."""

    def __init__(self, template: str, errors: dict[str, list[str]] | None = None, **params: object):
        super().__init__(template % params, errors)
        self.template, self.params = template, params


TYPES_BY_TRACK = {
    "staff": ("training", "workshop", "seminar", "panel", "conference", "mentoring", "research"),
    "public": ("literacy_class",),
}
PROGRAMME_FIELDS = (
    "title_id",
    "title_en",
    "description_id",
    "description_en",
    "track",
    "type",
    "competency_areas",
)
WEB_ADDRESS = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def partner_problems(data: Mapping) -> dict[str, list[str]]:
    """The rules of a partner's fields, each field's messages (``N_``-marked, translated where shown)."""
    errors: dict[str, list[str]] = {}
    if not (data.get("name") or "").strip():
        errors["name"] = [N_("Give the partner's name.")]
    if data.get("kind") not in PARTNER_KINDS:
        errors["kind"] = [N_("Not one of the kinds of partner.")]
    if data.get("website") and not WEB_ADDRESS.match(data["website"]):
        errors["website"] = [N_("Give a web address starting with http:// or https://.")]
    return errors


def _partner_data(data: Mapping) -> dict:
    return {
        "name": (data.get("name") or "").strip(),
        "kind": data.get("kind"),
        "website": (data.get("website") or "").strip(),
    }


def _check_partner_name(session: Session, name: str, partner_id: int | None = None) -> None:
    taken = session.scalar(select(Partner.id).where(func.lower(Partner.name) == name.lower()))
    if taken is not None and taken != partner_id:
        raise Conflict("A partner with this name exists.", {"name": [N_("A partner with this name exists.")]})


def create_partner(session: Session, data: Mapping) -> Partner:
    data = _partner_data(data)
    errors = partner_problems(data)
    if errors:
        raise Invalid("The partner has invalid fields.", errors)
    _check_partner_name(session, data["name"])
    partner = Partner(**data)
    session.add(partner)
    session.flush()
    return partner


def get_partner(session: Session, partner_id: int) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("No such partner.")
    return partner


def update_partner(session: Session, partner_id: int, changes: Mapping) -> Partner:
    partner = get_partner(session, partner_id)
    current = {"name": partner.name, "kind": partner.kind, "website": partner.website}
    data = _partner_data(current | dict(changes))
    errors = partner_problems(data)
    if errors:
        raise Invalid("The partner has invalid fields.", errors)
    _check_partner_name(session, data["name"], partner_id)
    for name, value in data.items():
        setattr(partner, name, value)
    session.flush()
    return partner


def list_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(func.lower(Partner.name))))


def _programme_problems(session: Session, data: Mapping, partners: list[Mapping]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("title_id", "title_en"):
        if not (data.get(name) or "").strip():
            errors[name] = [N_("This field is required.")]
    if data.get("track") not in TRACKS:
        errors["track"] = [N_("Not one of the tracks.")]
    elif data.get("type") not in TYPES_BY_TRACK[data["track"]]:
        errors["type"] = [N_("This type of programme is not offered on this track.")]
    unknown = [code for code in data.get("competency_areas", []) if code not in AREAS]
    if unknown:
        errors["competency_areas"] = [f"Unknown competency areas: {', '.join(unknown)}."]
    if any(link.get("role") not in PARTNER_ROLES for link in partners):
        errors["partners"] = [N_("A partner is an organiser or a speaker.")]
    ids = {link.get("partner_id") for link in partners}
    if ids and session.scalar(select(func.count()).where(Partner.id.in_(ids))) != len(ids):
        errors.setdefault("partners", []).append(N_("One of the partners does not exist."))
    return errors


def _set_partners(programme: Programme, partners: list[Mapping]) -> None:
    wanted = {(link["partner_id"], link["role"]) for link in partners}
    programme.partner_links = [
        link for link in programme.partner_links if (link.partner_id, link.role) in wanted
    ]
    kept = {(link.partner_id, link.role) for link in programme.partner_links}
    for partner_id, role in sorted(wanted - kept):
        programme.partner_links.append(ProgrammePartner(partner_id=partner_id, role=role))


def create_programme(session: Session, data: Mapping, creator: Identity | None) -> Programme:
    """A draft, or published at once when ``data["status"]`` says so."""
    status = data.get("status", "draft")
    partners = list(data.get("partners", []))
    fields = {name: data[name] for name in PROGRAMME_FIELDS if name in data}
    fields["competency_areas"] = list(fields.get("competency_areas", []))
    errors = _programme_problems(session, fields, partners)
    if status not in ("draft", "published"):
        errors["status"] = [N_("A new programme is a draft or published.")]
    if errors:
        raise Invalid("The programme has invalid fields.", errors)
    programme = Programme(**fields, status="draft", created_by=creator.user_id if creator else None)
    _set_partners(programme, partners)
    session.add(programme)
    session.flush()
    if status == "published":
        publish_programme(session, programme.id)
    return programme


def update_programme(session: Session, programme_id: int, changes: Mapping) -> Programme:
    """Change what is given; ``partners`` replaces the list. The status changes by publishing or archiving."""
    programme = get_programme(session, programme_id)
    fields = {name: getattr(programme, name) for name in PROGRAMME_FIELDS}
    fields |= {name: changes[name] for name in PROGRAMME_FIELDS if name in changes}
    partners = (
        list(changes["partners"])
        if "partners" in changes
        else [{"partner_id": link.partner_id, "role": link.role} for link in programme.partner_links]
    )
    errors = _programme_problems(session, fields, partners)
    if errors:
        raise Invalid("The programme has invalid fields.", errors)
    if fields["track"] != programme.track and session.scalar(
        select(Enrollment.id)
        .join(ProgrammeSession)
        .where(ProgrammeSession.programme_id == programme_id)
        .limit(1)
    ):
        raise Conflict(
            "The track cannot change once people have enrolled.",
            {"track": [N_("The track cannot change once people have enrolled.")]},
        )
    for name, value in fields.items():
        setattr(programme, name, value)
    _set_partners(programme, partners)
    session.flush()
    return programme


def publish_programme(session: Session, programme_id: int) -> Programme:
    """A draft goes out: it is listed, open for enrollment, and announced."""
    programme = get_programme(session, programme_id)
    if programme.status != "draft":
        raise Conflict("Only a draft can be published.")
    programme.status = "published"
    publish(
        session,
        catalog.PROGRAMME_PUBLISHED.name,
        {
            "programme_id": programme.id,
            "title": {"id": programme.title_id, "en": programme.title_en},
            "track": programme.track,
            "type": programme.type,
            "competency_areas": programme.competency_areas,
            "coordinator_id": programme.created_by,
        },
        subject=f"programmes/{programme.id}",
    )
    return programme


def archive_programme(session: Session, programme_id: int) -> Programme:
    """Off the catalog and closed for enrollment; its sessions and records stay."""
    programme = get_programme(session, programme_id)
    if programme.status == "archived":
        raise Conflict("The programme is archived already.")
    programme.status = "archived"
    return programme


def get_programme(session: Session, programme_id: int) -> Programme:
    programme = session.get(
        Programme,
        programme_id,
        options=[selectinload(Programme.sessions).undefer(ProgrammeSession.seats_taken)],
    )
    if programme is None:
        raise NotFound("No such programme.")
    return programme


def visible_programme(session: Session, programme_id: int, viewer: Identity | None) -> Programme:
    """The programme as ``viewer`` may see it: a draft only for coordinators and admins."""
    programme = get_programme(session, programme_id)
    if programme.status == "draft" and not manages(viewer):
        raise NotFound("No such programme.")
    return programme


def manages(identity: Identity | None) -> bool:
    return identity is not None and identity.has_any("coordinator", "admin")


@dataclass(frozen=True)
class CatalogQuery:
    """Programmes of the catalog: ``text`` in either title, a type, area or track, and a session
    starting between the days ``starts_from`` and ``starts_to`` (both included, in WIB)."""

    text: str = ""
    type: str | None = None
    area: str | None = None
    track: str | None = None
    starts_from: date | None = None
    starts_to: date | None = None
    status: str = "published"


def _jakarta_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=JAKARTA)


def search_programmes(session: Session, query: CatalogQuery = CatalogQuery()) -> list[Programme]:
    statement = select(Programme).where(Programme.status == query.status)
    text = query.text.strip()
    if text:
        statement = statement.where(
            or_(
                Programme.title_id.icontains(text, autoescape=True),
                Programme.title_en.icontains(text, autoescape=True),
            )
        )
    if query.type:
        statement = statement.where(Programme.type == query.type)
    if query.track:
        statement = statement.where(Programme.track == query.track)
    if query.area:
        # The JSON list as text, on SQLite and PostgreSQL alike: '["cataloguing", "library_software"]'.
        statement = statement.where(cast(Programme.competency_areas, String).contains(f'"{query.area}"'))
    if query.starts_from or query.starts_to:
        starts = select(ProgrammeSession.id).where(
            ProgrammeSession.programme_id == Programme.id, ProgrammeSession.status == "scheduled"
        )
        if query.starts_from:
            starts = starts.where(ProgrammeSession.starts_at >= _jakarta_midnight(query.starts_from))
        if query.starts_to:
            starts = starts.where(
                ProgrammeSession.starts_at < _jakarta_midnight(query.starts_to + timedelta(days=1))
            )
        statement = statement.where(starts.exists())
    statement = statement.options(
        selectinload(Programme.sessions).undefer(ProgrammeSession.seats_taken),
        selectinload(Programme.partner_links),
    ).order_by(Programme.id.desc())
    return list(session.scalars(statement))


def published_programmes(session: Session) -> list[Programme]:
    return search_programmes(session)


# Sessions -------------------------------------------------------------------------------

SESSION_FIELDS = (
    "starts_at",
    "ends_at",
    "venue",
    "online_link",
    "capacity",
    "pre_test_slug",
    "post_test_slug",
    "enrollment_opens_at",
    "enrollment_closes_at",
)
QUIZ_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def session_problems(data: Mapping) -> dict[str, list[str]]:
    """The rules of a session's fields, each field's messages (``N_``-marked, translated where shown)."""
    errors: dict[str, list[str]] = {}
    starts, ends = data.get("starts_at"), data.get("ends_at")
    opens, closes = data.get("enrollment_opens_at"), data.get("enrollment_closes_at")
    if starts and ends and ends <= starts:
        errors["ends_at"] = [N_("The session must end after it starts.")]
    if not (data.get("venue") or "").strip() and not (data.get("online_link") or "").strip():
        errors["venue"] = [N_("Give a venue or an online link.")]
    if data.get("online_link") and not WEB_ADDRESS.match(data["online_link"]):
        errors["online_link"] = [N_("Give a web address starting with http:// or https://.")]
    if data.get("capacity") is not None and data["capacity"] < 1:
        errors["capacity"] = [N_("Give at least one seat.")]
    for name in ("pre_test_slug", "post_test_slug"):
        if data.get(name) and not QUIZ_SLUG.match(data[name]):
            errors[name] = [N_("A quiz slug has lower-case letters, digits and hyphens.")]
    if closes and ends and closes > ends:
        errors["enrollment_closes_at"] = [N_("Enrollment must close before the session ends.")]
    if opens and (closes or starts) and opens >= (closes or starts):
        errors["enrollment_opens_at"] = [
            N_("Enrollment must open before it closes (without a closing time: before the session starts).")
        ]
    return errors


def _speaker_problems(session: Session, speakers: list[Mapping]) -> dict[str, list[str]]:
    if any(not (speaker.get("name") or "").strip() for speaker in speakers):
        return {"speakers": [N_("Every speaker needs a name.")]}
    ids = {speaker["partner_id"] for speaker in speakers if speaker.get("partner_id") is not None}
    if ids and session.scalar(select(func.count()).where(Partner.id.in_(ids))) != len(ids):
        return {"speakers": [N_("One of the partners does not exist.")]}
    return {}


def _session_fields(data: Mapping) -> dict:
    fields = {name: data.get(name) for name in SESSION_FIELDS}
    for name in ("venue", "online_link"):
        fields[name] = (fields[name] or "").strip()
    for name in ("pre_test_slug", "post_test_slug"):
        fields[name] = (fields[name] or "").strip() or None
    return fields


def add_session(session: Session, programme_id: int, data: Mapping) -> ProgrammeSession:
    programme = get_programme(session, programme_id)
    if programme.status == "archived":
        raise Conflict("An archived programme gets no new sessions.")
    fields = _session_fields(data)
    speakers = list(data.get("speakers", []))
    errors = session_problems(fields) | _speaker_problems(session, speakers)
    if errors:
        raise Invalid("The session has invalid fields.", errors)
    programme_session = ProgrammeSession(programme=programme, **fields)
    _set_speakers(programme_session, speakers)
    session.add(programme_session)
    session.flush()
    return programme_session


def _set_speakers(programme_session: ProgrammeSession, speakers: list[Mapping]) -> None:
    programme_session.speakers = [
        SessionSpeaker(position=index, name=speaker["name"].strip(), partner_id=speaker.get("partner_id"))
        for index, speaker in enumerate(speakers)
    ]


def get_session(session: Session, session_id: int) -> ProgrammeSession:
    programme_session = session.get(
        ProgrammeSession, session_id, options=[undefer(ProgrammeSession.seats_taken)]
    )
    if programme_session is None:
        raise NotFound("No such session.")
    return programme_session


def update_session(session: Session, session_id: int, changes: Mapping) -> ProgrammeSession:
    """Change what is given (``speakers`` replaces the list); the capacity changes by ``set_capacity``."""
    programme_session = get_session(session, session_id)
    if programme_session.status == "cancelled":
        raise Conflict("This session was cancelled.")
    current = {name: getattr(programme_session, name) for name in SESSION_FIELDS}
    fields = _session_fields(current | {name: changes[name] for name in SESSION_FIELDS if name in changes})
    speakers = (
        list(changes["speakers"])
        if "speakers" in changes
        else [{"name": s.name, "partner_id": s.partner_id} for s in programme_session.speakers]
    )
    errors = session_problems(fields) | _speaker_problems(session, speakers)
    if errors:
        raise Invalid("The session has invalid fields.", errors)
    fields.pop("capacity")
    for name, value in fields.items():
        setattr(programme_session, name, value)
    _set_speakers(programme_session, speakers)
    session.flush()
    return programme_session


# Seats ----------------------------------------------------------------------------------
#
# Every change of seats first takes the session row's write lock with an UPDATE: a row lock on
# PostgreSQL, the database write lock on SQLite. Changes to one session's seats are serialised
# across threads, processes and gunicorn workers, so the seats are counted while nobody else can
# take one, and ids of new enrollments follow their arrival.
#
# Staff sessions seat accounts: confirmed while seats remain, then waitlisted. Public classes seat
# a name and an email: held as pending for PUBLIC_HOLD (at most until enrollment closes) until the
# email's link confirms it; an expired hold frees its seat. A full public class takes no more
# requests: its people have no account to be told of a seat later.

PUBLIC_HOLD = timedelta(hours=24)


def _lock_seats(session: Session, session_id: int) -> ProgrammeSession:
    locked = session.execute(
        update(ProgrammeSession)
        .where(ProgrammeSession.id == session_id)
        .values(seat_version=ProgrammeSession.seat_version + 1)
        .returning(ProgrammeSession.id)
    ).scalar_one_or_none()
    if locked is None:
        raise NotFound("No such session.")
    return session.get(ProgrammeSession, session_id, populate_existing=True)


def _seats(session: Session, session_id: int, now: datetime) -> tuple[int, int]:
    """(seats taken: confirmed and unexpired holds, people waiting)."""
    held = or_(
        Enrollment.status == "confirmed",
        and_(Enrollment.status == "pending", Enrollment.hold_expires_at > now),
    )
    taken, waiting = session.execute(
        select(func.count().filter(held), func.count().filter(Enrollment.status == "waitlisted")).where(
            Enrollment.session_id == session_id
        )
    ).one()
    return taken, waiting


def _check_open(
    programme: Programme,
    status: str,
    starts_at: datetime,
    opens_at: datetime | None,
    closes_at: datetime | None,
    track: str,
    now: datetime,
) -> None:
    if programme.status != "published":
        raise Conflict("This programme is not open for enrollment.")
    if programme.track != track:
        if track == "staff":
            raise Conflict("A public class takes a name and an email, through the class's page.")
        raise Conflict("This session is for library staff: sign in to enroll.")
    if status == "cancelled":
        raise Conflict("This session was cancelled.")
    if opens_at and now < opens_at:
        raise Refused(N_("Enrollment for this session opens on %(when)s."), when=local_time(opens_at))
    if now >= (closes_at or starts_at):
        raise Refused(
            N_("Enrollment for this session closed on %(when)s."), when=local_time(closes_at or starts_at)
        )


SEAT_EVENTS = {
    "confirmed": catalog.ENROLLMENT_CONFIRMED,
    "waitlisted": catalog.ENROLLMENT_WAITLISTED,
    "cancelled": catalog.ENROLLMENT_CANCELLED,
}


def _publish_seat(
    session: Session,
    enrollment: Enrollment,
    programme: Programme,
    starts_at: datetime,
    language: str,
    waitlist_position: int | None = None,
) -> None:
    publish(
        session,
        SEAT_EVENTS[enrollment.status].name,
        {
            "enrollment_id": enrollment.id,
            "session_id": enrollment.session_id,
            "programme_id": programme.id,
            "programme_title": {"id": programme.title_id, "en": programme.title_en},
            "starts_at": starts_at,
            "user_id": enrollment.user_id,
            "language": language,
            "waitlist_position": waitlist_position,
        },
        subject=f"enrollments/{enrollment.id}",
    )


def enroll(session: Session, session_id: int, user_id: int, now: datetime | None = None) -> Enrollment:
    """Confirm a seat while seats remain, else waitlist; never more confirmed than capacity."""
    now = now or utcnow()
    locked = session.execute(
        update(ProgrammeSession)
        .where(ProgrammeSession.id == session_id)
        .values(seat_version=ProgrammeSession.seat_version + 1)
        .returning(
            ProgrammeSession.capacity,
            ProgrammeSession.programme_id,
            ProgrammeSession.starts_at,
            ProgrammeSession.status,
            ProgrammeSession.enrollment_opens_at,
            ProgrammeSession.enrollment_closes_at,
        )
    ).one_or_none()
    if locked is None:
        raise NotFound("No such session.")
    capacity, programme_id, starts_at, status, opens_at, closes_at = locked
    # The programme and the person's language in one round trip; no row: no such account.
    found = session.execute(
        select(Programme, User.language).join(User, User.id == user_id).where(Programme.id == programme_id)
    ).one_or_none()
    if found is None:
        raise NotFound("No such account.")
    programme, language = found
    _check_open(programme, status, starts_at, opens_at, closes_at, "staff", now)
    # A staff session has no pending holds: its confirmed seats are all the seats taken.
    already, confirmed, waiting = session.execute(
        select(
            func.count().filter(Enrollment.user_id == user_id, Enrollment.status.in_(ACTIVE_STATES)),
            func.count().filter(Enrollment.status == "confirmed"),
            func.count().filter(Enrollment.status == "waitlisted"),
        ).where(Enrollment.session_id == session_id)
    ).one()
    if already:
        raise Conflict("You are already enrolled in this session.")
    status = "confirmed" if confirmed < capacity else "waitlisted"
    enrollment = Enrollment(session_id=session_id, user_id=user_id, status=status)
    session.add(enrollment)
    session.flush()
    _publish_seat(
        session,
        enrollment,
        programme,
        starts_at,
        language,
        waiting + 1 if status == "waitlisted" else None,
    )
    return enrollment


def _promote(session: Session, programme_session: ProgrammeSession, free: int) -> list[Enrollment]:
    """The first ``free`` people of the waiting list get a seat, and are told."""
    if free <= 0:
        return []
    promoted = list(
        session.scalars(
            select(Enrollment)
            .where(Enrollment.session_id == programme_session.id, Enrollment.status == "waitlisted")
            .order_by(Enrollment.id)
            .limit(free)
            .options(joinedload(Enrollment.user))
        )
    )
    for enrollment in promoted:
        enrollment.status = "confirmed"
        _publish_seat(
            session,
            enrollment,
            programme_session.programme,
            programme_session.starts_at,
            enrollment.user.language,
        )
    session.flush()
    return promoted


def _release(
    session: Session, programme_session: ProgrammeSession, enrollment: Enrollment, now: datetime
) -> None:
    """Cancel an enrollment; a seat it held goes to the waiting list at once."""
    if programme_session.status == "cancelled":
        raise Conflict("This session was cancelled.")
    if enrollment.status not in ACTIVE_STATES:
        raise Conflict("This enrollment is cancelled already.")
    if now >= programme_session.starts_at:
        raise Conflict("The session has started: its enrollments can no longer be cancelled.")
    enrollment.status, enrollment.cancelled_at = "cancelled", now
    session.flush()
    taken, _ = _seats(session, programme_session.id, now)
    _promote(session, programme_session, programme_session.capacity - taken)


def _enrollment_for_change(session: Session, enrollment_id: int) -> tuple[ProgrammeSession, Enrollment]:
    """The enrollment read again after its session's lock was taken."""
    session_id = session.scalar(select(Enrollment.session_id).where(Enrollment.id == enrollment_id))
    if session_id is None:
        raise NotFound("No such enrollment.")
    programme_session = _lock_seats(session, session_id)
    return programme_session, session.get(Enrollment, enrollment_id, populate_existing=True)


def cancel_enrollment(
    session: Session, enrollment_id: int, actor: Identity, now: datetime | None = None
) -> Enrollment:
    """The person gives up a seat or a place in the waiting list (or a coordinator does it for them)."""
    programme_session, enrollment = _enrollment_for_change(session, enrollment_id)
    if enrollment.user_id != actor.user_id and not manages(actor):
        raise NotFound("No such enrollment.")
    _release(session, programme_session, enrollment, now or utcnow())
    if enrollment.user_id is None:
        _publish_public_release(session, enrollment, programme_session, "cancelled")
    else:  # notification takes the person off the session's roster and its reminders
        _publish_seat(
            session,
            enrollment,
            programme_session.programme,
            programme_session.starts_at,
            enrollment.user.language,
        )
    return enrollment


def set_capacity(
    session: Session, session_id: int, capacity: int, now: datetime | None = None
) -> tuple[ProgrammeSession, list[Enrollment]]:
    """Raise or lower the seats; a raise seats the waiting list at once. Never below the seats taken."""
    if capacity < 1:
        raise Invalid("The capacity is invalid.", {"capacity": [N_("Give at least one seat.")]})
    now = now or utcnow()
    programme_session = _lock_seats(session, session_id)
    if programme_session.status == "cancelled":
        raise Conflict("This session was cancelled.")
    _expire_holds(session, programme_session, now)
    taken, _ = _seats(session, session_id, now)
    if capacity < taken:
        raise Refused(
            N_("%(taken)d seats are taken: the capacity cannot be lower."),
            {"capacity": [N_("Lower than the seats already taken.")]},
            taken=taken,
        )
    programme_session.capacity = capacity
    return programme_session, _promote(session, programme_session, capacity - taken)


def cancel_session(
    session: Session, session_id: int, reason: str = "", now: datetime | None = None
) -> ProgrammeSession:
    """Call a session off: every enrollment ends, and everyone holding or waiting for a seat is told."""
    now = now or utcnow()
    programme_session = _lock_seats(session, session_id)
    if programme_session.status == "cancelled":
        raise Conflict("This session is cancelled already.")
    if now >= programme_session.ends_at:
        raise Conflict("The session is over: it can no longer be cancelled.")
    programme_session.status, programme_session.cancel_reason = "cancelled", reason.strip()[:500]
    programme = programme_session.programme
    publish(
        session,
        catalog.SESSION_CANCELLED.name,
        {
            "session_id": programme_session.id,
            "programme_id": programme.id,
            "programme_title": {"id": programme.title_id, "en": programme.title_en},
            "starts_at": programme_session.starts_at,
            "reason": programme_session.cancel_reason,
        },
        subject=f"sessions/{programme_session.id}",
    )
    active = session.scalars(
        select(Enrollment).where(Enrollment.session_id == session_id, Enrollment.status.in_(ACTIVE_STATES))
    )
    for enrollment in active:
        enrollment.status, enrollment.cancelled_at = "cancelled", now
        if enrollment.user_id is None:  # not on notification's roster: told by their email
            _publish_public_release(session, enrollment, programme_session, "session_cancelled")
    session.flush()
    return programme_session


# Public classes -------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicLinks:
    confirm_url: str
    cancel_url: str


def public_token(secret: str, enrollment_id: int, action: str) -> str:
    """The signed part of a public seat's link; ``action`` is ``confirm`` or ``cancel``."""
    return URLSafeSerializer(secret, salt=f"pustaka.public-seat.{action}").dumps(enrollment_id)


def read_public_token(secret: str, token: str, action: str) -> int:
    try:
        enrollment_id = URLSafeSerializer(secret, salt=f"pustaka.public-seat.{action}").loads(token)
    except BadSignature:
        raise NotFound("This link is not valid.") from None
    if not isinstance(enrollment_id, int):
        raise NotFound("This link is not valid.")
    return enrollment_id


def _public_seat_data(enrollment: Enrollment, programme_session: ProgrammeSession) -> dict:
    programme = programme_session.programme
    return {
        "enrollment_id": enrollment.id,
        "session_id": programme_session.id,
        "programme_id": programme.id,
        "programme_title": {"id": programme.title_id, "en": programme.title_en},
        "starts_at": programme_session.starts_at,
        "name": enrollment.name,
        "email": enrollment.email,
        "language": enrollment.language or "id",
    }


def _publish_public_release(
    session: Session, enrollment: Enrollment, programme_session: ProgrammeSession, reason: str
) -> None:
    publish(
        session,
        catalog.PUBLIC_ENROLLMENT_CANCELLED.name,
        _public_seat_data(enrollment, programme_session) | {"reason": reason},
        subject=f"enrollments/{enrollment.id}",
    )


def _expire_holds(session: Session, programme_session: ProgrammeSession, now: datetime) -> int:
    expired = session.scalars(
        select(Enrollment).where(
            Enrollment.session_id == programme_session.id,
            Enrollment.status == "pending",
            Enrollment.hold_expires_at <= now,
        )
    ).all()
    for enrollment in expired:
        enrollment.status, enrollment.cancelled_at = "expired", now
        _publish_public_release(session, enrollment, programme_session, "expired")
    session.flush()
    return len(expired)


def expire_holds(session: Session, now: datetime | None = None) -> int:
    """Free the seats of holds nobody confirmed in time, and tell their people; how many expired."""
    now = now or utcnow()
    session_ids = session.scalars(
        select(Enrollment.session_id)
        .where(Enrollment.status == "pending", Enrollment.hold_expires_at <= now)
        .distinct()
    ).all()
    return sum(_expire_holds(session, _lock_seats(session, session_id), now) for session_id in session_ids)


def request_public_seat(
    session: Session,
    session_id: int,
    *,
    name: str,
    email: str,
    language: str,
    links: Callable[[int], PublicLinks],
    now: datetime | None = None,
) -> Enrollment:
    """Hold a seat of a public class for a name and an email, and send the email its links."""
    now = now or utcnow()
    email = email.strip().lower()
    programme_session = _lock_seats(session, session_id)
    programme = programme_session.programme
    _check_open(
        programme,
        programme_session.status,
        programme_session.starts_at,
        programme_session.enrollment_opens_at,
        programme_session.enrollment_closes_at,
        "public",
        now,
    )
    _expire_holds(session, programme_session, now)
    if session.scalar(
        select(Enrollment.id).where(
            Enrollment.session_id == session_id,
            Enrollment.email == email,
            Enrollment.status.in_(ACTIVE_STATES),
        )
    ):
        raise Conflict(
            "This email already holds a seat in this session.",
            {"email": [N_("This email already holds a seat in this session.")]},
        )
    taken, _ = _seats(session, session_id, now)
    if taken >= programme_session.capacity:
        raise Conflict("This class is full.")
    enrollment = Enrollment(
        session_id=session_id,
        name=name.strip(),
        email=email,
        language=language,
        status="pending",
        hold_expires_at=min(now + PUBLIC_HOLD, programme_session.enrollment_closes),
    )
    session.add(enrollment)
    session.flush()
    urls = links(enrollment.id)
    publish(
        session,
        catalog.PUBLIC_ENROLLMENT_REQUESTED.name,
        _public_seat_data(enrollment, programme_session)
        | {
            "venue": programme_session.venue,
            "online_link": programme_session.online_link,
            "hold_expires_at": enrollment.hold_expires_at,
            "confirm_url": urls.confirm_url,
            "cancel_url": urls.cancel_url,
        },
        subject=f"enrollments/{enrollment.id}",
    )
    return enrollment


def public_session(session: Session, session_id: int) -> ProgrammeSession:
    """A session of a published public class (its page is for everyone)."""
    programme_session = get_session(session, session_id)
    if programme_session.programme.track != "public" or programme_session.programme.status != "published":
        raise NotFound("No such public class.")
    return programme_session


def get_public_seat(session: Session, enrollment_id: int) -> Enrollment:
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.user_id is not None:
        raise NotFound("This link is not valid.")
    return enrollment


def confirm_public_seat(session: Session, enrollment_id: int, now: datetime | None = None) -> Enrollment:
    """The email's link was followed: the held seat is the person's. Following it again changes nothing."""
    now = now or utcnow()
    get_public_seat(session, enrollment_id)
    programme_session, enrollment = _enrollment_for_change(session, enrollment_id)
    if enrollment.status == "confirmed":
        return enrollment
    if programme_session.status == "cancelled":
        raise Conflict("This session was cancelled.")
    if enrollment.status == "cancelled":
        raise Conflict("This seat was given up.")
    if enrollment.status == "expired" or enrollment.hold_expires_at <= now:
        raise Conflict("The seat was held for you until its time ran out: ask for a seat again.")
    enrollment.status = "confirmed"
    return enrollment


def cancel_public_seat(session: Session, enrollment_id: int, now: datetime | None = None) -> Enrollment:
    """The email's cancel link was followed: the seat is free again."""
    get_public_seat(session, enrollment_id)
    programme_session, enrollment = _enrollment_for_change(session, enrollment_id)
    _release(session, programme_session, enrollment, now or utcnow())
    _publish_public_release(session, enrollment, programme_session, "cancelled")
    return enrollment


# Rosters, attendance and one's own enrollments -------------------------------------------


@dataclass(frozen=True)
class Roster:
    session: ProgrammeSession
    confirmed: list[Enrollment]
    waitlisted: list[Enrollment]  # in the order they get seats
    pending: list[Enrollment]
    cancelled: list[Enrollment]  # cancelled, and holds that expired


def roster(session: Session, session_id: int) -> Roster:
    programme_session = get_session(session, session_id)
    enrollments = session.scalars(
        select(Enrollment)
        .where(Enrollment.session_id == session_id)
        .order_by(Enrollment.id)
        .options(
            joinedload(Enrollment.user),
            joinedload(Enrollment.attendance),
            undefer(Enrollment.waitlist_position),
        )
    ).all()
    by_status: dict[str, list[Enrollment]] = {status: [] for status in ENROLLMENT_STATES}
    for enrollment in enrollments:
        by_status[enrollment.status].append(enrollment)
    return Roster(
        programme_session,
        by_status["confirmed"],
        by_status["waitlisted"],
        by_status["pending"],
        by_status["cancelled"] + by_status["expired"],
    )


def record_attendance(
    session: Session,
    session_id: int,
    marks: Mapping[int, str],
    marked_by: int | None,
    now: datetime | None = None,
) -> list[Attendance]:
    """Who attended and who was absent, per confirmed enrollment; marking again overwrites."""
    programme_session = get_session(session, session_id)
    if programme_session.status == "cancelled":
        raise Conflict("This session was cancelled.")
    confirmed = set(
        session.scalars(
            select(Enrollment.id).where(Enrollment.session_id == session_id, Enrollment.status == "confirmed")
        )
    )
    errors = {}
    for enrollment_id, status in marks.items():
        if enrollment_id not in confirmed:
            errors[f"attendance.{enrollment_id}"] = [N_("Not a confirmed participant of this session.")]
        elif status not in ATTENDANCE_STATES:
            errors[f"attendance.{enrollment_id}"] = [N_("Either attended or absent.")]
    if errors:
        raise Invalid("The attendance has invalid entries.", errors)
    now = now or utcnow()
    marked = []
    for enrollment_id, status in marks.items():
        attendance = session.get(Attendance, enrollment_id) or Attendance(enrollment_id=enrollment_id)
        attendance.status, attendance.marked_by, attendance.marked_at = status, marked_by, now
        session.add(attendance)
        marked.append(attendance)
    session.flush()
    return marked


def enrollments_of(session: Session, user_id: int) -> list[Enrollment]:
    """The person's enrollments, newest first, with their session, waitlist position and attendance."""
    return list(
        session.scalars(
            select(Enrollment)
            .where(Enrollment.user_id == user_id)
            .order_by(Enrollment.id.desc())
            .options(
                joinedload(Enrollment.session).joinedload(ProgrammeSession.programme),
                joinedload(Enrollment.attendance),
                undefer(Enrollment.waitlist_position),
            )
        )
    )


def learner_record(session: Session, user_id: int) -> list[LearnerRecord]:
    return list(
        session.scalars(
            select(LearnerRecord)
            .where(LearnerRecord.user_id == user_id)
            .order_by(LearnerRecord.occurred_at.desc())
        )
    )


# Event handlers ------------------------------------------------------------------------


def on_attempt_graded(event: CloudEvent, session: Session) -> None:
    data = event.data
    if data.get("user_id") is None or session.get(User, data["user_id"]) is None:
        return  # an anonymous public attempt, or a taker unknown here: nothing to record
    title = data["quiz_title"]
    session.add(
        LearnerRecord(
            user_id=data["user_id"],
            kind="quiz_result",
            title=title["id"],
            source="assessment",
            source_ref=f"attempt:{data['attempt_id']}",
            score=data["score"],
            max_score=data["max_score"],
            occurred_at=datetime.fromisoformat(data["graded_at"]),
            details={
                "quiz_slug": data["quiz_slug"],
                "title_en": title["en"],
                "percent": data["percent"],
                "passed": data["passed"],
                "area_scores": data["area_scores"],
                "purpose": data["purpose"],
            },
        )
    )
    competencies.record_attempt(session, data)


EVENT_HANDLERS = {catalog.ATTEMPT_GRADED.name: on_attempt_graded}
