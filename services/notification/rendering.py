"""Message templates: Jinja in a sandbox, so admin-edited text can never run code."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape

from shared.localtime import local_time

from .models import MessageTemplate

TEXT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
HTML = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
for environment in (TEXT, HTML):
    environment.filters["wib"] = local_time


class TemplateInvalid(ValueError):
    """A template that does not compile or does not render with a sample event."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


def _html_from_text(text: str) -> str:
    paragraphs = [escape(part).replace("\n", "<br>\n") for part in text.split("\n\n") if part.strip()]
    return "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs)


def render(template: MessageTemplate, language: str, context: dict) -> RenderedMessage:
    """The message in the language (``id`` or ``en``); raises TemplateInvalid."""
    suffix = "en" if language == "en" else "id"
    try:
        subject = TEXT.from_string(getattr(template, f"subject_{suffix}")).render(context).strip()
        text = TEXT.from_string(getattr(template, f"text_{suffix}")).render(context).strip()
        html_source = getattr(template, f"html_{suffix}")
        html = HTML.from_string(html_source).render(context) if html_source else _html_from_text(text)
    except TemplateError as error:
        raise TemplateInvalid({f"{suffix}": [f"{type(error).__name__}: {error}"]}) from None
    return RenderedMessage(subject, text, html)


def check(template: MessageTemplate, sample_contexts: list[dict]) -> None:
    """Refuse a template that fails to render, in either language, for any sample."""
    errors: dict[str, list[str]] = {}
    for field in ("subject_id", "subject_en", "text_id", "text_en", "html_id", "html_en"):
        source = getattr(template, field) or ""
        try:
            (HTML if field.startswith("html") else TEXT).parse(source)
        except TemplateError as error:
            errors[field] = [f"{type(error).__name__}: {error}"]
    if not errors:
        for context in sample_contexts:
            for language in ("id", "en"):
                try:
                    render(template, language, context)
                except TemplateInvalid as invalid:
                    for field, messages in invalid.errors.items():
                        errors.setdefault(f"text_{field}", []).extend(messages)
    if errors:
        raise TemplateInvalid(errors)
