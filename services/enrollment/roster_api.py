"""The roster import API: a CSV body, checked (``dry_run``) or imported. A thin view over ``roster.py``."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from shared.auth import api_identity, api_login_required

from . import roster
from .models import db

roster_api = Blueprint(
    "roster_api", __name__, url_prefix="/api/v1/roster", description="Staff accounts and enrollments from CSV"
)


class RosterImportQuery(Schema):
    mode = fields.String(
        load_default=roster.ALL_OR_NOTHING,
        validate=validate.OneOf(roster.MODES),
        metadata={
            "description": "all-or-nothing: no row is written if any has a problem; per-row: good rows are"
        },
    )
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Check and report only"})


class RosterProblemOut(Schema):
    column = fields.String(metadata={"description": "The column, or empty for the whole row"})
    message = fields.Function(lambda problem: problem.text())


class RosterRowOut(Schema):
    line = fields.Integer()
    email = fields.String()
    account = fields.String(metadata={"description": "new or existing"})
    enrollment = fields.String(
        metadata={"description": "to_enroll (dry run), confirmed, waitlisted, already, or empty: no session"}
    )
    problems = fields.List(fields.Nested(RosterProblemOut))
    notes = fields.List(fields.Nested(RosterProblemOut))


class RosterImportOut(Schema):
    written = fields.Boolean(metadata={"description": "Whether the import wrote anything"})
    accounts_new = fields.Integer()
    enrollments_new = fields.Integer()
    rows = fields.List(fields.Nested(RosterRowOut))


CSV_BODY = {
    "description": "The CSV file (UTF-8; columns email, name, language, roles, session_id), at most 256 KB",
    "required": True,
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


@roster_api.route("/imports", methods=["POST"])
@api_login_required("coordinator", "admin")
@roster_api.arguments(RosterImportQuery, location="query")
@roster_api.doc(requestBody=CSV_BODY)
@roster_api.response(200, RosterImportOut)
@roster_api.alt_response(413, description="A file over 256 KB")
@roster_api.alt_response(
    422,
    description="Not a roster (errors.file: its encoding or columns); or, all or nothing, rows with "
    "problems: errors named line.<line>.<column>, and nothing written",
)
def import_roster(args):
    """Check a roster (``dry_run``) or import it. Each row's outcome and problems come back by line;
    new accounts get a random password and a welcome email."""
    request.max_content_length = roster.MAX_UPLOAD
    data = request.get_data(cache=False)
    checked = roster.check_roster(db.session, data, importer_roles=api_identity().roles)
    if args["dry_run"]:
        return checked
    roster.import_roster(db.session, checked, mode=args["mode"])
    if args["mode"] == roster.ALL_OR_NOTHING and checked.problem_rows:
        errors: dict[str, list[str]] = {}
        for row in checked.problem_rows:
            for problem in row.problems:
                errors.setdefault(f"line.{row.line}.{problem.column or 'row'}", []).append(problem.text())
        abort(422, message="Nothing was imported: some rows have problems.", errors=errors)
    return checked
