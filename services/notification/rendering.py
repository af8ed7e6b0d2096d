"""Message templates: Jinja in a sandbox, so admin-edited text can never run code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import escape

from shared.localtime import local_time

from .models import MessageTemplate

MAX_REPEAT = 10_000
MAX_EXPONENT = 100


class MessageEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, also refusing arithmetic that would exhaust memory or time."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent over {MAX_EXPONENT}")
        if operator == "*":
            sizes = [value for value in (left, right) if isinstance(value, int)]
            repeated = any(isinstance(value, (str, list, tuple)) for value in (left, right))
            if repeated and sizes and abs(sizes[0]) > MAX_REPEAT:
                raise SecurityError(f"repetition over {MAX_REPEAT}")
        return super().call_binop(context, operator, left, right)


TEXT = MessageEnvironment(undefined=StrictUndefined, autoescape=False)
HTML = MessageEnvironment(undefined=StrictUndefined, autoescape=True)
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


@lru_cache(maxsize=512)
def _compiled(html: bool, source: str) -> Template:
    """Compiling is the costly part of rendering; a template's text changes rarely."""
    return (HTML if html else TEXT).from_string(source)


def _html_from_text(text: str) -> str:
    paragraphs = [escape(part).replace("\n", "<br>\n") for part in text.split("\n\n") if part.strip()]
    return "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs)


def render(template: MessageTemplate, language: str, context: dict) -> RenderedMessage:
    """The message in the language (``id`` or ``en``); raises TemplateInvalid naming the failing field."""
    suffix = "en" if language == "en" else "id"
    parts = {}
    for part in ("subject", "text", "html"):
        field = f"{part}_{suffix}"
        source = getattr(template, field) or ""
        if part == "html" and not source:
            continue
        try:
            parts[part] = _compiled(part == "html", source).render(context)
        except TemplateError as error:
            raise TemplateInvalid({field: [f"{type(error).__name__}: {error}"]}) from None
    text = parts["text"].strip()
    html = parts["html"] if "html" in parts else _html_from_text(text)
    return RenderedMessage(parts["subject"].strip(), text, html)


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
                        known = errors.setdefault(field, [])
                        known.extend(message for message in messages if message not in known)
    if errors:
        raise TemplateInvalid(errors)
