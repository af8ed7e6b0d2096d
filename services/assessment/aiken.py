"""Aiken, Moodle's simplest question format (https://docs.moodle.org/en/Aiken_format): import of
single-choice questions written as plain text::

    Which catalogue finds a book by its subject?
    A. The author catalogue
    B) The subject catalogue
    ANSWER: B

The question text may take several lines; each choice is one line, a capital letter with "." or
")" before it; the ANSWER line ends the question. Texts are the same in both languages, choice
keys are the letters in lower case, and the questions are medium, worth 1 point, in no
competency area, named by the start of their text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .interchange import ImportReport, Problem, default_name, finished, same_text

CHOICE = re.compile(r"([A-Z])[.)]\s+(\S.*)")
ANSWER = re.compile(r"ANSWER:\s*(\S*)", re.IGNORECASE)


@dataclass
class _Question:
    start: int
    text: list[str]
    choices: dict[str, str] = field(default_factory=dict)  # letter: text
    problems: list[Problem] = field(default_factory=list)


def parse_aiken(text: str, category: str = "Default") -> ImportReport:
    """The questions of an Aiken file, and its problems, each at the line where it is."""
    questions, problems = [], []
    question: _Question | None = None
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        line = line.strip()
        choice, answer = CHOICE.fullmatch(line), ANSWER.fullmatch(line)
        if not line:
            continue
        if question is None and (choice or answer):
            problems.append(Problem(number, "A choice or an ANSWER line before the question's text."))
        elif question is None:
            question = _Question(number, [line])
        elif answer:
            spec, found = _finish(question, answer[1].upper(), number, category)
            if spec is None:
                problems += found
            else:
                questions.append((question.start, spec))
            question = None
        elif choice and choice[1] in question.choices:
            question.problems.append(Problem(number, f"A second choice {choice[1]}."))
        elif choice:
            question.choices[choice[1]] = choice[2]
        elif question.choices:
            # Text after the choices starts the next question: this one lacks its ANSWER line.
            problems.append(Problem(question.start, "The question has no ANSWER line after its choices."))
            question = _Question(number, [line])
        else:
            question.text.append(line)
    if question is not None:
        problems.append(Problem(question.start, "The question has no ANSWER line."))
    return ImportReport(questions, sorted(problems, key=lambda problem: problem.line))


def _finish(question: _Question, letter: str, line: int, category: str) -> tuple[dict | None, list[Problem]]:
    problems = list(question.problems)
    if letter not in question.choices:
        problems.append(Problem(line, f"The ANSWER {letter!r} is not the letter of one of the choices."))
    text = same_text("\n".join(question.text))
    spec = {
        "name": default_name(text),
        "type": "single_choice",
        "category": category,
        "text": text,
        "general_feedback": same_text(""),
        "areas": [],
        "difficulty": "medium",
        "points": 1.0,
        "body": {
            "choices": [
                {
                    "key": key.lower(),
                    "text": same_text(choice),
                    "fraction": 1.0 if key == letter else 0.0,
                    "feedback": same_text(""),
                }
                for key, choice in question.choices.items()
            ]
        },
    }
    return (None, problems) if problems else finished(question.start, spec)
