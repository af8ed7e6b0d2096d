"""Assessment's own data: quizzes, questions, choices, attempts and their answers."""

from __future__ import annotations

from datetime import datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import UTCDateTime, utcnow

db = SQLAlchemy()

PURPOSES = ("practice", "pre_test", "post_test", "competency_check", "follow_up", "feedback_survey")
AUDIENCES = ("public", "staff", "enrolled")


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
    programme_id: Mapped[int | None] = mapped_column(Integer)
    pass_percent: Mapped[float] = mapped_column(Float, default=60.0)
    published: Mapped[bool] = mapped_column(default=True)

    questions: Mapped[list[Question]] = relationship(back_populates="quiz", order_by="Question.position")

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_id

    def description(self, language: str) -> str:
        return self.description_en if language == "en" else self.description_id


class Question(db.Model):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text_id: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    competency_area: Mapped[str] = mapped_column(String(60))
    points: Mapped[float] = mapped_column(Float, default=1.0)

    quiz: Mapped[Quiz] = relationship(back_populates="questions")
    choices: Mapped[list[Choice]] = relationship(back_populates="question", order_by="Choice.position")

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_id


class Choice(db.Model):
    __tablename__ = "choices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text_id: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="choices")

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_id


class Attempt(db.Model):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    language: Mapped[str] = mapped_column(String(2), default="id")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    area_scores: Mapped[dict] = mapped_column(JSON, default=dict)

    quiz: Mapped[Quiz] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="attempt")

    @property
    def percent(self) -> float:
        return round(100.0 * self.score / self.max_score, 2) if self.max_score else 0.0

    @property
    def passed(self) -> bool:
        return self.percent >= self.quiz.pass_percent


class Answer(db.Model):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    choice_id: Mapped[int | None] = mapped_column(ForeignKey("choices.id"))
    points: Mapped[float] = mapped_column(Float)

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
