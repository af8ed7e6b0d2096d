"""Coordinators' dashboards: participation, attendance and completion, feedback, pre/post gains and
the staff's competency distribution; and the figures of one programme for its PDF report.

Everything is read from enrollment's own tables and from two read models of assessment's events:

- ``pustaka.feedback.summarised.v1`` keeps the newest aggregates of each programme session's
  feedback survey (:class:`FeedbackSummary`);
- ``pustaka.attempt.graded.v1`` of a programme's pre-test or post-test keeps the learner's score
  (:class:`ProgrammeTestScore`). A learner's pre score is their first pre-test attempt, their post
  score their best post-test attempt (assessment's default grading method). The normalized gain
  g = (post − pre) / (100 − pre) is the share of what was left to learn that was learned; a learner
  without both scores, or with full marks on the pre-test, is left out and counted by reason.

The scope: sessions not cancelled, of programmes that are not drafts, whose start falls within the
date range (days in WIB), of the chosen type and track. Participations are confirmed seats in
those sessions; the attendance rate is attended ÷ confirmed seats of sessions that are over; the
completion rate is, among the account holders seated in sessions that are over, the share that
completed the programme by its rule (``completion.py``). Gains and feedback are of the same people
and sessions. The competency figures are of every staff account, by month: type and track do not
apply to them.

Plain functions over a SQLAlchemy session, free of Flask: ``dashboard_web.py`` and
``dashboard_api.py`` are thin layers over them, ``reports.py`` draws the PDF.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import fmean

from sqlalchemy import JSON, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, selectinload

from shared import catalog
from shared.db import UTCDateTime
from shared.envelope import CloudEvent
from shared.errors import Invalid, NotFound
from shared.i18n import N_
from shared.localtime import JAKARTA

from .competencies import FRAMEWORK_AREAS, LEVELS, Evidence, framework
from .completion import Completion
from .models import (
    PROGRAMME_TYPES,
    TRACKS,
    Attendance,
    Enrollment,
    Programme,
    ProgrammePartner,
    ProgrammeSession,
    User,
    db,
)

EventHandler = Callable[[CloudEvent, Session], None]
PRE_TEST, POST_TEST = "pre_test", "post_test"
MAXIMUM = 100.0
# Longer ranges would draw hundreds of months; a decade covers any report the library asks for.
MAX_MONTHS = 120
TREND_MONTHS = 12  # without a date range: the trend of the last year


# Read models -----------------------------------------------------------------------------------


class FeedbackSummary(db.Model):
    """The newest feedback aggregates of a programme's session (session 0: its activities without one)."""

    __tablename__ = "dashboard_feedback"
    __table_args__ = (UniqueConstraint("programme_id", "session_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(Integer)
    # The session's id, or 0: a unique key, which a NULL could not be on PostgreSQL.
    session_key: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[int | None] = mapped_column(Integer)
    responses: Mapped[int] = mapped_column(Integer)
    overall_mean: Mapped[float | None] = mapped_column()
    # As the event has them: item_id, statement {id, en}, responses, mean, distribution of 1..5.
    items: Mapped[list] = mapped_column(JSON, default=list)
    # item_id, statement {id, en} and texts of each free-text question.
    comments: Mapped[list] = mapped_column(JSON, default=list)
    summarised_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProgrammeTestScore(db.Model):
    """A graded attempt of a programme's pre-test or post-test."""

    __tablename__ = "dashboard_test_scores"

    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    programme_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(20))
    percent: Mapped[float] = mapped_column()
    area_scores: Mapped[dict] = mapped_column(JSON, default=dict)
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime)


def record_feedback(session: Session, data: Mapping) -> None:
    """From ``pustaka.feedback.summarised.v1``: keep the newest summary of the session; one that
    arrives after a newer one changes nothing."""
    session_id = data.get("session_id")
    key = session_id or 0
    summarised_at = datetime.fromisoformat(data["summarised_at"])
    row = session.scalar(
        select(FeedbackSummary).where(
            FeedbackSummary.programme_id == data["programme_id"], FeedbackSummary.session_key == key
        )
    )
    if row is None:
        row = FeedbackSummary(programme_id=data["programme_id"], session_key=key, session_id=session_id)
        session.add(row)
    elif row.summarised_at >= summarised_at:
        return
    row.responses, row.overall_mean = data["responses"], data.get("overall_mean")
    row.items, row.comments = list(data["items"]), list(data.get("comments") or [])
    row.summarised_at = summarised_at
    session.flush()


def record_test_score(session: Session, data: Mapping) -> None:
    """From ``pustaka.attempt.graded.v1``: a signed-in learner's pre-test or post-test of a programme."""
    if data["purpose"] not in (PRE_TEST, POST_TEST) or data.get("programme_id") is None:
        return
    if data.get("user_id") is None or session.get(ProgrammeTestScore, data["attempt_id"]) is not None:
        return
    session.add(
        ProgrammeTestScore(
            attempt_id=data["attempt_id"],
            programme_id=data["programme_id"],
            user_id=data["user_id"],
            purpose=data["purpose"],
            percent=data["percent"],
            area_scores=dict(data["area_scores"]),
            graded_at=datetime.fromisoformat(data["graded_at"]),
        )
    )
    session.flush()


def with_read_models(handlers: Mapping[str, EventHandler]) -> dict[str, EventHandler]:
    """The service's event handlers, with the dashboards' read models fed by the same events."""
    graded = handlers[catalog.ATTEMPT_GRADED.name]

    def on_attempt_graded(event: CloudEvent, session: Session) -> None:
        graded(event, session)
        record_test_score(session, event.data)

    def on_feedback_summarised(event: CloudEvent, session: Session) -> None:
        record_feedback(session, event.data)

    return dict(handlers) | {
        catalog.ATTEMPT_GRADED.name: on_attempt_graded,
        catalog.FEEDBACK_SUMMARISED.name: on_feedback_summarised,
    }


# Gains -----------------------------------------------------------------------------------------

MISSING_PRE, MISSING_POST, PRE_AT_MAXIMUM = "missing_pre", "missing_post", "pre_at_maximum"


@dataclass(frozen=True)
class Gains:
    area: str | None  # None: the whole test
    learners: int  # those with a gain
    mean_pre: float | None
    mean_post: float | None
    average_gain: float | None  # the mean of the learners' g
    gain_of_averages: float | None  # g of mean_pre and mean_post
    missing_pre: int
    missing_post: int
    pre_at_maximum: int


def normalized_gain(pre: float, post: float) -> float:
    """g for a pre score below the maximum: 1 learned everything left, negative fell back."""
    return (post - pre) / (MAXIMUM - pre)


def summarise_gains(pairs: Iterable[tuple[float | None, float | None]], area: str | None = None) -> Gains:
    """Gains of learners' (pre, post) percentages."""
    counted, missing_pre, missing_post, at_maximum = [], 0, 0, 0
    for pre, post in pairs:
        if pre is None:
            missing_pre += 1
        elif post is None:
            missing_post += 1
        elif pre >= MAXIMUM:
            at_maximum += 1
        else:
            counted.append((pre, post))
    if not counted:
        return Gains(area, 0, None, None, None, None, missing_pre, missing_post, at_maximum)
    mean_pre, mean_post = fmean(pre for pre, _ in counted), fmean(post for _, post in counted)
    return Gains(
        area=area,
        learners=len(counted),
        mean_pre=mean_pre,
        mean_post=mean_post,
        average_gain=fmean(normalized_gain(pre, post) for pre, post in counted),
        gain_of_averages=normalized_gain(mean_pre, mean_post),  # every counted pre is below 100
        missing_pre=missing_pre,
        missing_post=missing_post,
        pre_at_maximum=at_maximum,
    )


def programme_gains(scores: Sequence[ProgrammeTestScore], user_ids: set[int]) -> tuple[Gains, list[Gains]]:
    """Gains of these learners from a programme's scores: the whole test, and each area (by code)."""
    pre: dict[int, ProgrammeTestScore] = {}
    posts: dict[int, list[ProgrammeTestScore]] = defaultdict(list)
    for score in sorted(scores, key=lambda s: (s.graded_at, s.attempt_id)):
        if score.user_id not in user_ids:
            continue
        if score.purpose == PRE_TEST:
            pre.setdefault(score.user_id, score)
        else:
            posts[score.user_id].append(score)
    learners = sorted(pre.keys() | posts.keys())

    def best(user_id: int, area: str | None) -> float | None:
        values = [s.percent if area is None else s.area_scores.get(area) for s in posts.get(user_id, [])]
        values = [value for value in values if value is not None]
        return max(values) if values else None

    def first(user_id: int, area: str | None) -> float | None:
        score = pre.get(user_id)
        if score is None:
            return None
        return score.percent if area is None else score.area_scores.get(area)

    taken = [*pre.values(), *(score for attempts in posts.values() for score in attempts)]
    areas = sorted({area for score in taken for area in score.area_scores})
    return (
        summarise_gains((first(u, None), best(u, None)) for u in learners),
        [summarise_gains(((first(u, a), best(u, a)) for u in learners), a) for a in areas],
    )


# Feedback --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackItem:
    item_id: int
    statement_id: str
    statement_en: str
    distribution: tuple[int, ...]  # answers 1..5

    @property
    def responses(self) -> int:
        return sum(self.distribution)

    @property
    def mean(self) -> float | None:
        return _mean(self.distribution)


@dataclass(frozen=True)
class CommentGroup:
    item_id: int
    statement_id: str
    statement_en: str
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Feedback:
    responses: int
    items: tuple[FeedbackItem, ...]
    comments: tuple[CommentGroup, ...]

    @property
    def overall_mean(self) -> float | None:
        """The mean of every rating given."""
        totals = [sum(counts) for counts in zip(*(item.distribution for item in self.items), strict=True)]
        return _mean(totals) if totals else None


def _mean(distribution: Sequence[int]) -> float | None:
    count = sum(distribution)
    if not count:
        return None
    return sum(rating * n for rating, n in enumerate(distribution, start=1)) / count


def merge_feedback(summaries: Sequence[FeedbackSummary]) -> Feedback:
    """The sessions' summaries as one: distributions added item by item, comments in session order."""
    items: dict[int, list] = {}
    comments: dict[int, list] = {}
    for summary in sorted(summaries, key=lambda s: s.session_key):
        for item in summary.items:
            entry = items.setdefault(item["item_id"], [item["statement"], [0] * 5])
            entry[1] = [a + b for a, b in zip(entry[1], item["distribution"], strict=True)]
        for group in summary.comments:
            comments.setdefault(group["item_id"], [group["statement"], []])[1].extend(group["texts"])
    return Feedback(
        responses=sum(summary.responses for summary in summaries),
        items=tuple(
            FeedbackItem(item_id, statement["id"], statement["en"], tuple(distribution))
            for item_id, (statement, distribution) in sorted(items.items())
        ),
        comments=tuple(
            CommentGroup(item_id, statement["id"], statement["en"], tuple(texts))
            for item_id, (statement, texts) in sorted(comments.items())
        ),
    )


# Filters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Sessions starting between the days ``starts_from`` and ``starts_to`` (both included, WIB),
    of programmes of ``type`` and ``track``; None: any."""

    starts_from: date | None = None
    starts_to: date | None = None
    type: str | None = None
    track: str | None = None


def filter_problems(filters: Filters) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if filters.type is not None and filters.type not in PROGRAMME_TYPES:
        errors["type"] = [N_("Not one of the types of programme.")]
    if filters.track is not None and filters.track not in TRACKS:
        errors["track"] = [N_("Not one of the tracks.")]
    first, last = filters.starts_from, filters.starts_to
    if first and last:
        if last < first:
            errors["to"] = [N_("The last day cannot be before the first.")]
        elif len(months_between(first, last)) > MAX_MONTHS:
            errors["to"] = [N_("Choose a range of at most ten years.")]
    return errors


def check_filters(filters: Filters) -> None:
    if errors := filter_problems(filters):
        raise Invalid(N_("The filters are not valid."), errors)


def month_of(moment: datetime) -> str:
    """The month in Semarang, as ``2026-03``."""
    return moment.astimezone(JAKARTA).strftime("%Y-%m")


def months_between(first: date, last: date) -> list[str]:
    """Every month from the first day's to the last day's, both included."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _month_end(month: str) -> datetime:
    """The first moment after the month, in Semarang."""
    year, number = map(int, month.split("-"))
    following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return datetime.combine(following, time(), tzinfo=JAKARTA)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=JAKARTA)


# The figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeFigures:
    programme: Programme
    sessions: int  # in scope
    participations: int  # confirmed seats
    people: int  # distinct persons holding them (accounts and public emails)
    hours: float  # of its sessions in scope
    held_participations: int  # confirmed seats of sessions that are over
    attended: int
    learners: int  # account holders seated in sessions that are over
    completed: int  # of those learners
    feedback: Feedback
    gains: Gains
    area_gains: list[Gains]

    @property
    def attendance_rate(self) -> float | None:
        return self.attended / self.held_participations if self.held_participations else None

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.learners if self.learners else None


@dataclass(frozen=True)
class AreaLevels:
    code: str
    name_id: str
    name_en: str
    counts: tuple[int, ...]  # staff at levels 1..4
    without: int  # staff with no evidence in the area

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_id


@dataclass(frozen=True)
class AreaTrend:
    area: AreaLevels  # now
    months: list[tuple[str, tuple[int, ...]]]  # month → staff at levels 1..4 at its end


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    programmes: list[ProgrammeFigures]  # by title
    by_type: list[tuple[str, int]]  # participations per programme type, in PROGRAMME_TYPES' order
    by_month: list[tuple[str, int]]  # participations per month of the session's start
    staff: int
    areas: list[AreaLevels]
    trend: list[AreaTrend]
    trend_months: list[str]


@dataclass(frozen=True)
class _Seat:
    user_id: int | None
    email: str | None
    session: ProgrammeSession
    attended: bool


def _sessions(session: Session, filters: Filters, programme_id: int | None) -> list[ProgrammeSession]:
    query = (
        select(ProgrammeSession)
        .join(Programme)
        .where(ProgrammeSession.status != "cancelled", Programme.status != "draft")
        .options(joinedload(ProgrammeSession.programme))
        .order_by(ProgrammeSession.starts_at, ProgrammeSession.id)
    )
    if programme_id is not None:
        query = query.where(ProgrammeSession.programme_id == programme_id)
    if filters.type:
        query = query.where(Programme.type == filters.type)
    if filters.track:
        query = query.where(Programme.track == filters.track)
    if filters.starts_from:
        query = query.where(ProgrammeSession.starts_at >= _midnight(filters.starts_from))
    if filters.starts_to:
        query = query.where(ProgrammeSession.starts_at < _midnight(filters.starts_to + timedelta(days=1)))
    return list(session.scalars(query).unique())


def _seats(session: Session, sessions: dict[int, ProgrammeSession]) -> list[_Seat]:
    rows = session.execute(
        select(Enrollment.user_id, Enrollment.email, Enrollment.session_id, Attendance.status)
        .outerjoin(Attendance, Attendance.enrollment_id == Enrollment.id)
        .where(Enrollment.status == "confirmed", Enrollment.session_id.in_(sessions))
    )
    return [
        _Seat(user_id, email, sessions[session_id], status == "attended")
        for user_id, email, session_id, status in rows
    ]


def completions(session: Session, programme_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(user id, programme id) of every completion of these programmes."""
    return set(
        session.execute(
            select(Completion.user_id, Completion.programme_id).where(
                Completion.programme_id.in_(list(programme_ids))
            )
        ).all()
    )


def _hours(programme_session: ProgrammeSession) -> float:
    return (programme_session.ends_at - programme_session.starts_at).total_seconds() / 3600


def programme_figures(
    session: Session, filters: Filters, now: datetime, programme_id: int | None = None
) -> list[ProgrammeFigures]:
    """The figures of every programme with a session in scope, by title."""
    return _figures(session, filters, now, *_scope(session, filters, programme_id))


def _scope(
    session: Session, filters: Filters, programme_id: int | None
) -> tuple[list[ProgrammeSession], list[_Seat]]:
    in_scope = _sessions(session, filters, programme_id)
    return in_scope, _seats(session, {each.id: each for each in in_scope})


def _figures(
    session: Session, filters: Filters, now: datetime, in_scope: list[ProgrammeSession], seats: list[_Seat]
) -> list[ProgrammeFigures]:
    by_programme: dict[int, list[ProgrammeSession]] = defaultdict(list)
    for each in in_scope:
        by_programme[each.programme_id].append(each)
    seats_by_programme: dict[int, list[_Seat]] = defaultdict(list)
    for seat in seats:
        seats_by_programme[seat.session.programme_id].append(seat)
    completed = completions(session, by_programme)
    scores: dict[int, list[ProgrammeTestScore]] = defaultdict(list)
    for score in session.scalars(
        select(ProgrammeTestScore).where(ProgrammeTestScore.programme_id.in_(list(by_programme)))
    ):
        scores[score.programme_id].append(score)
    summaries: dict[int, list[FeedbackSummary]] = defaultdict(list)
    session_ids = {each.id for each in in_scope}
    dated = filters.starts_from is not None or filters.starts_to is not None
    for summary in session.scalars(
        select(FeedbackSummary).where(FeedbackSummary.programme_id.in_(list(by_programme)))
    ):
        # Activities without a session have no date: they belong to no date range.
        if summary.session_id in session_ids or (summary.session_id is None and not dated):
            summaries[summary.programme_id].append(summary)

    figures = []
    for key, sessions in by_programme.items():
        seats = seats_by_programme[key]
        held = [seat for seat in seats if seat.session.ends_at <= now]
        learners = {seat.user_id for seat in held if seat.user_id is not None}
        seated = {seat.user_id for seat in seats if seat.user_id is not None}
        overall, areas = programme_gains(scores[key], seated)
        figures.append(
            ProgrammeFigures(
                programme=sessions[0].programme,
                sessions=len(sessions),
                participations=len(seats),
                people=len({seat.user_id or seat.email for seat in seats}),
                hours=sum(_hours(each) for each in sessions),
                held_participations=len(held),
                attended=sum(seat.attended for seat in held),
                learners=len(learners),
                completed=sum((user_id, key) in completed for user_id in learners),
                feedback=merge_feedback(summaries[key]),
                gains=overall,
                area_gains=areas,
            )
        )
    return sorted(figures, key=lambda f: (f.programme.title_id.lower(), f.programme.id))


def competency_levels(
    session: Session, months: Sequence[str]
) -> tuple[int, list[AreaLevels], list[AreaTrend]]:
    """How many staff, the staff per level in each area now, and at the end of each month."""
    staff = [user.id for user in session.scalars(select(User)) if set(user.roles) != {"admin"}]
    evidence: dict[tuple[int, str], list[tuple[datetime, int]]] = defaultdict(list)
    for user_id, area, level, occurred_at in session.execute(
        select(Evidence.user_id, Evidence.area, Evidence.level, Evidence.occurred_at).where(
            Evidence.user_id.in_(staff), Evidence.area.in_(FRAMEWORK_AREAS)
        )
    ):
        evidence[(user_id, area)].append((occurred_at, level))

    def counts(area: str, before: datetime | None) -> tuple[int, ...]:
        found = [0] * len(LEVELS)
        for (_, code), shown in evidence.items():
            levels = [level for at, level in shown if before is None or at < before]
            if code == area and levels:
                found[max(levels) - 1] += 1
        return tuple(found)

    areas, trend = [], []
    for area in framework(session):
        now = counts(area.code, None)
        levels = AreaLevels(area.code, area.name_id, area.name_en, now, len(staff) - sum(now))
        areas.append(levels)
        trend.append(AreaTrend(levels, [(month, counts(area.code, _month_end(month))) for month in months]))
    return len(staff), areas, trend


def dashboard(session: Session, filters: Filters, now: datetime) -> Dashboard:
    check_filters(filters)
    in_scope, seats = _scope(session, filters, None)
    programmes = _figures(session, filters, now, in_scope, seats)
    by_type: dict[str, int] = defaultdict(int)
    for figures in programmes:
        by_type[figures.programme.type] += figures.participations
    # Every month of a full range; without one, the months that have sessions.
    by_month: dict[str, int] = {month_of(each.starts_at): 0 for each in in_scope}
    if filters.starts_from and filters.starts_to:
        by_month = dict.fromkeys(months_between(filters.starts_from, filters.starts_to), 0)
    for seat in seats:
        by_month[month_of(seat.session.starts_at)] += 1
    trend_months = _trend_months(filters, now)
    staff, areas, trend = competency_levels(session, trend_months)
    return Dashboard(
        filters=filters,
        programmes=programmes,
        by_type=[(kind, by_type[kind]) for kind in PROGRAMME_TYPES if kind in by_type],
        by_month=sorted(by_month.items()),
        staff=staff,
        areas=areas,
        trend=trend,
        trend_months=trend_months,
    )


def _trend_months(filters: Filters, now: datetime) -> list[str]:
    """The range's months, up to today when it has no end; without a start, the last twelve."""
    today = now.astimezone(JAKARTA).date()
    last = filters.starts_to or max(today, filters.starts_from or today)
    if filters.starts_from is None:
        return months_between(date(last.year - 1, last.month, 1), last)[-TREND_MONTHS:]
    return months_between(filters.starts_from, last)[-MAX_MONTHS:]


# CSV -------------------------------------------------------------------------------------------

FIGURES = (
    "participation-programmes",
    "participation-types",
    "participation-months",
    "rates",
    "feedback",
    "gains",
    "competencies",
    "competency-trend",
)


def _text(value: str) -> str:
    """A title as a spreadsheet shows it, never as a formula it would run."""
    return "'" + value if value.startswith(("=", "+", "-", "@")) else value


def _number(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _programme_cells(figures: ProgrammeFigures) -> list:
    programme = figures.programme
    return [programme.id, _text(programme.title_id), _text(programme.title_en)]


def figure_rows(board: Dashboard, figure: str) -> list[list]:
    """One figure of the dashboard as rows, the header first."""
    level_columns = [f"level_{level}" for level in LEVELS]
    if figure == "participation-programmes":
        return [
            ["programme_id", "title_id", "title_en", "type", "track", "sessions", "participations", "people"]
        ] + [
            [
                *_programme_cells(f),
                f.programme.type,
                f.programme.track,
                f.sessions,
                f.participations,
                f.people,
            ]
            for f in board.programmes
        ]
    if figure == "participation-types":
        return [["type", "participations"], *([kind, count] for kind, count in board.by_type)]
    if figure == "participation-months":
        return [["month", "participations"], *([month, count] for month, count in board.by_month)]
    if figure == "rates":
        header = [
            "programme_id",
            "title_id",
            "title_en",
            "held_participations",
            "attended",
            "attendance_rate",
        ]
        header += ["learners", "completed", "completion_rate"]
        return [header] + [
            [*_programme_cells(f), f.held_participations, f.attended, _number(f.attendance_rate)]
            + [f.learners, f.completed, _number(f.completion_rate)]
            for f in board.programmes
        ]
    if figure == "feedback":
        return [["programme_id", "title_id", "title_en", "responses", "overall_mean"]] + [
            [*_programme_cells(f), f.feedback.responses, _number(f.feedback.overall_mean)]
            for f in board.programmes
        ]
    if figure == "gains":
        header = ["programme_id", "title_id", "title_en", "learners", "mean_pre", "mean_post", "average_gain"]
        header += ["gain_of_averages", "missing_pre", "missing_post", "pre_at_maximum"]
        rows = [header]
        for f in board.programmes:
            g = f.gains
            rows.append(
                [*_programme_cells(f), g.learners, _number(g.mean_pre), _number(g.mean_post)]
                + [_number(g.average_gain), _number(g.gain_of_averages), g.missing_pre, g.missing_post]
                + [g.pre_at_maximum]
            )
        return rows
    if figure == "competencies":
        return [["area", "name_id", "name_en", *level_columns, "not_evidenced"]] + [
            [a.code, a.name_id, a.name_en, *a.counts, a.without] for a in board.areas
        ]
    if figure == "competency-trend":
        return [["area", "month", *level_columns]] + [
            [item.area.code, month, *counts] for item in board.trend for month, counts in item.months
        ]
    raise NotFound(N_("No such figure."))


def figure_csv(board: Dashboard, figure: str) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(figure_rows(board, figure))
    return out.getvalue()


# The programme report --------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionLine:
    session: ProgrammeSession
    participations: int
    attended: int


@dataclass(frozen=True)
class ProgrammeReport:
    programme: Programme
    figures: ProgrammeFigures | None  # None: no session that was not cancelled
    sessions: list[SessionLine]  # every session, cancelled ones too
    generated_at: datetime


def programme_report(session: Session, programme_id: int, now: datetime) -> ProgrammeReport:
    """Everything of one programme, all its sessions, for the report to the Dinas."""
    programme = session.get(
        Programme,
        programme_id,
        options=[
            selectinload(Programme.sessions),
            selectinload(Programme.partner_links).joinedload(ProgrammePartner.partner),
        ],
    )
    if programme is None or programme.status == "draft":
        raise NotFound(N_("No such programme."))
    (figures,) = programme_figures(session, Filters(), now, programme_id) or (None,)
    counted: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for session_id, status in session.execute(
        select(Enrollment.session_id, Attendance.status)
        .join(ProgrammeSession, Enrollment.session_id == ProgrammeSession.id)
        .outerjoin(Attendance, Attendance.enrollment_id == Enrollment.id)
        .where(ProgrammeSession.programme_id == programme_id, Enrollment.status == "confirmed")
    ):
        counted[session_id][0] += 1
        counted[session_id][1] += status == "attended"
    lines = [SessionLine(each, *counted[each.id]) for each in programme.sessions]
    return ProgrammeReport(programme, figures, lines, now)
