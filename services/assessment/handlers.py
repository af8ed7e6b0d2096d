"""Assessment's use cases: plain functions over a SQLAlchemy session, free of Flask and kombu."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import catalog
from shared.envelope import new_event
from shared.errors import Invalid, NotFound
from shared.messaging import add_to_outbox

from . import recommendations, surveys
from .models import Answer, Attempt, Quiz

SERVICE = "assessment"


def published_quizzes(session: Session, audience: str = "public") -> list[Quiz]:
    return list(
        session.scalars(
            select(Quiz).where(Quiz.published.is_(True), Quiz.audience == audience).order_by(Quiz.id)
        )
    )


def get_quiz(session: Session, slug: str) -> Quiz:
    quiz = session.scalar(select(Quiz).where(Quiz.slug == slug, Quiz.published.is_(True)))
    if quiz is None:
        raise NotFound("No such quiz.")
    return quiz


def submit_attempt(
    session: Session,
    quiz: Quiz,
    answers: Mapping[int, int],
    *,
    user_id: int | None,
    language: str,
) -> Attempt:
    """Grade the chosen answers (question id → choice id) and publish the result."""
    questions = {question.id: question for question in quiz.questions}
    errors = {}
    for question_id, choice_id in answers.items():
        question = questions.get(question_id)
        if question is None:
            errors[str(question_id)] = ["Not a question of this quiz."]
        elif choice_id not in {choice.id for choice in question.choices}:
            errors[str(question_id)] = ["Not a choice of this question."]
    if errors:
        raise Invalid("Some answers do not belong to this quiz.", errors)

    attempt = Attempt(quiz=quiz, user_id=user_id, language=language, score=0.0, max_score=0.0)
    earned: dict[str, float] = defaultdict(float)
    possible: dict[str, float] = defaultdict(float)
    for question in quiz.questions:
        chosen = answers.get(question.id)
        correct = any(choice.id == chosen and choice.is_correct for choice in question.choices)
        points = question.points if correct else 0.0
        attempt.answers.append(Answer(question_id=question.id, choice_id=chosen, points=points))
        earned[question.competency_area] += points
        possible[question.competency_area] += question.points
    attempt.score = sum(earned.values())
    attempt.max_score = sum(possible.values())
    attempt.area_scores = {
        area: round(100.0 * earned[area] / possible[area], 2) for area in possible if possible[area]
    }
    session.add(attempt)
    session.flush()
    add_to_outbox(
        session,
        new_event(
            catalog.ATTEMPT_GRADED.name,
            {
                "attempt_id": attempt.id,
                "quiz_slug": quiz.slug,
                "quiz_title": {"id": quiz.title_id, "en": quiz.title_en},
                "purpose": quiz.purpose,
                "programme_id": quiz.programme_id,
                "user_id": user_id,
                "language": language,
                "score": attempt.score,
                "max_score": attempt.max_score,
                "percent": attempt.percent,
                "passed": attempt.passed,
                "area_scores": attempt.area_scores,
                "graded_at": attempt.submitted_at,
            },
            service=SERVICE,
            subject=f"attempts/{attempt.id}",
        ),
    )
    return attempt


def get_attempt(session: Session, attempt_id: int) -> Attempt:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound("No such attempt.")
    return attempt


EVENT_HANDLERS: dict = {
    catalog.ACTIVITY_COMPLETED.name: surveys.on_activity_completed,
    catalog.PROGRAMME_PUBLISHED.name: recommendations.on_programme_published,
}
