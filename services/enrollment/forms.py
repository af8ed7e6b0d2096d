"""Enrollment's web forms (Flask-WTF: validation and CSRF)."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as SchemaValidationError
from marshmallow import validate
from wtforms import (
    DateTimeLocalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from shared.catalog import ROLES
from shared.forms import PustakaForm

from .models import PROGRAMME_TYPES, TRACKS

JAKARTA = ZoneInfo("Asia/Jakarta")

TYPE_LABELS = {
    "training": _l("Training"),
    "workshop": _l("Workshop"),
    "seminar": _l("Seminar"),
    "panel": _l("Panel discussion"),
    "conference": _l("Conference"),
    "mentoring": _l("Mentoring cycle"),
    "research": _l("Research project"),
    "literacy_class": _l("Information-literacy class"),
}
TRACK_LABELS = {"staff": _l("Staff development"), "public": _l("Public literacy")}
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "mentor": _l("Mentor"),
    "staff": _l("Staff"),
}


def email_address(form, field) -> None:
    """The same rule as the API's schemas, so a form and the API accept the same addresses."""
    try:
        validate.Email()(field.data or "")
    except SchemaValidationError:
        raise ValidationError(_l("Enter a valid email address.")) from None


class LoginForm(PustakaForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), email_address])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class UserForm(PustakaForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), email_address, Length(max=254)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])
    language = SelectField(
        _l("Language"), choices=[SelectChoice("id", "Bahasa Indonesia"), SelectChoice("en", "English")]
    )
    roles = SelectMultipleField(
        _l("Roles"),
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
        default=["staff"],
        validators=[DataRequired()],
    )


class ProgrammeForm(PustakaForm):
    title_id = StringField(_l("Title (Indonesian)"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=300)])
    description_id = TextAreaField(_l("Description (Indonesian)"), validators=[Optional()])
    description_en = TextAreaField(_l("Description (English)"), validators=[Optional()])
    track = SelectField(_l("Track"), choices=[SelectChoice(track, TRACK_LABELS[track]) for track in TRACKS])
    type = SelectField(
        _l("Type"), choices=[SelectChoice(kind, TYPE_LABELS[kind]) for kind in PROGRAMME_TYPES]
    )
    competency_areas = StringField(
        _l("Competency areas (comma separated)"), validators=[Optional(), Length(max=500)]
    )

    def programme_data(self) -> dict:
        areas = [area.strip() for area in (self.competency_areas.data or "").split(",") if area.strip()]
        data = {
            name: getattr(self, name).data or ""
            for name in ("title_id", "title_en", "description_id", "description_en", "track", "type")
        }
        return {**data, "competency_areas": areas, "status": "published"}


class SessionForm(PustakaForm):
    starts_at = DateTimeLocalField(_l("Starts (WIB)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends (WIB)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    venue = StringField(_l("Venue or online link"), validators=[Optional(), Length(max=300)])
    capacity = IntegerField(_l("Seats"), validators=[InputRequired(), NumberRange(min=1, max=10000)])

    def validate_ends_at(self, field):
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The session must end after it starts."))

    def session_data(self) -> dict:
        # The form speaks Jakarta time; the database keeps UTC.
        return {
            "starts_at": self.starts_at.data.replace(tzinfo=JAKARTA).astimezone(UTC),
            "ends_at": self.ends_at.data.replace(tzinfo=JAKARTA).astimezone(UTC),
            "venue": self.venue.data or "",
            "capacity": self.capacity.data,
        }


class EnrollForm(PustakaForm):
    """Just the CSRF token: the person and the session come from the login and the URL."""
