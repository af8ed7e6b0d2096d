"""Pre/post gains pages for coordinators: every programme's summary, and one programme in full."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from shared.auth import web_login_required

from . import gains
from .gains_api import gains_csv_response
from .models import db
from .survey_api import COORDINATORS

gains_web = Blueprint("gains", __name__, url_prefix="/gains")

EXCLUSION_LABELS = {
    gains.MISSING_PRE: _l("No pre-test"),
    gains.MISSING_POST: _l("No post-test"),
    gains.PRE_AT_MAXIMUM: _l("Full marks on the pre-test"),
}
GRADING_METHODS = {
    "highest": _l("the highest graded attempt counts"),
    "first": _l("the first graded attempt counts"),
    "last": _l("the last graded attempt counts"),
    "average": _l("the average of the graded attempts counts"),
}


@gains_web.get("")
@web_login_required(*COORDINATORS)
def programmes():
    return render_template(
        "gains/programmes.html",
        programmes=gains.all_programme_gains(db.session),
        exclusion_labels=EXCLUSION_LABELS,
    )


@gains_web.get("/<int:programme_id>")
@web_login_required(*COORDINATORS)
def programme(programme_id: int):
    return render_template(
        "gains/programme.html",
        report=gains.programme_gains(db.session, programme_id),
        exclusion_labels=EXCLUSION_LABELS,
        grading_methods=GRADING_METHODS,
    )


@gains_web.get("/<int:programme_id>.csv")
@web_login_required(*COORDINATORS)
def programme_csv(programme_id: int):
    return gains_csv_response(gains.programme_gains(db.session, programme_id))


GAINS_WEB_BLUEPRINTS = (gains_web,)
