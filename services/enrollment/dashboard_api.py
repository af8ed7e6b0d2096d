"""The dashboard API for coordinators: every figure as JSON or CSV, and a programme's PDF report."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.auth import api_login_required
from shared.db import utcnow

from . import dashboards
from .models import PROGRAMME_TYPES, TRACKS, db

COORDINATORS = ("coordinator", "admin")

dashboard_api = Blueprint(
    "dashboard_api",
    __name__,
    url_prefix="/api/v1",
    description="Coordinators' dashboard figures and programme reports",
)


class FilterQuery(Schema):
    starts_from = fields.Date(
        data_key="from", metadata={"description": "Sessions starting on or after (WIB)."}
    )
    starts_to = fields.Date(data_key="to", metadata={"description": "Sessions starting on or before (WIB)."})
    type = fields.String(validate=validate.OneOf(PROGRAMME_TYPES))
    track = fields.String(validate=validate.OneOf(TRACKS))

    @validates_schema
    def range_in_order(self, data, **kwargs):
        problems = dashboards.filter_problems(
            dashboards.Filters(data.get("starts_from"), data.get("starts_to"))
        )
        if problems.get("to"):
            raise ValidationError(problems["to"], field_name="to")


def filters_of(query: dict) -> dashboards.Filters:
    return dashboards.Filters(
        starts_from=query.get("starts_from"),
        starts_to=query.get("starts_to"),
        type=query.get("type"),
        track=query.get("track"),
    )


class GainsOut(Schema):
    area = fields.String(allow_none=True, metadata={"description": "None for the whole test"})
    learners = fields.Integer(metadata={"description": "Learners with a gain"})
    mean_pre = fields.Float(allow_none=True)
    mean_post = fields.Float(allow_none=True)
    average_gain = fields.Float(
        allow_none=True, metadata={"description": "Mean of g = (post − pre) / (100 − pre)"}
    )
    gain_of_averages = fields.Float(allow_none=True, metadata={"description": "g of mean_pre and mean_post"})
    missing_pre = fields.Integer()
    missing_post = fields.Integer()
    pre_at_maximum = fields.Integer()


class FeedbackItemOut(Schema):
    item_id = fields.Integer()
    statement_id = fields.String()
    statement_en = fields.String()
    responses = fields.Integer()
    mean = fields.Float(allow_none=True)
    distribution = fields.List(fields.Integer(), metadata={"description": "Answers 1 to 5"})


class FeedbackOut(Schema):
    responses = fields.Integer()
    overall_mean = fields.Float(allow_none=True)
    items = fields.List(fields.Nested(FeedbackItemOut))


class ProgrammeFiguresOut(Schema):
    programme_id = fields.Function(lambda f: f.programme.id)
    title_id = fields.Function(lambda f: f.programme.title_id)
    title_en = fields.Function(lambda f: f.programme.title_en)
    type = fields.Function(lambda f: f.programme.type)
    track = fields.Function(lambda f: f.programme.track)
    sessions = fields.Integer()
    participations = fields.Integer(metadata={"description": "Confirmed seats"})
    people = fields.Integer(metadata={"description": "Distinct persons holding them"})
    hours = fields.Float()
    held_participations = fields.Integer(
        metadata={"description": "Confirmed seats of sessions that are over"}
    )
    attended = fields.Integer()
    attendance_rate = fields.Float(allow_none=True)
    learners = fields.Integer(metadata={"description": "Account holders seated in sessions that are over"})
    completed = fields.Integer()
    completion_rate = fields.Float(allow_none=True)
    feedback = fields.Nested(FeedbackOut)
    gains = fields.Nested(GainsOut)
    area_gains = fields.List(fields.Nested(GainsOut))


class CountOut(Schema):
    key = fields.Function(lambda pair: pair[0])
    participations = fields.Function(lambda pair: pair[1])


class AreaLevelsOut(Schema):
    code = fields.String()
    name_id = fields.String()
    name_en = fields.String()
    counts = fields.List(fields.Integer(), metadata={"description": "Staff at levels 1 to 4"})
    without = fields.Integer(metadata={"description": "Staff with no evidence in the area"})


class TrendOut(Schema):
    area = fields.Function(lambda trend: trend.area.code)
    months = fields.Function(
        lambda trend: [{"month": month, "counts": list(counts)} for month, counts in trend.months]
    )


class DashboardOut(Schema):
    programmes = fields.List(fields.Nested(ProgrammeFiguresOut))
    by_type = fields.List(fields.Nested(CountOut), metadata={"description": "key: the programme type"})
    by_month = fields.List(fields.Nested(CountOut), metadata={"description": "key: the month, e.g. 2026-03"})
    staff = fields.Integer()
    areas = fields.List(fields.Nested(AreaLevelsOut))
    trend = fields.List(fields.Nested(TrendOut))


@dashboard_api.route("/dashboard")
@api_login_required(*COORDINATORS)
@dashboard_api.arguments(FilterQuery, location="query")
@dashboard_api.response(200, DashboardOut)
def get_dashboard(query):
    """Participation per programme, type and month; attendance and completion rates; feedback and
    pre/post gains per programme; staff per competency level and area, now and by month (coordinators)."""
    return dashboards.dashboard(db.session, filters_of(query), utcnow())


@dashboard_api.route(
    "/dashboard/<any({figures}):figure>.csv".format(
        figures=", ".join(f"'{name}'" for name in dashboards.FIGURES)
    )
)
@api_login_required(*COORDINATORS)
@dashboard_api.arguments(FilterQuery, location="query")
@dashboard_api.alt_response(200, success=True, content_type="text/csv", description="The figure's rows.")
def get_figure_csv(query, figure):
    """One figure of the dashboard as CSV (coordinators)."""
    return figure_csv_response(filters_of(query), figure)


@dashboard_api.route("/programmes/<int:programme_id>/report.pdf")
@api_login_required(*COORDINATORS)
@dashboard_api.alt_response(200, success=True, content_type="application/pdf", description="The report.")
@dashboard_api.alt_response(404, description="No such programme, or a draft")
def get_programme_report(programme_id):
    """A programme's report for the Dinas, as PDF (coordinators)."""
    return report_response(programme_id)


def figure_csv_response(filters: dashboards.Filters, figure: str) -> Response:
    board = dashboards.dashboard(db.session, filters, utcnow())
    return Response(
        dashboards.figure_csv(board, figure),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{figure}.csv"'},
    )


def report_response(programme_id: int) -> Response:
    from . import reports  # reportlab only in a process that makes a report (memory of idle processes)

    report = dashboards.programme_report(db.session, programme_id, utcnow())
    return Response(
        reports.render_programme_report_pdf(report),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="laporan-program-{programme_id}.pdf"'},
    )
