"""The roster import page: coordinators upload a CSV file, check it (a dry run) and import it.
A thin view over ``roster.py``."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectChoice, SubmitField

from shared.auth import cookie_identity, web_login_required
from shared.forms import PustakaForm

from . import roster
from .models import db

roster_web = Blueprint("roster", __name__, url_prefix="/roster")


class RosterForm(PustakaForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])
    mode = RadioField(
        _l("If a row has a problem"),
        default=roster.ALL_OR_NOTHING,
        choices=[
            SelectChoice(roster.ALL_OR_NOTHING, _l("Import nothing (all or nothing)")),
            SelectChoice(roster.PER_ROW, _l("Import the other rows (row by row)")),
        ],
    )
    check = SubmitField(_l("Check only (dry run)"))
    run = SubmitField(_l("Import"))


@roster_web.route("/import", methods=["GET", "POST"])
@web_login_required("coordinator", "admin")
def import_page():
    form = RosterForm()
    checked = None
    if form.validate_on_submit():
        data = form.file.data.read(roster.MAX_UPLOAD + 1)
        if len(data) > roster.MAX_UPLOAD:
            form.file.errors.append(
                _(
                    "The file is larger than 256 KB: import it in parts, or with the command pustaka roster import."
                )
            )
        else:
            try:
                checked = roster.check_roster(db.session, data, importer_roles=cookie_identity().roles)
            except roster.RosterFileError as error:
                form.file.errors.append(error.problem.text(_))
            else:
                if form.run.data:
                    roster.import_roster(db.session, checked, mode=form.mode.data)
    page = render_template(
        "roster/import.html",
        form=form,
        roster=checked,
        dry_run=not form.run.data,
        translate=_,
        NEW=roster.NEW,
        TO_ENROLL=roster.TO_ENROLL,
        ALREADY=roster.ALREADY,
    )
    return page, 400 if form.errors else 200
