"""Competencies of the library staff: the framework (areas with levels 1–4), each person's profile
built from evidence, and the follow-up assessments some weeks after a completed programme.

A profile is never a stored number: it is read from the evidence rows. A person's level in an area
is the **highest level evidenced** there, and the history is the running maximum of the evidence in
the order it happened. A later, lower quiz result is kept as evidence (coordinators see it) but does
not lower the level: a level records what a person has shown they can do, as a certificate would;
one quiz is a noisy measurement, and lowering the level would punish the follow-up assessments the
library wants its staff to take. Decline is what the follow-up monitoring is for.

Where evidence comes from, each giving a level per area:

- graded quizzes (``pustaka.attempt.graded.v1`` of purpose competency_check, post_test or
  follow_up): each area's percentage by :func:`level_for_percent`;
- completed programmes: :func:`record_programme_completion`, called by the completion step,
  gives :data:`PROGRAMME_LEVEL` in each of the programme's areas and schedules the follow-up;
- confirmed mentoring goals (``mentoring.py``): the goal's target level in its area;
- completions reported by an external LMS: :func:`record_lms_evidence`, called by the LMS ingress
  with the areas its course maps to.

Areas outside the framework (the public track's, an LMS's own) are not profiled. Plain use cases
over a SQLAlchemy session, free of Flask: ``competency_api.py`` and ``competency_web.py`` are thin
layers over them; ``followup_worker.py`` runs :func:`publish_due_followups` in the worker.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shared import catalog
from shared.competencies import AREAS
from shared.db import UTCDateTime, utcnow
from shared.envelope import new_event
from shared.errors import Invalid, NotFound
from shared.i18n import N_
from shared.messaging import add_to_outbox

from .models import Programme, User, db

SERVICE = "enrollment"
LEVELS = (1, 2, 3, 4)
# The framework is the staff programme's: the public literacy track's areas are not profiled.
FRAMEWORK_AREAS = tuple(code for code, area in AREAS.items() if area.track == "staff")

# Kinds of evidence.
QUIZ, PROGRAMME, MENTORING, LMS = "quiz", "programme", "mentoring_goal", "lms"
EVIDENCE_KINDS = (QUIZ, PROGRAMME, MENTORING, LMS)
# Quizzes that measure competence; practice quizzes and surveys do not count.
EVIDENCE_PURPOSES = ("competency_check", "post_test", "follow_up")
# A completed programme or LMS course without a score shows the practitioner level: the person
# did the work of the course, independently.
PROGRAMME_LEVEL = 2
LMS_LEVEL = 2
# Percent of a quiz area → level: below 40 → 1, below 60 → 2, below 80 → 3, else 4.
LEVEL_THRESHOLDS = ((40.0, 1), (60.0, 2), (80.0, 3))

DEFAULT_FOLLOWUP_WEEKS = 8
MAX_FOLLOWUP_WEEKS = 104
MAX_NAME, MAX_DESCRIPTOR = 200, 1000


def level_for_percent(percent: float) -> int:
    for below, level in LEVEL_THRESHOLDS:
        if percent < below:
            return level
    return 4


# The framework's starting content: per staff area, the descriptors of levels 1–4 (Indonesian, English).
LEVEL_DESCRIPTORS: dict[str, tuple[tuple[str, str], ...]] = {
    "library_software": (
        (
            "Menggunakan fungsi dasar perangkat lunak perpustakaan (penelusuran, sirkulasi) dengan panduan.",
            "Uses the basic functions of the library software (search, circulation) with guidance.",
        ),
        (
            "Menjalankan sirkulasi, keanggotaan, dan entri data secara mandiri serta mengatasi kendala umum.",
            "Runs circulation, membership and data entry independently and solves common problems.",
        ),
        (
            "Mengonfigurasi modul, laporan, dan hak akses; membimbing rekan kerja.",
            "Configures modules, reports and permissions; guides colleagues.",
        ),
        (
            "Merencanakan pemilihan, migrasi, dan integrasi sistem; melatih staf lain.",
            "Plans the choice, migration and integration of systems; trains other staff.",
        ),
    ),
    "cataloguing": (
        (
            "Mengenali unsur cantuman katalog dan menyalin cantuman yang sudah ada.",
            "Recognises the elements of a catalogue record and copies existing records.",
        ),
        (
            "Membuat cantuman deskriptif sesuai standar (RDA, MARC 21) dan menentukan klasifikasi DDC yang lazim.",
            "Creates descriptive records to standard (RDA, MARC 21) and assigns straightforward DDC classes.",
        ),
        (
            "Menangani bahan yang rumit, tajuk subjek, dan kendali otoritas; memeriksa mutu cantuman rekan.",
            "Handles complex materials, subject headings and authority control; reviews colleagues' records.",
        ),
        (
            "Menetapkan kebijakan dan skema metadata koleksi digital serta interoperabilitas (Dublin Core, OAI-PMH).",
            "Sets metadata policy and schemas for digital collections, and interoperability (Dublin Core, OAI-PMH).",
        ),
    ),
    "literacy_instruction": (
        (
            "Memahami konsep literasi informasi dan membantu pemustaka melakukan penelusuran sederhana.",
            "Understands information literacy and helps patrons with simple searches.",
        ),
        (
            "Memandu pemustaka menelusur, menilai sumber, dan mengenali misinformasi.",
            "Guides patrons in searching, judging sources and spotting misinformation.",
        ),
        (
            "Merancang dan mengajar kelas literasi informasi, lengkap dengan asesmen hasil belajar.",
            "Designs and teaches information-literacy classes, with assessment of learning.",
        ),
        (
            "Mengembangkan kurikulum dan melatih pustakawan lain menjadi pengajar literasi.",
            "Develops curricula and trains other librarians as literacy instructors.",
        ),
    ),
    "digital_services": (
        (
            "Menggunakan layanan digital perpustakaan dan media sosial untuk tugas sehari-hari.",
            "Uses the library's digital services and social media for daily tasks.",
        ),
        (
            "Mengelola konten layanan digital dan akun media sosial perpustakaan secara mandiri.",
            "Manages digital-service content and the library's social media accounts independently.",
        ),
        (
            "Merancang kampanye promosi dan layanan berbasis aplikasi yang aksesibel, lalu mengukur hasilnya.",
            "Designs promotion campaigns and accessible app-based services, and measures their results.",
        ),
        (
            "Memimpin strategi layanan digital dan perpustakaan digital; mengikuti perkembangan teknologi baru.",
            "Leads the strategy of digital services and the digital library; follows new technology.",
        ),
    ),
    "data_analytics": (
        (
            "Membaca laporan statistik perpustakaan dan grafik sederhana.",
            "Reads library statistics reports and simple charts.",
        ),
        (
            "Mengumpulkan dan mengolah data layanan (kunjungan, sirkulasi) dengan lembar kerja.",
            "Collects and processes service data (visits, circulation) with spreadsheets.",
        ),
        (
            "Menganalisis tren dan menyajikan temuan untuk perbaikan layanan.",
            "Analyses trends and presents findings to improve services.",
        ),
        (
            "Membangun indikator kinerja dan dasbor; mendasarkan keputusan strategis pada data.",
            "Builds performance indicators and dashboards; bases strategic decisions on data.",
        ),
    ),
    "community_engagement": (
        (
            "Melayani pemustaka dengan ramah dan mengenali kebutuhan umum mereka.",
            "Serves patrons courteously and recognises their common needs.",
        ),
        (
            "Menyelenggarakan kegiatan untuk masyarakat dan mengumpulkan umpan balik.",
            "Runs activities for the community and gathers feedback.",
        ),
        (
            "Merancang program berdasarkan kebutuhan komunitas bersama mitra setempat.",
            "Designs programmes from the community's needs, with local partners.",
        ),
        (
            "Membangun kemitraan jangka panjang dengan pemangku kepentingan dan mengevaluasi dampak program.",
            "Builds lasting partnerships with stakeholders and evaluates the programmes' impact.",
        ),
    ),
    "research_innovation": (
        (
            "Mengikuti perkembangan layanan perpustakaan dari bacaan profesional.",
            "Keeps up with library services through professional reading.",
        ),
        (
            "Mengumpulkan data dan menulis laporan kajian sederhana tentang layanan.",
            "Collects data and writes simple study reports about services.",
        ),
        (
            "Melaksanakan penelitian terapan dan mengujicobakan inovasi layanan.",
            "Conducts applied research and pilots service innovations.",
        ),
        (
            "Memimpin penelitian, memublikasikan hasilnya, dan menerapkan inovasi di seluruh perpustakaan.",
            "Leads research, publishes its results and rolls out innovations across the library.",
        ),
    ),
}


# Models ----------------------------------------------------------------------------------------


class CompetencyArea(db.Model):
    """An area of the framework; its names start as ``shared.competencies``' and admins may edit them."""

    __tablename__ = "competency_areas"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name_id: Mapped[str] = mapped_column(String(MAX_NAME))
    name_en: Mapped[str] = mapped_column(String(MAX_NAME))

    levels: Mapped[list[CompetencyLevel]] = relationship(
        order_by="CompetencyLevel.level", cascade="all, delete-orphan", lazy="selectin"
    )

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_id

    def descriptor(self, level: int, language: str) -> str:
        return next((row.descriptor(language) for row in self.levels if row.level == level), "")


class CompetencyLevel(db.Model):
    __tablename__ = "competency_levels"

    area_code: Mapped[str] = mapped_column(ForeignKey("competency_areas.code"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    descriptor_id: Mapped[str] = mapped_column(Text)
    descriptor_en: Mapped[str] = mapped_column(Text)

    def descriptor(self, language: str) -> str:
        return self.descriptor_en if language == "en" else self.descriptor_id


class Evidence(db.Model):
    """One piece of evidence of a person's level in an area, and when it was shown."""

    __tablename__ = "competency_evidence"
    # One piece per source and area, however often its event or call comes.
    __table_args__ = (UniqueConstraint("user_id", "area", "kind", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    area: Mapped[str] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    # What it came from: "attempt:21", "programme:3", "mentoring-goal:5", "lms:moodle:course-7"
    reference: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(String(500))
    detail_en: Mapped[str | None] = mapped_column(String(500))
    score: Mapped[float | None] = mapped_column()  # a quiz area's percent
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def description(self, language: str) -> str:
        return self.detail_en if language == "en" and self.detail_en else self.detail


class FollowUpSetting(db.Model):
    """A programme's own follow-up rule: how many weeks after completion, and with which quiz."""

    __tablename__ = "followup_settings"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    weeks: Mapped[int] = mapped_column(Integer)
    quiz_slug: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FollowUp(db.Model):
    """A learner's follow-up assessment after a completed programme."""

    __tablename__ = "followups"
    __table_args__ = (UniqueConstraint("user_id", "programme_id", "completed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    quiz_slug: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Set when pustaka.followup.due.v1 was staged: the claim that makes it go out once.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_reference: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship(lazy="joined")
    programme: Mapped[Programme] = relationship(lazy="joined")


# The framework ---------------------------------------------------------------------------------


def ensure_framework(session: Session) -> int:
    """Add the staff areas and level descriptors that are missing; never changes an edited one.
    Returns how many areas were added."""
    existing = set(session.scalars(select(CompetencyArea.code)))
    added = 0
    for position, code in enumerate(FRAMEWORK_AREAS, start=1):
        if code in existing:
            continue
        area = AREAS[code]
        session.add(
            CompetencyArea(
                code=code,
                position=position,
                name_id=area.name_id,
                name_en=area.name_en,
                levels=[
                    CompetencyLevel(level=level, descriptor_id=text_id, descriptor_en=text_en)
                    for level, (text_id, text_en) in zip(LEVELS, LEVEL_DESCRIPTORS[code], strict=True)
                ],
            )
        )
        added += 1
    session.flush()
    return added


def framework(session: Session) -> list[CompetencyArea]:
    return list(session.scalars(select(CompetencyArea).order_by(CompetencyArea.position)))


def get_area(session: Session, code: str) -> CompetencyArea:
    area = session.get(CompetencyArea, code)
    if area is None:
        raise NotFound(N_("No such competency area."))
    return area


def update_area(
    session: Session, code: str, *, name_id: str, name_en: str, descriptors: Mapping[int, tuple[str, str]]
) -> CompetencyArea:
    """Rename an area and rewrite its level descriptors (Indonesian, English), all four of them."""
    area = get_area(session, code)
    errors: dict[str, list[str]] = {}
    names = {"name_id": name_id.strip(), "name_en": name_en.strip()}
    for field, value in names.items():
        if not 1 <= len(value) <= MAX_NAME:
            errors[field] = [N_("Give a name of at most 200 characters.")]
    texts = {}
    for level in LEVELS:
        pair = descriptors.get(level)
        for language, text in zip(("id", "en"), pair or ("", ""), strict=True):
            field = f"levels.{level}.descriptor_{language}"
            text = text.strip()
            if not 1 <= len(text) <= MAX_DESCRIPTOR:
                errors[field] = [N_("Describe the level in at most 1000 characters.")]
            texts[(level, language)] = text
    if errors:
        raise Invalid(N_("The competency area has invalid fields."), errors)
    area.name_id, area.name_en = names["name_id"], names["name_en"]
    by_level = {row.level: row for row in area.levels}
    for level in LEVELS:
        row = by_level.get(level) or CompetencyLevel(area_code=code, level=level)
        row.descriptor_id, row.descriptor_en = texts[(level, "id")], texts[(level, "en")]
        if level not in by_level:
            area.levels.append(row)
    session.flush()
    return area


# Evidence --------------------------------------------------------------------------------------


def record_evidence(
    session: Session,
    *,
    user_id: int,
    area: str,
    level: int,
    kind: str,
    reference: str,
    detail: str,
    occurred_at: datetime,
    detail_en: str | None = None,
    score: float | None = None,
) -> Evidence | None:
    """Add one piece of evidence; None when the area is not the framework's or the piece is known."""
    if area not in FRAMEWORK_AREAS:
        return None
    if level not in LEVELS or kind not in EVIDENCE_KINDS:
        raise ValueError(f"evidence of level {level!r} and kind {kind!r}")
    # Checked, not left to the unique constraint: a failed insert would undo the caller's whole
    # transaction, and a consumer batch with it.
    if session.scalar(
        select(Evidence.id).where(
            Evidence.user_id == user_id,
            Evidence.area == area,
            Evidence.kind == kind,
            Evidence.reference == reference,
        )
    ):
        return None
    evidence = Evidence(
        user_id=user_id,
        area=area,
        level=level,
        kind=kind,
        reference=reference[:200],
        detail=detail[:500],
        detail_en=detail_en[:500] if detail_en else None,
        score=score,
        occurred_at=occurred_at,
    )
    session.add(evidence)
    session.flush()
    return evidence


def record_attempt(session: Session, data: Mapping) -> None:
    """From ``pustaka.attempt.graded.v1``: area levels from a measuring quiz, and a follow-up done."""
    user_id = data.get("user_id")
    if user_id is None or session.get(User, user_id) is None:
        return
    graded_at = datetime.fromisoformat(data["graded_at"])
    reference = f"attempt:{data['attempt_id']}"
    if data["purpose"] == "follow_up" and data.get("programme_id") is not None:
        complete_followups(session, user_id, data["programme_id"], reference, graded_at)
    if data["purpose"] not in EVIDENCE_PURPOSES:
        return
    title = data["quiz_title"]
    for area, percent in sorted(data["area_scores"].items()):
        record_evidence(
            session,
            user_id=user_id,
            area=area,
            level=level_for_percent(percent),
            kind=QUIZ,
            reference=reference,
            detail=title["id"],
            detail_en=title["en"],
            score=percent,
            occurred_at=graded_at,
        )


def record_programme_completion(
    session: Session,
    user_id: int,
    programme_id: int,
    areas: Iterable[str],
    completed_at: datetime,
    *,
    default_weeks: int = DEFAULT_FOLLOWUP_WEEKS,
) -> FollowUp:
    """For the completion step: evidence of :data:`PROGRAMME_LEVEL` in each of the programme's
    framework areas, and the follow-up assessment, due the programme's weeks (its setting, else
    ``default_weeks``: pass the app's ``PUSTAKA_FOLLOWUP_WEEKS``) after ``completed_at``.
    Idempotent: the same completion again adds nothing and returns the same follow-up."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound(N_("No such programme."))
    for area in areas:
        record_evidence(
            session,
            user_id=user_id,
            area=area,
            level=PROGRAMME_LEVEL,
            kind=PROGRAMME,
            reference=f"programme:{programme_id}",
            detail=programme.title_id,
            detail_en=programme.title_en,
            occurred_at=completed_at,
        )
    followup = session.scalar(
        select(FollowUp).where(
            FollowUp.user_id == user_id,
            FollowUp.programme_id == programme_id,
            FollowUp.completed_at == completed_at,
        )
    )
    if followup is None:
        setting = session.get(FollowUpSetting, programme_id)
        weeks = setting.weeks if setting else default_weeks
        followup = FollowUp(
            user_id=user_id,
            programme_id=programme_id,
            quiz_slug=setting.quiz_slug if setting else None,
            completed_at=completed_at,
            due_at=completed_at + timedelta(weeks=weeks),
        )
        session.add(followup)
        session.flush()
    return followup


def record_lms_evidence(
    session: Session,
    user_id: int,
    areas: Iterable[str],
    *,
    reference: str,
    title: str,
    completed_at: datetime,
    percent: float | None = None,
) -> list[Evidence]:
    """For the LMS ingress: a course completion, in the framework areas its course maps to. With a
    score (``percent``, 0–100) the level is :func:`level_for_percent`'s, else :data:`LMS_LEVEL`.
    ``reference`` names the completion uniquely (e.g. ``lms:<client>:<course id>``)."""
    level = LMS_LEVEL if percent is None else level_for_percent(percent)
    recorded = (
        record_evidence(
            session,
            user_id=user_id,
            area=area,
            level=level,
            kind=LMS,
            reference=reference,
            detail=title,
            score=percent,
            occurred_at=completed_at,
        )
        for area in areas
    )
    return [evidence for evidence in recorded if evidence is not None]


# Profiles --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelChange:
    """The level rose to ``level`` at ``at``, shown by ``evidence``."""

    at: datetime
    level: int
    evidence: Evidence


@dataclass(frozen=True)
class AreaProfile:
    area: CompetencyArea
    level: int | None  # None: nothing evidenced yet
    changes: list[LevelChange]
    evidence: list[Evidence]  # newest first


def level_history(evidence: Iterable[Evidence]) -> list[LevelChange]:
    """The running maximum of the evidence in the order it happened: each rise, with its evidence."""
    changes: list[LevelChange] = []
    for item in sorted(evidence, key=lambda e: (e.occurred_at, e.id)):
        if not changes or item.level > changes[-1].level:
            changes.append(LevelChange(item.occurred_at, item.level, item))
    return changes


def profile(session: Session, user_id: int) -> list[AreaProfile]:
    """The person's level, history and evidence in every area of the framework."""
    if session.get(User, user_id) is None:
        raise NotFound(N_("No such account."))
    by_area: dict[str, list[Evidence]] = {}
    for item in session.scalars(
        select(Evidence).where(Evidence.user_id == user_id).order_by(Evidence.occurred_at.desc(), Evidence.id)
    ):
        by_area.setdefault(item.area, []).append(item)
    profiles = []
    for area in framework(session):
        items = by_area.get(area.code, [])
        changes = level_history(items)
        profiles.append(AreaProfile(area, changes[-1].level if changes else None, changes, items))
    return profiles


@dataclass(frozen=True)
class StaffLevels:
    user: User
    levels: dict[str, int]  # area code → current level, evidenced areas only


def staff_levels(session: Session) -> list[StaffLevels]:
    """Every account but the admin-only ones, with its current level per area, by name."""
    highest = {
        (user_id, area): level
        for user_id, area, level in session.execute(
            select(Evidence.user_id, Evidence.area, func.max(Evidence.level)).group_by(
                Evidence.user_id, Evidence.area
            )
        )
    }
    users = session.scalars(select(User).order_by(User.name, User.id))
    return [
        StaffLevels(user, {area: level for (uid, area), level in highest.items() if uid == user.id})
        for user in users
        if set(user.roles) != {"admin"}
    ]


# Follow-ups ------------------------------------------------------------------------------------

UPCOMING, DUE, OVERDUE, DONE = "upcoming", "due", "overdue", "done"
FOLLOWUP_STATES = (UPCOMING, DUE, OVERDUE, DONE)


def followup_state(followup: FollowUp, now: datetime, grace: timedelta) -> str:
    """Due from its due time; overdue once ``grace`` has passed after that without it being done."""
    if followup.done_at is not None:
        return DONE
    if followup.due_at > now:
        return UPCOMING
    return OVERDUE if followup.due_at + grace <= now else DUE


@dataclass(frozen=True)
class FollowUpLine:
    followup: FollowUp
    state: str

    def days_overdue(self, now: datetime, grace: timedelta) -> int:
        return max(0, (now - (self.followup.due_at + grace)).days) if self.state == OVERDUE else 0


def followup_lines(
    session: Session, now: datetime, grace: timedelta, states: Sequence[str] = (DUE, OVERDUE)
) -> list[FollowUpLine]:
    """The follow-ups in the given states, longest due first."""
    query = select(FollowUp).order_by(FollowUp.due_at, FollowUp.id)
    if DONE not in states:
        query = query.where(FollowUp.done_at.is_(None))
    if UPCOMING not in states:
        query = query.where(FollowUp.due_at <= now)
    lines = (
        FollowUpLine(followup, followup_state(followup, now, grace)) for followup in session.scalars(query)
    )
    return [line for line in lines if line.state in states]


CSV_COLUMNS = (
    "name",
    "email",
    "programme_id",
    "programme",
    "completed_at",
    "due_at",
    "state",
    "days_overdue",
    "quiz_slug",
)


def followups_csv(lines: Sequence[FollowUpLine], now: datetime, grace: timedelta) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        followup = line.followup
        writer.writerow(
            (
                followup.user.name,
                followup.user.email,
                followup.programme_id,
                followup.programme.title_id,
                followup.completed_at.isoformat(),
                followup.due_at.isoformat(),
                line.state,
                line.days_overdue(now, grace),
                followup.quiz_slug or "",
            )
        )
    return out.getvalue()


def complete_followups(
    session: Session, user_id: int, programme_id: int, reference: str, at: datetime
) -> int:
    """The learner's open follow-ups of the programme completed before ``at`` are done now."""
    done = session.execute(
        update(FollowUp)
        .where(
            FollowUp.user_id == user_id,
            FollowUp.programme_id == programme_id,
            FollowUp.done_at.is_(None),
            FollowUp.completed_at <= at,
        )
        .values(done_at=at, done_reference=reference)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount


def publish_due_followups(session: Session, now: datetime, limit: int = 50) -> int:
    """Stage ``pustaka.followup.due.v1`` for each follow-up that fell due and was not announced.

    The claim is one conditional UPDATE: on PostgreSQL its rows are picked with ``FOR UPDATE SKIP
    LOCKED`` so workers take different rows, and on both databases a row already claimed no longer
    matches ``notified_at IS NULL``, so each follow-up is announced once. The caller commits."""
    claimable = (
        select(FollowUp.id)
        .where(FollowUp.notified_at.is_(None), FollowUp.done_at.is_(None), FollowUp.due_at <= now)
        .order_by(FollowUp.due_at, FollowUp.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(FollowUp)
        .where(FollowUp.id.in_(claimable), FollowUp.notified_at.is_(None))
        .values(notified_at=now)
        .returning(FollowUp.id)
        .execution_options(synchronize_session=False)
    ).all()
    for followup in session.scalars(select(FollowUp).where(FollowUp.id.in_(claimed)).order_by(FollowUp.id)):
        programme = followup.programme
        add_to_outbox(
            session,
            new_event(
                catalog.FOLLOWUP_DUE.name,
                {
                    "user_id": followup.user_id,
                    "programme_id": followup.programme_id,
                    "programme_title": {"id": programme.title_id, "en": programme.title_en},
                    "quiz_slug": followup.quiz_slug,
                    "due_at": followup.due_at,
                    "language": followup.user.language,
                },
                service=SERVICE,
                subject=f"followups/{followup.id}",
            ),
        )
    return len(claimed)


@dataclass(frozen=True)
class ProgrammeFollowUp:
    programme: Programme
    weeks: int
    quiz_slug: str | None
    own: bool  # the programme's own setting, not the default


def followup_settings(session: Session, default_weeks: int) -> list[ProgrammeFollowUp]:
    """Every staff programme with its follow-up rule, newest first."""
    settings = {setting.programme_id: setting for setting in session.scalars(select(FollowUpSetting))}
    programmes = session.scalars(
        select(Programme).where(Programme.track == "staff").order_by(Programme.id.desc())
    )
    result = []
    for programme in programmes:
        setting = settings.get(programme.id)
        result.append(
            ProgrammeFollowUp(
                programme,
                setting.weeks if setting else default_weeks,
                setting.quiz_slug if setting else None,
                setting is not None,
            )
        )
    return result


def set_followup_setting(
    session: Session, programme_id: int, weeks: int, quiz_slug: str | None
) -> FollowUpSetting:
    """Set a programme's follow-up rule; follow-ups not yet announced move to the new time."""
    if session.get(Programme, programme_id) is None:
        raise NotFound(N_("No such programme."))
    quiz_slug = (quiz_slug or "").strip() or None
    errors = {}
    if not 1 <= weeks <= MAX_FOLLOWUP_WEEKS:
        errors["weeks"] = [N_("Give a number of weeks from 1 to 104.")]
    if quiz_slug is not None and len(quiz_slug) > 100:
        errors["quiz_slug"] = [N_("Give a quiz slug of at most 100 characters.")]
    if errors:
        raise Invalid(N_("The follow-up setting has invalid fields."), errors)
    setting = session.get(FollowUpSetting, programme_id)
    if setting is None:
        setting = FollowUpSetting(programme_id=programme_id)
        session.add(setting)
    setting.weeks, setting.quiz_slug = weeks, quiz_slug
    for followup in session.scalars(
        select(FollowUp).where(
            FollowUp.programme_id == programme_id,
            FollowUp.notified_at.is_(None),
            FollowUp.done_at.is_(None),
        )
    ):
        followup.due_at = followup.completed_at + timedelta(weeks=weeks)
        followup.quiz_slug = quiz_slug
    session.flush()
    return setting
