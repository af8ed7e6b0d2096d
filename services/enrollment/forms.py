"""Enrollment's web forms (Flask-WTF: validation and CSRF)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as SchemaValidationError
from marshmallow import validate
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from shared.catalog import ROLES
from shared.competencies import AREAS
from shared.errors import DomainError
from shared.forms import PustakaForm
from shared.localtime import JAKARTA

from . import handlers
from .models import PARTNER_KINDS, PROGRAMME_TYPES, TRACKS, Enrollment, Partner

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
PARTNER_KIND_LABELS = {
    "university": _l("University"),
    "professional_organisation": _l("Professional organisation"),
    "ngo": _l("Non-governmental organisation"),
    "government": _l("Government office"),
    "other": _l("Other"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "archived": _l("Archived"),
    "scheduled": _l("Scheduled"),
    "cancelled": _l("Cancelled"),
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("On the waiting list"),
    "pending": _l("Waiting for email confirmation"),
    "expired": _l("Hold expired"),
    "attended": _l("Attended"),
    "absent": _l("Absent"),
}


def email_address(form, field) -> None:
    """The same rule as the API's schemas, so a form and the API accept the same addresses."""
    try:
        validate.Email()(field.data or "")
    except SchemaValidationError:
        raise ValidationError(_l("Enter a valid email address.")) from None


def to_utc(moment: datetime | None) -> datetime | None:
    """A time typed in the form, in Jakarta time, as the database keeps it (UTC)."""
    return moment.replace(tzinfo=JAKARTA).astimezone(UTC) if moment else None


def to_jakarta(moment: datetime | None) -> datetime | None:
    """A stored time as a form shows it: Jakarta time, without a zone."""
    return moment.astimezone(JAKARTA).replace(tzinfo=None) if moment else None


def show_errors(form: PustakaForm, error: DomainError) -> None:
    """A business rule's refusal on the form: each field's messages under that field (the key
    ``attendance.7`` is the field ``attendance_7``), the rest above it."""
    for key, messages in error.errors.items():
        field = form._fields.get(key.replace(".", "_"))
        translated = [gettext(message) for message in messages]
        if field is None:
            form.form_errors.extend(translated)
        else:
            field.errors = [*field.errors, *translated]
    if not error.errors:
        form.form_errors.append(reason(error))


def reason(error: DomainError) -> str:
    """The refusal's message in the user's language."""
    if isinstance(error, handlers.Refused):
        return gettext(error.template, **error.params)
    return gettext(error.message)


def _with_rules(form: PustakaForm, valid: bool, problems: dict[str, list[str]]) -> bool:
    """After the fields' own checks, the business rules' (``handlers.*_problems``), so that one
    submission shows every error; a field's own error says enough."""
    for name, messages in problems.items():
        field = form[name]
        if not field.errors:
            field.errors = [gettext(message) for message in messages]
            valid = False
    return valid


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


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def partner_choices(partners: list[Partner]) -> list[SelectChoice]:
    return [SelectChoice(str(partner.id), partner.name) for partner in partners]


class ProgrammeForm(PustakaForm):
    title_id = StringField(_l("Title (Indonesian)"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=300)])
    description_id = TextAreaField(_l("Description (Indonesian)"), validators=[Optional()])
    description_en = TextAreaField(_l("Description (English)"), validators=[Optional()])
    track = SelectField(_l("Track"), choices=[SelectChoice(track, TRACK_LABELS[track]) for track in TRACKS])
    type = SelectField(
        _l("Type"), choices=[SelectChoice(kind, TYPE_LABELS[kind]) for kind in PROGRAMME_TYPES]
    )
    competency_areas = CheckboxesField(_l("Competency areas"))
    organisers = CheckboxesField(_l("Organising partners"))
    speaker_partners = CheckboxesField(_l("Partners sending speakers"))

    def set_choices(self, partners: list[Partner], language: str) -> ProgrammeForm:
        self.competency_areas.choices = [
            SelectChoice(code, area.name(language)) for code, area in AREAS.items()
        ]
        self.organisers.choices = self.speaker_partners.choices = partner_choices(partners)
        return self

    def fill(self, programme) -> ProgrammeForm:
        """The stored programme in a fresh form."""
        self.process(obj=programme)
        self.organisers.data = [str(partner.id) for partner in programme.partners_as("organiser")]
        self.speaker_partners.data = [str(partner.id) for partner in programme.partners_as("speaker")]
        return self

    def programme_data(self) -> dict:
        data = {name: getattr(self, name).data or "" for name in handlers.PROGRAMME_FIELDS}
        data["competency_areas"] = list(self.competency_areas.data or [])
        data["partners"] = [
            {"partner_id": int(partner_id), "role": role}
            for role, field in (("organiser", self.organisers), ("speaker", self.speaker_partners))
            for partner_id in field.data or []
        ]
        return data


class NewProgrammeForm(ProgrammeForm):
    """A programme's fields and whether it goes out at once; later its status changes by its own buttons."""

    publish = BooleanField(_l("Publish now (otherwise it stays a draft)"))

    def programme_data(self) -> dict:
        return super().programme_data() | {"status": "published" if self.publish.data else "draft"}


class SpeakerEntry(Form):
    """One speaker of a session: a subform, so without a CSRF token of its own."""

    class Meta(PustakaForm.Meta):
        pass

    name = StringField(_l("Speaker"), validators=[Optional(), Length(max=200)])
    partner = SelectField(_l("From partner"), choices=[], default="")


SPEAKER_ROWS = 3


class SessionForm(PustakaForm):
    """A session's fields but its capacity, which changes on the roster page."""

    starts_at = DateTimeLocalField(_l("Starts (WIB)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends (WIB)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    online_link = StringField(_l("Online link"), validators=[Optional(), Length(max=500)])
    speakers = FieldList(FormField(SpeakerEntry), min_entries=SPEAKER_ROWS)
    pre_test_slug = StringField(_l("Pre-test (quiz slug)"), validators=[Optional(), Length(max=100)])
    post_test_slug = StringField(_l("Post-test (quiz slug)"), validators=[Optional(), Length(max=100)])
    enrollment_opens_at = DateTimeLocalField(
        _l("Enrollment opens (WIB)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    enrollment_closes_at = DateTimeLocalField(
        _l("Enrollment closes (WIB; empty: when the session starts)"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )

    def set_choices(self, partners: list[Partner]) -> SessionForm:
        choices = [SelectChoice("", "—"), *partner_choices(partners)]
        for entry in self.speakers:
            entry.form.partner.choices = choices
        return self

    def fill(self, programme_session) -> SessionForm:
        """The stored session in a fresh form, its times in Jakarta time, a blank speaker row to add one."""
        self.process(
            data={
                name: getattr(programme_session, name)
                for name in handlers.SESSION_FIELDS
                if name in self._fields
            }
            | {
                name: to_jakarta(getattr(programme_session, name))
                for name in ("starts_at", "ends_at", "enrollment_opens_at", "enrollment_closes_at")
            }
            | {
                "speakers": [
                    {"name": speaker.name, "partner": str(speaker.partner_id or "")}
                    for speaker in programme_session.speakers
                ]
            }
        )
        while len(self.speakers) < max(SPEAKER_ROWS, len(programme_session.speakers) + 1):
            self.speakers.append_entry()
        return self

    def session_data(self) -> dict:
        data = {
            name: self[name].data
            for name in handlers.SESSION_FIELDS
            if name in self._fields and name not in ("starts_at", "ends_at")
        }
        data |= {
            name: to_utc(self[name].data)
            for name in ("starts_at", "ends_at", "enrollment_opens_at", "enrollment_closes_at")
        }
        data["speakers"] = [
            {
                "name": entry.form.name.data.strip(),
                "partner_id": int(entry.form.partner.data)
                if (entry.form.partner.data or "").isdigit()
                else None,
            }
            for entry in self.speakers
            if (entry.form.name.data or "").strip()
        ]
        return data

    def validate(self, extra_validators=None) -> bool:
        return _with_rules(
            self, super().validate(extra_validators), handlers.session_problems(self.session_data())
        )


class NewSessionForm(SessionForm):
    capacity = IntegerField(_l("Seats"), validators=[InputRequired(), NumberRange(min=1, max=10000)])


class PartnerForm(PustakaForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(kind, PARTNER_KIND_LABELS[kind]) for kind in PARTNER_KINDS]
    )
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])

    def partner_data(self) -> dict:
        return {"name": self.name.data, "kind": self.kind.data, "website": self.website.data or ""}

    def validate(self, extra_validators=None) -> bool:
        return _with_rules(
            self, super().validate(extra_validators), handlers.partner_problems(self.partner_data())
        )


class CapacityForm(PustakaForm):
    capacity = IntegerField(_l("Seats"), validators=[InputRequired(), NumberRange(min=1, max=10000)])


class CancelSessionForm(PustakaForm):
    reason = TextAreaField(
        _l("Reason, told to everyone in the session"), validators=[Optional(), Length(max=500)]
    )


def attendance_form(enrollments: list[Enrollment]) -> PustakaForm:
    """One choice, attended or absent, per confirmed enrollment: the field ``attendance_<id>``."""

    class AttendanceForm(PustakaForm):
        def marks(self) -> dict[int, str]:
            chosen = {enrollment.id: self[f"attendance_{enrollment.id}"].data for enrollment in enrollments}
            return {enrollment_id: status for enrollment_id, status in chosen.items() if status}

    for enrollment in enrollments:
        setattr(
            AttendanceForm,
            f"attendance_{enrollment.id}",
            RadioField(
                enrollment.person_name,
                choices=[
                    SelectChoice("attended", STATUS_LABELS["attended"]),
                    SelectChoice("absent", STATUS_LABELS["absent"]),
                ],
                default=enrollment.attendance_status,
                validators=[Optional()],
            ),
        )
    return AttendanceForm()


class CatalogForm(PustakaForm):
    """The catalog's search and filters, read from the query string."""

    class Meta(PustakaForm.Meta):
        csrf = False

    q = StringField(_l("Search titles"), validators=[Optional(), Length(max=200)])
    type = SelectField(
        _l("Type"),
        choices=[SelectChoice("", _l("All types"))]
        + [SelectChoice(kind, TYPE_LABELS[kind]) for kind in PROGRAMME_TYPES],
        validators=[Optional()],
    )
    area = SelectField(_l("Competency area"), choices=[], validators=[Optional()])
    track = SelectField(
        _l("Track"),
        choices=[SelectChoice("", _l("Both tracks"))]
        + [SelectChoice(track, TRACK_LABELS[track]) for track in TRACKS],
        validators=[Optional()],
    )
    starts_from = DateField(_l("Sessions from"), validators=[Optional()])
    starts_to = DateField(_l("Sessions until"), validators=[Optional()])

    def set_choices(self, language: str) -> CatalogForm:
        self.area.choices = [SelectChoice("", _l("All areas"))] + [
            SelectChoice(code, area.name(language)) for code, area in AREAS.items()
        ]
        return self

    def validate_starts_to(self, field) -> None:
        if field.data and self.starts_from.data and field.data < self.starts_from.data:
            raise ValidationError(_l("The last day cannot be before the first."))

    def query(self) -> handlers.CatalogQuery:
        return handlers.CatalogQuery(
            text=self.q.data or "",
            type=self.type.data or None,
            area=self.area.data or None,
            track=self.track.data or None,
            starts_from=self.starts_from.data,
            starts_to=self.starts_to.data,
        )


class PublicSeatForm(PustakaForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Your email"), validators=[DataRequired(), email_address, Length(max=254)])


class ActionForm(PustakaForm):
    """Just the CSRF token: what is acted on comes from the login and the URL."""
