"""What the question-bank file formats (GIFT, Aiken) share: the import report and the last checks.

An import reads a whole file and reports every problem it finds with its line number; a question
with a problem is left out of ``questions``. Whether anything is imported when there are problems
is the caller's choice (the user may accept a partial import).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.errors import Invalid

from .question_types import question_type

DIFFICULTIES = ("easy", "medium", "hard")
MAX_NAME = 200
# Names made from a question's text stay short enough to scan in a list.
DEFAULT_NAME_LENGTH = 80


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass(frozen=True)
class ImportReport:
    questions: list[tuple[int, dict]]  # (line where the question starts, question spec)
    problems: list[Problem]


def same_text(text: str) -> dict:
    """A text written in one language only is shown in both."""
    return {"id": text, "en": text}


def choice_key(index: int) -> str:
    """a, b, …, z, aa, ab, …: keys in authored order, so that an export imports with the same keys."""
    key = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        key = chr(ord("a") + rest) + key
    return key


def default_name(text: Mapping) -> str:
    """A question without a name is named by the start of its text, as Moodle does."""
    words = " ".join((text["id"] or text["en"]).split())
    if len(words) <= DEFAULT_NAME_LENGTH:
        return words
    return words[: DEFAULT_NAME_LENGTH - 1].rsplit(" ", 1)[0] + "…"


def finished(line: int, spec: dict) -> tuple[dict | None, list[Problem]]:
    """The spec with the body its type normalised, or None and what the type and the bank reject."""
    problems = []
    if not spec["name"]:
        problems.append("The question has no name.")
    elif len(spec["name"]) > MAX_NAME:
        problems.append(f"The name is longer than {MAX_NAME} characters.")
    if not (spec["text"]["id"] or spec["text"]["en"]):
        problems.append("The question has no text.")
    try:
        body = question_type(spec["type"]).normalise_body(spec["body"])
    except Invalid as error:
        fields = [f"{field}: {message}" for field, messages in error.errors.items() for message in messages]
        problems += fields or [error.message]
    if problems:
        return None, [Problem(line, message) for message in problems]
    if spec["type"] == "matching":
        # Answer keys are random by design and no file carries them: the bank gives fresh ones
        # when it saves the question, and an import stays a pure function of the file.
        body["pairs"] = [{k: v for k, v in pair.items() if k != "answer_key"} for pair in body["pairs"]]
    return {**spec, "body": body}, []
