"""Feedback surveys: the default survey and programmes' own, the invitation a learner gets after a
completed activity, one response per learner per activity, and the answers aggregated per programme
and session (published as ``pustaka.feedback.summarised.v1`` for enrollment's dashboards).

Plain use cases over a SQLAlchemy session, free of Flask: ``survey_api.py`` and ``survey_web.py``
are thin layers over them.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shared import catalog
from shared.db import UTCDateTime, utcnow
from shared.envelope import CloudEvent, new_event
from shared.errors import Conflict, Invalid, NotFound
from shared.i18n import N_
from shared.messaging import add_to_outbox

from .models import db
from .recommendations import PublishedProgramme

SERVICE = "assessment"
LIKERT, TEXT = "likert", "text"
ITEM_KINDS = (LIKERT, TEXT)
SCALE = (1, 2, 3, 4, 5)
DEFAULT_KEY = "default"
MAX_TEXT = 2000  # of a statement or question
MAX_COMMENT = 4000

DEFAULT_TITLE = ("Survei umpan balik kegiatan", "Activity feedback survey")
# (kind, Indonesian, English): what a library training's organisers want to learn.
DEFAULT_ITEMS = (
    (
        LIKERT,
        "Materi kegiatan ini relevan dengan pekerjaan atau kebutuhan saya.",
        "The content is relevant to my work or needs.",
    ),
    (LIKERT, "Narasumber menyampaikan materi dengan jelas.", "The speaker presented the content clearly."),
    (LIKERT, "Bahan dan media kegiatan bermanfaat.", "The materials and media were useful."),
    (
        LIKERT,
        "Kegiatan diselenggarakan dengan baik (waktu, tempat, fasilitas).",
        "The activity was well organised (time, venue, facilities).",
    ),
    (LIKERT, "Saya dapat menerapkan apa yang saya pelajari.", "I can apply what I learned."),
    (
        LIKERT,
        "Secara keseluruhan, saya puas dengan kegiatan ini.",
        "Overall, I am satisfied with this activity.",
    ),
    (TEXT, "Apa yang paling bermanfaat bagi Anda?", "What was most useful to you?"),
    (TEXT, "Apa yang perlu diperbaiki?", "What should be improved?"),
)


class Survey(db.Model):
    """The default survey, or a programme's own, which replaces the default for its activities."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "default" or "programme-<id>": unique, so two writers never make a second one
    key: Mapped[str] = mapped_column(String(40), unique=True)
    programme_id: Mapped[int | None] = mapped_column(Integer)
    title_id: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))

    items: Mapped[list[SurveyItem]] = relationship(
        back_populates="survey", order_by="(SurveyItem.position, SurveyItem.id)"
    )

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_id

    @property
    def active_items(self) -> list[SurveyItem]:
        """The items in the survey, in order (also right after a reordering in this session)."""
        return sorted((item for item in self.items if item.active), key=lambda item: (item.position, item.id))


class SurveyItem(db.Model):
    """A Likert statement (answered 1–5, always required) or a free-text question (optional).

    A removed item stays, inactive, with the answers it already has."""

    __tablename__ = "survey_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    text_id: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

    survey: Mapped[Survey] = relationship(back_populates="items")

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_id


class SurveyInvitation(db.Model):
    """A learner's invitation to answer the survey about one completed activity."""

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # learner, programme and session: one activity, one invitation, however often its event comes
    activity_key: Mapped[str] = mapped_column(String(80), unique=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    programme_id: Mapped[int] = mapped_column(Integer, index=True)
    session_id: Mapped[int | None] = mapped_column(Integer)
    programme_title_id: Mapped[str] = mapped_column(String(300))
    programme_title_en: Mapped[str] = mapped_column(String(300))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    survey: Mapped[Survey] = relationship()

    def programme_title(self, language: str) -> str:
        return self.programme_title_en if language == "en" else self.programme_title_id


class SurveyResponse(db.Model):
    """The answers to one invitation; it names no learner, so the aggregates stay anonymous."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("survey_invitations.id"), unique=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    programme_id: Mapped[int] = mapped_column(Integer, index=True)
    session_id: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answers: Mapped[list[SurveyAnswer]] = relationship(back_populates="response")


class SurveyAnswer(db.Model):
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("survey_items.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")


# Surveys and their items ---------------------------------------------------------------------


def ensure_default_survey(session: Session) -> Survey:
    """The default survey, created with the standard items when missing; never changes an existing one."""
    survey = session.scalar(select(Survey).where(Survey.key == DEFAULT_KEY))
    if survey is None:
        survey = Survey(key=DEFAULT_KEY, title_id=DEFAULT_TITLE[0], title_en=DEFAULT_TITLE[1])
        survey.items = [
            SurveyItem(position=position, kind=kind, text_id=text_id, text_en=text_en)
            for position, (kind, text_id, text_en) in enumerate(DEFAULT_ITEMS, start=1)
        ]
        session.add(survey)
        session.flush()
    return survey


def programme_key(programme_id: int) -> str:
    return f"programme-{programme_id}"


def list_surveys(session: Session) -> list[Survey]:
    """The default survey first, then the programmes' own by programme."""
    surveys = session.scalars(select(Survey).order_by(Survey.programme_id, Survey.id))
    return sorted(surveys, key=lambda survey: survey.key != DEFAULT_KEY)


def get_survey(session: Session, survey_id: int) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(N_("No such survey."))
    return survey


def survey_for_programme(session: Session, programme_id: int) -> Survey:
    """The programme's own survey, else the default."""
    own = session.scalar(select(Survey).where(Survey.key == programme_key(programme_id)))
    return own or ensure_default_survey(session)


def programmes_on_default_survey(session: Session) -> list[PublishedProgramme]:
    """The published programmes without a survey of their own, by id."""
    own = select(Survey.programme_id).where(Survey.programme_id.is_not(None))
    return list(
        session.scalars(
            select(PublishedProgramme)
            .where(PublishedProgramme.programme_id.not_in(own))
            .order_by(PublishedProgramme.programme_id)
        )
    )


def create_programme_survey(
    session: Session, programme_id: int, title_id: str | None = None, title_en: str | None = None
) -> Survey:
    """A programme's own survey, starting as a copy of the default's current items."""
    if session.scalar(select(Survey.id).where(Survey.key == programme_key(programme_id))):
        raise Conflict(
            N_("This programme has its own survey already."),
            {"programme_id": [N_("This programme has its own survey already.")]},
        )
    default = ensure_default_survey(session)
    titles = _texts({"title_id": title_id or default.title_id, "title_en": title_en or default.title_en})
    survey = Survey(key=programme_key(programme_id), programme_id=programme_id, **titles)
    survey.items = [
        SurveyItem(position=item.position, kind=item.kind, text_id=item.text_id, text_en=item.text_en)
        for item in default.active_items
    ]
    session.add(survey)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(N_("This programme has its own survey already.")) from None
    return survey


def update_survey(session: Session, survey_id: int, changes: Mapping[str, str]) -> Survey:
    """Change the survey's titles; those left out stay."""
    survey = get_survey(session, survey_id)
    for name, value in _texts(changes).items():
        setattr(survey, name, value)
    return survey


def add_item(session: Session, survey_id: int, kind: str, text_id: str, text_en: str) -> SurveyItem:
    """A new item at the end of the survey."""
    survey = get_survey(session, survey_id)
    if kind not in ITEM_KINDS:
        raise Invalid(N_("The item has invalid fields."), {"kind": [N_("Choose a rating or a free text.")]})
    texts = _texts({"text_id": text_id, "text_en": text_en})
    item = SurveyItem(kind=kind, position=len(survey.active_items) + 1, **texts)
    survey.items.append(item)
    session.flush()
    return item


def update_item(session: Session, survey_id: int, item_id: int, changes: Mapping[str, str]) -> SurveyItem:
    """Change an item's texts; its kind stays, so the answers it has keep their meaning."""
    item = get_item(session, survey_id, item_id)
    for name, value in _texts(changes).items():
        setattr(item, name, value)
    return item


def remove_item(session: Session, survey_id: int, item_id: int) -> None:
    """Take the item out of the survey; the answers it has stay in the results."""
    item = get_item(session, survey_id, item_id)
    others = [other for other in item.survey.active_items if other is not item]
    if item.kind == LIKERT and not any(other.kind == LIKERT for other in others):
        raise Invalid(N_("A survey needs at least one rating item."))
    item.active = False
    _renumber(others)


def reorder_items(session: Session, survey_id: int, item_ids: Sequence[int]) -> Survey:
    """Put the survey's items in the given order; every item must be named once."""
    survey = get_survey(session, survey_id)
    items = {item.id: item for item in survey.active_items}
    if sorted(item_ids) != sorted(items):
        raise Invalid(
            N_("The order has invalid fields."),
            {"item_ids": [N_("Name every item of the survey exactly once.")]},
        )
    _renumber([items[item_id] for item_id in item_ids])
    return survey


def move_item(session: Session, survey_id: int, item_id: int, offset: int) -> Survey:
    """Move an item up (negative offset) or down; at either end it stays."""
    item = get_item(session, survey_id, item_id)
    ids = [other.id for other in item.survey.active_items]
    index = ids.index(item.id)
    target = min(max(index + offset, 0), len(ids) - 1)
    ids.insert(target, ids.pop(index))
    return reorder_items(session, survey_id, ids)


def get_item(session: Session, survey_id: int, item_id: int) -> SurveyItem:
    item = session.get(SurveyItem, item_id)
    if item is None or item.survey_id != survey_id or not item.active:
        raise NotFound(N_("No such survey item."))
    return item


def _renumber(items: Sequence[SurveyItem]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def _texts(changes: Mapping[str, str | None]) -> dict[str, str]:
    """The given texts, trimmed; a blank or overlong one is refused with its field named."""
    texts, errors = {}, {}
    for name, value in changes.items():
        text = (value or "").strip()
        if not text:
            errors[name] = [N_("Give the text.")]
        elif len(text) > MAX_TEXT:
            errors[name] = [N_("The text is too long.")]
        texts[name] = text
    if errors:
        raise Invalid(N_("Some fields are not valid."), errors)
    return texts


# Invitations and responses -------------------------------------------------------------------


def activity_key(user_id: int, programme_id: int, session_id: int | None) -> str:
    return f"{user_id}:{programme_id}:{'-' if session_id is None else session_id}"


def invite(session: Session, activity: Mapping) -> SurveyInvitation:
    """The learner's invitation for a completed activity (an ``activity.completed`` event's data);
    the same activity again gives back the invitation it already has."""
    key = activity_key(activity["user_id"], activity["programme_id"], activity.get("session_id"))
    invitation = session.scalar(select(SurveyInvitation).where(SurveyInvitation.activity_key == key))
    if invitation is None:
        invitation = SurveyInvitation(
            activity_key=key,
            user_id=activity["user_id"],
            programme_id=activity["programme_id"],
            session_id=activity.get("session_id"),
            programme_title_id=activity["programme_title"]["id"],
            programme_title_en=activity["programme_title"]["en"],
            survey=survey_for_programme(session, activity["programme_id"]),
            completed_at=datetime.fromisoformat(activity["completed_at"]),
        )
        session.add(invitation)
        session.flush()
    return invitation


def on_activity_completed(event: CloudEvent, session: Session) -> None:
    invite(session, event.data)


def pending_invitations(session: Session, user_id: int) -> list[SurveyInvitation]:
    """The learner's surveys still to answer, the latest activity first."""
    return list(
        session.scalars(
            select(SurveyInvitation)
            .where(SurveyInvitation.user_id == user_id, SurveyInvitation.answered_at.is_(None))
            .order_by(SurveyInvitation.completed_at.desc(), SurveyInvitation.id.desc())
        )
    )


def get_invitation(session: Session, invitation_id: int, user_id: int) -> SurveyInvitation:
    """One of the learner's invitations; another person's is as unknown as a missing one."""
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None or invitation.user_id != user_id:
        raise NotFound(N_("No such survey invitation."))
    return invitation


def submit_response(
    session: Session,
    invitation: SurveyInvitation,
    ratings: Mapping[int, int],
    comments: Mapping[int, str],
) -> SurveyResponse:
    """Record the learner's answers (rating item id → 1..5, text item id → text), once per invitation,
    and publish the new aggregates of the activity's programme and session."""
    if invitation.answered_at is not None:
        raise Conflict(N_("You have answered this survey already."))
    items = {item.id: item for item in invitation.survey.active_items}
    errors: dict[str, list[str]] = {}
    for item_id, rating in ratings.items():
        if item_id not in items or items[item_id].kind != LIKERT:
            errors[str(item_id)] = [N_("Not a rating item of this survey.")]
        elif rating not in SCALE:
            errors[str(item_id)] = [N_("Choose a whole number from 1 to 5.")]
    for item_id, text in comments.items():
        if item_id not in items or items[item_id].kind != TEXT:
            errors[str(item_id)] = [N_("Not a free-text question of this survey.")]
        elif len(text.strip()) > MAX_COMMENT:
            errors[str(item_id)] = [N_("The answer is too long.")]
    for item in items.values():
        if item.kind == LIKERT and item.id not in ratings:
            errors[str(item.id)] = [N_("Choose one of the five answers.")]
    if errors:
        raise Invalid(N_("Some answers are missing or not valid."), errors)

    response = SurveyResponse(
        invitation_id=invitation.id,
        survey_id=invitation.survey_id,
        programme_id=invitation.programme_id,
        session_id=invitation.session_id,
    )
    response.answers = [SurveyAnswer(item_id=item_id, rating=rating) for item_id, rating in ratings.items()]
    response.answers += [
        SurveyAnswer(item_id=item_id, text=text.strip()) for item_id, text in comments.items() if text.strip()
    ]
    invitation.answered_at = response.submitted_at = utcnow()
    session.add(response)
    try:
        session.flush()
    except IntegrityError:  # the same learner's other request got there first
        raise Conflict(N_("You have answered this survey already.")) from None
    publish_summary(session, invitation.programme_id, invitation.session_id)
    return response


# Aggregates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LikertSummary:
    item: SurveyItem
    distribution: tuple[int, ...]  # how many answered 1, 2, 3, 4 and 5

    @property
    def responses(self) -> int:
        return sum(self.distribution)

    @property
    def mean(self) -> float | None:
        return _mean(self.distribution)

    def share(self, rating: int) -> float:
        """The part of the answers that chose the rating, 0..1."""
        return self.distribution[rating - 1] / self.responses if self.responses else 0.0


@dataclass(frozen=True)
class Comments:
    item: SurveyItem
    texts: tuple[str, ...]  # in the order they were given


@dataclass(frozen=True)
class FeedbackSummary:
    programme_id: int
    session_id: int | None  # None: a summary of activities without a session, or of the whole programme
    invited: int
    responses: int
    likert: tuple[LikertSummary, ...]
    comments: tuple[Comments, ...]

    @property
    def overall_mean(self) -> float | None:
        """The mean of every rating given."""
        totals = [sum(counts) for counts in zip(*(item.distribution for item in self.likert), strict=True)]
        return _mean(totals) if totals else None


@dataclass(frozen=True)
class ProgrammeFeedback:
    programme_id: int
    title_id: str
    title_en: str
    overall: FeedbackSummary
    sessions: tuple[FeedbackSummary, ...]

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_id


def _mean(distribution: Sequence[int]) -> float | None:
    count = sum(distribution)
    if not count:
        return None
    return round(sum(rating * n for rating, n in zip(SCALE, distribution, strict=True)) / count, 2)


def feedback_summary(
    session: Session, programme_id: int, session_id: int | None = None, *, whole_programme: bool = False
) -> FeedbackSummary:
    """The aggregates of one session of a programme (``session_id`` None: its activities without a
    session), or of all its sessions together."""

    def scope(model) -> list:
        conditions = [model.programme_id == programme_id]
        if not whole_programme:
            conditions.append(
                model.session_id.is_(None) if session_id is None else model.session_id == session_id
            )
        return conditions

    invited = session.scalar(
        select(func.count()).select_from(SurveyInvitation).where(*scope(SurveyInvitation))
    )
    responses = session.scalar(select(func.count()).select_from(SurveyResponse).where(*scope(SurveyResponse)))
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * len(SCALE))
    for item_id, rating, count in session.execute(
        select(SurveyAnswer.item_id, SurveyAnswer.rating, func.count())
        .join(SurveyResponse)
        .where(*scope(SurveyResponse), SurveyAnswer.rating.is_not(None))
        .group_by(SurveyAnswer.item_id, SurveyAnswer.rating)
    ):
        counts[item_id][rating - 1] = count
    texts: dict[int, list[str]] = defaultdict(list)
    for item_id, text in session.execute(
        select(SurveyAnswer.item_id, SurveyAnswer.text)
        .join(SurveyResponse)
        .where(*scope(SurveyResponse), SurveyAnswer.text.is_not(None))
        .order_by(SurveyResponse.submitted_at, SurveyResponse.id)
    ):
        texts[item_id].append(text)
    items = session.scalars(
        select(SurveyItem)
        .where(SurveyItem.id.in_([*counts, *texts]))
        .order_by(SurveyItem.survey_id, SurveyItem.position, SurveyItem.id)
    ).all()
    return FeedbackSummary(
        programme_id=programme_id,
        session_id=None if whole_programme else session_id,
        invited=invited,
        responses=responses,
        likert=tuple(LikertSummary(item, tuple(counts[item.id])) for item in items if item.id in counts),
        comments=tuple(Comments(item, tuple(texts[item.id])) for item in items if item.id in texts),
    )


def publish_summary(session: Session, programme_id: int, session_id: int | None) -> None:
    """Stage ``pustaka.feedback.summarised.v1`` with the current aggregates of the programme's session."""
    summary = feedback_summary(session, programme_id, session_id)
    data = {
        "programme_id": programme_id,
        "session_id": session_id,
        "responses": summary.responses,
        "overall_mean": summary.overall_mean,
        "items": [
            {
                "item_id": line.item.id,
                "statement": {"id": line.item.text_id, "en": line.item.text_en},
                "responses": line.responses,
                "mean": line.mean,
                "distribution": list(line.distribution),
            }
            for line in summary.likert
        ],
        "comments": [
            {
                "item_id": group.item.id,
                "statement": {"id": group.item.text_id, "en": group.item.text_en},
                "texts": list(group.texts),
            }
            for group in summary.comments
        ],
        "summarised_at": utcnow(),
    }
    subject = f"programmes/{programme_id}" + ("" if session_id is None else f"/sessions/{session_id}")
    add_to_outbox(
        session, new_event(catalog.FEEDBACK_SUMMARISED.name, data, service=SERVICE, subject=subject)
    )


def feedback_programmes(session: Session) -> list[dict]:
    """Every programme with survey invitations: its id, titles, invitations and responses, by id."""
    invited = dict(
        session.execute(
            select(SurveyInvitation.programme_id, func.count()).group_by(SurveyInvitation.programme_id)
        ).all()
    )
    answered = dict(
        session.execute(
            select(SurveyResponse.programme_id, func.count()).group_by(SurveyResponse.programme_id)
        ).all()
    )
    programmes = []
    for programme_id in sorted(invited):
        latest = _latest_invitation(session, programme_id)
        programmes.append(
            {
                "programme_id": programme_id,
                "title_id": latest.programme_title_id,
                "title_en": latest.programme_title_en,
                "invited": invited[programme_id],
                "responses": answered.get(programme_id, 0),
            }
        )
    return programmes


def programme_feedback(session: Session, programme_id: int) -> ProgrammeFeedback:
    """A programme's aggregates, all sessions together and each session."""
    latest = _latest_invitation(session, programme_id)
    if latest is None:
        raise NotFound(N_("No survey invitations for this programme yet."))
    session_ids = session.scalars(
        select(SurveyInvitation.session_id).where(SurveyInvitation.programme_id == programme_id).distinct()
    ).all()
    ordered = sorted(session_ids, key=lambda value: (value is None, value or 0))
    return ProgrammeFeedback(
        programme_id=programme_id,
        title_id=latest.programme_title_id,
        title_en=latest.programme_title_en,
        overall=feedback_summary(session, programme_id, whole_programme=True),
        sessions=tuple(feedback_summary(session, programme_id, session_id) for session_id in ordered),
    )


def _latest_invitation(session: Session, programme_id: int) -> SurveyInvitation | None:
    """The newest invitation of the programme: it carries the programme's latest titles."""
    return session.scalar(
        select(SurveyInvitation)
        .where(SurveyInvitation.programme_id == programme_id)
        .order_by(SurveyInvitation.id.desc())
        .limit(1)
    )


CSV_HEADER = (
    "scope",
    "session_id",
    "item_id",
    "kind",
    "statement_id",
    "statement_en",
    "responses",
    "mean",
    "count_1",
    "count_2",
    "count_3",
    "count_4",
    "count_5",
    "comment",
)


def feedback_csv(report: ProgrammeFeedback) -> str:
    """One row per rating item and one per comment, for all sessions together ("all") and per session."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for scope, summary in (("all", report.overall), *(("session", each) for each in report.sessions)):
        session_id = "" if summary.session_id is None else summary.session_id
        for line in summary.likert:
            mean = "" if line.mean is None else f"{line.mean:.2f}"
            item = line.item
            writer.writerow(
                [scope, session_id, item.id, LIKERT, item.text_id, item.text_en, line.responses, mean]
                + list(line.distribution)
                + [""]
            )
        for group in summary.comments:
            item = group.item
            for text in group.texts:
                writer.writerow(
                    [scope, session_id, item.id, TEXT, item.text_id, item.text_en, "", ""]
                    + [""] * 5
                    + [_inert(text)]
                )
    return out.getvalue()


def _inert(text: str) -> str:
    """A learner's text as a spreadsheet shows it, never as a formula it would run."""
    return "'" + text if text.startswith(("=", "+", "-", "@")) else text
