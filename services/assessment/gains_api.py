"""The pre/post gains API (coordinators): every programme's summary, one programme in full, CSV."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from shared.auth import api_login_required

from . import gains
from .gains_schemas import ProgrammeGainsOut, ProgrammeGainsSummaryOut
from .models import db
from .survey_api import COORDINATORS

gains_api = Blueprint(
    "gains_api",
    __name__,
    url_prefix="/api/v1/gains",
    description="Pre/post normalized gains per programme and area (coordinators)",
)


@gains_api.route("")
@api_login_required(*COORDINATORS)
@gains_api.response(200, ProgrammeGainsSummaryOut(many=True))
def programmes():
    """Every programme with a pre-test and a post-test, with its overall gains."""
    return gains.all_programme_gains(db.session)


@gains_api.route("/<int:programme_id>")
@api_login_required(*COORDINATORS)
@gains_api.response(200, ProgrammeGainsOut)
def programme(programme_id):
    """A programme's gains: overall, per competency area, and per learner."""
    return gains.programme_gains(db.session, programme_id)


@gains_api.route("/<int:programme_id>.csv")
@api_login_required(*COORDINATORS)
@gains_api.alt_response(
    200,
    success=True,
    content_type="text/csv",
    description="One row for the programme, per area, per learner.",
)
def programme_csv(programme_id):
    """A programme's gains as CSV."""
    return gains_csv_response(gains.programme_gains(db.session, programme_id))


def gains_csv_response(report: gains.ProgrammeGains) -> Response:
    return Response(
        gains.gains_csv(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="programme-{report.programme_id}-gains.csv"'},
    )


GAINS_API_BLUEPRINTS = (gains_api,)
