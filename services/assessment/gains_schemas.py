"""The pre/post gains API's schemas: percentages, gains in percent, exclusions by reason."""

from __future__ import annotations

from marshmallow import Schema, fields

from shared.competencies import area_name

from .gains import EXCLUSIONS


def _bilingual(first: str | None, second: str | None) -> dict | None:
    return None if first is None else {"id": first, "en": second}


class GainSummaryOut(Schema):
    area = fields.String(
        allow_none=True, metadata={"description": "a competency area; null for the whole test"}
    )
    area_name = fields.Function(
        lambda s: None if s.area is None else _bilingual(area_name(s.area, "id"), area_name(s.area, "en"))
    )
    learners = fields.Integer(metadata={"description": "learners with a gain"})
    mean_pre = fields.Float(allow_none=True, metadata={"description": "mean pre score of those learners, %"})
    mean_post = fields.Float(
        allow_none=True, metadata={"description": "mean post score of those learners, %"}
    )
    average_gain = fields.Float(
        allow_none=True, metadata={"description": "the mean of the learners' normalized gains, in percent"}
    )
    gain_of_averages = fields.Float(
        allow_none=True,
        metadata={"description": "(mean post − mean pre) / (100 − mean pre), in percent"},
    )
    excluded = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": f"learners left out, by reason: {', '.join(EXCLUSIONS)}"},
    )


class LearnerGainOut(Schema):
    user_id = fields.Integer()
    pre = fields.Float(allow_none=True, metadata={"description": "first graded pre-test attempt, %"})
    post = fields.Float(allow_none=True, metadata={"description": "post-test grade by its grading method, %"})
    gain = fields.Float(allow_none=True, metadata={"description": "normalized gain in percent"})
    excluded = fields.String(
        allow_none=True, metadata={"description": f"why no gain: {', '.join(EXCLUSIONS)}"}
    )


class QuizRefOut(Schema):
    slug = fields.String()
    title = fields.Function(lambda quiz: {"id": quiz.title_id, "en": quiz.title_en})
    grading_method = fields.String()


class ProgrammeGainsSummaryOut(Schema):
    programme_id = fields.Integer()
    title = fields.Function(
        lambda p: _bilingual(p.title_id, p.title_en),
        metadata={"description": "from the programme's published event; null before it arrives"},
    )
    pre_test = fields.Nested(QuizRefOut)
    post_test = fields.Nested(QuizRefOut)
    overall = fields.Nested(GainSummaryOut)


class ProgrammeGainsOut(ProgrammeGainsSummaryOut):
    areas = fields.List(fields.Nested(GainSummaryOut), metadata={"description": "by area code"})
    learners = fields.List(fields.Nested(LearnerGainOut), metadata={"description": "by user id"})
