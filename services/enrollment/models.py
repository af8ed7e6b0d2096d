"""Enrollment's own data: accounts, programmes, sessions, enrollments, learner records (the LMS
clients' are in ``lms.py``)."""

from __future__ import annotations

from datetime import datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, case, func, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from shared.db import UTCDateTime, utcnow

db = SQLAlchemy()

PROGRAMME_TYPES = (
    "training",
    "workshop",
    "seminar",
    "panel",
    "conference",
    "mentoring",
    "research",
    "literacy_class",
)
TRACKS = ("staff", "public")
PROGRAMME_STATES = ("draft", "published", "archived")
PARTNER_KINDS = ("university", "professional_organisation", "ngo", "government", "other")
PARTNER_ROLES = ("organiser", "speaker")
SESSION_STATES = ("scheduled", "cancelled")
# pending: a public seat held until its email is confirmed; expired: a hold that was never confirmed.
ENROLLMENT_STATES = ("confirmed", "waitlisted", "pending", "cancelled", "expired")
ACTIVE_STATES = ("confirmed", "waitlisted", "pending")
ATTENDANCE_STATES = ("attended", "absent")
_ACTIVE = text("status IN ('confirmed', 'waitlisted', 'pending')")


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(2), default="id")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Programme(db.Model):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_id: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_id: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    track: Mapped[str] = mapped_column(String(10))
    type: Mapped[str] = mapped_column(String(30))
    competency_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list[ProgrammeSession]] = relationship(
        back_populates="programme", order_by="ProgrammeSession.starts_at"
    )
    partner_links: Mapped[list[ProgrammePartner]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="ProgrammePartner.partner_id"
    )

    def partners_as(self, role: str) -> list[Partner]:
        return [link.partner for link in self.partner_links if link.role == role]

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_id

    def description(self, language: str) -> str:
        return self.description_en if language == "en" else self.description_id


class Partner(db.Model):
    """An institution that organises programmes or sends speakers: a university, an NGO, …"""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    website: Mapped[str] = mapped_column(String(300), default="")


class ProgrammePartner(db.Model):
    __tablename__ = "programme_partners"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(12), primary_key=True)

    programme: Mapped[Programme] = relationship(back_populates="partner_links")
    partner: Mapped[Partner] = relationship(lazy="joined")


class ProgrammeSession(db.Model):
    """One scheduled occurrence of a programme, with its seats."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    venue: Mapped[str] = mapped_column(String(300), default="")
    online_link: Mapped[str] = mapped_column(String(500), default="", server_default="")
    capacity: Mapped[int] = mapped_column(Integer)
    # Quiz slugs of the assessment service.
    pre_test_slug: Mapped[str | None] = mapped_column(String(100))
    post_test_slug: Mapped[str | None] = mapped_column(String(100))
    # No opening: open from the start; no closing: open until the session starts.
    enrollment_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrollment_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="scheduled", server_default="scheduled")
    cancel_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Bumped by every change of seats: the UPDATE takes the row's write lock before seats are counted.
    seat_version: Mapped[int] = mapped_column(Integer, default=0)

    programme: Mapped[Programme] = relationship(back_populates="sessions")
    speakers: Mapped[list[SessionSpeaker]] = relationship(
        cascade="all, delete-orphan", order_by="SessionSpeaker.position", lazy="selectin"
    )

    @property
    def enrollment_closes(self) -> datetime:
        return self.enrollment_closes_at or self.starts_at


class SessionSpeaker(db.Model):
    __tablename__ = "session_speakers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))

    partner: Mapped[Partner | None] = relationship(lazy="joined")


class Enrollment(db.Model):
    """A seat, a place in the waiting list, or a public hold: of an account, or of a name and an
    email (public classes, no account)."""

    __tablename__ = "enrollments"
    # One active enrollment per person and session; a cancelled one may be followed by a new one.
    __table_args__ = (
        Index(
            "uq_enrollments_active_user",
            "session_id",
            "user_id",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        Index(
            "uq_enrollments_active_email",
            "session_id",
            "email",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Of a public enrollment, which has no account.
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(2))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[ProgrammeSession] = relationship()
    user: Mapped[User | None] = relationship()
    attendance: Mapped[Attendance | None] = relationship(back_populates="enrollment")

    @property
    def person_name(self) -> str:
        return self.user.name if self.user else self.name or ""

    @property
    def person_email(self) -> str:
        return self.user.email if self.user else self.email or ""

    @property
    def attendance_status(self) -> str | None:
        return self.attendance.status if self.attendance else None


class Attendance(db.Model):
    """Whether the person of a confirmed enrollment came, as the coordinator marked it."""

    __tablename__ = "attendance"

    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enrollment: Mapped[Enrollment] = relationship(back_populates="attendance")


class LearnerRecord(db.Model):
    """One entry of a learner's record: a quiz result or an activity reported by an LMS."""

    __tablename__ = "learner_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(200))
    # Where the entry came from, unique so that a repeated delivery adds nothing.
    source_ref: Mapped[str] = mapped_column(String(300), unique=True)
    score: Mapped[float | None] = mapped_column()
    max_score: Mapped[float | None] = mapped_column()
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


_ahead = Enrollment.__table__.alias("ahead")
# Arrival order is the order of ids: rows are inserted while the session's row lock is held.
Enrollment.waitlist_position = column_property(
    case(
        (
            Enrollment.status == "waitlisted",
            select(func.count(_ahead.c.id))
            .where(
                _ahead.c.session_id == Enrollment.session_id,
                _ahead.c.status == "waitlisted",
                _ahead.c.id <= Enrollment.id,
            )
            .scalar_subquery(),
        ),
        else_=None,
    ),
    deferred=True,
)
# For pages and the API: an exact count is taken under the lock (handlers._seats), where
# unconfirmed holds past their time no longer count.
ProgrammeSession.seats_taken = column_property(
    select(func.count(Enrollment.id))
    .where(Enrollment.session_id == ProgrammeSession.id, Enrollment.status.in_(("confirmed", "pending")))
    .scalar_subquery(),
    deferred=True,
)
