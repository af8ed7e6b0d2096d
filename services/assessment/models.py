"""Assessment's own data: the question bank with its versions, quizzes, attempts and the
programme participants known from enrollment's events."""

from __future__ import annotations

from datetime import datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import UTCDateTime, utcnow

db = SQLAlchemy()

PURPOSES = ("practice", "pre_test", "post_test", "competency_check", "follow_up", "feedback_survey")
AUDIENCES = ("public", "staff", "enrolled")
DIFFICULTIES = ("easy", "medium", "hard")
GRADING_METHODS = ("highest", "last", "first", "average")
REVIEW_OPTIONS = ("responses", "score", "correctness", "feedback", "correct_answers")
# Roles that count as library staff for quizzes whose audience is "staff".
STAFF_ROLES = ("staff", "coordinator", "admin", "mentor")

# Unanswered responses and fixed-question quizzes store SQL NULL, not JSON null.
NullableJSON = JSON(none_as_null=True)


def bilingual(value_id: str, value_en: str, language: str) -> str:
    return value_en if language == "en" else value_id


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(300), unique=True)  # "Literasi informasi/Evaluasi sumber"


class Question(db.Model):
    """A bank question: what stays when it is edited. Its content lives in immutable versions."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    areas: Mapped[list] = mapped_column(JSON, default=list)
    difficulty: Mapped[str] = mapped_column(String(10), default="medium")
    retired: Mapped[bool] = mapped_column(default=False)
    # The number of the current (latest) version.
    version_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship()
    versions: Mapped[list[QuestionVersion]] = relationship(
        back_populates="question", order_by="QuestionVersion.number"
    )

    @property
    def current(self) -> QuestionVersion:
        return next(version for version in self.versions if version.number == self.version_number)


class QuestionVersion(db.Model):
    """What a taker saw and was graded against; never changed once written."""

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    text_id: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    feedback_id: Mapped[str] = mapped_column(Text, default="")
    feedback_en: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[dict] = mapped_column(JSON)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question] = relationship(back_populates="versions")

    def text(self, language: str) -> str:
        return bilingual(self.text_id, self.text_en, language)

    def general_feedback(self, language: str) -> str:
        return bilingual(self.feedback_id, self.feedback_en, language)


class Quiz(db.Model):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title_id: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_id: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(String(12), default="public")
    purpose: Mapped[str] = mapped_column(String(20), default="practice")
    programme_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # [{"area", "difficulty", "count"}] for random draws; None for the fixed questions.
    pools: Mapped[list | None] = mapped_column(NullableJSON)
    shuffle_questions: Mapped[bool] = mapped_column(default=False)
    questions_per_page: Mapped[int] = mapped_column(Integer, default=5)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts_allowed: Mapped[int | None] = mapped_column(Integer)
    grading_method: Mapped[str] = mapped_column(String(10), default="highest")
    pass_percent: Mapped[float] = mapped_column(Float, default=60.0)
    levels: Mapped[list] = mapped_column(JSON, default=list)  # [{"min_percent", "name": {"id", "en"}}]
    review: Mapped[dict] = mapped_column(JSON, default=dict)  # {"after_submit": [...], "after_close": [...]}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    quiz_questions: Mapped[list[QuizQuestion]] = relationship(
        order_by="QuizQuestion.position", cascade="all, delete-orphan"
    )

    def title(self, language: str) -> str:
        return bilingual(self.title_id, self.title_en, language)

    def description(self, language: str) -> str:
        return bilingual(self.description_id, self.description_en, language)

    def level_for(self, percent: float) -> dict | None:
        """The highest level whose threshold the percent reaches: {"min_percent", "name"}."""
        reached = [level for level in self.levels if percent >= level["min_percent"]]
        return reached[-1] if reached else None


class QuizQuestion(db.Model):
    """One fixed question of a quiz, in order."""

    __tablename__ = "quiz_questions"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)

    question: Mapped[Question] = relationship()


class Attempt(db.Model):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # SHA-256 of the secret token an anonymous API taker resumes with; the token itself is not kept.
    token_hash: Mapped[str] = mapped_column(String(64))
    # Seeds the draw and the order of questions and choices, so they stay fixed for the attempt.
    seed: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2), default="id")
    email: Mapped[str | None] = mapped_column(String(254))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    area_scores: Mapped[dict] = mapped_column(JSON, default=dict)

    quiz: Mapped[Quiz] = relationship()
    slots: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position"
    )

    @property
    def state(self) -> str:
        if self.finished_at is None:
            return "in_progress"
        return "graded" if self.graded_at is not None else "needs_grading"

    @property
    def percent(self) -> float | None:
        if self.score is None:
            return None
        return round(100.0 * self.score / self.max_score, 2) if self.max_score else 0.0

    @property
    def passed(self) -> bool | None:
        return None if self.percent is None else self.percent >= self.quiz.pass_percent

    @property
    def level(self) -> dict | None:
        return None if self.percent is None else self.quiz.level_for(self.percent)

    @property
    def pages(self) -> int:
        return max((slot.page for slot in self.slots), default=-1) + 1


class AttemptQuestion(db.Model):
    """A question as drawn for one attempt: the version used, its page, the response and its grade."""

    __tablename__ = "attempt_questions"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        UniqueConstraint("attempt_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    page: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id"))
    response: Mapped[object | None] = mapped_column(NullableJSON)
    fraction: Mapped[float | None] = mapped_column(Float)  # None: not graded yet (an essay)
    points: Mapped[float | None] = mapped_column(Float)

    attempt: Mapped[Attempt] = relationship(back_populates="slots")
    # Joined: every use of a slot reads its version, and one query beats one per slot.
    version: Mapped[QuestionVersion] = relationship(lazy="joined")


class Participant(db.Model):
    """Someone with a confirmed seat in a programme, from enrollment's events (a read model)."""

    __tablename__ = "programme_participants"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(Integer, primary_key=True)
