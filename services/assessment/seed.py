"""Demo content: the question banks and quizzes of ``seed/*.json``, loaded into the database.

Each file is ``{"questions": [question spec, ...], "quizzes": [quiz definition, ...]}``; quizzes
may name the questions of any file. Loading is idempotent: a question or quiz whose name or slug
is already there is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import Invalid

from . import handlers
from .models import Question, Quiz
from .schemas import QuestionSpec, QuizDefinition

SEED_DIR = Path(__file__).parent / "seed"


def _checked(schema, data: dict, where: str) -> dict:
    try:
        return schema.load(data)
    except ValidationError as error:
        raise Invalid(f"{where}: invalid fields.", error.normalized_messages()) from None


def load_seed(session: Session, paths: Iterable[Path]) -> tuple[list[str], list[str]]:
    """Add the questions and quizzes of the files that are not there yet; returns their names
    and slugs. A faulty item raises Invalid naming it; the caller's transaction adds nothing then."""
    files = [(path, json.loads(path.read_text(encoding="utf-8"))) for path in sorted(paths)]
    questions, quizzes = [], []
    for path, content in files:
        for spec in content.get("questions", []):
            where = f"{path.name}: question {spec.get('name')!r}"
            spec = _checked(QuestionSpec(), spec, where)
            if session.scalar(select(Question.id).where(Question.name == spec["name"])) is None:
                try:
                    handlers.create_question(session, spec)
                except Invalid as error:
                    raise Invalid(f"{where}: {error.message}", error.errors) from None
                questions.append(spec["name"])
    for path, content in files:
        for definition in content.get("quizzes", []):
            where = f"{path.name}: quiz {definition.get('slug')!r}"
            definition = _checked(QuizDefinition(), definition, where)
            if session.scalar(select(Quiz.id).where(Quiz.slug == definition["slug"])) is None:
                try:
                    handlers.create_quiz(session, definition)
                except Invalid as error:
                    raise Invalid(f"{where}: {error.message}", error.errors) from None
                quizzes.append(definition["slug"])
    return questions, quizzes


def seed_demo(session: Session) -> list[str]:
    questions, quizzes = load_seed(session, SEED_DIR.glob("*.json"))
    if not (questions or quizzes):
        return []
    return [f"assessment: {len(questions)} questions, quizzes at"] + [
        f"  /assessment/quizzes/{slug}" for slug in quizzes
    ]
