"""Assessment's use cases: plain functions over a SQLAlchemy session, free of Flask and kombu.

Callers commit. Times are passed in (``now``) so that the rules about windows and deadlines can be
tested without waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shared import catalog
from shared.competencies import AREAS
from shared.db import utcnow
from shared.envelope import CloudEvent, new_event
from shared.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from shared.i18n import N_
from shared.messaging import add_to_outbox

from . import recommendations, surveys
from .aiken import parse_aiken
from .gift import export_gift, parse_gift
from .interchange import Problem, choice_key
from .models import (
    STAFF_ROLES,
    Attempt,
    AttemptQuestion,
    Category,
    Participant,
    Question,
    QuestionVersion,
    Quiz,
    QuizQuestion,
)
from .question_types import question_type

SERVICE = "assessment"


# --- The question bank ------------------------------------------------------------------------


def category_path(path: str) -> str:
    """A tidy category path: "Literasi informasi / Evaluasi sumber/" is "Literasi informasi/Evaluasi sumber"."""
    return "/".join(part.strip() for part in path.split("/") if part.strip())


def category_for(session: Session, path: str) -> Category:
    category = session.scalar(select(Category).where(Category.path == path))
    if category is None:
        category = Category(path=path)
        session.add(category)
    return category


def checked_spec(spec: Mapping) -> dict:
    """A question spec (its shape already checked by the API schema) with known areas, a known
    type and the body its type normalised; Invalid names every faulty field."""
    errors: dict[str, list[str]] = {}
    for index, code in enumerate(spec["areas"]):
        if code not in AREAS:
            errors[f"areas.{index}"] = [N_("Not a competency area.")]
    category = category_path(spec["category"])
    if not category:
        errors["category"] = [N_("Give a category, e.g. 'Literasi informasi/Menelusur informasi'.")]
    body = None
    try:
        body = question_type(spec["type"]).normalise_body(spec["body"])
    except Invalid as error:
        errors.update(error.errors)
    if errors:
        raise Invalid(N_("The question has invalid fields."), errors)
    return {**spec, "category": category, "areas": list(dict.fromkeys(spec["areas"])), "body": body}


def _version_content(spec: Mapping) -> dict:
    return {
        "type": spec["type"],
        "text_id": spec["text"]["id"],
        "text_en": spec["text"]["en"],
        "feedback_id": spec["general_feedback"]["id"],
        "feedback_en": spec["general_feedback"]["en"],
        "body": spec["body"],
        "points": spec["points"],
    }


def _check_name_free(session: Session, name: str, question_id: int | None = None) -> None:
    clash = session.scalar(select(Question.id).where(Question.name == name, Question.id != question_id))
    if clash is not None:
        raise Conflict(N_("A question with this name exists."), {"name": [N_("Already taken.")]})


def create_question(session: Session, spec: Mapping) -> Question:
    spec = checked_spec(spec)
    _check_name_free(session, spec["name"])
    question = Question(
        name=spec["name"],
        category=category_for(session, spec["category"]),
        areas=spec["areas"],
        difficulty=spec["difficulty"],
        version_number=1,
    )
    question.versions.append(QuestionVersion(number=1, **_version_content(spec)))
    session.add(question)
    session.flush()
    return question


def update_question(session: Session, question_id: int, spec: Mapping) -> Question:
    """Change a question. A changed text, body, type, feedback or points makes a new version:
    attempts keep the version they were graded against."""
    question = get_question(session, question_id, for_update=True)
    spec = checked_spec(_keeping_answer_keys(spec, question.current))
    _check_name_free(session, spec["name"], question.id)
    question.name = spec["name"]
    question.category = category_for(session, spec["category"])
    question.areas = spec["areas"]
    question.difficulty = spec["difficulty"]
    if _changes_content(question.current, spec):
        question.version_number += 1
        question.versions.append(QuestionVersion(number=question.version_number, **_version_content(spec)))
    session.flush()
    return question


def _changes_content(version: QuestionVersion, spec: Mapping) -> bool:
    return any(getattr(version, field) != value for field, value in _version_content(spec).items())


def _keeping_answer_keys(spec: Mapping, current: QuestionVersion) -> Mapping:
    """A matching spec whose pairs come without answer keys (a form, a GIFT file) takes the keys
    the current version gives the same answers, so that an unchanged question stays unchanged."""
    if spec["type"] != "matching" or current.type != "matching" or not isinstance(spec["body"], Mapping):
        return spec
    pairs = spec["body"].get("pairs")
    if not isinstance(pairs, list) or not all(isinstance(pair, Mapping) for pair in pairs):
        return spec  # the type reports the faults
    known = {_text_of(pair["answer"]): pair["answer_key"] for pair in current.body["pairs"]}
    keyed = [
        {**pair, "answer_key": known[_text_of(pair.get("answer"))]}
        if "answer_key" not in pair and _text_of(pair.get("answer")) in known
        else pair
        for pair in pairs
    ]
    return {**spec, "body": {**spec["body"], "pairs": keyed}}


def _text_of(text: Any) -> tuple | None:
    """A bilingual text as a value to compare."""
    if not isinstance(text, Mapping):
        return None
    return tuple(str(text.get(language, "")).strip() for language in ("id", "en"))


# How the options of a body are told apart, whatever their keys.
_OPTION_IDENTITIES = {
    "choices": lambda choice: _text_of(choice["text"]),
    "pairs": lambda pair: (_text_of(pair["prompt"]), _text_of(pair["answer"])),
}


def _keeping_option_keys(spec: dict, current: QuestionVersion) -> dict:
    """A question read from a file takes the keys its current version gives the same choices and
    pairs: a file's keys are only a, b, c by position (GIFT has no syntax for keys), while past
    answers name the current ones. The other options get letters no option has."""
    if spec["type"] != current.type:
        return spec
    body = dict(spec["body"])
    for field, identity in _OPTION_IDENTITIES.items():
        if field not in body or field not in current.body:
            continue
        known = {identity(option): option["key"] for option in current.body[field]}
        keys = [known.get(identity(option)) for option in body[field]]
        keys = [key if key not in keys[:index] else None for index, key in enumerate(keys)]
        fresh = (key for key in map(choice_key, count()) if key not in keys)
        body[field] = [
            {**option, "key": key or next(fresh)} for option, key in zip(body[field], keys, strict=True)
        ]
    return _keeping_answer_keys({**spec, "body": body}, current)


def set_retired(session: Session, question_id: int, retired: bool) -> Question:
    """A retired question is drawn by no pool and put in no new quiz; past attempts keep it."""
    question = get_question(session, question_id)
    question.retired = retired
    return question


def get_question(session: Session, question_id: int, for_update: bool = False) -> Question:
    question = session.get(Question, question_id, with_for_update=for_update)
    if question is None:
        raise NotFound(N_("No such question."))
    return question


def find_questions(
    session: Session,
    *,
    category: str | None = None,
    area: str | None = None,
    difficulty: str | None = None,
    type: str | None = None,
    retired: bool | None = None,
    search: str | None = None,
) -> list[Question]:
    """Bank questions by the filters given; a category includes its subcategories, and ``search``
    finds words in the name or either text of the current version, whatever their case."""
    query = (
        select(Question)
        .join(Category)
        .join(
            QuestionVersion,
            (QuestionVersion.question_id == Question.id)
            & (QuestionVersion.number == Question.version_number),
        )
        .options(selectinload(Question.versions), selectinload(Question.category))
        .order_by(Category.path, Question.name)
    )
    if category:
        path = category_path(category)
        query = query.where((Category.path == path) | Category.path.startswith(path + "/", autoescape=True))
    if difficulty:
        query = query.where(Question.difficulty == difficulty)
    if type:
        query = query.where(QuestionVersion.type == type)
    if retired is not None:
        query = query.where(Question.retired.is_(retired))
    if search and search.strip():
        words = search.strip()
        query = query.where(
            Question.name.icontains(words, autoescape=True)
            | QuestionVersion.text_id.icontains(words, autoescape=True)
            | QuestionVersion.text_en.icontains(words, autoescape=True)
        )
    questions = session.scalars(query).all()
    # Areas are a JSON list: filtered here, the same way on PostgreSQL and SQLite.
    return [question for question in questions if area is None or area in question.areas]


def version_spec(question: Question, version: QuestionVersion) -> dict:
    """The portable form of a question as it was in one version."""
    return {
        "name": question.name,
        "type": version.type,
        "category": question.category.path,
        "text": {"id": version.text_id, "en": version.text_en},
        "general_feedback": {"id": version.feedback_id, "en": version.feedback_en},
        "areas": list(question.areas),
        "difficulty": question.difficulty,
        "points": version.points,
        "body": version.body,
    }


def question_spec(question: Question) -> dict:
    return version_spec(question, question.current)


def preview(question: Question) -> dict:
    """The current version as a taker sees it before any review."""
    version = question.current
    return {
        "question_id": question.id,
        "type": version.type,
        "text": {"id": version.text_id, "en": version.text_en},
        "points": version.points,
        "body": question_type(version.type).public_body(version.body, None),
    }


def answer_preview(question: Question, response: Any) -> dict:
    """How the current version takes a response a coordinator tries: its grade, the feedback a
    taker would get and the right answer. Invalid when the response is not one of the type's."""
    version = question.current
    kind = question_type(version.type)
    response = kind.normalise_response(version.body, response)
    fraction = kind.grade(version.body, response)
    review = kind.review(version.body, response)
    return {
        "response": response,
        "correctness": correctness(fraction),
        "points_earned": None if fraction is None else fraction * version.points,
        "feedback": review["feedback"],
        "general_feedback": {"id": version.feedback_id, "en": version.feedback_en},
        "correct_answer": review["correct_answer"],
    }


def categories(session: Session) -> list[str]:
    return list(session.scalars(select(Category.path).order_by(Category.path)))


# --- GIFT and Aiken files ---------------------------------------------------------------------

IMPORT_FORMATS = ("gift", "aiken")
MAX_IMPORT_BYTES = 2 * 1024 * 1024
# Where the questions go that a file puts in no category (every Aiken question).
DEFAULT_IMPORT_CATEGORY = "Impor"
# What an import does with a question: add it, give it a new version, change only its areas or
# difficulty (they are not versioned), or leave it as it is.
IMPORT_STATUSES = ("new", "new_version", "updated", "unchanged")


class FileTooLarge(Invalid):
    """A file over the size limit: entrypoints answer 413."""

    status = 413

    def __init__(self) -> None:
        super().__init__(N_("The file is too large."), {"file": [N_("The file is larger than 2 MB.")]})


def import_text(data: bytes) -> str:
    """The text of a question file: UTF-8 with or without a byte-order mark, at most 2 MB."""
    if len(data) > MAX_IMPORT_BYTES:
        raise FileTooLarge
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(
            N_("The file is not UTF-8 text."),
            {"file": [N_("The file is not UTF-8 text: save it as UTF-8 and try again.")]},
        ) from None


@dataclass(frozen=True)
class ImportedQuestion:
    line: int
    spec: dict
    status: str  # one of IMPORT_STATUSES
    question_id: int | None  # None for a new question not written yet


@dataclass(frozen=True)
class ImportResult:
    questions: list[ImportedQuestion]
    problems: list[Problem]
    imported: bool  # False for a dry run, and when problems kept the file out

    def counts(self) -> dict[str, int]:
        return {status: sum(item.status == status for item in self.questions) for status in IMPORT_STATUSES}


def import_questions(
    session: Session,
    text: str,
    *,
    format: str = "gift",
    category: str | None = None,
    dry_run: bool = False,
    accept_partial: bool = False,
) -> ImportResult:
    """Import a GIFT or Aiken file into the bank. A question is known by its category and name: a
    new one is added, one whose content changed gets a new version, the same one is left alone, so
    importing a file twice changes nothing. Questions the file puts in no category go to
    ``category``. Every problem is reported at its line; with problems nothing is written unless
    ``accept_partial``, and then only the valid questions are."""
    parse = {"gift": parse_gift, "aiken": parse_aiken}[format]
    report = parse(text, category_path(category or "") or DEFAULT_IMPORT_CATEGORY)
    problems = list(report.problems)
    planned = []
    first_lines: dict[str, int] = {}
    for line, spec in report.questions:
        outcome = _planned_import(session, line, spec, first_lines)
        if isinstance(outcome, ImportedQuestion):
            planned.append(outcome)
        else:
            problems += outcome
    write = not dry_run and (accept_partial or not problems)
    if write:
        planned = [_save_imported(session, item) for item in planned]
    return ImportResult(planned, sorted(problems, key=lambda problem: problem.line), write)


def _planned_import(
    session: Session, line: int, spec: dict, first_lines: dict[str, int]
) -> ImportedQuestion | list[Problem]:
    """What importing one question of a file would do, or what the bank has against it."""
    name = spec["name"]
    if name in first_lines:
        return [Problem(line, f"The question at line {first_lines[name]} has the same name.")]
    first_lines[name] = line
    existing = session.scalar(select(Question).where(Question.name == name))
    if existing is not None and existing.category.path != spec["category"]:
        return [Problem(line, f"A question of this name is in another category: {existing.category.path!r}.")]
    try:
        spec = checked_spec(spec if existing is None else _keeping_option_keys(spec, existing.current))
    except Invalid as error:
        return [
            Problem(line, f"{field}: {message}")
            for field, messages in error.errors.items()
            for message in messages
        ]
    if existing is None:
        return ImportedQuestion(line, spec, "new", None)
    if _changes_content(existing.current, spec):
        status = "new_version"
    elif (existing.areas, existing.difficulty) != (spec["areas"], spec["difficulty"]):
        status = "updated"
    else:
        status = "unchanged"
    return ImportedQuestion(line, spec, status, existing.id)


def _save_imported(session: Session, item: ImportedQuestion) -> ImportedQuestion:
    if item.status == "new":
        return replace(item, question_id=create_question(session, item.spec).id)
    if item.status != "unchanged":
        update_question(session, item.question_id, item.spec)
    return item


def export_questions(session: Session, category: str | None = None) -> str:
    """The bank, or a category with the categories under it, as a GIFT file."""
    questions = find_questions(session, category=category)
    if category and not questions:
        raise NotFound(N_("No questions in this category."))
    return export_gift(question_spec(question) for question in questions)


# --- Quizzes ----------------------------------------------------------------------------------


def _quiz_questions(session: Session, definition: Mapping, errors: dict) -> list[Question]:
    """The fixed questions by name, each fault under its position (``questions.2``)."""
    questions = []
    names = definition.get("questions") or []
    found = {q.name: q for q in session.scalars(select(Question).where(Question.name.in_(names)))}
    for index, name in enumerate(names):
        question = found.get(name)
        if question is None:
            errors[f"questions.{index}"] = [N_("No question has this name.")]
        elif question.retired:
            errors[f"questions.{index}"] = [N_("This question is retired.")]
        elif question in questions:
            errors[f"questions.{index}"] = [N_("This question is in the quiz already.")]
        else:
            questions.append(question)
    return questions


def _check_pools(session: Session, pools: list[Mapping], errors: dict) -> None:
    available = session.execute(
        select(Question.areas, Question.difficulty).where(Question.retired.is_(False))
    ).all()
    for index, pool in enumerate(pools):
        if pool["area"] not in AREAS:
            errors[f"pools.{index}.area"] = [N_("Not a competency area.")]
            continue
        matching = sum(
            1 for areas, difficulty in available if pool["area"] in areas and difficulty == pool["difficulty"]
        )
        if matching < pool["count"]:
            errors[f"pools.{index}.count"] = [f"Only {matching} questions match"]


def checked_quiz(session: Session, definition: Mapping) -> list[Question]:
    """Check what the API schema cannot (the bank, the order of levels, the window); returns the
    fixed questions. Invalid names every faulty field."""
    errors: dict[str, list[str]] = {}
    questions: list[Question] = []
    if bool(definition.get("questions")) == bool(definition.get("pools")):
        errors["questions"] = [N_("Give either fixed questions or pools to draw from, not both.")]
    elif definition.get("questions"):
        questions = _quiz_questions(session, definition, errors)
    else:
        _check_pools(session, definition["pools"], errors)
    thresholds = [level["min_percent"] for level in definition.get("levels", [])]
    if thresholds and (
        thresholds[0] != 0 or any(b <= a for a, b in zip(thresholds, thresholds[1:], strict=False))
    ):
        errors["levels"] = [N_("Give levels in ascending order of min_percent, the first at 0.")]
    opens, closes = definition.get("opens_at"), definition.get("closes_at")
    if opens and closes and closes <= opens:
        errors["closes_at"] = [N_("The quiz must close after it opens.")]
    if definition["audience"] == "enrolled" and definition.get("programme_id") is None:
        errors["programme_id"] = [N_("A quiz for those enrolled needs its programme.")]
    if errors:
        raise Invalid(N_("The quiz has invalid fields."), errors)
    return questions


QUIZ_SETTINGS = (
    "audience",
    "purpose",
    "programme_id",
    "shuffle_questions",
    "questions_per_page",
    "time_limit_minutes",
    "opens_at",
    "closes_at",
    "attempts_allowed",
    "grading_method",
    "pass_percent",
    "levels",
    "review",
)


def _apply_definition(quiz: Quiz, definition: Mapping, questions: list[Question]) -> None:
    quiz.slug = definition["slug"]
    quiz.title_id, quiz.title_en = definition["title"]["id"], definition["title"]["en"]
    quiz.description_id, quiz.description_en = (
        definition["description"]["id"],
        definition["description"]["en"],
    )
    for setting in QUIZ_SETTINGS:
        setattr(quiz, setting, definition.get(setting))
    quiz.pools = [dict(pool) for pool in definition["pools"]] if definition.get("pools") else None
    quiz.quiz_questions = [
        QuizQuestion(position=position, question=question) for position, question in enumerate(questions)
    ]


def _check_slug_free(session: Session, slug: str, quiz_id: int | None = None) -> None:
    if session.scalar(select(Quiz.id).where(Quiz.slug == slug, Quiz.id != quiz_id)) is not None:
        raise Conflict(N_("A quiz with this slug exists."), {"slug": [N_("Already taken.")]})


def create_quiz(session: Session, definition: Mapping) -> Quiz:
    """A new quiz; one with an availability window is announced (``quiz.scheduled``)."""
    questions = checked_quiz(session, definition)
    _check_slug_free(session, definition["slug"])
    quiz = Quiz()
    _apply_definition(quiz, definition, questions)
    session.add(quiz)
    session.flush()
    if quiz.opens_at is not None or quiz.closes_at is not None:
        add_to_outbox(session, scheduled_event(quiz))
    return quiz


def update_quiz(session: Session, slug: str, definition: Mapping) -> Quiz:
    """Change a quiz: new attempts follow the new definition, started ones keep their questions.
    A new or moved availability window is announced again; a window taken away is not."""
    quiz = get_quiz(session, slug)
    questions = checked_quiz(session, definition)
    _check_slug_free(session, definition["slug"], quiz.id)
    window = (quiz.opens_at, quiz.closes_at)
    quiz.quiz_questions.clear()
    session.flush()  # the old positions go before the new ones take their keys
    _apply_definition(quiz, definition, questions)
    session.flush()
    if (quiz.opens_at, quiz.closes_at) != window and (quiz.opens_at or quiz.closes_at):
        add_to_outbox(session, scheduled_event(quiz))
    return quiz


def scheduled_event(quiz: Quiz) -> CloudEvent:
    return new_event(
        catalog.QUIZ_SCHEDULED.name,
        {
            "quiz_slug": quiz.slug,
            "quiz_title": {"id": quiz.title_id, "en": quiz.title_en},
            "programme_id": quiz.programme_id,
            "purpose": quiz.purpose,
            "opens_at": quiz.opens_at,
            "closes_at": quiz.closes_at,
        },
        service=SERVICE,
        subject=f"quizzes/{quiz.slug}",
    )


def get_quiz(session: Session, slug: str) -> Quiz:
    quiz = session.scalar(select(Quiz).where(Quiz.slug == slug))
    if quiz is None:
        raise NotFound(N_("No such quiz."))
    return quiz


def quiz_definition(quiz: Quiz) -> dict:
    """The portable form of a quiz."""
    definition = {setting: getattr(quiz, setting) for setting in QUIZ_SETTINGS}
    return definition | {
        "slug": quiz.slug,
        "title": {"id": quiz.title_id, "en": quiz.title_en},
        "description": {"id": quiz.description_id, "en": quiz.description_en},
        "questions": [item.question.name for item in quiz.quiz_questions] if quiz.pools is None else None,
        "pools": quiz.pools,
    }


def question_count(quiz: Quiz) -> int:
    return len(quiz.quiz_questions) if quiz.pools is None else sum(pool["count"] for pool in quiz.pools)


# --- Who may take a quiz ----------------------------------------------------------------------


@dataclass(frozen=True)
class Taker:
    """Whoever takes a quiz: an account (user_id, roles), or an anonymous visitor known by the
    attempts their signed cookie lists."""

    user_id: int | None = None
    roles: frozenset[str] = frozenset()
    attempt_ids: tuple[int, ...] = ()


def may_take(session: Session, quiz: Quiz, taker: Taker) -> bool:
    if quiz.audience == "public":
        return True
    if taker.user_id is None:
        return False
    if quiz.audience == "staff":
        return bool(taker.roles.intersection(STAFF_ROLES))
    participant = session.get(Participant, (taker.user_id, quiz.programme_id)) if quiz.programme_id else None
    return participant is not None


def check_audience(session: Session, quiz: Quiz, taker: Taker) -> None:
    if may_take(session, quiz, taker):
        return
    if taker.user_id is None:
        raise Unauthorized(N_("Sign in to take this quiz."))
    if quiz.audience == "staff":
        raise Forbidden(N_("This quiz is for library staff."))
    raise Forbidden(N_("This quiz is for the participants of its programme."))


def quizzes_for(session: Session, taker: Taker) -> list[Quiz]:
    """The quizzes this taker may take, in the order they were made."""
    quizzes = session.scalars(select(Quiz).order_by(Quiz.id)).all()
    return [quiz for quiz in quizzes if may_take(session, quiz, taker)]


def takers_attempts(session: Session, quiz: Quiz, taker: Taker) -> list[Attempt]:
    query = select(Attempt).where(Attempt.quiz_id == quiz.id).order_by(Attempt.started_at, Attempt.id)
    if taker.user_id is not None:
        return list(session.scalars(query.where(Attempt.user_id == taker.user_id)))
    if taker.attempt_ids:
        return list(
            session.scalars(query.where(Attempt.user_id.is_(None), Attempt.id.in_(taker.attempt_ids)))
        )
    return []


def start_refusal(quiz: Quiz, previous: list[Attempt], now: datetime) -> str | None:
    """Why the taker cannot start a new attempt now (a message), or None."""
    if quiz.opens_at is not None and now < quiz.opens_at:
        return N_("This quiz is not open yet.")
    if quiz.closes_at is not None and now >= quiz.closes_at:
        return N_("This quiz is closed.")
    if quiz.attempts_allowed is not None and len(previous) >= quiz.attempts_allowed:
        return N_("You have used every attempt this quiz allows.")
    return None


# --- Attempts ---------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def deadline_of(quiz: Quiz, started_at: datetime) -> datetime | None:
    limit = started_at + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
    return min((end for end in (limit, quiz.closes_at) if end is not None), default=None)


def _current_versions() -> Select:
    """Current versions of questions, to be narrowed down: one query, whatever their number."""
    return select(QuestionVersion).join(
        Question,
        (Question.id == QuestionVersion.question_id) & (QuestionVersion.number == Question.version_number),
    )


def draw(session: Session, quiz: Quiz, rng: random.Random) -> list[QuestionVersion]:
    """The current versions of the questions of a new attempt: the fixed ones, or random draws
    from the pools."""
    if quiz.pools is None:
        versions = list(
            session.scalars(
                _current_versions()
                .join(QuizQuestion, QuizQuestion.question_id == Question.id)
                .where(QuizQuestion.quiz_id == quiz.id)
                .order_by(QuizQuestion.position)
            )
        )
    else:
        candidates = session.scalars(
            select(Question).where(Question.retired.is_(False)).order_by(Question.id)
        ).all()
        questions = []
        for pool in quiz.pools:
            matching = [
                question
                for question in candidates
                if pool["area"] in question.areas
                and question.difficulty == pool["difficulty"]
                and question not in questions
            ]
            if len(matching) < pool["count"]:
                raise Conflict(
                    N_("This quiz cannot start: its pools have too few questions left in the bank.")
                )
            questions += rng.sample(matching, pool["count"])
        found = session.scalars(_current_versions().where(Question.id.in_([q.id for q in questions])))
        by_question = {version.question_id: version for version in found}
        versions = [by_question[question.id] for question in questions]
    if quiz.shuffle_questions:
        rng.shuffle(versions)
    return versions


def start_attempt(
    session: Session,
    quiz: Quiz,
    taker: Taker,
    *,
    language: str,
    email: str | None = None,
    now: datetime | None = None,
) -> tuple[Attempt, str | None]:
    """The taker's open attempt of the quiz, or a new one with its secret token (None when an
    open attempt is resumed: the token was given when it started)."""
    now = now or utcnow()
    check_audience(session, quiz, taker)
    previous = takers_attempts(session, quiz, taker)
    for attempt in previous:
        if attempt.finished_at is None and not close_if_expired(session, attempt, now):
            return attempt, None
    refusal = start_refusal(quiz, previous, now)
    if refusal:
        raise Conflict(refusal)
    token, seed = secrets.token_urlsafe(24), secrets.randbelow(2**31)
    attempt = Attempt(
        quiz_id=quiz.id,
        quiz=quiz,
        user_id=taker.user_id,
        token_hash=_token_hash(token),
        seed=seed,
        language=language,
        email=email,
        started_at=now,
        deadline=deadline_of(quiz, now),
        finished_at=None,
        graded_at=None,
        score=None,
        max_score=0.0,
        area_scores={},
    )
    attempt.slots = [
        AttemptQuestion(
            position=position,
            page=position // quiz.questions_per_page,
            question_id=version.question_id,
            version_id=version.id,
            version=version,
            response=None,
            fraction=None,
            points=None,
        )
        for position, version in enumerate(draw(session, quiz, random.Random(seed)))
    ]
    _insert(session, [attempt])
    for slot in attempt.slots:
        slot.attempt_id = attempt.id
    _insert(session, attempt.slots)
    session.add(attempt)  # with its questions, as if loaded: later changes are flushed as usual
    return attempt, token


def _insert(session: Session, rows: Sequence[Any]) -> None:
    """Insert new objects of one model with a plain INSERT (an executemany for several), give them
    the ids the database chose and make them as if loaded, for ``Session.add`` to take in: for an
    attempt's rows, the unit of work's bookkeeping would cost more than the rest of starting it."""
    if not rows:
        return
    mapper = sa_inspect(type(rows[0]))
    given = [attribute for attribute in mapper.column_attrs if attribute.key in sa_inspect(rows[0]).dict]
    table = mapper.local_table
    ids = session.scalars(
        insert(table).returning(table.c.id, sort_by_parameter_order=True),
        [{attribute.columns[0].key: getattr(row, attribute.key) for attribute in given} for row in rows],
    ).all()
    for row, row_id in zip(rows, ids, strict=True):
        row.id = row_id
        make_transient_to_detached(row)


def owns(attempt: Attempt, taker: Taker, token: str | None = None) -> bool:
    if token and hmac.compare_digest(attempt.token_hash, _token_hash(token)):
        return True
    if attempt.user_id is not None:
        return attempt.user_id == taker.user_id
    return attempt.id in taker.attempt_ids


def attempt_of(session: Session, attempt_id: int, taker: Taker, token: str | None = None) -> Attempt:
    """The taker's own attempt, with its quiz and questions (every view of it reads them) in one
    query; anybody else's is not found, so ids reveal nothing."""
    attempt = (
        session.scalars(
            select(Attempt)
            .where(Attempt.id == attempt_id)
            .options(joinedload(Attempt.quiz, innerjoin=True), joinedload(Attempt.slots))
        )
        .unique()
        .one_or_none()
    )
    if attempt is None or not owns(attempt, taker, token):
        raise NotFound(N_("No such attempt."))
    return attempt


def close_if_expired(session: Session, attempt: Attempt, now: datetime | None = None) -> bool:
    """Close an open attempt whose deadline has passed, with the answers saved so far; True if
    this call closed it. Every access to an attempt calls this first."""
    now = now or utcnow()
    if attempt.finished_at is None and attempt.deadline is not None and now >= attempt.deadline:
        return finish(session, attempt, attempt.deadline)
    return False


def finish(session: Session, attempt: Attempt, when: datetime) -> bool:
    """Close the attempt and grade it; False if another request or the worker closed it first."""
    # A conditional update, so that two closers (a browser and the worker) never both grade it.
    closed = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.finished_at.is_(None))
        .values(finished_at=when)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not closed:  # what the other closer wrote, not what this request had loaded
        session.refresh(attempt)
        slots = session.scalars(
            select(AttemptQuestion)
            .where(AttemptQuestion.attempt_id == attempt.id)
            .order_by(AttemptQuestion.position)
            .execution_options(populate_existing=True)
        ).all()
        set_committed_value(attempt, "slots", slots)
        return False
    set_committed_value(attempt, "finished_at", when)
    areas = _closed_slots(session, attempt)
    grades = []
    for slot in attempt.slots:
        version = slot.version
        fraction = question_type(version.type).grade(version.body, slot.response)
        grades.append(
            (slot, {"fraction": fraction, "points": None if fraction is None else fraction * version.points})
        )
    _store(session, AttemptQuestion, grades)
    if all(slot.fraction is not None for slot in attempt.slots):
        complete_grading(session, attempt, when, areas)
    else:  # an essay waits for a coordinator: the score comes with its grade
        _store(session, Attempt, [(attempt, {"max_score": _max_score(attempt)})])
    return True


def _max_score(attempt: Attempt) -> float:
    return sum(slot.version.points for slot in attempt.slots)


def _closed_slots(session: Session, attempt: Attempt) -> dict[int, list[str]]:
    """Read the answers of a just closed attempt again, as they were saved when it closed (a page
    saved since the attempt was loaded counts); returns the areas of its questions by question id."""
    rows = session.execute(
        select(AttemptQuestion.id, AttemptQuestion.question_id, AttemptQuestion.response, Question.areas)
        .join(Question, Question.id == AttemptQuestion.question_id)
        .where(AttemptQuestion.attempt_id == attempt.id)
    ).all()
    responses = {row.id: row.response for row in rows}
    for slot in attempt.slots:
        set_committed_value(slot, "response", responses[slot.id])
    return {row.question_id: row.areas for row in rows}


def _store(session: Session, model: type, rows: list[tuple[Any, dict[str, Any]]]) -> None:
    """Write columns of loaded rows by id with one plain UPDATE (an executemany for several), and
    keep them in the objects as written: for the few columns grading writes, the unit of work's
    bookkeeping would cost more than the grading itself."""
    table = model.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("row_id")),
        [{"row_id": row.id, **columns} for row, columns in rows],
    )
    for row, columns in rows:
        for column, value in columns.items():
            set_committed_value(row, column, value)


def save_responses(session: Session, attempt: Attempt, page: int, responses: Mapping[str, Any]) -> None:
    """Save some answers of one page; questions left out keep theirs, None clears one. All or
    nothing: one bad answer saves none."""
    if attempt.finished_at is not None:
        raise Conflict(N_("This attempt is closed: its answers can no longer change."))
    slots = {str(slot.question_id): slot for slot in attempt.slots if slot.page == page}
    if not slots:
        raise NotFound(N_("No such page."))
    errors, values = {}, []
    for key, response in responses.items():
        slot = slots.get(str(key))
        if slot is None:
            errors[f"responses.{key}"] = [N_("Not a question of this page.")]
            continue
        try:
            values.append(
                (slot, question_type(slot.version.type).normalise_response(slot.version.body, response))
            )
        except Invalid as error:
            errors[f"responses.{key}"] = error.errors.get("response") or [error.message]
    if errors:
        raise Invalid(N_("Some answers are not valid."), errors)
    changed = [(slot, {"response": value}) for slot, value in values if value != slot.response]
    if changed:
        _store(session, AttemptQuestion, changed)


def set_email(attempt: Attempt, email: str | None) -> None:
    """Where to send the result; only before it is graded (the result goes out once)."""
    if email is None or email == attempt.email:
        return
    if attempt.graded_at is not None:
        raise Conflict(
            N_("The result was sent already."), {"email": [N_("Too late: the attempt is graded.")]}
        )
    attempt.email = email


def submission_errors(attempt: Attempt) -> dict[str, list[str]]:
    """What keeps saved answers from being handed in (an essay under its least number of words),
    by ``responses.<question id>``; drafts may be saved that way, submits may not."""
    errors = {}
    for slot in attempt.slots:
        try:
            question_type(slot.version.type).check_submission(slot.version.body, slot.response)
        except Invalid as error:
            errors[f"responses.{slot.question_id}"] = error.errors.get("response") or [error.message]
    return errors


def submit_attempt(
    session: Session, attempt: Attempt, now: datetime | None = None, *, time_up: bool = False
) -> Attempt:
    """Close and grade the attempt; submitting again changes nothing. The taker's submit is refused
    while an answer cannot be handed in; when the time is up, what was saved is handed in as it is."""
    if attempt.finished_at is None:
        errors = {} if time_up else submission_errors(attempt)
        if errors:
            raise Invalid(N_("Some answers cannot be handed in yet."), errors)
        finish(session, attempt, now or utcnow())
    return attempt


def complete_grading(
    session: Session, attempt: Attempt, now: datetime, areas: Mapping[int, list[str]] | None = None
) -> None:
    """Every answer has its points: the score, the area breakdown, and the graded event. ``areas``
    (by question id) when the caller has them already."""
    earned: dict[str, float] = defaultdict(float)
    possible: dict[str, float] = defaultdict(float)
    if areas is None:
        question_ids = [slot.question_id for slot in attempt.slots]
        areas = dict(
            session.execute(select(Question.id, Question.areas).where(Question.id.in_(question_ids))).all()
        )
    for slot in attempt.slots:
        for area in areas[slot.question_id]:
            earned[area] += slot.points
            possible[area] += slot.version.points
    result = {
        "max_score": _max_score(attempt),
        "score": round(sum(slot.points for slot in attempt.slots), 6),
        "area_scores": {
            area: round(100.0 * earned[area] / possible[area], 2) for area in possible if possible[area]
        },
        "graded_at": now,
    }
    _store(session, Attempt, [(attempt, result)])
    add_to_outbox(session, graded_event(attempt))


def graded_event(attempt: Attempt) -> CloudEvent:
    quiz = attempt.quiz
    return new_event(
        catalog.ATTEMPT_GRADED.name,
        {
            "attempt_id": attempt.id,
            "quiz_slug": quiz.slug,
            "quiz_title": {"id": quiz.title_id, "en": quiz.title_en},
            "purpose": quiz.purpose,
            "programme_id": quiz.programme_id,
            "user_id": attempt.user_id,
            "email": attempt.email,
            "language": attempt.language,
            "score": attempt.score,
            "max_score": attempt.max_score,
            "percent": attempt.percent,
            "passed": attempt.passed,
            "area_scores": attempt.area_scores,
            "graded_at": attempt.graded_at,
        },
        service=SERVICE,
        subject=f"attempts/{attempt.id}",
    )


def expire_attempts(session: Session, now: datetime | None = None, limit: int = 100) -> int:
    """Close the open attempts past their deadline (the worker's task); returns how many."""
    now = now or utcnow()
    overdue = session.scalars(
        select(Attempt)
        .where(Attempt.finished_at.is_(None), Attempt.deadline <= now)
        .order_by(Attempt.deadline)
        .limit(limit)
    ).all()
    return sum(finish(session, attempt, attempt.deadline) for attempt in overdue)


# --- Manual grading ---------------------------------------------------------------------------


def attempts_to_grade(session: Session) -> list[Attempt]:
    """Submitted attempts with an answer a coordinator has to grade (essays), oldest first."""
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.finished_at.is_not(None), Attempt.graded_at.is_(None))
            .order_by(Attempt.finished_at, Attempt.id)
        )
    )


def grade_response(
    session: Session, attempt_id: int, question_id: int, fraction: float, now: datetime | None = None
) -> Attempt:
    """A coordinator's grade of one answer, as a fraction of its points; the attempt's result goes
    out when its last answer is graded."""
    attempt = session.get(Attempt, attempt_id, with_for_update=True)
    if attempt is None:
        raise NotFound(N_("No such attempt."))
    slot = next((slot for slot in attempt.slots if slot.question_id == question_id), None)
    if slot is None:
        raise NotFound(N_("Not a question of this attempt."))
    if attempt.finished_at is None:
        raise Conflict(N_("The attempt is still in progress."))
    if slot.fraction is not None:
        raise Conflict(N_("This answer is graded already."))
    slot.fraction = fraction
    slot.points = fraction * slot.version.points
    if all(other.fraction is not None for other in attempt.slots):
        complete_grading(session, attempt, now or utcnow())
    return attempt


# --- What a taker sees ------------------------------------------------------------------------


def review_options(attempt: Attempt, now: datetime) -> frozenset[str]:
    """What the quiz's review settings show of a finished attempt now; nothing while it runs."""
    if attempt.finished_at is None:
        return frozenset()
    quiz = attempt.quiz
    phase = "after_close" if quiz.closes_at is not None and now >= quiz.closes_at else "after_submit"
    return frozenset(quiz.review.get(phase, ()))


def slot_rng(attempt: Attempt, slot: AttemptQuestion) -> random.Random:
    """The same order of choices every time this attempt shows this question."""
    return random.Random(f"{attempt.seed}:{slot.question_id}")


def correctness(fraction: float | None) -> str:
    if fraction is None:
        return "needs_grading"
    return "correct" if fraction >= 1.0 else ("partial" if fraction > 0 else "wrong")


def seconds_left(attempt: Attempt, now: datetime) -> int | None:
    if attempt.finished_at is not None or attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - now).total_seconds()))


def attempt_view(attempt: Attempt, now: datetime, page: int | None = None) -> dict:
    """The attempt as its taker may see it now, for the API and the pages alike.

    While it runs: the questions of ``page`` (public bodies only) with the taker's own answers.
    Once finished: only what the quiz's review options allow (responses, score, correctness,
    feedback, correct answers) — answers and grades never leave before that."""
    shown = review_options(attempt, now)
    finished = attempt.finished_at is not None
    view = {
        "id": attempt.id,
        "quiz_slug": attempt.quiz.slug,
        "state": attempt.state,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "seconds_left": seconds_left(attempt, now),
        "finished_at": attempt.finished_at,
        "page": page,
        "page_count": attempt.pages,
        "question_count": len(attempt.slots),
        "answered_count": sum(slot.response is not None for slot in attempt.slots),
        "email": attempt.email,
        "review": sorted(shown),
        "questions": [],
    }
    if "score" in shown and attempt.graded_at is not None:
        level = attempt.level
        view |= {
            "score": attempt.score,
            "max_score": attempt.max_score,
            "percent": attempt.percent,
            "passed": attempt.passed,
            "level": level["name"] if level else None,
            "area_scores": attempt.area_scores,
        }
    if finished:
        slots = attempt.slots if shown & {"responses", "correctness", "feedback", "correct_answers"} else []
    else:
        slots = [slot for slot in attempt.slots if slot.page == page]
    for slot in slots:
        view["questions"].append(_question_view(attempt, slot, shown, finished))
    return view


def _question_view(attempt: Attempt, slot: AttemptQuestion, shown: frozenset[str], finished: bool) -> dict:
    version = slot.version
    kind = question_type(version.type)
    item = {
        "question_id": slot.question_id,
        "position": slot.position + 1,
        "page": slot.page,
        "type": version.type,
        "text": {"id": version.text_id, "en": version.text_en},
        "points": version.points,
        "body": kind.public_body(version.body, slot_rng(attempt, slot)),
    }
    if not finished or "responses" in shown:
        item["response"] = slot.response
    if "correctness" in shown:
        item["correctness"] = correctness(slot.fraction)
        item["points_earned"] = slot.points
    if shown & {"feedback", "correct_answers"}:
        review = kind.review(version.body, slot.response)
        if "feedback" in shown:
            item["feedback"] = review["feedback"]
            item["general_feedback"] = {"id": version.feedback_id, "en": version.feedback_en}
        if "correct_answers" in shown:
            item["correct_answer"] = review["correct_answer"]
    return item


def recommended_classes(
    session: Session, attempt: Attempt, now: datetime
) -> list[recommendations.Recommendation]:
    """Public classes for the taker's weakest areas, once the review shows them their area scores."""
    if attempt.graded_at is None or "score" not in review_options(attempt, now):
        return []
    return recommendations.recommend_classes(session, attempt.area_scores)


def quiz_grade(quiz: Quiz, attempts: Iterable[Attempt]) -> float | None:
    """The taker's grade for the quiz by its grading method, over their graded attempts."""
    percents = [attempt.percent for attempt in attempts if attempt.graded_at is not None]
    return grade_by_method(quiz.grading_method, percents)


def grade_by_method(method: str, percents: Sequence[float]) -> float | None:
    """One grade from percentages in the order they were earned: highest, first, last or average."""
    if not percents:
        return None
    if method == "highest":
        return max(percents)
    if method == "first":
        return percents[0]
    if method == "last":
        return percents[-1]
    return round(sum(percents) / len(percents), 2)


def my_grade(session: Session, quiz: Quiz, taker: Taker, now: datetime | None = None) -> dict:
    """The taker's grade for the quiz, from the attempts whose score the review shows now."""
    now = now or utcnow()
    attempts = takers_attempts(session, quiz, taker)
    percent = quiz_grade(quiz, [attempt for attempt in attempts if "score" in review_options(attempt, now)])
    level = quiz.level_for(percent) if percent is not None else None
    return {
        "quiz_slug": quiz.slug,
        "grading_method": quiz.grading_method,
        "attempts": len(attempts),
        "graded_attempts": sum(attempt.graded_at is not None for attempt in attempts),
        "percent": percent,
        "passed": None if percent is None else percent >= quiz.pass_percent,
        "level": level["name"] if level else None,
    }


# --- Events consumed --------------------------------------------------------------------------


# Plain SQL that PostgreSQL and SQLite both speak: one statement, where a merge would read first.
ADD_PARTICIPANT = text(
    "INSERT INTO programme_participants (user_id, programme_id) VALUES (:user_id, :programme_id)"
    " ON CONFLICT DO NOTHING"
)


def on_enrollment_confirmed(event: CloudEvent, session: Session) -> None:
    """Remember who holds a seat in which programme, for quizzes of those enrolled."""
    data = event.data
    session.execute(ADD_PARTICIPANT, {"user_id": data["user_id"], "programme_id": data["programme_id"]})


EVENT_HANDLERS: dict = {
    catalog.ENROLLMENT_CONFIRMED.name: on_enrollment_confirmed,
    catalog.ACTIVITY_COMPLETED.name: surveys.on_activity_completed,
    catalog.PROGRAMME_PUBLISHED.name: recommendations.on_programme_published,
}
