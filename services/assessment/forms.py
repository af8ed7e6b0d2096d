"""The question bank's web forms: the fields every question has (``QuestionForm``), each question
type's body (``BodyForm``, driven by a small description of the type's body in ``LAYOUTS``),
the bank's filters and the import of GIFT and Aiken files."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from shared.app import select_language
from shared.competencies import AREAS
from shared.errors import DomainError, NotFound
from shared.forms import PustakaForm
from shared.i18n import N_

from .handlers import DEFAULT_IMPORT_CATEGORY
from .interchange import choice_key
from .models import DIFFICULTIES, QuestionVersion
from .question_types import question_type, question_types

DIFFICULTY_LABELS = {"easy": _l("Easy"), "medium": _l("Medium"), "hard": _l("Hard")}
FORMAT_LABELS = {"gift": "GIFT (Moodle)", "aiken": "Aiken"}

# How a field of a body is typed on the form.
BILINGUAL = "bilingual"  # a text in Indonesian and in English: {"id", "en"}
TEXT = "text"  # one line of text
NUMBER = "number"  # a number, with a decimal point or comma
PERCENT = "percent"  # a fraction of the points, typed as a percentage
FLAG = "flag"  # a checkbox
TRUTH = "truth"  # true or false
WHOLE = "whole"  # a whole number


@dataclass(frozen=True)
class Part:
    """A field of a body, or of each row of the body's list: its name in the body, how it is typed,
    its label and what a new question starts with."""

    name: str
    kind: str
    label: LazyString
    default: str = ""


@dataclass(frozen=True)
class BodyLayout:
    """A question type's body as a form: its own fields, and the list of rows it may have."""

    parts: tuple[Part, ...] = ()
    rows: str = ""  # the body's list ("choices", "answers", "pairs"); empty for none
    row_label: LazyString | None = None
    row_parts: tuple[Part, ...] = ()
    keyed: bool = False  # rows have keys, which edits keep: past answers name them


FEEDBACK = Part("feedback", BILINGUAL, _l("Feedback on this answer"))
SHUFFLE = Part("shuffle", FLAG, _l("Shuffle the options for each taker"), default="y")
CREDIT = Part("fraction", PERCENT, _l("Credit (percent of the points)"), default="100")
CHOICES = BodyLayout(
    parts=(SHUFFLE,),
    rows="choices",
    row_label=_l("Choice"),
    row_parts=(
        Part("text", BILINGUAL, _l("Text")),
        Part("fraction", PERCENT, _l("Credit (percent of the points; below 0 is a penalty)"), default="0"),
        FEEDBACK,
    ),
    keyed=True,
)
LAYOUTS = {
    "single_choice": CHOICES,
    "multiple_response": CHOICES,
    "true_false": BodyLayout(
        parts=(
            Part("answer", TRUTH, _l("The statement is")),
            Part("feedback_true", BILINGUAL, _l("Feedback on the answer “true”")),
            Part("feedback_false", BILINGUAL, _l("Feedback on the answer “false”")),
        )
    ),
    "short_answer": BodyLayout(
        parts=(Part("case_sensitive", FLAG, _l("Upper and lower case must match")),),
        rows="answers",
        row_label=_l("Accepted answer"),
        row_parts=(Part("text", TEXT, _l("Answer")), CREDIT, FEEDBACK),
    ),
    "numeric": BodyLayout(
        rows="answers",
        row_label=_l("Accepted answer"),
        row_parts=(
            Part("value", NUMBER, _l("Number")),
            Part("tolerance", NUMBER, _l("Tolerance (±)"), default="0"),
            CREDIT,
            FEEDBACK,
        ),
    ),
    "matching": BodyLayout(
        parts=(SHUFFLE,),
        rows="pairs",
        row_label=_l("Pair"),
        row_parts=(
            Part("prompt", BILINGUAL, _l("Prompt (empty: one more wrong answer to choose from)")),
            Part("answer", BILINGUAL, _l("Its answer")),
        ),
        keyed=True,
    ),
    "essay": BodyLayout(
        parts=(
            Part("min_words", WHOLE, _l("Least number of words (0: any)"), default="0"),
            Part("grader_info", BILINGUAL, _l("Information for graders")),
        )
    ),
}
# The types speak of fractions of the points; the form asks for percentages.
PERCENT_MESSAGES = {
    "Give a fraction from -1 to 1.": _l("Give a percentage from -100 to 100."),
    "Give a fraction above 0 and at most 1.": _l("Give a percentage above 0 and at most 100."),
}
NEW_ROWS = 4
EXTRA_ROWS = 2
MAX_ROWS = 100
_LEFT_OUT = object()  # a body field left empty: the type's default holds


def form_types() -> dict[str, LazyString]:
    """The installed question types that have a form, by name, with their labels."""
    return {name: kind.label for name, kind in question_types().items() if name in LAYOUTS}


def form_response(question_id: int, version: QuestionVersion, form: MultiDict) -> Any:
    """A question's response from its widget's form fields (a text field for unknown types)."""
    name = f"q-{question_id}"
    if version.type == "multiple_response":
        return form.getlist(name) or None
    if version.type == "matching":
        prompts = question_type(version.type).public_body(version.body, None)["prompts"]
        matched = {
            p["key"]: form.get(f"{name}-{p['key']}") for p in prompts if form.get(f"{name}-{p['key']}")
        }
        return matched or None
    return form.get(name) or None


# Numbers as typed -----------------------------------------------------------------------------


def number_of(text: str) -> float | str:
    """A typed number ("3,5" is 3.5, as Indonesian writes it); anything else stays text, for the
    question type to refuse where it stands."""
    try:
        return float(Decimal(text.replace(",", ".")))
    except InvalidOperation:
        return text


def number_text(value: Any) -> str:
    # repr is the shortest text that reads back to the same float: an unchanged form saves no new version.
    return repr(float(value)).removesuffix(".0") if isinstance(value, int | float) else ""


def fraction_of(text: str) -> float | str:
    try:
        return float(Decimal(text.replace(",", ".")) / 100)
    except InvalidOperation:
        return text


def percent_text(fraction: Any) -> str:
    if not isinstance(fraction, int | float):
        return ""
    return format((Decimal(repr(float(fraction))) * 100).normalize(), "f")


def plain(text: str) -> str:
    """Text from a text area: browsers send its line breaks as CR LF."""
    return text.replace("\r\n", "\n").strip()


# A type's body ----------------------------------------------------------------------------------


def _form_values(part: Part, path: str, value: Any) -> dict[str, str]:
    """A body field's value as the form shows it, by input path."""
    if part.kind == BILINGUAL:
        value = value if isinstance(value, Mapping) else {}
        return {f"{path}.id": value.get("id", ""), f"{path}.en": value.get("en", "")}
    if part.kind == FLAG:
        return {path: "y" if value else ""}
    if part.kind == TRUTH:
        return {path: "" if value is None else str(bool(value)).lower()}
    if part.kind == PERCENT:
        return {path: percent_text(value)}
    if part.kind == NUMBER:
        return {path: number_text(value)}
    return {path: "" if value is None else str(value)}


def _default_values(part: Part, path: str) -> dict[str, str]:
    if part.kind == BILINGUAL:
        return {f"{path}.id": "", f"{path}.en": ""}
    return {path: part.default}


def _body_value(part: Part, values: Mapping[str, str], path: str) -> Any:
    """A body field's value from the form's text; text that is no value of its kind is passed on
    as it is, for the type to refuse at its path."""
    if part.kind == BILINGUAL:
        return {language: plain(values.get(f"{path}.{language}", "")) for language in ("id", "en")}
    value = values.get(path, "").strip()
    if part.kind == FLAG:
        return bool(value)
    if part.kind == TRUTH:
        return {"true": True, "false": False}.get(value)
    if part.kind == TEXT:
        return value
    if not value:
        return _LEFT_OUT
    if part.kind == PERCENT:
        return fraction_of(value)
    if part.kind == NUMBER:
        return number_of(value)
    return int(value) if value.isascii() and value.isdigit() else value


class BodyForm:
    """A question type's body as form values by input path ("shuffle", "choices.2.text.id"): made
    from a stored body or a posted form, turned into a body for the type to check, and shown again
    with the type's errors next to the inputs they are about. A row left empty is left out."""

    def __init__(self, type_name: str, values: dict[str, str], row_count: int):
        if type_name not in LAYOUTS:
            raise NotFound(N_("Questions of this type have no form: change them through the API."))
        self.type = type_name
        self.layout = LAYOUTS[type_name]
        self.values = values
        self.row_count = row_count if self.layout.rows else 0
        self.errors: dict[str, list[str]] = {}
        self.rows_used: list[int] = []  # the form row of each row of the body

    @classmethod
    def new(cls, type_name: str) -> BodyForm:
        form = cls(type_name, {}, NEW_ROWS)
        form.values = form._defaults()
        return form

    @classmethod
    def of_body(cls, type_name: str, body: Mapping) -> BodyForm:
        """A stored body, with a few empty rows to add more."""
        form = cls(type_name, {}, 0)
        layout = form.layout
        for part in layout.parts:
            form.values.update(_form_values(part, part.name, body.get(part.name)))
        rows = body.get(layout.rows, []) if layout.rows else []
        for index, row in enumerate(rows):
            if layout.keyed:
                form.values[f"{layout.rows}.{index}.key"] = row["key"]
            for part in layout.row_parts:
                form.values.update(
                    _form_values(part, f"{layout.rows}.{index}.{part.name}", row.get(part.name))
                )
        form.row_count = len(rows)
        form.add_rows(EXTRA_ROWS)
        return form

    @classmethod
    def posted(cls, type_name: str, formdata: MultiDict) -> BodyForm:
        """What was typed, kept as typed."""
        count = max(0, min(formdata.get("body.rows", 0, type=int), MAX_ROWS))
        form = cls(type_name, {}, count)
        form.values = {path: formdata.get(f"body.{path}", "") for path in form.paths()}
        return form

    def _defaults(self) -> dict[str, str]:
        """What a new question starts with, by the path of every input of the form."""
        values: dict[str, str] = {}
        for part in self.layout.parts:
            values.update(_default_values(part, part.name))
        for row in range(self.row_count):
            prefix = f"{self.layout.rows}.{row}"
            if self.layout.keyed:
                values[f"{prefix}.key"] = ""
            for part in self.layout.row_parts:
                values.update(_default_values(part, f"{prefix}.{part.name}"))
        return values

    def paths(self) -> list[str]:
        return list(self._defaults())

    def add_rows(self, count: int = EXTRA_ROWS) -> None:
        if self.layout.rows:
            self.row_count = min(self.row_count + count, MAX_ROWS)
            self.values = self._defaults() | self.values

    def _blank(self, row: int) -> bool:
        prefix = f"{self.layout.rows}.{row}"
        return all(
            self.values.get(path, "").strip() in ("", default)
            for part in self.layout.row_parts
            for path, default in _default_values(part, f"{prefix}.{part.name}").items()
        )

    def body(self) -> dict:
        """The body the form holds, for the type to check."""
        layout = self.layout
        body = {}
        for part in layout.parts:
            value = _body_value(part, self.values, part.name)
            if value is not _LEFT_OUT:
                body[part.name] = value
        if not layout.rows:
            return body
        self.rows_used = [row for row in range(self.row_count) if not self._blank(row)]
        rows = []
        for row in self.rows_used:
            prefix = f"{layout.rows}.{row}"
            values = {
                part.name: _body_value(part, self.values, f"{prefix}.{part.name}")
                for part in layout.row_parts
            }
            rows.append({name: value for name, value in values.items() if value is not _LEFT_OUT})
        if layout.keyed:
            self._give_keys(rows)
        body[layout.rows] = rows
        return body

    def _give_keys(self, rows: list[dict]) -> None:
        """Rows keep their keys; a new row takes the first of a, b, c, … no other row has."""
        keys = [self.values.get(f"{self.layout.rows}.{row}.key", "") for row in self.rows_used]
        taken = set(keys)
        fresh = (key for key in map(choice_key, range(MAX_ROWS * 2)) if key not in taken)
        for row, key in zip(rows, keys, strict=True):
            row["key"] = key or next(fresh)

    def show_errors(self, errors: Mapping[str, list[str]]) -> None:
        """The type's errors (``body.choices.1.fraction``) at the inputs of the form's rows."""
        for path, messages in errors.items():
            if path != "body" and not path.startswith("body."):
                continue
            steps = path.split(".")[1:]
            if steps[:1] == [self.layout.rows] and len(steps) > 1 and steps[1].isdigit():
                index = int(steps[1])
                steps[1] = str(self.rows_used[index]) if index < len(self.rows_used) else steps[1]
            shown = [PERCENT_MESSAGES[m] if m in PERCENT_MESSAGES else _(m) for m in messages]
            self.errors.setdefault(".".join(steps), []).extend(shown)

    def errors_at(self, path: str) -> list[str]:
        """The errors of an input, with those of its languages."""
        return [m for key in (path, f"{path}.id", f"{path}.en") for m in self.errors.get(key, [])]

    def other_errors(self) -> list[str]:
        """Errors no input shows (a row's key, the body as a whole)."""
        shown = {self.layout.rows} | {path.removesuffix(".id").removesuffix(".en") for path in self.paths()}
        return [
            m
            for key, messages in self.errors.items()
            if key not in shown or key.endswith(".key")
            for m in messages
        ]


# The question ---------------------------------------------------------------------------------


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NumberField(StringField):
    """A number typed with a decimal point or comma."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = valuelist[0].strip() if valuelist else ""
        if text:
            number = number_of(text)
            if isinstance(number, str) or not math.isfinite(number):
                raise ValueError(_l("Give a number."))
            self.data = number

    def _value(self) -> str:
        return self.raw_data[0] if self.raw_data else number_text(self.data)


class QuestionForm(PustakaForm):
    """What every question has; its type's body is a ``BodyForm`` beside it."""

    name = StringField(_l("Name (unique in the bank)"), validators=[DataRequired(), Length(max=200)])
    category = StringField(
        _l("Category (levels separated by /)"), validators=[DataRequired(), Length(max=300)]
    )
    text_id = TextAreaField(_l("Question (Indonesian)"))
    text_en = TextAreaField(_l("Question (English)"))
    feedback_id = TextAreaField(_l("General feedback (Indonesian)"))
    feedback_en = TextAreaField(_l("General feedback (English)"))
    areas = CheckboxesField(_l("Competency areas"))
    difficulty = SelectField(
        _l("Difficulty"),
        default="medium",
        choices=[SelectChoice(level, DIFFICULTY_LABELS[level]) for level in DIFFICULTIES],
    )
    points = NumberField(_l("Points"), default=1.0, validators=[InputRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = select_language()
        self.areas.choices = [SelectChoice(code, area.name(language)) for code, area in AREAS.items()]

    @classmethod
    def of_spec(cls, spec: Mapping) -> QuestionForm:
        return cls(
            data={
                "name": spec["name"],
                "category": spec["category"],
                "text_id": spec["text"]["id"],
                "text_en": spec["text"]["en"],
                "feedback_id": spec["general_feedback"]["id"],
                "feedback_en": spec["general_feedback"]["en"],
                "areas": spec["areas"],
                "difficulty": spec["difficulty"],
                "points": spec["points"],
            }
        )

    def validate_text_id(self, field) -> None:
        if not (plain(field.data or "") or plain(self.text_en.data or "")):
            raise ValidationError(_l("Give the question in Indonesian, English or both."))

    def validate_points(self, field) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError(_l("Give points above 0."))

    def spec(self, type_name: str, body: dict) -> dict:
        """The question in the portable form the bank takes."""
        return {
            "name": self.name.data.strip(),
            "type": type_name,
            "category": self.category.data,
            "text": {"id": plain(self.text_id.data), "en": plain(self.text_en.data)},
            "general_feedback": {"id": plain(self.feedback_id.data), "en": plain(self.feedback_en.data)},
            "areas": self.areas.data,
            "difficulty": self.difficulty.data,
            "points": self.points.data,
            "body": body,
        }


def show_errors(form: QuestionForm, body: BodyForm, error: DomainError) -> None:
    """The bank's refusal on the page: the body's faults at their inputs, the others at their
    fields (``areas.1`` at the areas), the rest above the form."""
    body.show_errors(error.errors)
    for key, messages in error.errors.items():
        if key == "body" or key.startswith("body."):
            continue
        field = form._fields.get(key.split(".")[0])
        translated = [_(message) for message in messages]
        if field is None:
            form.form_errors.extend(translated)
        else:
            field.errors = [*field.errors, *translated]
    if not error.errors:
        form.form_errors.append(_(error.message))


# The bank's list and its files ------------------------------------------------------------------


class FilterForm(PustakaForm):
    """The bank's filters, in the page's address."""

    class Meta:
        csrf = False

    search = StringField(_l("Words in the name or text"))
    category = SelectField(_l("Category"))
    area = SelectField(_l("Competency area"))
    difficulty = SelectField(_l("Difficulty"))
    type = SelectField(_l("Type"))
    retired = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("All")),
            SelectChoice("false", _l("In use")),
            SelectChoice("true", _l("Retired")),
        ],
    )

    def set_choices(self, categories: list[str]) -> FilterForm:
        language = select_language()
        everything = SelectChoice("", _l("All"))
        self.category.choices = [everything, *(SelectChoice(path, path) for path in categories)]
        self.area.choices = [
            everything,
            *(SelectChoice(code, area.name(language)) for code, area in AREAS.items()),
        ]
        self.difficulty.choices = [
            everything,
            *(SelectChoice(k, label) for k, label in DIFFICULTY_LABELS.items()),
        ]
        self.type.choices = [
            everything,
            *(SelectChoice(name, kind.label) for name, kind in question_types().items()),
        ]
        return self

    def filters(self) -> dict:
        """The handlers' filters: an empty choice filters nothing."""
        return {
            "search": self.search.data or None,
            "category": self.category.data or None,
            "area": self.area.data or None,
            "difficulty": self.difficulty.data or None,
            "type": self.type.data or None,
            "retired": {"true": True, "false": False}.get(self.retired.data),
        }


class UploadForm(PustakaForm):
    file = FileField(_l("File (UTF-8 text, at most 2 MB)"), validators=[FileRequired(_l("Choose a file."))])
    format = SelectField(
        _l("Format"), choices=[SelectChoice(name, label) for name, label in FORMAT_LABELS.items()]
    )
    category = StringField(
        _l("Category for questions the file puts in none (every Aiken question)"),
        default=DEFAULT_IMPORT_CATEGORY,
        validators=[DataRequired(), Length(max=300)],
    )


class ConfirmForm(PustakaForm):
    """The checked file, carried signed in the form, and the user's consent."""

    upload = HiddenField(validators=[DataRequired()])
    accept_partial = BooleanField(_l("Import the valid questions only"))
