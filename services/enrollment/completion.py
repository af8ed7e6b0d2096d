"""Completing a programme, and the certificates of completion (docs/completion.md).

A programme's rule (``CompletionRule``, or :data:`DEFAULT_RULE` while a coordinator set none):

- **minimum attendance**: a share, in percent, of the programme's sessions in which the learner
  holds a confirmed seat, that the coordinator marked as attended. A share, not a number of
  sessions, because a programme is offered either as one session repeated for several groups (a
  learner enrolls in one of them: 100% is that one) or as a series (a learner enrolls in all of
  them: 75% of four is three), and one rule fits both;
- **post-test passed** (optional): every attended session that names a post-test quiz needs a
  passed result of that quiz in the learner record (``pustaka.attempt.graded.v1``);
- **automatic certificate**: on completion the certificate is issued at once, or it waits for a
  coordinator to issue it by hand.

Completion is decided whenever its evidence changes (attendance marked, a post-test graded, the
rule changed) and happens once per learner and programme: the unique row of ``completions``
is the claim, so concurrent evaluations complete a learner once and later changes of attendance
do not undo it. Completing records the competency evidence and follow-up
(``competencies.record_programme_completion``), issues the certificate, and publishes
``pustaka.activity.completed.v1``, all in the caller's transaction.

Only accounts complete: a public class's community members have no account to hold a record.
Plain use cases over a SQLAlchemy session; ``completion_web.py`` and ``completion_api.py`` are thin
layers over them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, select, text, update
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship, selectinload

from shared import catalog
from shared.auth import Identity
from shared.competencies import AREAS
from shared.db import UTCDateTime, utcnow
from shared.envelope import CloudEvent
from shared.errors import Conflict, DomainError, Invalid, NotFound
from shared.i18n import N_

from . import certificates, competencies, handlers
from .certificates import Bilingual
from .models import Attendance, Enrollment, LearnerRecord, Programme, ProgrammeSession, User, db

MAX_REASON = 500
# The programme types as a certificate prints them, in both languages.
TYPE_NAMES = {
    "training": Bilingual("Pelatihan", "Training"),
    "workshop": Bilingual("Lokakarya", "Workshop"),
    "seminar": Bilingual("Seminar", "Seminar"),
    "panel": Bilingual("Diskusi panel", "Panel discussion"),
    "conference": Bilingual("Konferensi", "Conference"),
    "mentoring": Bilingual("Siklus mentoring", "Mentoring cycle"),
    "research": Bilingual("Proyek penelitian", "Research project"),
    "literacy_class": Bilingual("Kelas literasi informasi", "Information-literacy class"),
}


class Gone(DomainError):
    status = 410


# Models ----------------------------------------------------------------------------------------


class CompletionRule(db.Model):
    """A programme's own rule of completion."""

    __tablename__ = "completion_rules"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    min_attendance_percent: Mapped[int] = mapped_column(Integer)
    post_test_required: Mapped[bool] = mapped_column(Boolean)
    automatic_certificate: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


DEFAULT_RULE = {"min_attendance_percent": 100, "post_test_required": True, "automatic_certificate": True}


class Completion(db.Model):
    """A learner completed a programme: once, with the dates and hours of the sessions attended."""

    __tablename__ = "completions"
    __table_args__ = (Index("uq_completions_user_programme", "user_id", "programme_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    # The session attended when it was only one; None for a series.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hours: Mapped[float] = mapped_column(Float)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
    programme: Mapped[Programme] = relationship(lazy="joined")
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="completion", order_by="Certificate.id.desc()", lazy="selectin"
    )

    @property
    def certificate(self) -> Certificate | None:
        """The valid certificate, else the latest revoked one, else None."""
        valid = [certificate for certificate in self.certificates if certificate.revoked_at is None]
        return valid[0] if valid else (self.certificates[0] if self.certificates else None)


_VALID = text("revoked_at IS NULL")


class Certificate(db.Model):
    """A certificate as issued: what it says is kept as it was printed, whatever changes later."""

    __tablename__ = "certificates"
    # At most one valid certificate per completion; a revoked one may be followed by a new one.
    __table_args__ = (
        Index(
            "uq_certificates_valid_completion",
            "completion_id",
            unique=True,
            sqlite_where=_VALID,
            postgresql_where=_VALID,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    completion_id: Mapped[int] = mapped_column(ForeignKey("completions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    learner_name: Mapped[str] = mapped_column(String(200))
    programme_title_id: Mapped[str] = mapped_column(String(300))
    programme_title_en: Mapped[str] = mapped_column(String(300))
    programme_type: Mapped[str] = mapped_column(String(30))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hours: Mapped[float] = mapped_column(Float)
    competency_areas: Mapped[list[str]] = mapped_column(JSON)
    partners: Mapped[list[str]] = mapped_column(JSON)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_title: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: on completion
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str] = mapped_column(String(MAX_REASON), default="")

    completion: Mapped[Completion] = relationship(back_populates="certificates")

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at else "valid"

    def programme_title(self, language: str) -> str:
        return self.programme_title_en if language == "en" else self.programme_title_id


# Settings --------------------------------------------------------------------------------------


def _absolute(config: Mapping, service: str) -> str:
    base = config["PUSTAKA_SERVICE_URLS"][service]
    return base if "://" in base else config["PUSTAKA_PUBLIC_URL"].rstrip("/") + base


@dataclass(frozen=True)
class Settings:
    """What completing needs of the configuration: the follow-up's weeks, who signs the
    certificates, and the addresses printed on them and sent in emails."""

    followup_weeks: int
    signer_name: str
    signer_title: str
    enrollment_url: str
    surveys_url: str

    @classmethod
    def from_config(cls, config: Mapping) -> Settings:
        return cls(
            followup_weeks=config["PUSTAKA_FOLLOWUP_WEEKS"],
            signer_name=config["PUSTAKA_CERTIFICATE_SIGNER_NAME"],
            signer_title=config["PUSTAKA_CERTIFICATE_SIGNER_TITLE"],
            enrollment_url=_absolute(config, "enrollment"),
            surveys_url=_absolute(config, "assessment") + "/surveys",
        )

    def certificate_url(self, certificate_id: int) -> str:
        return f"{self.enrollment_url}/certificates/{certificate_id}.pdf"

    def verification_url(self, code: str) -> str:
        return f"{self.enrollment_url}/certificates/verify/{code}"


# Rules and progress ----------------------------------------------------------------------------


def rule_for(session: Session, programme_id: int) -> CompletionRule:
    """The programme's rule; the defaults (not stored) while it has none."""
    return session.get(CompletionRule, programme_id) or CompletionRule(
        programme_id=programme_id, **DEFAULT_RULE
    )


def rule_problems(data: Mapping) -> dict[str, list[str]]:
    """The rule's fields, each field's messages (``N_``-marked, translated where shown)."""
    percent = data.get("min_attendance_percent")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 100:
        return {"min_attendance_percent": [N_("Give a share from 1 to 100 percent.")]}
    return {}


@dataclass(frozen=True)
class Progress:
    """Where a learner stands with a programme's rule."""

    user: User
    rule: CompletionRule
    enrolled: list[ProgrammeSession]  # the sessions of the programme where the learner holds a seat
    attended: list[ProgrammeSession]
    post_tests: dict[str, bool]  # the post-test of each attended session that has one → passed
    completion: Completion | None

    @property
    def attendance_percent(self) -> float:
        return 100 * len(self.attended) / len(self.enrolled) if self.enrolled else 0.0

    @property
    def attendance_met(self) -> bool:
        return bool(self.enrolled) and 100 * len(self.attended) >= self.rule.min_attendance_percent * len(
            self.enrolled
        )

    @property
    def post_tests_met(self) -> bool:
        return not self.rule.post_test_required or all(self.post_tests.values())

    @property
    def complete(self) -> bool:
        return self.attendance_met and self.post_tests_met


def _passed_quizzes(session: Session, user_ids: set[int], slugs: set[str]) -> set[tuple[int, str]]:
    """(learner, quiz slug) of the passed quiz results among these."""
    if not user_ids or not slugs:
        return set()
    records = session.scalars(
        select(LearnerRecord).where(LearnerRecord.user_id.in_(user_ids), LearnerRecord.kind == "quiz_result")
    )
    return {
        (record.user_id, record.details.get("quiz_slug"))
        for record in records
        if record.details.get("passed") and record.details.get("quiz_slug") in slugs
    }


def programme_progress(
    session: Session, programme_id: int, user_ids: Iterable[int] | None = None
) -> list[Progress]:
    """Every learner with a seat in the programme or a completion of it (or only these), by name."""
    handlers.get_programme(session, programme_id)
    rule = rule_for(session, programme_id)
    seats = (
        select(Enrollment)
        .join(ProgrammeSession, Enrollment.session_id == ProgrammeSession.id)
        .where(
            ProgrammeSession.programme_id == programme_id,
            Enrollment.status == "confirmed",
            Enrollment.user_id.is_not(None),
        )
        .order_by(ProgrammeSession.starts_at, Enrollment.id)
        .options(
            joinedload(Enrollment.session), joinedload(Enrollment.attendance), joinedload(Enrollment.user)
        )
        # Fresh from the database: the caller may hold these enrollments from before the attendance
        # it just marked.
        .execution_options(populate_existing=True)
    )
    done = select(Completion).where(Completion.programme_id == programme_id)
    if user_ids is not None:
        wanted = set(user_ids)
        seats = seats.where(Enrollment.user_id.in_(wanted))
        done = done.where(Completion.user_id.in_(wanted))
    enrollments = session.scalars(seats).unique().all()
    completions = {completion.user_id: completion for completion in session.scalars(done)}

    users = {enrollment.user_id: enrollment.user for enrollment in enrollments}
    users |= {completion.user_id: completion.user for completion in completions.values()}
    seats_of: dict[int, list[Enrollment]] = {user_id: [] for user_id in users}
    for enrollment in enrollments:
        seats_of[enrollment.user_id].append(enrollment)
    slugs = {e.session.post_test_slug for e in enrollments if e.session.post_test_slug}
    passed = _passed_quizzes(session, set(users), slugs)
    result = []
    for user_id, user in users.items():
        mine = seats_of[user_id]
        attended = [e.session for e in mine if e.attendance_status == "attended"]
        post_tests = {
            s.post_test_slug: (user_id, s.post_test_slug) in passed for s in attended if s.post_test_slug
        }
        result.append(
            Progress(user, rule, [e.session for e in mine], attended, post_tests, completions.get(user_id))
        )
    return sorted(result, key=lambda progress: (progress.user.name.lower(), progress.user.id))


# Completing ------------------------------------------------------------------------------------


def _insert(session: Session, model):
    """INSERT … ON CONFLICT in the dialect of the session's database (PostgreSQL or SQLite)."""
    dialect = importlib.import_module(f"sqlalchemy.dialects.{session.get_bind().dialect.name}")
    return dialect.insert(model.__table__)


def _hours(sessions: Iterable[ProgrammeSession]) -> float:
    return round(sum((s.ends_at - s.starts_at).total_seconds() for s in sessions) / 3600, 2)


def evaluate(
    session: Session,
    programme_id: int,
    settings: Settings,
    user_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> list[Completion]:
    """Complete the programme for each learner (of ``user_ids``, else all) whose evidence now meets
    its rule; returns the completions made now. Those who completed before stay as they are."""
    now = now or utcnow()
    made = []
    for progress in programme_progress(session, programme_id, user_ids):
        if progress.completion is None and progress.complete:
            completion = _complete(session, progress, settings, now)
            if completion is not None:
                made.append(completion)
    return made


def _complete(session: Session, progress: Progress, settings: Settings, now: datetime) -> Completion | None:
    attended = progress.attended
    programme = attended[0].programme
    # The unique (learner, programme) row is the claim: a concurrent evaluation that inserted it
    # first did the rest, and this one does nothing.
    completion_id = session.execute(
        _insert(session, Completion)
        .values(
            user_id=progress.user.id,
            programme_id=programme.id,
            session_id=attended[0].id if len(attended) == 1 else None,
            starts_at=min(s.starts_at for s in attended),
            ends_at=max(s.ends_at for s in attended),
            hours=_hours(attended),
            completed_at=now,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "programme_id"])
        .returning(Completion.id)
    ).scalar_one_or_none()
    if completion_id is None:
        return None
    completion = session.get(Completion, completion_id)
    certificate = (
        _issue(session, completion, settings, None, now) if progress.rule.automatic_certificate else None
    )
    competencies.record_programme_completion(
        session,
        completion.user_id,
        programme.id,
        programme.competency_areas,
        now,
        default_weeks=settings.followup_weeks,
    )
    handlers.publish(
        session,
        catalog.ACTIVITY_COMPLETED.name,
        {
            "user_id": completion.user_id,
            "programme_id": programme.id,
            "programme_title": {"id": programme.title_id, "en": programme.title_en},
            "session_id": completion.session_id,
            "competency_areas": programme.competency_areas,
            "hours": completion.hours,
            "certificate_code": certificate.code if certificate else None,
            "certificate_url": settings.certificate_url(certificate.id) if certificate else None,
            "survey_url": settings.surveys_url,
            "completed_at": now,
            "language": progress.user.language,
        },
        subject=f"completions/{completion.id}",
    )
    return completion


def _issue(
    session: Session, completion: Completion, settings: Settings, issued_by: int | None, now: datetime
) -> Certificate | None:
    """A new certificate of the completion; None if it has a valid one."""
    programme = completion.programme
    partners = [
        link.partner.name
        for role in ("organiser", "speaker")
        for link in programme.partner_links
        if link.role == role
    ]
    certificate_id = session.execute(
        _insert(session, Certificate)
        .values(
            code=certificates.new_verification_code(),
            completion_id=completion.id,
            user_id=completion.user_id,
            programme_id=programme.id,
            learner_name=completion.user.name,
            programme_title_id=programme.title_id,
            programme_title_en=programme.title_en,
            programme_type=programme.type,
            starts_at=completion.starts_at,
            ends_at=completion.ends_at,
            hours=completion.hours,
            competency_areas=list(programme.competency_areas),
            partners=list(dict.fromkeys(partners)),
            signer_name=settings.signer_name,
            signer_title=settings.signer_title,
            issued_at=now,
            issued_by=issued_by,
            revoke_reason="",
        )
        .on_conflict_do_nothing(index_elements=["completion_id"], index_where=_VALID)
        .returning(Certificate.id)
    ).scalar_one_or_none()
    if certificate_id is None:
        return None
    session.expire(completion, ["certificates"])
    return session.get(Certificate, certificate_id)


def mark_attendance(
    session: Session,
    session_id: int,
    marks: Mapping[int, str],
    marked_by: int | None,
    settings: Settings,
    now: datetime | None = None,
) -> tuple[list[Attendance], list[Completion]]:
    """Record attendance (``handlers.record_attendance``), then complete whoever it completes."""
    marked = handlers.record_attendance(session, session_id, marks, marked_by, now)
    programme_id = handlers.get_session(session, session_id).programme_id
    learners = session.scalars(
        select(Enrollment.user_id).where(Enrollment.id.in_(list(marks)), Enrollment.user_id.is_not(None))
    ).all()
    return marked, evaluate(session, programme_id, settings, learners, now) if learners else []


def after_attempt(session: Session, data: Mapping, settings: Settings) -> list[Completion]:
    """A graded quiz (``pustaka.attempt.graded.v1``) may be the post-test that completes a programme
    of its taker: of each session with a seat whose post-test it is."""
    user_id = data.get("user_id")
    if user_id is None or session.get(User, user_id) is None:
        return []
    programme_ids = session.scalars(
        select(ProgrammeSession.programme_id)
        .join(Enrollment, Enrollment.session_id == ProgrammeSession.id)
        .where(
            ProgrammeSession.post_test_slug == data["quiz_slug"],
            Enrollment.user_id == user_id,
            Enrollment.status == "confirmed",
        )
        .distinct()
    ).all()
    made = []
    for programme_id in sorted(programme_ids):
        made += evaluate(
            session, programme_id, settings, [user_id], datetime.fromisoformat(data["graded_at"])
        )
    return made


def event_handlers(app) -> dict:
    """Enrollment's event handlers, the attempt's with the completion it may bring."""
    settings = Settings.from_config(app.config)

    def on_attempt_graded(event: CloudEvent, session: Session) -> None:
        handlers.on_attempt_graded(event, session)
        after_attempt(session, event.data, settings)

    return handlers.EVENT_HANDLERS | {catalog.ATTEMPT_GRADED.name: on_attempt_graded}


def set_rule(
    session: Session, programme_id: int, data: Mapping, settings: Settings, now: datetime | None = None
) -> tuple[CompletionRule, list[Completion]]:
    """Set the programme's rule, then complete whoever it completes now."""
    handlers.get_programme(session, programme_id)
    errors = rule_problems(data)
    if errors:
        raise Invalid("The completion rule has invalid fields.", errors)
    rule = session.get(CompletionRule, programme_id)
    if rule is None:
        rule = CompletionRule(programme_id=programme_id)
        session.add(rule)
    rule.min_attendance_percent = data["min_attendance_percent"]
    rule.post_test_required = bool(data.get("post_test_required", DEFAULT_RULE["post_test_required"]))
    rule.automatic_certificate = bool(
        data.get("automatic_certificate", DEFAULT_RULE["automatic_certificate"])
    )
    session.flush()
    return rule, evaluate(session, programme_id, settings, now=now)


# Certificates ----------------------------------------------------------------------------------


def get_completion(session: Session, completion_id: int) -> Completion:
    completion = session.get(Completion, completion_id)
    if completion is None:
        raise NotFound("No such completion.")
    return completion


def issue_certificate(
    session: Session, completion_id: int, issuer: Identity, settings: Settings, now: datetime | None = None
) -> Certificate:
    """A coordinator issues the certificate of a completion by hand: when the rule issues none on
    its own, or after the last one was revoked."""
    completion = get_completion(session, completion_id)
    certificate = _issue(session, completion, settings, issuer.user_id, now or utcnow())
    if certificate is None:
        raise Conflict("This completion has a valid certificate already.")
    return certificate


def get_certificate(session: Session, certificate_id: int, viewer: Identity) -> Certificate:
    """The viewer's own certificate, or any for coordinators; another's is as unknown as a missing one."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None or (certificate.user_id != viewer.user_id and not handlers.manages(viewer)):
        raise NotFound("No such certificate.")
    return certificate


def revoke_certificate(
    session: Session, certificate_id: int, reason: str, revoker: Identity, now: datetime | None = None
) -> Certificate:
    """Withdraw a certificate: the verification page denies it from now on."""
    certificate = get_certificate(session, certificate_id, revoker)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        message = N_("Give the reason for revoking.") if not reason else N_("At most 500 characters.")
        raise Invalid("The reason is missing or too long.", {"reason": [message]})
    # Conditional, so that of two coordinators revoking at once one is told it was done already.
    revoked = session.execute(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.revoked_at.is_(None))
        .values(revoked_at=now or utcnow(), revoked_by=revoker.user_id, revoke_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not revoked:
        raise Conflict("This certificate was revoked already.")
    session.refresh(certificate)
    return certificate


def certificate_pdf(certificate: Certificate, settings: Settings) -> bytes:
    """The certificate's PDF; a revoked one is no longer handed out."""
    from .certificate_pdf import render_certificate_pdf  # reportlab only where a PDF is made (idle memory)

    if certificate.revoked_at is not None:
        raise Gone("This certificate was revoked.")
    areas = tuple(
        Bilingual(AREAS[code].name_id, AREAS[code].name_en)
        for code in certificate.competency_areas
        if code in AREAS
    )
    return render_certificate_pdf(
        certificates.CertificateData(
            learner_name=certificate.learner_name,
            programme_title=Bilingual(certificate.programme_title_id, certificate.programme_title_en),
            programme_type=TYPE_NAMES[certificate.programme_type],
            starts_at=certificate.starts_at,
            ends_at=certificate.ends_at,
            hours=certificate.hours,
            areas=areas,
            partners=tuple(certificate.partners),
            officer_name=certificate.signer_name,
            officer_title=certificate.signer_title,
            code=certificate.code,
            verification_url=settings.verification_url(certificate.code),
        )
    )


def pdf_filename(certificate: Certificate) -> str:
    return f"sertifikat-{certificate.code}.pdf"


@dataclass(frozen=True)
class Verification:
    code: str  # as printed
    certificate: Certificate | None

    @property
    def status(self) -> str:
        """valid, revoked or unknown."""
        return self.certificate.status if self.certificate else "unknown"


def verify(session: Session, typed: str) -> Verification:
    """What the public verification page says of a code, however it was typed."""
    try:
        code = certificates.normalise_code(typed or "")
    except ValueError:
        raise Invalid(
            "This is not a certificate code.",
            {"code": [N_("A certificate code looks like PST-7KQM-WX3D-HN9R.")]},
        ) from None
    return Verification(code, session.scalar(select(Certificate).where(Certificate.code == code)))


def completions_of(session: Session, user_id: int) -> list[Completion]:
    """The learner's completions, the latest first, with their certificates."""
    return list(
        session.scalars(
            select(Completion)
            .where(Completion.user_id == user_id)
            .order_by(Completion.completed_at.desc(), Completion.id.desc())
            .options(selectinload(Completion.certificates))
        )
    )
