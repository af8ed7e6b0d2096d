"""Enrollment's use cases and event handlers: plain functions over a SQLAlchemy session.

They know nothing of Flask or kombu; each stages its events in the outbox of the same
transaction, and the caller commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import catalog
from shared.auth import Identity
from shared.envelope import CloudEvent, new_event
from shared.errors import Conflict, Invalid, NotFound, Unauthorized
from shared.messaging import add_to_outbox

from .models import Enrollment, LearnerRecord, LmsClient, Programme, ProgrammeSession, User

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


# Programmes and sessions -----------------------------------------------------------------


def create_programme(session: Session, data: dict, creator: Identity | None) -> Programme:
    programme = Programme(**data, created_by=creator.user_id if creator else None)
    session.add(programme)
    session.flush()
    if programme.status == "published":
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


def get_programme(session: Session, programme_id: int) -> Programme:
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("No such programme.")
    return programme


def add_session(session: Session, programme_id: int, data: dict) -> ProgrammeSession:
    programme = get_programme(session, programme_id)
    if data["ends_at"] <= data["starts_at"]:
        raise Invalid("The session must end after it starts.", {"ends_at": ["Must be after starts_at."]})
    programme_session = ProgrammeSession(programme=programme, **data)
    session.add(programme_session)
    session.flush()
    return programme_session


def published_programmes(session: Session) -> list[Programme]:
    return list(
        session.scalars(
            select(Programme).where(Programme.status == "published").order_by(Programme.id.desc())
        )
    )


# Enrollment ------------------------------------------------------------------------------


def enroll(session: Session, session_id: int, user_id: int) -> Enrollment:
    """Confirm a seat while seats remain, else waitlist; never more confirmed than capacity."""
    # Taking the session row's write lock first serialises enrollments into one session,
    # on PostgreSQL (row lock) and on SQLite (database write lock) alike.
    locked = session.execute(
        update(ProgrammeSession)
        .where(ProgrammeSession.id == session_id)
        .values(seat_version=ProgrammeSession.seat_version + 1)
        .returning(ProgrammeSession.capacity, ProgrammeSession.programme_id, ProgrammeSession.starts_at)
    ).one_or_none()
    if locked is None:
        raise NotFound("No such session.")
    capacity, programme_id, starts_at = locked
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    already, confirmed, waiting = session.execute(
        select(
            func.count().filter(Enrollment.user_id == user_id),
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
    programme = session.get(Programme, programme_id)
    publish(
        session,
        catalog.ENROLLMENT_CONFIRMED.name if status == "confirmed" else catalog.ENROLLMENT_WAITLISTED.name,
        {
            "enrollment_id": enrollment.id,
            "session_id": session_id,
            "programme_id": programme_id,
            "programme_title": {"id": programme.title_id, "en": programme.title_en},
            "starts_at": starts_at,
            "user_id": user_id,
            "language": user.language,
            "waitlist_position": waiting + 1 if status == "waitlisted" else None,
        },
        subject=f"enrollments/{enrollment.id}",
    )
    return enrollment


def enrollments_of(session: Session, user_id: int) -> list[Enrollment]:
    return list(
        session.scalars(
            select(Enrollment).where(Enrollment.user_id == user_id).order_by(Enrollment.id.desc())
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


# External LMS ---------------------------------------------------------------------------


def create_lms_client(session: Session, name: str) -> LmsClient:
    if session.scalar(select(LmsClient.id).where(LmsClient.name == name)):
        raise Conflict("An LMS client with this name exists.", {"name": ["Already taken."]})
    client = LmsClient(name=name, secret="whsec_" + secrets.token_urlsafe(32))
    session.add(client)
    session.flush()
    return client


@dataclass(frozen=True)
class CourseCompletion:
    webhook_id: str
    learner_email: str
    course_id: str
    course_title: str
    completed_at: datetime
    score: float | None
    max_score: float | None


def record_lms_completion(session: Session, client: LmsClient, completion: CourseCompletion) -> bool:
    """Add the completion to the learner's record; False if this delivery was seen already."""
    source_ref = f"lms:{client.id}:{completion.webhook_id}"
    if session.scalar(select(LearnerRecord.id).where(LearnerRecord.source_ref == source_ref)):
        return False
    user = session.scalar(select(User).where(User.email == completion.learner_email.strip().lower()))
    if user is None:
        raise Invalid(
            "No staff account has this learner email.",
            {"data.learner_email": ["Unknown learner."]},
        )
    session.add(
        LearnerRecord(
            user_id=user.id,
            kind="lms_completion",
            title=completion.course_title,
            source=client.name,
            source_ref=source_ref,
            score=completion.score,
            max_score=completion.max_score,
            occurred_at=completion.completed_at,
            details={"course_id": completion.course_id},
        )
    )
    return True


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


EVENT_HANDLERS = {catalog.ATTEMPT_GRADED.name: on_attempt_graded}
