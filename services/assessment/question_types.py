"""Question types: plugins registered under the entry-point group ``pustaka.question_types``,
the built-in ones the same way as a third party's (docs/question-types.md is their interface).

A type owns the ``body`` of its questions (a JSON object stored with the question): it validates
and normalises it, shows the taker a public copy without the answers, checks and grades a
response, and describes the right answer for the review. Every method but ``normalise_body``
takes a body that ``normalise_body`` returned. Bilingual text is ``{"id": str, "en": str}``.

A third-party package adds a type with, in its ``pyproject.toml``::

    [project.entry-points."pustaka.question_types"]
    ranking = "my_package.ranking:Ranking"
"""

from __future__ import annotations

import math
import random
import re
import secrets
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from shared.errors import Invalid
from shared.i18n import N_

ENTRY_POINT_GROUP = "pustaka.question_types"

BODY_INVALID = N_("The question body has invalid fields.")
RESPONSE_INVALID = N_("The answer is not valid.")

# Keys travel in form values, URLs and the item-analysis CSV.
KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
# Authored fractions such as 0.3333333 add up to 1 only within this.
EPSILON = 1e-6
MAX_SHORT_ANSWER = 1000
MAX_ESSAY = 50_000

TRUE_FALSE_TEXTS = {"true": {"id": "Benar", "en": "True"}, "false": {"id": "Salah", "en": "False"}}


class QuestionType(ABC):
    """The base of every question type; see docs/question-types.md for what each method must do."""

    name: str
    label: LazyString
    auto_graded: bool = True
    choice_based: bool = False

    @abstractmethod
    def normalise_body(self, body: Mapping) -> dict:
        """A validated, normalised copy; raises Invalid with errors by path (``body.choices.1.key``)."""

    @abstractmethod
    def public_body(self, body: Mapping, rng: random.Random | None) -> dict:
        """What a taker sees: never fractions, accepted answers, the answer mapping or feedback."""

    @abstractmethod
    def normalise_response(self, body: Mapping, response: Any) -> Any:
        """The response in its stored form; None stays None (unanswered)."""

    @abstractmethod
    def grade(self, body: Mapping, response: Any) -> float | None:
        """The share of the question's points in [0, 1]; None when a coordinator has to grade it."""

    def option_keys(self, body: Mapping) -> list[str]:
        return []

    def correct_keys(self, body: Mapping) -> list[str]:
        return []

    @abstractmethod
    def review(self, body: Mapping, response: Any) -> dict:
        """``{"correct_answer": <JSON-able>, "feedback": [bilingual, ...]}`` for what was answered."""

    def check_submission(self, body: Mapping, response: Any) -> None:
        """Raise Invalid (as ``normalise_response`` does) for a stored response that may be saved
        as a draft but not handed in; the taker's submit asks, a closing deadline does not."""
        return None  # by default, whatever may be saved may be handed in


@cache
def question_types() -> dict[str, QuestionType]:
    """Every installed question type by name, loaded once."""
    types = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        question_type = entry_point.load()()
        types[question_type.name] = question_type
    return types


def question_type(name: str) -> QuestionType:
    found = question_types().get(name) if isinstance(name, str) else None
    if found is None:
        raise Invalid(
            N_("Unknown question type."), {"type": [N_("Not one of the installed question types.")]}
        )
    return found


# Checking bodies


class BodyChecker:
    """Collects every fault of a body by its path, so an author sees them all at once.

    Public so that a plugin can check its bodies the same way."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(f"body.{path}" if path else "body", []).append(message)

    def raise_errors(self) -> None:
        if self.errors:
            raise Invalid(BODY_INVALID, self.errors)

    def fields(self, value: Any, path: str, allowed: set[str]) -> Mapping:
        """The object at ``path``, with its unknown fields reported (they are usually typos)."""
        if not isinstance(value, Mapping):
            self.fail(path, N_("Give an object."))
            return {}
        for field in value:
            if field not in allowed:
                self.fail(_join(path, str(field)), N_("Unknown field."))
        return value

    def items(self, value: Any, path: str) -> list[Mapping]:
        if not isinstance(value, list):
            self.fail(path, N_("Give a list."))
            return []
        return value

    def bilingual(self, value: Any, path: str, *, required: bool = False) -> dict:
        if value is None and not required:
            return {"id": "", "en": ""}
        parts = self.fields(value, path, {"id", "en"})
        text = {}
        for language in ("id", "en"):
            part = parts.get(language, "")
            if not isinstance(part, str):
                self.fail(_join(path, language), N_("Give text."))
                part = ""
            text[language] = part.strip()
        if required and isinstance(value, Mapping) and not _has_text(text):
            self.fail(path, N_("Give the text in Indonesian, English or both."))
        return text

    def number(self, value: Any, path: str) -> float | None:
        # bool is an int to Python, never a number to an author.
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.fail(path, N_("Give a number."))
            return None
        return float(value)

    def fraction(self, value: Any, path: str, *, penalties: bool) -> float:
        fraction = self.number(value, path)
        if fraction is None:
            return 0.0
        if penalties and not -1.0 <= fraction <= 1.0:
            self.fail(path, N_("Give a fraction from -1 to 1."))
        if not penalties and not 0.0 < fraction <= 1.0:
            self.fail(path, N_("Give a fraction above 0 and at most 1."))
        return fraction

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(path, N_("Give true or false."))
            return default
        return value

    def key(self, value: Any, path: str, taken: set[str]) -> str:
        if not isinstance(value, str) or not KEY.fullmatch(value):
            self.fail(path, N_("Give a key of 1 to 40 letters, digits, '-' or '_'."))
            return ""
        if value in taken:
            self.fail(path, N_("Another item has this key."))
        taken.add(value)
        return value


def _join(path: str, field: str | int) -> str:
    return f"{path}.{field}" if path else str(field)


def _full(fraction: float) -> bool:
    return fraction >= 1.0 - EPSILON


def _clamp(fraction: float) -> float:
    # Rounding makes 3 × 0.3333333 full marks.
    return round(min(max(fraction, 0.0), 1.0), 6)


def _has_text(text: Mapping) -> bool:
    return bool(text.get("id") or text.get("en"))


def _feedback(*texts: Mapping) -> list[dict]:
    return [dict(text) for text in texts if _has_text(text)]


def _invalid_response(message: str) -> Invalid:
    return Invalid(RESPONSE_INVALID, {"response": [message]})


def _text_response(response: Any, limit: int) -> str | None:
    """A typed answer, stripped; a blank one is no answer."""
    if response is None:
        return None
    if not isinstance(response, str):
        raise _invalid_response(N_("Give the answer as text."))
    response = response.strip()
    if len(response) > limit:
        raise _invalid_response(N_("The answer is too long."))
    return response or None


# Choices


class _ChoiceType(QuestionType):
    """The shared part of single choice and multiple response: keyed choices with fractions."""

    def _check_choices(self, body: Mapping, checker: BodyChecker) -> dict:
        body = checker.fields(body, "", {"choices", "shuffle"})
        choices, keys = [], set()
        for index, choice in enumerate(checker.items(body.get("choices"), "choices")):
            path = f"choices.{index}"
            choice = checker.fields(choice, path, {"key", "text", "fraction", "feedback"})
            choices.append(
                {
                    "key": checker.key(choice.get("key"), f"{path}.key", keys),
                    "text": checker.bilingual(choice.get("text"), f"{path}.text", required=True),
                    "fraction": checker.fraction(choice.get("fraction"), f"{path}.fraction", penalties=True),
                    "feedback": checker.bilingual(choice.get("feedback"), f"{path}.feedback"),
                }
            )
        if isinstance(body.get("choices"), list) and len(choices) < 2:
            checker.fail("choices", N_("Give at least two choices."))
        return {"choices": choices, "shuffle": checker.boolean(body.get("shuffle"), "shuffle", True)}

    def public_body(self, body: Mapping, rng: random.Random | None) -> dict:
        choices = [{"key": choice["key"], "text": choice["text"]} for choice in body["choices"]]
        if rng is not None and body["shuffle"]:
            rng.shuffle(choices)
        return {"choices": choices}

    def _choice(self, body: Mapping, key: Any) -> Mapping:
        if not isinstance(key, str):
            raise _invalid_response(N_("Give the key of a choice."))
        for choice in body["choices"]:
            if choice["key"] == key:
                return choice
        raise _invalid_response(N_("Not a choice of this question."))


class SingleChoice(_ChoiceType):
    name = "single_choice"
    label = _l("Single choice")
    choice_based = True

    def normalise_body(self, body: Mapping) -> dict:
        checker = BodyChecker()
        normal = self._check_choices(body, checker)
        if len(normal["choices"]) >= 2 and not any(_full(choice["fraction"]) for choice in normal["choices"]):
            checker.fail("choices", N_("Give at least one choice full credit (fraction 1)."))
        checker.raise_errors()
        return normal

    def normalise_response(self, body: Mapping, response: Any) -> str | None:
        return None if response is None else self._choice(body, response)["key"]

    def grade(self, body: Mapping, response: str | None) -> float:
        return 0.0 if response is None else _clamp(self._choice(body, response)["fraction"])

    def option_keys(self, body: Mapping) -> list[str]:
        return [choice["key"] for choice in body["choices"]]

    def correct_keys(self, body: Mapping) -> list[str]:
        return [choice["key"] for choice in body["choices"] if _full(choice["fraction"])]

    def review(self, body: Mapping, response: str | None) -> dict:
        return {
            "correct_answer": [
                {"key": choice["key"], "text": choice["text"]}
                for choice in body["choices"]
                if _full(choice["fraction"])
            ],
            "feedback": [] if response is None else _feedback(self._choice(body, response)["feedback"]),
        }


class MultipleResponse(_ChoiceType):
    name = "multiple_response"
    label = _l("Multiple response")

    def normalise_body(self, body: Mapping) -> dict:
        checker = BodyChecker()
        normal = self._check_choices(body, checker)
        credit = sum(choice["fraction"] for choice in normal["choices"] if choice["fraction"] > 0)
        if len(normal["choices"]) >= 2 and abs(credit - 1.0) > EPSILON:
            checker.fail("choices", N_("The positive fractions must add up to 1."))
        checker.raise_errors()
        return normal

    def normalise_response(self, body: Mapping, response: Any) -> list[str] | None:
        if response is None:
            return None
        if not isinstance(response, list | tuple):
            raise _invalid_response(N_("Give a list of choice keys."))
        chosen = {self._choice(body, key)["key"] for key in response}
        if len(chosen) < len(response):
            raise _invalid_response(N_("A choice is given twice."))
        return [choice["key"] for choice in body["choices"] if choice["key"] in chosen]

    def grade(self, body: Mapping, response: list[str] | None) -> float:
        chosen = set(response or ())
        return _clamp(sum(choice["fraction"] for choice in body["choices"] if choice["key"] in chosen))

    def review(self, body: Mapping, response: list[str] | None) -> dict:
        chosen = set(response or ())
        return {
            "correct_answer": [
                {"key": choice["key"], "text": choice["text"]}
                for choice in body["choices"]
                if choice["fraction"] > 0
            ],
            "feedback": _feedback(
                *(choice["feedback"] for choice in body["choices"] if choice["key"] in chosen)
            ),
        }


class TrueFalse(QuestionType):
    name = "true_false"
    label = _l("True or false")
    choice_based = True

    def normalise_body(self, body: Mapping) -> dict:
        checker = BodyChecker()
        body = checker.fields(body, "", {"answer", "feedback_true", "feedback_false"})
        answer = body.get("answer")
        if not isinstance(answer, bool):
            checker.fail("answer", N_("Give true or false."))
        normal = {
            "answer": answer is True,
            "feedback_true": checker.bilingual(body.get("feedback_true"), "feedback_true"),
            "feedback_false": checker.bilingual(body.get("feedback_false"), "feedback_false"),
        }
        checker.raise_errors()
        return normal

    def public_body(self, body: Mapping, rng: random.Random | None) -> dict:
        # Always "true" before "false": shuffling them would only confuse.
        return {"options": [{"key": key, "text": dict(text)} for key, text in TRUE_FALSE_TEXTS.items()]}

    def normalise_response(self, body: Mapping, response: Any) -> bool | None:
        # Forms send the option keys as strings.
        if isinstance(response, str) and response.strip().lower() in TRUE_FALSE_TEXTS:
            return response.strip().lower() == "true"
        if response is None or isinstance(response, bool):
            return response
        raise _invalid_response(N_("Give true or false."))

    def grade(self, body: Mapping, response: bool | None) -> float:
        return 1.0 if response is not None and response == body["answer"] else 0.0

    def option_keys(self, body: Mapping) -> list[str]:
        return list(TRUE_FALSE_TEXTS)

    def correct_keys(self, body: Mapping) -> list[str]:
        return ["true" if body["answer"] else "false"]

    def review(self, body: Mapping, response: bool | None) -> dict:
        if response is None:
            feedback = []
        else:
            feedback = _feedback(body["feedback_true"] if response else body["feedback_false"])
        return {"correct_answer": body["answer"], "feedback": feedback}


# Typed answers


def _comparable(text: str, case_sensitive: bool) -> str:
    # Typed answers differ in spacing, case and how an accent was composed, never in meaning.
    text = " ".join(unicodedata.normalize("NFC", text).split())
    return text if case_sensitive else text.casefold()


class ShortAnswer(QuestionType):
    name = "short_answer"
    label = _l("Short answer")

    def normalise_body(self, body: Mapping) -> dict:
        checker = BodyChecker()
        body = checker.fields(body, "", {"answers", "case_sensitive"})
        case_sensitive = checker.boolean(body.get("case_sensitive"), "case_sensitive", False)
        answers, seen = [], set()
        for index, answer in enumerate(checker.items(body.get("answers"), "answers")):
            path = f"answers.{index}"
            answer = checker.fields(answer, path, {"text", "fraction", "feedback"})
            text = answer.get("text")
            if not isinstance(text, str) or not text.strip():
                checker.fail(f"{path}.text", N_("Give the accepted answer."))
                text = ""
            elif _comparable(text, case_sensitive) in seen:
                checker.fail(f"{path}.text", N_("This answer is accepted twice."))
            seen.add(_comparable(text, case_sensitive))
            answers.append(
                {
                    "text": " ".join(text.split()),
                    "fraction": checker.fraction(answer.get("fraction"), f"{path}.fraction", penalties=False),
                    "feedback": checker.bilingual(answer.get("feedback"), f"{path}.feedback"),
                }
            )
        _check_full_answer(checker, body, answers)
        checker.raise_errors()
        return {"answers": answers, "case_sensitive": case_sensitive}

    def public_body(self, body: Mapping, rng: random.Random | None) -> dict:
        return {}

    def normalise_response(self, body: Mapping, response: Any) -> str | None:
        return _text_response(response, MAX_SHORT_ANSWER)

    def _best(self, body: Mapping, response: str | None) -> Mapping | None:
        if response is None:
            return None
        typed = _comparable(response, body["case_sensitive"])
        matches = [
            answer
            for answer in body["answers"]
            if _comparable(answer["text"], body["case_sensitive"]) == typed
        ]
        return max(matches, key=lambda answer: answer["fraction"], default=None)

    def grade(self, body: Mapping, response: str | None) -> float:
        best = self._best(body, response)
        return 0.0 if best is None else _clamp(best["fraction"])

    def review(self, body: Mapping, response: str | None) -> dict:
        best = self._best(body, response)
        return {
            "correct_answer": [answer["text"] for answer in body["answers"] if _full(answer["fraction"])],
            "feedback": [] if best is None else _feedback(best["feedback"]),
        }


def _check_full_answer(checker: BodyChecker, body: Mapping, answers: list[dict]) -> None:
    if isinstance(body.get("answers"), list) and not answers:
        checker.fail("answers", N_("Give at least one accepted answer."))
    elif answers and not any(_full(answer["fraction"]) for answer in answers):
        checker.fail("answers", N_("Give at least one answer full credit (fraction 1)."))


# A sign, digits and at most one "." or "," as the decimal separator: "3,5", "-0.25", ",5".
NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")


class Numeric(QuestionType):
    name = "numeric"
    label = _l("Numeric")

    def normalise_body(self, body: Mapping) -> dict:
        checker = BodyChecker()
        body = checker.fields(body, "", {"answers"})
        answers = []
        for index, answer in enumerate(checker.items(body.get("answers"), "answers")):
            path = f"answers.{index}"
            answer = checker.fields(answer, path, {"value", "tolerance", "fraction", "feedback"})
            tolerance = checker.number(answer.get("tolerance", 0.0), f"{path}.tolerance")
            if tolerance is not None and tolerance < 0:
                checker.fail(f"{path}.tolerance", N_("Give a tolerance of 0 or more."))
            answers.append(
                {
                    "value": checker.number(answer.get("value"), f"{path}.value"),
                    "tolerance": tolerance,
                    "fraction": checker.fraction(answer.get("fraction"), f"{path}.fraction", penalties=False),
                    "feedback": checker.bilingual(answer.get("feedback"), f"{path}.feedback"),
                }
            )
        _check_full_answer(checker, body, answers)
        checker.raise_errors()
        return {"answers": answers}

    def public_body(self, body: Mapping, rng: random.Random | None) -> dict:
        return {}

    def normalise_response(self, body: Mapping, response: Any) -> float | None:
        if isinstance(response, str):
            response = response.strip()
            if not response:
                return None
            if not NUMBER.fullmatch(response):
                raise _invalid_response(N_("Give a number, with a point or a comma before the decimals."))
            response = float(response.replace(",", "."))
        if response is None:
            return None
        if isinstance(response, bool) or not isinstance(response, int | float) or not math.isfinite(response):
            raise _invalid_response(N_("Give a number, with a point or a comma before the decimals."))
        return float(response)

    def _best(self, body: Mapping, response: float | None) -> Mapping | None:
        if response is None:
            return None
        # Decimal values are not exact in binary: 3.15 is more than 0.01 away from 3.14.
        matches = [
            answer
            for answer in body["answers"]
            if abs(response - answer["value"]) <= answer["tolerance"] + 1e-9 * max(1.0, abs(answer["value"]))
        ]
        return max(matches, key=lambda answer: answer["fraction"], default=None)

    def grade(self, body: Mapping, response: float | None) -> float:
        best = self._best(body, response)
        return 0.0 if best is None else _clamp(best["fraction"])

    def review(self, body: Mapping, response: float | None) -> dict:
        best = self._best(body, response)
        return {
            "correct_answer": [
                {"value": answer["value"], "tolerance": answer["tolerance"]}
                for answer in body["answers"]
                if _full(answer["fraction"])
            ],
            "feedback": [] if best is None else _feedback(best["feedback"]),
        }


# Matching


class Matching(QuestionType):
    name = "matching"
    label = _l("Matching")

    def normalise_body(self, body: Mapping) -> dict:
        checker = BodyChecker()
        body = checker.fields(body, "", {"pairs", "shuffle"})
        pairs, keys = [], set()
        key_of_answer: dict[tuple[str, str], str] = {}
        answer_of_key: dict[str, tuple[str, str]] = {}
        for index, pair in enumerate(checker.items(body.get("pairs"), "pairs")):
            path = f"pairs.{index}"
            pair = checker.fields(pair, path, {"key", "prompt", "answer", "answer_key"})
            answer = checker.bilingual(pair.get("answer"), f"{path}.answer", required=True)
            text = (answer["id"], answer["en"])
            answer_key = pair.get("answer_key")
            if answer_key is None:
                answer_key = key_of_answer.get(text) or _new_answer_key(answer_of_key)
            elif not isinstance(answer_key, str) or not KEY.fullmatch(answer_key):
                checker.fail(f"{path}.answer_key", N_("Give a key of 1 to 40 letters, digits, '-' or '_'."))
            elif (
                answer_of_key.get(answer_key, text) != text
                or key_of_answer.get(text, answer_key) != answer_key
            ):
                # One answer is one option: the same text under two keys would show twice.
                checker.fail(
                    f"{path}.answer_key", N_("Pairs share an answer key exactly when they share the answer.")
                )
            key_of_answer.setdefault(text, answer_key)
            answer_of_key.setdefault(answer_key, text)
            pairs.append(
                {
                    "key": checker.key(pair.get("key"), f"{path}.key", keys),
                    "prompt": checker.bilingual(pair.get("prompt"), f"{path}.prompt"),
                    "answer": answer,
                    "answer_key": answer_key,
                }
            )
        if isinstance(body.get("pairs"), list) and len(_prompts(pairs)) < 2:
            checker.fail("pairs", N_("Give at least two pairs with a prompt."))
        normal = {"pairs": pairs, "shuffle": checker.boolean(body.get("shuffle"), "shuffle", True)}
        checker.raise_errors()
        return normal

    def public_body(self, body: Mapping, rng: random.Random | None) -> dict:
        options = {}
        for pair in body["pairs"]:
            options.setdefault(pair["answer_key"], {"key": pair["answer_key"], "text": pair["answer"]})
        options = list(options.values())
        if rng is not None and body["shuffle"]:
            rng.shuffle(options)
        return {
            "prompts": [{"key": pair["key"], "prompt": pair["prompt"]} for pair in _prompts(body["pairs"])],
            "options": options,
        }

    def normalise_response(self, body: Mapping, response: Any) -> dict[str, str] | None:
        if response is None:
            return None
        if not isinstance(response, Mapping):
            raise _invalid_response(N_("Give an answer key for each prompt key."))
        answer_keys = {pair["answer_key"] for pair in body["pairs"]}
        matched = {}
        for pair in _prompts(body["pairs"]):
            answer_key = response.get(pair["key"])
            if answer_key in (None, ""):
                continue
            if not isinstance(answer_key, str) or answer_key not in answer_keys:
                raise _invalid_response(N_("Not an answer of this question."))
            matched[pair["key"]] = answer_key
        prompt_keys = {pair["key"] for pair in _prompts(body["pairs"])}
        if any(key not in prompt_keys for key in response):
            raise _invalid_response(N_("Not a prompt of this question."))
        return matched

    def grade(self, body: Mapping, response: Mapping[str, str] | None) -> float:
        prompts = _prompts(body["pairs"])
        response = response or {}
        right = sum(1 for pair in prompts if response.get(pair["key"]) == pair["answer_key"])
        return _clamp(right / len(prompts))

    def review(self, body: Mapping, response: Mapping[str, str] | None) -> dict:
        return {
            "correct_answer": [
                {"prompt": pair["prompt"], "answer": pair["answer"]} for pair in _prompts(body["pairs"])
            ],
            "feedback": [],
        }


def _prompts(pairs: list[Mapping]) -> list[Mapping]:
    """The pairs a taker matches; the others only add wrong answers to pick from."""
    return [pair for pair in pairs if _has_text(pair["prompt"])]


def _new_answer_key(taken: Mapping[str, Any]) -> str:
    # Random, so that neither the keys nor their order say which answer is whose.
    while (key := secrets.token_urlsafe(6)) in taken:
        pass
    return key


# Essays


class Essay(QuestionType):
    name = "essay"
    label = _l("Essay")
    auto_graded = False

    def normalise_body(self, body: Mapping) -> dict:
        checker = BodyChecker()
        body = checker.fields(body, "", {"min_words", "grader_info"})
        min_words = body.get("min_words", 0)
        if isinstance(min_words, bool) or not isinstance(min_words, int) or min_words < 0:
            checker.fail("min_words", N_("Give a whole number of 0 or more."))
        normal = {
            "min_words": min_words,
            "grader_info": checker.bilingual(body.get("grader_info"), "grader_info"),
        }
        checker.raise_errors()
        return normal

    def public_body(self, body: Mapping, rng: random.Random | None) -> dict:
        return {"min_words": body["min_words"]}

    def normalise_response(self, body: Mapping, response: Any) -> str | None:
        # A draft may be short: the least number of words holds only when it is handed in.
        return _text_response(response, MAX_ESSAY)

    def check_submission(self, body: Mapping, response: str | None) -> None:
        if response is not None and len(response.split()) < body["min_words"]:
            raise _invalid_response(N_("The essay is shorter than the least number of words asked for."))

    def grade(self, body: Mapping, response: str | None) -> float | None:
        return 0.0 if response is None else None

    def review(self, body: Mapping, response: str | None) -> dict:
        # The information for graders is theirs, not the taker's.
        return {"correct_answer": None, "feedback": []}
