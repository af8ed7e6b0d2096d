"""Pre/post gains: whether a programme's training worked, from its pre-test and its post-test.

A learner's pre score is their first graded attempt of the pre-test; their post score is their grade
for the post-test by its grading method. Both are percentages, so the maximum is 100. The normalized
gain g = (post − pre) / (max − pre) is the share of what was left to learn that was learned, given
in percent. Per programme and per competency area: the average of the learners' gains and the gain
of the averages (g of the mean pre and the mean post of the same learners), with the number of
learners counted and of those left out, by reason: no pre-test, no post-test, or full marks on the
pre-test (nothing left to gain).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import NotFound
from shared.i18n import N_

from .handlers import grade_by_method
from .models import Attempt, Quiz
from .recommendations import PublishedProgramme

MAXIMUM = 100.0
MISSING_PRE, MISSING_POST, PRE_AT_MAXIMUM = "missing_pre", "missing_post", "pre_at_maximum"
EXCLUSIONS = (MISSING_PRE, MISSING_POST, PRE_AT_MAXIMUM)


@dataclass(frozen=True)
class Scores:
    """A learner's result on one test: the percentage, and the percentage per competency area."""

    percent: float
    areas: Mapping[str, float]


@dataclass(frozen=True)
class LearnerGain:
    user_id: int
    pre: float | None
    post: float | None
    gain: float | None  # in percent; None when the learner is left out
    excluded: str | None  # one of EXCLUSIONS, or None


@dataclass(frozen=True)
class GainSummary:
    area: str | None  # None for the whole test
    learners: int  # those with a gain
    mean_pre: float | None
    mean_post: float | None
    average_gain: float | None  # the mean of the learners' gains
    gain_of_averages: float | None  # the gain from mean_pre to mean_post
    excluded: dict[str, int]  # learners left out, by reason


@dataclass(frozen=True)
class GainReport:
    learners: tuple[LearnerGain, ...]  # by user id
    overall: GainSummary
    areas: tuple[GainSummary, ...]  # by area code


def normalized_gain(pre: float, post: float, maximum: float = MAXIMUM) -> float:
    """g in percent, for a pre score below the maximum; negative when the learner fell back."""
    return 100.0 * (post - pre) / (maximum - pre)


def learner_gain(user_id: int, pre: float | None, post: float | None) -> LearnerGain:
    """The learner's gain, or why there is none (checked in this order: no pre, no post, pre at
    the maximum)."""
    if pre is None:
        reason = MISSING_PRE
    elif post is None:
        reason = MISSING_POST
    elif pre >= MAXIMUM:
        reason = PRE_AT_MAXIMUM
    else:
        return LearnerGain(user_id, pre, post, normalized_gain(pre, post), None)
    return LearnerGain(user_id, pre, post, None, reason)


def summarise(gains: Sequence[LearnerGain], area: str | None = None) -> GainSummary:
    counted = [gain for gain in gains if gain.gain is not None]
    excluded = {reason: sum(gain.excluded == reason for gain in gains) for reason in EXCLUSIONS}
    if not counted:
        return GainSummary(area, 0, None, None, None, None, excluded)
    mean_pre = fmean(gain.pre for gain in counted)
    mean_post = fmean(gain.post for gain in counted)
    return GainSummary(
        area=area,
        learners=len(counted),
        mean_pre=mean_pre,
        mean_post=mean_post,
        average_gain=fmean(gain.gain for gain in counted),
        # Every counted pre is below the maximum, so their mean is too.
        gain_of_averages=normalized_gain(mean_pre, mean_post),
        excluded=excluded,
    )


def gain_report(pre: Mapping[int, Scores], post: Mapping[int, Scores]) -> GainReport:
    """Gains of everyone with a pre or a post score (user id → Scores), overall and per area.

    In an area, a learner's pre and post are their area percentages; a test without that area
    counts as missing for it."""
    user_ids = sorted(pre.keys() | post.keys())

    def percent(scores: Scores | None, area: str | None) -> float | None:
        if scores is None:
            return None
        return scores.percent if area is None else scores.areas.get(area)

    def learners(area: str | None) -> list[LearnerGain]:
        return [
            learner_gain(user_id, percent(pre.get(user_id), area), percent(post.get(user_id), area))
            for user_id in user_ids
        ]

    overall = learners(None)
    areas = sorted({area for scores in (*pre.values(), *post.values()) for area in scores.areas})
    return GainReport(
        learners=tuple(overall),
        overall=summarise(overall),
        areas=tuple(summarise(learners(area), area) for area in areas),
    )


# From the database ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeGains:
    programme_id: int
    title_id: str | None  # from the programme's published event; None when none arrived
    title_en: str | None
    pre_test: Quiz
    post_test: Quiz
    learners: tuple[LearnerGain, ...]
    overall: GainSummary
    areas: tuple[GainSummary, ...]

    def title(self, language: str) -> str | None:
        return self.title_en if language == "en" else self.title_id


def pre_post_pairs(session: Session) -> dict[int, tuple[Quiz, Quiz]]:
    """Programme id → (pre-test, post-test) of every programme with both; the first made of each
    when a programme has several."""
    quizzes = session.scalars(
        select(Quiz)
        .where(Quiz.programme_id.is_not(None), Quiz.purpose.in_(("pre_test", "post_test")))
        .order_by(Quiz.id)
    )
    pre_tests: dict[int, Quiz] = {}
    post_tests: dict[int, Quiz] = {}
    for quiz in quizzes:
        (pre_tests if quiz.purpose == "pre_test" else post_tests).setdefault(quiz.programme_id, quiz)
    return {
        programme_id: (pre_tests[programme_id], post_tests[programme_id])
        for programme_id in sorted(pre_tests.keys() & post_tests.keys())
    }


def graded_attempts(session: Session, quiz: Quiz) -> dict[int, list[Attempt]]:
    """User id → their graded attempts of the quiz, in the order they were started."""
    attempts = session.scalars(
        select(Attempt)
        .where(Attempt.quiz_id == quiz.id, Attempt.user_id.is_not(None), Attempt.graded_at.is_not(None))
        .order_by(Attempt.started_at, Attempt.id)
    )
    by_user: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_user[attempt.user_id].append(attempt)
    return by_user


def pre_scores(session: Session, quiz: Quiz) -> dict[int, Scores]:
    """Each learner's first graded attempt."""
    return {
        user_id: Scores(attempts[0].percent, dict(attempts[0].area_scores))
        for user_id, attempts in graded_attempts(session, quiz).items()
    }


def post_scores(session: Session, quiz: Quiz) -> dict[int, Scores]:
    """Each learner's grade by the quiz's grading method; in each area, the same method over the
    area's percentages."""
    scores = {}
    for user_id, attempts in graded_attempts(session, quiz).items():
        areas = sorted({area for attempt in attempts for area in attempt.area_scores})
        scores[user_id] = Scores(
            grade_by_method(quiz.grading_method, [attempt.percent for attempt in attempts]),
            {
                area: grade_by_method(
                    quiz.grading_method,
                    [attempt.area_scores[area] for attempt in attempts if area in attempt.area_scores],
                )
                for area in areas
            },
        )
    return scores


def _programme_gains(session: Session, programme_id: int, pre_test: Quiz, post_test: Quiz) -> ProgrammeGains:
    report = gain_report(pre_scores(session, pre_test), post_scores(session, post_test))
    programme = session.scalar(
        select(PublishedProgramme).where(PublishedProgramme.programme_id == programme_id)
    )
    return ProgrammeGains(
        programme_id=programme_id,
        title_id=programme.title_id if programme else None,
        title_en=programme.title_en if programme else None,
        pre_test=pre_test,
        post_test=post_test,
        learners=report.learners,
        overall=report.overall,
        areas=report.areas,
    )


def all_programme_gains(session: Session) -> list[ProgrammeGains]:
    """The gains of every programme with a pre-test and a post-test, by programme id."""
    return [
        _programme_gains(session, programme_id, pre_test, post_test)
        for programme_id, (pre_test, post_test) in pre_post_pairs(session).items()
    ]


def programme_gains(session: Session, programme_id: int) -> ProgrammeGains:
    pair = pre_post_pairs(session).get(programme_id)
    if pair is None:
        raise NotFound(N_("This programme has no pre-test and post-test pair."))
    return _programme_gains(session, programme_id, *pair)


CSV_HEADER = (
    "row",
    "area",
    "user_id",
    "learners",
    "pre",
    "post",
    "gain",
    "average_gain",
    "gain_of_averages",
    "excluded",
    "excluded_missing_pre",
    "excluded_missing_post",
    "excluded_pre_at_maximum",
)


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def gains_csv(report: ProgrammeGains) -> str:
    """One row for the programme, one per area and one per learner; percentages to two decimals.
    Summary rows give the mean pre and post of the learners counted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row, summary in (("programme", report.overall), *(("area", area) for area in report.areas)):
        writer.writerow(
            [
                row,
                summary.area or "",
                "",
                summary.learners,
                _figure(summary.mean_pre),
                _figure(summary.mean_post),
                "",
                _figure(summary.average_gain),
                _figure(summary.gain_of_averages),
                "",
                *(summary.excluded[reason] for reason in EXCLUSIONS),
            ]
        )
    for learner in report.learners:
        writer.writerow(
            [
                "learner",
                "",
                learner.user_id,
                "",
                _figure(learner.pre),
                _figure(learner.post),
                _figure(learner.gain),
                "",
                "",
                learner.excluded or "",
                "",
                "",
                "",
            ]
        )
    return out.getvalue()
