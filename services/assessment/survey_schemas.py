"""The feedback-survey API's schemas: what it reads and writes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .surveys import ITEM_KINDS, MAX_COMMENT, MAX_TEXT

TEXT = validate.Length(min=1, max=MAX_TEXT)
TITLE = validate.Length(min=1, max=300)


class SurveyItemOut(Schema):
    id = fields.Integer()
    position = fields.Integer()
    kind = fields.String(metadata={"description": "likert (answered 1–5, required) or text (optional)"})
    text_id = fields.String()
    text_en = fields.String()


class SurveyOut(Schema):
    id = fields.Integer()
    programme_id = fields.Integer(
        allow_none=True,
        metadata={"description": "null for the default survey, used by every other programme"},
    )
    title_id = fields.String()
    title_en = fields.String()
    items = fields.List(fields.Nested(SurveyItemOut), attribute="active_items")


class SurveyCreate(Schema):
    programme_id = fields.Integer(required=True, validate=validate.Range(min=1))
    title_id = fields.String(validate=TITLE, metadata={"description": "the default survey's when left out"})
    title_en = fields.String(validate=TITLE, metadata={"description": "the default survey's when left out"})


class SurveyUpdate(Schema):
    """The titles to change; the others stay."""

    title_id = fields.String(validate=TITLE)
    title_en = fields.String(validate=TITLE)


class SurveyItemIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(ITEM_KINDS))
    text_id = fields.String(required=True, validate=TEXT)
    text_en = fields.String(required=True, validate=TEXT)


class SurveyItemUpdate(Schema):
    """The texts to change; the kind of an item never changes."""

    text_id = fields.String(validate=TEXT)
    text_en = fields.String(validate=TEXT)


class ItemOrder(Schema):
    item_ids = fields.List(
        fields.Integer(),
        required=True,
        metadata={"description": "every item of the survey, in the new order"},
    )


class InvitationOut(Schema):
    id = fields.Integer()
    programme_id = fields.Integer()
    session_id = fields.Integer(allow_none=True)
    programme_title = fields.Function(
        lambda invitation: {"id": invitation.programme_title_id, "en": invitation.programme_title_en}
    )
    completed_at = fields.AwareDateTime()
    invited_at = fields.AwareDateTime()
    answered_at = fields.AwareDateTime(allow_none=True)
    survey = fields.Nested(SurveyOut)


class ResponseIn(Schema):
    ratings = fields.Dict(
        keys=fields.Integer(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "rating item id → 1..5; every rating item of the survey is required"},
    )
    comments = fields.Dict(
        keys=fields.Integer(),
        values=fields.String(validate=validate.Length(max=MAX_COMMENT)),
        load_default=dict,
        metadata={"description": "free-text item id → the answer; optional"},
    )


class ResponseOut(Schema):
    id = fields.Integer()
    invitation_id = fields.Integer()
    programme_id = fields.Integer()
    session_id = fields.Integer(allow_none=True)
    submitted_at = fields.AwareDateTime()


class LikertSummaryOut(Schema):
    item_id = fields.Integer(attribute="item.id")
    statement = fields.Function(lambda line: {"id": line.item.text_id, "en": line.item.text_en})
    responses = fields.Integer()
    mean = fields.Float(allow_none=True)
    distribution = fields.List(
        fields.Integer(), metadata={"description": "how many answered 1, 2, 3, 4 and 5"}
    )


class CommentsOut(Schema):
    item_id = fields.Integer(attribute="item.id")
    question = fields.Function(lambda group: {"id": group.item.text_id, "en": group.item.text_en})
    texts = fields.List(fields.String())


class FeedbackSummaryOut(Schema):
    session_id = fields.Integer(allow_none=True)
    invited = fields.Integer()
    responses = fields.Integer()
    overall_mean = fields.Float(allow_none=True, metadata={"description": "the mean of every rating given"})
    items = fields.List(fields.Nested(LikertSummaryOut), attribute="likert")
    comments = fields.List(fields.Nested(CommentsOut))


class ProgrammeFeedbackOut(Schema):
    programme_id = fields.Integer()
    title = fields.Function(lambda report: {"id": report.title_id, "en": report.title_en})
    overall = fields.Nested(FeedbackSummaryOut, metadata={"description": "all sessions together"})
    sessions = fields.List(fields.Nested(FeedbackSummaryOut))


class FeedbackProgrammeOut(Schema):
    programme_id = fields.Integer()
    title = fields.Function(lambda row: {"id": row["title_id"], "en": row["title_en"]})
    invited = fields.Integer()
    responses = fields.Integer()
