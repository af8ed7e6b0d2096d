"""Assessment's API schemas. Correct answers appear only in the coordinators' item analysis."""

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


class ChoiceAnalysisOut(Schema):
    choice_id = fields.Integer()
    label = fields.String()
    text_id = fields.String()
    text_en = fields.String()
    is_key = fields.Boolean()
    count = fields.Integer()
    proportion = fields.Float(allow_none=True)
    upper_proportion = fields.Float(allow_none=True)
    lower_proportion = fields.Float(allow_none=True)
    flags = fields.List(fields.String())


class ItemAnalysisItemOut(Schema):
    question_id = fields.Integer()
    position = fields.Integer()
    text_id = fields.String()
    text_en = fields.String()
    competency_area = fields.String()
    max_score = fields.Float()
    answered = fields.Integer(metadata={"description": "attempts that chose an option"})
    facility = fields.Float(allow_none=True, metadata={"description": "mean score / maximum"})
    sd = fields.Float(allow_none=True)
    discrimination = fields.Float(
        allow_none=True, metadata={"description": "upper minus lower 27% mean score, / maximum"}
    )
    point_biserial = fields.Float(
        allow_none=True, metadata={"description": "correlation with the rest of the test"}
    )
    flags = fields.List(fields.String())
    choices = fields.List(fields.Nested(ChoiceAnalysisOut))


class TestAnalysisOut(Schema):
    n_attempts = fields.Integer()
    n_items = fields.Integer()
    max_score = fields.Float()
    mean = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    alpha = fields.Float(allow_none=True, metadata={"description": "Cronbach's alpha (KR-20 for 0/1 items)"})
    sem = fields.Float(allow_none=True, metadata={"description": "standard error of measurement"})


class ItemAnalysisOut(Schema):
    quiz_slug = fields.String()
    group_size = fields.Integer(metadata={"description": "attempts in the upper and in the lower group"})
    test = fields.Nested(TestAnalysisOut)
    items = fields.List(fields.Nested(ItemAnalysisItemOut))
