"""Assessment's API schemas. Correct answers appear in none of them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ChoiceOut(Schema):
    id = fields.Integer()
    text_id = fields.String()
    text_en = fields.String()


class QuestionOut(Schema):
    id = fields.Integer()
    text_id = fields.String()
    text_en = fields.String()
    competency_area = fields.String()
    points = fields.Float()
    choices = fields.List(fields.Nested(ChoiceOut))


class QuizSummary(Schema):
    slug = fields.String()
    title_id = fields.String()
    title_en = fields.String()
    description_id = fields.String()
    description_en = fields.String()
    audience = fields.String()
    purpose = fields.String()
    pass_percent = fields.Float()


class QuizOut(QuizSummary):
    questions = fields.List(fields.Nested(QuestionOut))


class AttemptCreate(Schema):
    answers = fields.Dict(
        keys=fields.Integer(strict=False),
        values=fields.Integer(strict=False),
        required=True,
        metadata={"description": "question id → chosen choice id"},
    )
    language = fields.String(load_default="id", validate=validate.OneOf(("id", "en")))


class AttemptOut(Schema):
    id = fields.Integer()
    quiz_slug = fields.Function(lambda attempt: attempt.quiz.slug)
    score = fields.Float()
    max_score = fields.Float()
    percent = fields.Float()
    passed = fields.Boolean()
    area_scores = fields.Dict(keys=fields.String(), values=fields.Float())
    submitted_at = fields.AwareDateTime()
