"""Mentoring: a coordinator pairs a senior librarian (the mentor) with a junior one (the mentee)
for a period, with goals per competency area. Both record their meetings; the mentee marks a goal
met and the pair's mentor confirms it, which is evidence of the mentee's level in the goal's area
(``competencies.py``). A pair in its period with no meeting for 30 days is flagged.

Plain use cases over a SQLAlchemy session, free of Flask: ``mentoring_api.py`` and
``mentoring_web.py`` are thin layers over them. Days are Semarang's: functions that need today take
``now`` and read the date in Asia/Jakarta, so tests set the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, ForeignKey, Integer, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shared import catalog
from shared.auth import Identity
from shared.db import UTCDateTime, utcnow
from shared.envelope import new_event
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.i18n import N_
from shared.localtime import JAKARTA
from shared.messaging import add_to_outbox

from . import competencies
from .models import User, db

SERVICE = "enrollment"
QUIET_AFTER = timedelta(days=30)
MAX_DESCRIPTION, MAX_NOTES = 500, 4000
COORDINATORS = ("coordinator", "admin")


class MentoringPair(db.Model):
    __tablename__ = "mentoring_pairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id], lazy="joined")
    mentee: Mapped[User] = relationship(foreign_keys=[mentee_id], lazy="joined")
    goals: Mapped[list[MentoringGoal]] = relationship(
        back_populates="pair", order_by="MentoringGoal.id", lazy="selectin"
    )
    meetings: Mapped[list[MentoringMeeting]] = relationship(
        back_populates="pair", order_by="(MentoringMeeting.met_on.desc(), MentoringMeeting.id.desc())"
    )

    def role_of(self, user_id: int) -> str | None:
        return "mentor" if user_id == self.mentor_id else "mentee" if user_id == self.mentee_id else None


class MentoringGoal(db.Model):
    __tablename__ = "mentoring_goals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("mentoring_pairs.id"), index=True)
    area: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(MAX_DESCRIPTION))
    target_level: Mapped[int] = mapped_column(Integer)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # marked by the mentee
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by the mentor

    pair: Mapped[MentoringPair] = relationship(back_populates="goals")

    @property
    def state(self) -> str:
        return "confirmed" if self.confirmed_at else "met" if self.met_at else "open"


class MentoringMeeting(db.Model):
    __tablename__ = "mentoring_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("mentoring_pairs.id"), index=True)
    met_on: Mapped[date] = mapped_column(Date)
    topics: Mapped[str] = mapped_column(Text)
    actions: Mapped[str] = mapped_column(Text, default="")  # what the two agreed to do next
    logged_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pair: Mapped[MentoringPair] = relationship(back_populates="meetings")
    author: Mapped[User] = relationship(lazy="joined")


def local_today(now: datetime) -> date:
    return now.astimezone(JAKARTA).date()


def _publish(session: Session, event_type: str, data: dict, subject: str) -> None:
    add_to_outbox(session, new_event(event_type, data, service=SERVICE, subject=subject))


# Pairing ---------------------------------------------------------------------------------------


def goal_errors(goal: Mapping) -> dict[str, list[str]]:
    """Field messages for a goal given as a mapping of area, description and target_level."""
    errors: dict[str, list[str]] = {}
    if goal.get("area") not in competencies.FRAMEWORK_AREAS:
        errors["area"] = [N_("Choose one of the framework's competency areas.")]
    if not 1 <= len((goal.get("description") or "").strip()) <= MAX_DESCRIPTION:
        errors["description"] = [N_("Describe the goal in at most 500 characters.")]
    if goal.get("target_level") not in competencies.LEVELS:
        errors["target_level"] = [N_("Choose a level from 1 to 4.")]
    return errors


def _goal(spec: Mapping) -> MentoringGoal:
    return MentoringGoal(
        area=spec["area"], description=spec["description"].strip(), target_level=spec["target_level"]
    )


def pair(
    session: Session,
    *,
    mentor_id: int,
    mentee_id: int,
    starts_on: date,
    ends_on: date,
    goals: Sequence[Mapping],
    created_by: int | None,
) -> MentoringPair:
    """Pair a mentor with a mentee for a period, with at least one goal; the mentor's account gets
    the mentor role."""
    mentor, mentee = session.get(User, mentor_id), session.get(User, mentee_id)
    errors: dict[str, list[str]] = {}
    if mentor is None:
        errors["mentor_id"] = [N_("No such account.")]
    if mentee is None:
        errors["mentee_id"] = [N_("No such account.")]
    elif mentee_id == mentor_id:
        errors["mentee_id"] = [N_("The mentee must be someone other than the mentor.")]
    if ends_on <= starts_on:
        errors["ends_on"] = [N_("The period must end after it starts.")]
    if not goals:
        errors["goals"] = [N_("Give at least one goal.")]
    for index, goal in enumerate(goals):
        errors |= {f"goals.{index}.{field}": messages for field, messages in goal_errors(goal).items()}
    if errors:
        raise Invalid(N_("The pairing has invalid fields."), errors)
    if "mentor" not in mentor.roles:
        mentor.roles = sorted({*mentor.roles, "mentor"})
    new_pair = MentoringPair(
        mentor=mentor,
        mentee=mentee,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=created_by,
        goals=[_goal(spec) for spec in goals],
    )
    session.add(new_pair)
    session.flush()
    _publish(
        session,
        catalog.MENTORING_PAIRED.name,
        {
            "pair_id": new_pair.id,
            "mentor_id": mentor.id,
            "mentee_id": mentee.id,
            "mentor_name": mentor.name,
            "mentee_name": mentee.name,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "competency_areas": sorted({goal.area for goal in new_pair.goals}),
        },
        subject=f"mentoring/{new_pair.id}",
    )
    return new_pair


def get_pair(session: Session, pair_id: int) -> MentoringPair:
    found = session.get(MentoringPair, pair_id)
    if found is None:
        raise NotFound(N_("No such mentoring pair."))
    return found


def visible_pair(session: Session, pair_id: int, viewer: Identity) -> MentoringPair:
    """The pair, for its mentor, its mentee and coordinators only."""
    found = get_pair(session, pair_id)
    if found.role_of(viewer.user_id) is None and not viewer.has_any(*COORDINATORS):
        raise Forbidden(N_("Only the pair and coordinators see this mentoring pair."))
    return found


def add_goal(session: Session, pair_id: int, actor: Identity, spec: Mapping) -> MentoringGoal:
    """A further goal, set by a coordinator or the pair's mentor."""
    found = get_pair(session, pair_id)
    if actor.user_id != found.mentor_id and not actor.has_any(*COORDINATORS):
        raise Forbidden(N_("Only the pair's mentor or a coordinator sets goals."))
    errors = goal_errors(spec)
    if errors:
        raise Invalid(N_("The goal has invalid fields."), errors)
    goal = _goal(spec)
    found.goals.append(goal)
    session.flush()
    return goal


# Meetings and goals ----------------------------------------------------------------------------


def log_meeting(
    session: Session, pair_id: int, actor_id: int, *, met_on: date, topics: str, actions: str, now: datetime
) -> MentoringMeeting:
    """A meeting recorded by the mentor or the mentee: on a day of the period, not in the future."""
    found = get_pair(session, pair_id)
    if found.role_of(actor_id) is None:
        raise Forbidden(N_("Only the mentor and the mentee record their meetings."))
    errors: dict[str, list[str]] = {}
    if met_on > local_today(now):
        errors["met_on"] = [N_("A meeting cannot be in the future.")]
    elif not found.starts_on <= met_on <= found.ends_on:
        errors["met_on"] = [N_("The meeting must fall within the mentoring period.")]
    topics, actions = topics.strip(), (actions or "").strip()
    if not 1 <= len(topics) <= MAX_NOTES:
        errors["topics"] = [N_("Write the topics, in at most 4000 characters.")]
    if len(actions) > MAX_NOTES:
        errors["actions"] = [N_("Write the agreed actions in at most 4000 characters.")]
    if errors:
        raise Invalid(N_("The meeting has invalid fields."), errors)
    meeting = MentoringMeeting(pair=found, met_on=met_on, topics=topics, actions=actions, logged_by=actor_id)
    session.add(meeting)
    session.flush()
    _publish(
        session,
        catalog.MENTORING_MEETING_LOGGED.name,
        {
            "pair_id": found.id,
            "mentor_id": found.mentor_id,
            "mentee_id": found.mentee_id,
            "met_on": met_on,
            "topics": topics,
            "logged_by": actor_id,
        },
        subject=f"mentoring/{found.id}/meetings/{meeting.id}",
    )
    return meeting


def _goal_of(session: Session, pair_id: int, goal_id: int) -> MentoringGoal:
    goal = session.get(MentoringGoal, goal_id)
    if goal is None or goal.pair_id != pair_id:
        raise NotFound(N_("No such goal."))
    return goal


def mark_goal_met(
    session: Session, pair_id: int, goal_id: int, actor_id: int, now: datetime
) -> MentoringGoal:
    """The mentee says the goal is met; marking it again changes nothing."""
    goal = _goal_of(session, pair_id, goal_id)
    if actor_id != goal.pair.mentee_id:
        raise Forbidden(N_("Only the mentee marks a goal met."))
    if goal.met_at is None:
        goal.met_at = now
    return goal


def confirm_goal(session: Session, pair_id: int, goal_id: int, actor_id: int, now: datetime) -> MentoringGoal:
    """The pair's mentor confirms a goal the mentee marked met: evidence of the target level in the
    goal's area. Confirming again changes nothing."""
    goal = _goal_of(session, pair_id, goal_id)
    if actor_id != goal.pair.mentor_id:
        raise Forbidden(N_("Only the pair's mentor confirms a goal."))
    if goal.met_at is None:
        raise Conflict(N_("The mentee has not marked this goal met yet."))
    if goal.confirmed_at is None:
        goal.confirmed_at = now
        competencies.record_evidence(
            session,
            user_id=goal.pair.mentee_id,
            area=goal.area,
            level=goal.target_level,
            kind=competencies.MENTORING,
            reference=f"mentoring-goal:{goal.id}",
            detail=goal.description,
            occurred_at=now,
        )
    return goal


# Activity --------------------------------------------------------------------------------------


def is_quiet(starts_on: date, ends_on: date, last_met_on: date | None, today: date) -> bool:
    """In its period, with no meeting for 30 days (or none since a start 30 or more days ago)."""
    if not starts_on <= today <= ends_on:
        return False
    return today - (last_met_on or starts_on) >= QUIET_AFTER


@dataclass(frozen=True)
class PairActivity:
    pair: MentoringPair
    meetings: int
    last_met_on: date | None
    goals_met: int  # marked met by the mentee, confirmed or not
    goals_confirmed: int
    flagged: bool


def activity(session: Session, now: datetime, user_id: int | None = None) -> list[PairActivity]:
    """Pairs with their activity, flagged ones first, then by start: all of them, or one person's."""
    query = select(MentoringPair)
    if user_id is not None:
        query = query.where(or_(MentoringPair.mentor_id == user_id, MentoringPair.mentee_id == user_id))
    pairs = session.scalars(query).unique().all()
    meetings = {
        pair_id: (count, last)
        for pair_id, count, last in session.execute(
            select(MentoringMeeting.pair_id, func.count(), func.max(MentoringMeeting.met_on))
            .where(MentoringMeeting.pair_id.in_([p.id for p in pairs]))
            .group_by(MentoringMeeting.pair_id)
        )
    }
    today = local_today(now)
    result = []
    for found in pairs:
        count, last = meetings.get(found.id, (0, None))
        result.append(
            PairActivity(
                found,
                count,
                last,
                sum(goal.met_at is not None for goal in found.goals),
                sum(goal.confirmed_at is not None for goal in found.goals),
                is_quiet(found.starts_on, found.ends_on, last, today),
            )
        )
    return sorted(result, key=lambda a: (not a.flagged, a.pair.starts_on, a.pair.id))
