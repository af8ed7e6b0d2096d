"""Notification's web forms (Flask-WTF: validation and CSRF)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from shared import catalog
from shared.errors import DomainError
from shared.forms import PustakaForm

from . import admin, defaults
from .models import CATEGORIES, DELIVERY_STATES, ESSENTIAL_CATEGORIES, PRIORITIES, RECIPIENT_KINDS

CATEGORY_LABELS = {
    "account": _l("Account and security"),
    "enrollment": _l("Enrollment"),
    "reminders": _l("Session reminders"),
    "results": _l("Quiz results"),
    "programmes": _l("Programmes"),
}
CHANNEL_LABELS = {"in_app": _l("In the app"), "email": _l("Email"), "webhook": _l("Webhook")}
RECIPIENT_LABELS = {
    "subject": _l("The person the event is about"),
    "event_email": _l("The email address in the event"),
    "session_roster": _l("Everyone in the session"),
    "programme_participants": _l("Everyone with a seat in the programme"),
    "programme_coordinators": _l("The programme's coordinators"),
    "mentoring_pair": _l("The mentor and the mentee"),
}
PRIORITY_LABELS = {"urgent": _l("Urgent"), "normal": _l("Normal"), "low": _l("Low")}
STATE_LABELS = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "suppressed": _l("Suppressed"),
    "deduplicated": _l("Deduplicated"),
    "digest": _l("Waiting for the digest"),
}
CLOCK_RULE = Regexp(admin.CLOCK.pattern, message=_l("Use the form HH:MM, for example 21:30."))


def preference_field(category: str, channel: str) -> str:
    return f"{category}_{channel}"


class PreferencesForm(PustakaForm):
    """One checkbox per category and channel (added below), quiet hours and the daily digest."""

    quiet_start = StringField(_l("Quiet hours start"), validators=[Optional(), CLOCK_RULE])
    quiet_end = StringField(_l("Quiet hours end"), validators=[Optional(), CLOCK_RULE])
    daily_digest = BooleanField(_l("Collect low-priority email into one message a day"))

    def choices(self) -> dict[str, dict[str, bool]]:
        """category → channel → on/off. An always-on category's boxes are disabled, so the browser
        sends nothing for them: they count only when a request names them."""
        chosen: dict[str, dict[str, bool]] = {}
        for category in CATEGORIES:
            for channel in admin.PREFERENCE_CHANNELS:
                field = self[preference_field(category, channel)]
                if category not in ESSENTIAL_CATEGORIES or field.raw_data:
                    chosen.setdefault(category, {})[channel] = field.data
        return chosen

    def profile_settings(self) -> dict:
        return {
            "quiet_start": (self.quiet_start.data or "").strip() or None,
            "quiet_end": (self.quiet_end.data or "").strip() or None,
            "daily_digest": self.daily_digest.data,
        }

    @classmethod
    def of(cls, settings: dict) -> PreferencesForm:
        """The form filled with what the person chose (``admin.preferences_for``)."""
        data = {
            preference_field(category, channel): enabled
            for category, channels in settings["preferences"].items()
            for channel, enabled in channels.items()
        }
        data |= {
            field: settings[field] or ("" if field != "daily_digest" else False)
            for field in admin.PROFILE_FIELDS
        }
        return cls(formdata=None, data=data)


for _category in CATEGORIES:
    for _channel in admin.PREFERENCE_CHANNELS:
        setattr(
            PreferencesForm,
            preference_field(_category, _channel),
            BooleanField(
                _l(
                    "%(category)s: %(channel)s",
                    category=CATEGORY_LABELS[_category],
                    channel=CHANNEL_LABELS[_channel],
                )
            ),
        )


class ActionForm(PustakaForm):
    """Just the CSRF token, for buttons that act on what the URL names."""


def _choices(values, labels=None) -> list[SelectChoice]:
    return [
        SelectChoice(value, str(labels[value]) if labels and value in labels else value) for value in values
    ]


class RuleForm(PustakaForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    event_type = SelectField(_l("Event type"))
    recipients = SelectMultipleField(_l("Recipients"), validators=[DataRequired()])
    template_key = SelectField(_l("Template"))
    channels = SelectMultipleField(_l("Channels"), validators=[DataRequired()])
    category = SelectField(_l("Category"))
    priority = SelectField(_l("Priority"), default="normal")
    enabled = BooleanField(_l("Enabled"), default=True)

    def set_choices(self, templates: list[str], channels: list[str]) -> RuleForm:
        self.event_type.choices = _choices(defaults.known_event_types())
        self.recipients.choices = _choices(RECIPIENT_KINDS, RECIPIENT_LABELS)
        self.template_key.choices = _choices(templates)
        self.channels.choices = _choices(channels, CHANNEL_LABELS)
        self.category.choices = _choices(CATEGORIES, CATEGORY_LABELS)
        self.priority.choices = _choices(PRIORITIES, PRIORITY_LABELS)
        return self

    def rule_data(self) -> dict:
        return {field: self[field].data for field in admin.RULE_FIELDS}


class TemplateForm(PustakaForm):
    subject_id = StringField(_l("Subject (Indonesian)"), validators=[DataRequired(), Length(max=300)])
    text_id = TextAreaField(_l("Text (Indonesian)"), validators=[DataRequired()])
    html_id = TextAreaField(_l("HTML (Indonesian, optional)"), validators=[Optional()])
    subject_en = StringField(_l("Subject (English)"), validators=[DataRequired(), Length(max=300)])
    text_en = TextAreaField(_l("Text (English)"), validators=[DataRequired()])
    html_en = TextAreaField(_l("HTML (English, optional)"), validators=[Optional()])
    preview_event_type = SelectField(_l("Sample event for the preview"))
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def template_data(self) -> dict:
        return {field: self[field].data or "" for field in admin.TEMPLATE_FIELDS}


class WebhookForm(PustakaForm):
    url = StringField(_l("Address (URL)"), validators=[DataRequired(), Length(max=500)])
    event_types = SelectMultipleField(
        _l("Event types"),
        choices=[SelectChoice(name, name) for name in catalog.CATALOG],
        validators=[DataRequired()],
    )


class DeliveryFilterForm(PustakaForm):
    """The delivery log's filters, read from the query string."""

    class Meta:
        csrf = False

    state = SelectField(_l("State"), validators=[Optional()])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    event_type = SelectField(_l("Event type"), validators=[Optional()])
    recipient = StringField(_l("Recipient contains"), validators=[Optional(), Length(max=300)])

    def set_choices(self, channels: list[str]) -> DeliveryFilterForm:
        anything = [SelectChoice("", str(_l("All")))]
        self.state.choices = anything + _choices(DELIVERY_STATES, STATE_LABELS)
        self.channel.choices = anything + _choices(channels, CHANNEL_LABELS)
        self.event_type.choices = anything + _choices([*defaults.known_event_types(), "digest"])
        return self

    def filters(self) -> dict:
        return {field: self[field].data or None for field in ("state", "channel", "event_type", "recipient")}


def show_errors(form: PustakaForm, error: DomainError, prefix: str = "") -> None:
    """A business rule's refusal on the form: each field's messages under that field (the key
    ``preferences.enrollment.email`` is the field ``enrollment_email``), the rest above it."""
    for key, messages in error.errors.items():
        field = form._fields.get(key.removeprefix(prefix).replace(".", "_"))
        translated = [gettext(message) for message in messages]
        if field is None:
            form.form_errors.extend(translated)
        else:
            field.errors = [*field.errors, *translated]
    if not error.errors:
        form.form_errors.append(gettext(error.message))
