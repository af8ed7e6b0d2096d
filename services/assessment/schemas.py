"""Assessment's API schemas. A taker's schemas carry only what ``handlers.attempt_view`` let
through; answers and fractions appear only in the coordinators' bank, grading and item analysis."""

from __future__ import annotations

from datetime import UTC

from flask import current_app
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.competencies import area_name

from .handlers import DEFAULT_IMPORT_CATEGORY, IMPORT_FORMATS, question_count
from .models import AUDIENCES, DIFFICULTIES, GRADING_METHODS, PURPOSES, REVIEW_OPTIONS

LANGUAGES = ("id", "en")
SLUG = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", error="Use lowercase letters, digits and '-'.")


def _empty_text() -> dict:
    return {"id": "", "en": ""}


def _bilingual(first: str, second: str) -> dict:
    return {"id": first, "en": second}


class Bilingual(Schema):
    id = fields.String(required=True, metadata={"description": "Indonesian"})
    en = fields.String(required=True, metadata={"description": "English"})


# --- The question bank ------------------------------------------------------------------------


class QuestionSpec(Schema):
    """The portable form of a question (also that of the seed files and GIFT import)."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    type = fields.String(required=True, metadata={"description": "an installed question type"})
    category = fields.String(
        required=True,
        validate=validate.Length(1, 300),
        metadata={"description": "a path, '/' between levels"},
    )
    text = fields.Nested(Bilingual, required=True)
    general_feedback = fields.Nested(Bilingual, load_default=_empty_text)
    areas = fields.List(fields.String(), load_default=list, metadata={"description": "competency area codes"})
    difficulty = fields.String(load_default="medium", validate=validate.OneOf(DIFFICULTIES))
    points = fields.Float(load_default=1.0, validate=validate.Range(min=0, min_inclusive=False))
    body = fields.Dict(required=True, metadata={"description": "as the question type defines it"})

    @validates_schema
    def has_text(self, data, **kwargs):
        text = data.get("text") or {}
        if not (text.get("id", "").strip() or text.get("en", "").strip()):
            raise ValidationError("Give the question in Indonesian, English or both.", "text")


class QuestionQuery(Schema):
    category = fields.String(metadata={"description": "this category and those under it"})
    area = fields.String()
    difficulty = fields.String(validate=validate.OneOf(DIFFICULTIES))
    type = fields.String()
    retired = fields.Boolean(allow_none=True)
    search = fields.String(metadata={"description": "words in the name or the text, in any case"})


class VersionOut(Schema):
    number = fields.Integer()
    type = fields.String()
    text = fields.Function(lambda version: _bilingual(version.text_id, version.text_en))
    general_feedback = fields.Function(lambda version: _bilingual(version.feedback_id, version.feedback_en))
    points = fields.Float()
    body = fields.Dict()
    created_at = fields.AwareDateTime()


class QuestionSummary(Schema):
    id = fields.Integer()
    name = fields.String()
    category = fields.Function(lambda question: question.category.path)
    areas = fields.List(fields.String())
    difficulty = fields.String()
    retired = fields.Boolean()
    version_number = fields.Integer(metadata={"description": "the current version"})
    type = fields.Function(lambda question: question.current.type)
    text = fields.Function(lambda question: _bilingual(question.current.text_id, question.current.text_en))
    points = fields.Function(lambda question: question.current.points)


class QuestionOut(QuestionSummary):
    general_feedback = fields.Function(
        lambda question: _bilingual(question.current.feedback_id, question.current.feedback_en)
    )
    body = fields.Function(lambda question: question.current.body)
    versions = fields.List(fields.Nested(VersionOut), metadata={"description": "oldest first"})


class PreviewOut(Schema):
    question_id = fields.Integer()
    type = fields.String()
    text = fields.Nested(Bilingual)
    points = fields.Float()
    body = fields.Dict(metadata={"description": "the public body a taker sees"})


class ImportIn(Schema):
    format = fields.String(load_default="gift", validate=validate.OneOf(IMPORT_FORMATS))
    category = fields.String(
        load_default=DEFAULT_IMPORT_CATEGORY,
        validate=validate.Length(1, 300),
        metadata={"description": "for the questions the file puts in no category (all of an Aiken file)"},
    )
    dry_run = fields.Boolean(load_default=False, metadata={"description": "report only, write nothing"})
    accept_partial = fields.Boolean(
        load_default=False,
        metadata={"description": "when the file has problems, import its valid questions anyway"},
    )


class ImportFileIn(ImportIn):
    """The whole multipart body, as documented; webargs reads its file and its form fields apart."""

    file = Upload(required=True, metadata={"description": "UTF-8 text, at most 2 MB"})


class ImportProblemOut(Schema):
    line = fields.Integer()
    message = fields.String()


class ImportedQuestionOut(Schema):
    line = fields.Integer(metadata={"description": "where the question starts in the file"})
    name = fields.Function(lambda item: item.spec["name"])
    category = fields.Function(lambda item: item.spec["category"])
    type = fields.Function(lambda item: item.spec["type"])
    status = fields.String(
        metadata={
            "description": "new, new_version (its content changed), updated (areas or difficulty) or unchanged"
        }
    )
    question_id = fields.Integer(
        allow_none=True, metadata={"description": "null for a new question not written"}
    )


class ImportOut(Schema):
    imported = fields.Boolean(
        metadata={"description": "false for a dry run and for a file refused for its problems"}
    )
    counts = fields.Function(lambda result: result.counts(), metadata={"description": "questions by status"})
    problems = fields.List(
        fields.Nested(ImportProblemOut), metadata={"description": "in the order of their lines"}
    )
    questions = fields.List(fields.Nested(ImportedQuestionOut))


class ExportQuery(Schema):
    category = fields.String(
        metadata={"description": "this category and those under it; the whole bank if left out"}
    )


# --- Quizzes ----------------------------------------------------------------------------------


class Pool(Schema):
    area = fields.String(required=True)
    difficulty = fields.String(required=True, validate=validate.OneOf(DIFFICULTIES))
    count = fields.Integer(required=True, validate=validate.Range(min=1))


class Level(Schema):
    min_percent = fields.Float(required=True, validate=validate.Range(0, 100))
    name = fields.Nested(Bilingual, required=True)


class Review(Schema):
    after_submit = fields.List(fields.String(validate=validate.OneOf(REVIEW_OPTIONS)), load_default=list)
    after_close = fields.List(fields.String(validate=validate.OneOf(REVIEW_OPTIONS)), load_default=list)


def _default_review() -> dict:
    return {"after_submit": ["score"], "after_close": ["score"]}


class QuizDefinition(Schema):
    """The portable form of a quiz: fixed ``questions`` by name, or ``pools`` to draw from."""

    slug = fields.String(required=True, validate=[validate.Length(1, 100), SLUG])
    title = fields.Nested(Bilingual, required=True)
    description = fields.Nested(Bilingual, load_default=_empty_text)
    audience = fields.String(load_default="public", validate=validate.OneOf(AUDIENCES))
    purpose = fields.String(load_default="practice", validate=validate.OneOf(PURPOSES))
    programme_id = fields.Integer(allow_none=True, load_default=None)
    questions = fields.List(fields.String(), allow_none=True, load_default=None)
    pools = fields.List(fields.Nested(Pool), allow_none=True, load_default=None)
    shuffle_questions = fields.Boolean(load_default=False)
    questions_per_page = fields.Integer(load_default=5, validate=validate.Range(min=1))
    time_limit_minutes = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1))
    opens_at = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=UTC)
    closes_at = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=UTC)
    attempts_allowed = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1))
    grading_method = fields.String(load_default="highest", validate=validate.OneOf(GRADING_METHODS))
    pass_percent = fields.Float(load_default=60.0, validate=validate.Range(0, 100))
    levels = fields.List(fields.Nested(Level), load_default=list)
    review = fields.Nested(Review, load_default=_default_review)


class QuizOut(Schema):
    """What anyone may know of a quiz before taking it."""

    slug = fields.String()
    title = fields.Function(lambda quiz: _bilingual(quiz.title_id, quiz.title_en))
    description = fields.Function(lambda quiz: _bilingual(quiz.description_id, quiz.description_en))
    audience = fields.String()
    purpose = fields.String()
    programme_id = fields.Integer(allow_none=True)
    question_count = fields.Function(question_count)
    questions_per_page = fields.Integer()
    time_limit_minutes = fields.Integer(allow_none=True)
    opens_at = fields.AwareDateTime(allow_none=True)
    closes_at = fields.AwareDateTime(allow_none=True)
    attempts_allowed = fields.Integer(allow_none=True)
    grading_method = fields.String()
    pass_percent = fields.Float()
    levels = fields.List(fields.Nested(Level))


class MyGradeOut(Schema):
    quiz_slug = fields.String()
    grading_method = fields.String()
    attempts = fields.Integer()
    graded_attempts = fields.Integer()
    percent = fields.Float(allow_none=True, metadata={"description": "the quiz grade by its grading method"})
    passed = fields.Boolean(allow_none=True)
    level = fields.Nested(Bilingual, allow_none=True)


# --- Attempts ---------------------------------------------------------------------------------


class AttemptStart(Schema):
    language = fields.String(load_default="id", validate=validate.OneOf(LANGUAGES))
    email = fields.Email(
        allow_none=True, load_default=None, metadata={"description": "to receive the result"}
    )


class PageResponses(Schema):
    responses = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "question id → response as its type defines it (null clears it)"},
    )


class AttemptSubmit(Schema):
    email = fields.Email(
        allow_none=True, load_default=None, metadata={"description": "to receive the result"}
    )


class QuestionView(Schema):
    question_id = fields.Integer()
    position = fields.Integer()
    page = fields.Integer()
    type = fields.String()
    text = fields.Nested(Bilingual)
    points = fields.Float()
    body = fields.Dict(metadata={"description": "the public body: options, never answers"})
    response = fields.Raw(allow_none=True, metadata={"description": "while running, or if review shows it"})
    correctness = fields.String(metadata={"description": "correct, partial, wrong or needs_grading"})
    points_earned = fields.Float(allow_none=True)
    feedback = fields.List(fields.Nested(Bilingual))
    general_feedback = fields.Nested(Bilingual)
    correct_answer = fields.Raw(allow_none=True)


def _class_link(recommendation) -> str:
    """The class's page in enrollment, as the pages' ``service_url`` helper makes it."""
    return (
        current_app.config["PUSTAKA_SERVICE_URLS"]["enrollment"]
        + f"/programmes/{recommendation.programme_id}"
    )


class RecommendationOut(Schema):
    programme_id = fields.Integer()
    title = fields.Function(lambda r: _bilingual(r.title_id, r.title_en))
    type = fields.String()
    area = fields.String(metadata={"description": "the weak competency area it was chosen for"})
    area_name = fields.Function(lambda r: _bilingual(area_name(r.area, "id"), area_name(r.area, "en")))
    area_score = fields.Float(metadata={"description": "the taker's percentage in that area"})
    link = fields.Function(_class_link, metadata={"description": "the class's page in enrollment"})


class AttemptOut(Schema):
    id = fields.Integer()
    quiz_slug = fields.String()
    state = fields.String(metadata={"description": "in_progress, needs_grading or graded"})
    started_at = fields.AwareDateTime()
    deadline = fields.AwareDateTime(allow_none=True)
    seconds_left = fields.Integer(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    page = fields.Integer(allow_none=True)
    page_count = fields.Integer()
    question_count = fields.Integer()
    answered_count = fields.Integer()
    email = fields.String(allow_none=True)
    review = fields.List(fields.String(), metadata={"description": "the review options in force"})
    score = fields.Float()
    max_score = fields.Float()
    percent = fields.Float()
    passed = fields.Boolean()
    level = fields.Nested(Bilingual, allow_none=True)
    area_scores = fields.Dict(keys=fields.String(), values=fields.Float())
    recommendations = fields.List(
        fields.Nested(RecommendationOut),
        metadata={"description": "public classes for the weakest areas (below 60%), once the score shows"},
    )
    questions = fields.List(fields.Nested(QuestionView))


class AttemptStarted(AttemptOut):
    token = fields.String(
        allow_none=True,
        metadata={
            "description": "send it as X-Attempt-Token to come back without an account; given once, "
            "null when an open attempt is resumed"
        },
    )


class PendingAnswer(Schema):
    question_id = fields.Integer()
    text = fields.Function(lambda slot: _bilingual(slot.version.text_id, slot.version.text_en))
    type = fields.Function(lambda slot: slot.version.type)
    points = fields.Function(lambda slot: slot.version.points)
    body = fields.Function(lambda slot: slot.version.body)
    response = fields.Raw(allow_none=True)


class AttemptToGrade(Schema):
    id = fields.Integer()
    quiz_slug = fields.Function(lambda attempt: attempt.quiz.slug)
    user_id = fields.Integer(allow_none=True)
    finished_at = fields.AwareDateTime()
    state = fields.String()
    pending = fields.Function(
        lambda attempt: PendingAnswer(many=True).dump([s for s in attempt.slots if s.fraction is None])
    )


class GradeIn(Schema):
    fraction = fields.Float(
        required=True, validate=validate.Range(0, 1), metadata={"description": "of its points"}
    )


# --- Item analysis ----------------------------------------------------------------------------


class ChoiceAnalysisOut(Schema):
    key = fields.String()
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
    type = fields.String()
    text_id = fields.String()
    text_en = fields.String()
    areas = fields.List(fields.String())
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
