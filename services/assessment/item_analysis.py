"""Item analysis of a quiz: classical test theory over its finished attempts.

The figures come from two matrices, one row per attempt and one column per item: the points
scored (0..the item's maximum) and the chosen option (for choice-based question types, the index
of the response's key among the type's ``option_keys``; -1 for none, and for every other type,
which gets no distractor analysis). Everything is
computed with numpy matrix operations, so 100,000 attempts take well under a second.

Conventions: standard deviations and variances are sample ones (ddof=1), as in pingouin's
Cronbach's alpha; the upper and lower groups are the 27% of attempts with the highest and lowest
totals (at least one attempt each, ties broken by attempt order); a figure that is undefined
(fewer than two attempts, no variance) is None.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import LargeBinary, Select, SmallInteger, Text, case, cast, func, literal, select
from sqlalchemy.orm import Session, selectinload

from shared.errors import NotFound

from .models import Attempt, AttemptQuestion, Question, QuestionVersion, Quiz
from .question_types import question_type

if TYPE_CHECKING:
    import numpy as np

# numpy is imported inside the functions that compute: the service's web and worker
# processes load it only when a coordinator asks for an analysis (idle memory stays low).

GROUP_SHARE = 0.27
TOO_EASY = 0.9
TOO_HARD = 0.2
LOW_DISCRIMINATION = 0.2

# Item flags, in the order they are reported.
FLAG_TOO_EASY = "too_easy"
FLAG_TOO_HARD = "too_hard"
FLAG_LOW_DISCRIMINATION = "low_discrimination"
FLAG_NEGATIVE_DISCRIMINATION = "negative_discrimination"
FLAG_UNUSED_DISTRACTOR = "unused_distractor"
FLAG_DISTRACTOR_BEATS_KEY = "distractor_beats_key"
FLAG_NO_RESPONSES = "no_responses"
FLAGS = (
    FLAG_TOO_EASY,
    FLAG_TOO_HARD,
    FLAG_LOW_DISCRIMINATION,
    FLAG_NEGATIVE_DISCRIMINATION,
    FLAG_UNUSED_DISTRACTOR,
    FLAG_DISTRACTOR_BEATS_KEY,
    FLAG_NO_RESPONSES,
)


@dataclass(frozen=True)
class ChoiceStats:
    index: int
    is_key: bool
    count: int
    proportion: float | None
    upper_proportion: float | None
    lower_proportion: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ItemStats:
    index: int
    max_score: float
    answered: int
    facility: float | None
    sd: float | None
    discrimination: float | None
    point_biserial: float | None
    flags: tuple[str, ...]
    choices: tuple[ChoiceStats, ...]


@dataclass(frozen=True)
class TestStats:
    n_attempts: int
    n_items: int
    max_score: float
    mean: float | None
    sd: float | None
    alpha: float | None
    sem: float | None


@dataclass(frozen=True)
class ItemAnalysis:
    test: TestStats
    items: tuple[ItemStats, ...]
    group_size: int


def _number(value) -> float | None:
    import numpy as np

    value = float(value)
    return value if np.isfinite(value) else None


def cronbach_alpha(scores: np.ndarray) -> float | None:
    """k/(k-1) · (1 - Σ item variances / variance of totals), sample variances; KR-20 for 0/1 items."""
    import numpy as np

    scores = np.asarray(scores, dtype=float)
    n, k = scores.shape
    if n < 2 or k < 2:
        return None
    total_variance = scores.sum(axis=1).var(ddof=1)
    if total_variance <= 0:
        return None
    return float(k / (k - 1) * (1.0 - scores.var(axis=0, ddof=1).sum() / total_variance))


def group_size(n_attempts: int) -> int:
    """How many attempts form the upper (and the lower) group: 27%, rounded half up, at least one."""
    import numpy as np

    if n_attempts < 2:
        return 0
    return min(max(1, int(np.floor(GROUP_SHARE * n_attempts + 0.5))), n_attempts // 2)


def _corrected_point_biserial(scores: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Pearson correlation of each item with the total of the other items (NaN where undefined)."""
    import numpy as np

    item = scores - scores.mean(axis=0)
    rest = totals[:, None] - scores
    rest -= rest.mean(axis=0)
    numerator = np.einsum("ij,ij->j", item, rest)
    denominator = np.sqrt(np.einsum("ij,ij->j", item, item) * np.einsum("ij,ij->j", rest, rest))
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = numerator / denominator
    # Rounding can leave a tiny spread on a constant column: treat it as none.
    scale = np.maximum(np.abs(scores).max(axis=0, initial=0.0), 1.0) * np.sqrt(len(scores))
    correlation[denominator <= 1e-12 * scale**2] = np.nan
    return np.clip(correlation, -1.0, 1.0)


def _choice_counts(chosen: np.ndarray, width: int) -> np.ndarray:
    """items × options: how many rows chose each option (chosen = -1 counts as nothing)."""
    import numpy as np

    n_items = chosen.shape[1]
    if chosen.size == 0 or width == 0:
        return np.zeros((n_items, width), dtype=np.int64)
    valid = (chosen >= 0) & (chosen < width)
    cells = (np.arange(n_items) * width)[None, :] + chosen
    return np.bincount(cells[valid], minlength=n_items * width).reshape(n_items, width)


def analyse(
    scores,
    maxima: Sequence[float],
    chosen,
    keys: Sequence[int],
    n_options: Sequence[int] | None = None,
    answered: Sequence[int] | None = None,
) -> ItemAnalysis:
    """Item, distractor and test figures of a score matrix and a choice matrix.

    scores: attempts × items points; maxima: each item's maximum; chosen: attempts × items option
    indexes, -1 for no answer; keys: each item's correct option index (-1 if it has none);
    n_options: how many options each item offers (by default the highest index seen, plus one);
    answered: how many attempts answered each item (by default those that chose an option; items
    without options, such as short answers, are answered without choosing one).
    """
    import numpy as np

    scores = np.asarray(scores, dtype=float)
    maxima = np.asarray(maxima, dtype=float)
    n_items = len(maxima)
    scores = scores.reshape(-1, n_items)
    chosen = np.asarray(chosen, dtype=np.int64).reshape(-1, n_items)
    keys = np.asarray(keys, dtype=np.int64).reshape(n_items)
    if chosen.shape != scores.shape:
        raise ValueError("The score and choice matrices differ in shape.")
    n = scores.shape[0]
    if n_options is None:
        seen = chosen.max(axis=0, initial=-1) if n else np.full(n_items, -1)
        n_options = np.maximum(np.maximum(seen, keys) + 1, 0)
    n_options = np.asarray(n_options, dtype=np.int64).reshape(n_items)

    totals = scores.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        facility = scores.mean(axis=0) / maxima if n else np.full(n_items, np.nan)
    facility[maxima <= 0] = np.nan
    sd = scores.std(axis=0, ddof=1) if n >= 2 else np.full(n_items, np.nan)
    point_biserial = _corrected_point_biserial(scores, totals) if n >= 2 else np.full(n_items, np.nan)

    size = group_size(n)
    order = np.argsort(-totals, kind="stable")
    upper, lower = order[:size], order[n - size :]
    if size:
        with np.errstate(divide="ignore", invalid="ignore"):
            discrimination = (scores[upper].mean(axis=0) - scores[lower].mean(axis=0)) / maxima
        discrimination[maxima <= 0] = np.nan
    else:
        discrimination = np.full(n_items, np.nan)

    width = int(n_options.max(initial=0))
    counts = _choice_counts(chosen, width)
    upper_counts = _choice_counts(chosen[upper], width)
    lower_counts = _choice_counts(chosen[lower], width)
    if answered is None:
        answered = (chosen >= 0).sum(axis=0)
    answered = np.asarray(answered, dtype=np.int64).reshape(n_items)
    offered = np.arange(width)[None, :] < n_options[:, None]
    is_key = np.arange(width)[None, :] == keys[:, None]
    # How many of the upper group chose the key (a padding column of zeros stands for no key).
    key_column = np.where((keys >= 0) & (keys < width), keys, width)
    key_upper = np.pad(upper_counts, ((0, 0), (0, 1)))[np.arange(n_items), key_column]
    unused = offered & ~is_key & (counts == 0) & (n > 0)
    beats_key = offered & ~is_key & (upper_counts > key_upper[:, None]) & (keys[:, None] >= 0)

    items = []
    for j in range(n_items):
        if n and answered[j] == 0:
            flags = [FLAG_NO_RESPONSES]
        else:
            flags = []
            if facility[j] > TOO_EASY:
                flags.append(FLAG_TOO_EASY)
            if facility[j] < TOO_HARD:
                flags.append(FLAG_TOO_HARD)
            if discrimination[j] < LOW_DISCRIMINATION:
                flags.append(FLAG_LOW_DISCRIMINATION)
            if discrimination[j] < 0:
                flags.append(FLAG_NEGATIVE_DISCRIMINATION)
            if unused[j].any():
                flags.append(FLAG_UNUSED_DISTRACTOR)
            if beats_key[j].any():
                flags.append(FLAG_DISTRACTOR_BEATS_KEY)
        choices = tuple(
            ChoiceStats(
                index=option,
                is_key=bool(is_key[j, option]),
                count=int(counts[j, option]),
                proportion=float(counts[j, option] / n) if n else None,
                upper_proportion=float(upper_counts[j, option] / size) if size else None,
                lower_proportion=float(lower_counts[j, option] / size) if size else None,
                flags=tuple(
                    flag
                    for flag, raised in (
                        (FLAG_UNUSED_DISTRACTOR, unused[j, option]),
                        (FLAG_DISTRACTOR_BEATS_KEY, beats_key[j, option]),
                    )
                    if raised and answered[j]
                ),
            )
            for option in range(int(n_options[j]))
        )
        items.append(
            ItemStats(
                index=j,
                max_score=float(maxima[j]),
                answered=int(answered[j]),
                facility=_number(facility[j]),
                sd=_number(sd[j]),
                discrimination=_number(discrimination[j]),
                point_biserial=_number(point_biserial[j]),
                flags=tuple(flags),
                choices=choices,
            )
        )

    alpha = cronbach_alpha(scores)
    total_sd = float(totals.std(ddof=1)) if n >= 2 else None
    test = TestStats(
        n_attempts=n,
        n_items=n_items,
        max_score=float(maxima.sum()),
        mean=float(totals.mean()) if n else None,
        sd=total_sd,
        alpha=alpha,
        sem=float(total_sd * np.sqrt(1.0 - alpha)) if alpha is not None and alpha <= 1 else None,
    )
    return ItemAnalysis(test=test, items=tuple(items), group_size=size)


# --- From the database -------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    key: str
    text: dict  # {"id", "en"}


@dataclass(frozen=True)
class QuizMatrices:
    quiz: Quiz
    questions: list[Question]
    options: list[list[Option]]
    attempt_ids: np.ndarray
    scores: np.ndarray
    chosen: np.ndarray
    maxima: np.ndarray
    keys: np.ndarray
    n_options: np.ndarray
    answered: np.ndarray


def _options(version: QuestionVersion) -> list[Option]:
    """A choice-based item's options in authored order, with the texts its public body shows."""
    kind = question_type(version.type)
    if not kind.choice_based:
        return []
    shown = {
        option["key"]: option.get("text")
        for values in kind.public_body(version.body, None).values()
        if isinstance(values, list)
        for option in values
        if isinstance(option, dict) and "key" in option
    }
    return [Option(key, shown.get(key) or {"id": key, "en": key}) for key in kind.option_keys(version.body)]


def _response_texts(key: str) -> list[str]:
    """The stored JSON texts of the responses that choose an option key: the key as a JSON string, and
    for true/false the JSON boolean it is stored as."""
    texts = [json.dumps(key)]
    if key in ("true", "false"):
        texts.append(key)
    return texts


def _chosen_option(questions: list[Question], options: list[list[Option]]):
    """A SQL expression for the index of an attempt question's response among its item's options
    (-1 for none), matched in the database rather than decoded in Python. One branch per distinct
    list of option keys (most items share a few), each a simple CASE, so the response's text is
    computed once a row, not once an option."""
    by_keys: dict[tuple[str, ...], list[int]] = {}
    for question, choices in zip(questions, options, strict=True):
        if choices:
            by_keys.setdefault(tuple(option.key for option in choices), []).append(question.id)
    branches = [
        (
            AttemptQuestion.question_id.in_(question_ids),
            case(
                {text: index for index, key in enumerate(keys) for text in _response_texts(key)},
                value=cast(AttemptQuestion.response, Text),
                else_=-1,
            ),
        )
        for keys, question_ids in by_keys.items()
    ]
    return case(*branches, else_=-1) if branches else literal(-1)


@dataclass(frozen=True)
class _Answers:
    """One question's answers in the finished attempts."""

    attempt_ids: np.ndarray
    chosen: np.ndarray
    points: np.ndarray
    answered: int  # how many have a response


def _answers(
    session: Session,
    finished: Select,
    questions: list[Question],
    options: list[list[Option]],
    only: list[int] | None = None,
) -> dict[int, _Answers]:
    """Each question's answers in the finished attempts (only those of the question ids `only`, if
    given), by question id; a question outside `questions` gets chosen = -1 throughout."""
    where = AttemptQuestion.attempt_id.in_(finished.scalar_subquery())
    if only is not None:
        where = where & AttemptQuestion.question_id.in_(only)
    chosen = _chosen_option(questions, options)
    if session.get_bind().dialect.name == "postgresql":
        return _packed_answers(session, where, chosen)
    return _answer_rows(session, where, chosen)


def _packed_answers(session: Session, where, chosen) -> dict[int, _Answers]:
    """PostgreSQL: one row per question, its answers packed as fixed-width binary records that numpy
    reads as they are. 3 million answers as rows, or as text to parse, take seconds."""
    import numpy as np

    answer = (
        func.int4send(AttemptQuestion.attempt_id, type_=LargeBinary)
        .op("||")(func.int2send(cast(chosen, SmallInteger)))
        .op("||")(func.float8send(func.coalesce(AttemptQuestion.points, 0.0)))
    )
    answers = (
        select(
            AttemptQuestion.question_id,
            AttemptQuestion.response.is_not(None).label("answered"),
            answer.label("answer"),
        )
        .where(where)
        # OFFSET 0 keeps the subquery from being merged, so the parallel workers pack the answers and
        # the leader only concatenates them (merged, the leader packs them all, or sorts them on disk).
        .offset(0)
        .subquery()
    )
    record = np.dtype([("attempt_id", ">i4"), ("chosen", ">i2"), ("points", ">f8")])
    result = {}
    for question_id, packed, answered in session.execute(
        select(
            answers.c.question_id,
            func.string_agg(answers.c.answer, literal(b"", LargeBinary)),
            func.count().filter(answers.c.answered),
        ).group_by(answers.c.question_id)
    ):
        rows = np.frombuffer(packed, dtype=record)
        result[question_id] = _Answers(
            rows["attempt_id"].astype(np.int64),
            rows["chosen"].astype(np.int64),
            rows["points"].astype(float),
            answered,
        )
    return result


def _answer_rows(session: Session, where, chosen) -> dict[int, _Answers]:
    """Any other database (SQLite, embedded): a row per answer, which is slower but small there."""
    import numpy as np

    rows = session.execute(
        select(
            AttemptQuestion.question_id,
            AttemptQuestion.attempt_id,
            chosen,
            case((AttemptQuestion.response.is_(None), 0), else_=1),
            func.coalesce(AttemptQuestion.points, 0.0),
        )
        .where(where)
        .order_by(AttemptQuestion.question_id)
    ).all()
    table = np.array(rows, dtype=float).reshape(-1, 5)
    question_ids, starts = np.unique(table[:, 0], return_index=True)
    return {
        int(question_id): _Answers(
            part[:, 1].astype(np.int64), part[:, 2].astype(np.int64), part[:, 4], int(part[:, 3].sum())
        )
        for question_id, part in zip(question_ids, np.split(table, starts[1:]), strict=True)
    }


def _questions(session: Session, question_ids: list[int]) -> list[Question]:
    """The questions with these ids, in that order, with their versions."""
    found = {
        question.id: question
        for question in session.scalars(
            select(Question).where(Question.id.in_(question_ids)).options(selectinload(Question.versions))
        )
    }
    return [found[question_id] for question_id in question_ids]


def load_quiz_matrices(session: Session, slug: str) -> QuizMatrices:
    """The quiz's score and choice matrices over its finished attempts, one column per question:
    the fixed ones in order, then any other a pool drew, by id. An item is shown as its current
    version; a question an attempt did not draw counts as unanswered there."""
    import numpy as np

    quiz = session.scalar(select(Quiz).where(Quiz.slug == slug))
    if quiz is None:
        raise NotFound("No such quiz.")
    finished = select(Attempt.id).where(Attempt.quiz_id == quiz.id, Attempt.finished_at.is_not(None))
    fixed = [item.question_id for item in quiz.quiz_questions]
    questions = _questions(session, fixed)
    options = [_options(question.current) for question in questions]
    answers = _answers(session, finished, questions, options)
    # The questions drawn from pools (or since removed from the quiz) show up among the answers; a
    # second pass reads theirs with their options. Finding them first would cost every quiz a pass.
    drawn = sorted(set(answers) - set(fixed))
    if drawn:
        extra = _questions(session, drawn)
        extra_options = [_options(question.current) for question in extra]
        answers |= _answers(session, finished, extra, extra_options, only=drawn)
        questions += extra
        options += extra_options

    # Each attempt's row, by a lookup over the range of ids rather than by sorting 3 million of them.
    first = min((int(part.attempt_ids.min()) for part in answers.values()), default=0)
    last = max((int(part.attempt_ids.max()) for part in answers.values()), default=-1)
    seen = np.zeros(last - first + 1, dtype=bool)
    for part in answers.values():
        seen[part.attempt_ids - first] = True
    attempt_ids = np.flatnonzero(seen) + first
    row = np.cumsum(seen, dtype=np.int64) - 1
    scores = np.zeros((len(attempt_ids), len(questions)))
    chosen = np.full((len(attempt_ids), len(questions)), -1, dtype=np.int64)
    answered = np.zeros(len(questions), dtype=np.int64)
    for j, question in enumerate(questions):
        part = answers.get(question.id)
        if part is None:  # no finished attempt drew it
            continue
        i = row[part.attempt_ids - first]
        chosen[i, j] = part.chosen
        scores[i, j] = part.points
        answered[j] = part.answered
    keys = []
    for question, choices in zip(questions, options, strict=True):
        correct = set(question_type(question.current.type).correct_keys(question.current.body))
        keys.append(next((i for i, option in enumerate(choices) if option.key in correct), -1))
    return QuizMatrices(
        quiz=quiz,
        questions=questions,
        options=options,
        attempt_ids=attempt_ids,
        scores=scores,
        chosen=chosen,
        maxima=np.array([question.current.points for question in questions], dtype=float),
        keys=np.array(keys, dtype=np.int64),
        n_options=np.array([len(choices) for choices in options], dtype=np.int64),
        answered=answered,
    )


# --- The report the API, the CSV and the page show --------------------------------------------


@dataclass(frozen=True)
class ChoiceReport:
    key: str
    label: str
    text_id: str
    text_en: str
    is_key: bool
    count: int
    proportion: float | None
    upper_proportion: float | None
    lower_proportion: float | None
    flags: tuple[str, ...]

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_id


@dataclass(frozen=True)
class ItemReport:
    question_id: int
    position: int
    type: str
    text_id: str
    text_en: str
    areas: list[str]
    max_score: float
    answered: int
    facility: float | None
    sd: float | None
    discrimination: float | None
    point_biserial: float | None
    flags: tuple[str, ...]
    choices: list[ChoiceReport]

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_id


@dataclass(frozen=True)
class QuizItemAnalysis:
    quiz: Quiz
    test: TestStats
    group_size: int
    items: list[ItemReport]

    @property
    def quiz_slug(self) -> str:
        return self.quiz.slug


def quiz_item_analysis(session: Session, slug: str) -> QuizItemAnalysis:
    """Item analysis of one quiz over all its finished attempts."""
    data = load_quiz_matrices(session, slug)
    analysis = analyse(data.scores, data.maxima, data.chosen, data.keys, data.n_options, data.answered)
    items = [
        ItemReport(
            question_id=question.id,
            position=position,
            type=question.current.type,
            text_id=question.current.text_id,
            text_en=question.current.text_en,
            areas=list(question.areas),
            max_score=stats.max_score,
            answered=stats.answered,
            facility=stats.facility,
            sd=stats.sd,
            discrimination=stats.discrimination,
            point_biserial=stats.point_biserial,
            flags=stats.flags,
            choices=[
                ChoiceReport(
                    key=option.key,
                    label=chr(ord("A") + figures.index),
                    text_id=option.text["id"],
                    text_en=option.text["en"],
                    is_key=figures.is_key,
                    count=figures.count,
                    proportion=figures.proportion,
                    upper_proportion=figures.upper_proportion,
                    lower_proportion=figures.lower_proportion,
                    flags=figures.flags,
                )
                for option, figures in zip(options, stats.choices, strict=True)
            ],
        )
        for position, (question, options, stats) in enumerate(
            zip(data.questions, data.options, analysis.items, strict=True), start=1
        )
    ]
    return QuizItemAnalysis(quiz=data.quiz, test=analysis.test, group_size=analysis.group_size, items=items)


CSV_COLUMNS = (
    "position",
    "question_id",
    "areas",
    "question",
    "max_score",
    "answered",
    "facility",
    "sd",
    "discrimination",
    "point_biserial",
    "flags",
)


def analysis_csv(report: QuizItemAnalysis) -> str:
    """One row per item with its figures and flags (areas and flags separated by ';')."""

    def figure(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in report.items:
        writer.writerow(
            (
                item.position,
                item.question_id,
                ";".join(item.areas),
                item.text_id,
                f"{item.max_score:g}",
                item.answered,
                figure(item.facility),
                figure(item.sd),
                figure(item.discrimination),
                figure(item.point_biserial),
                ";".join(item.flags),
            )
        )
    return out.getvalue()
