"""GIFT, Moodle's text format for question banks (https://docs.moodle.org/en/GIFT_format): import
into question specs and export from them, as pure functions.

How our specs are written in GIFT (and read back):

- Texts are plain text in both languages. They are written as ``[html]``: the same text once when
  both languages say the same, else Moodle's multilang filter markup
  ``<span lang="id" class="multilang">…</span><span lang="en" class="multilang">…</span>``; line
  breaks are ``<br>``, and spaces that HTML would collapse are ``&nbsp;`` (tabs and non-breaking
  spaces come back as spaces). On import, ``[html]`` and ``[moodle]`` (the default) texts are
  reduced to plain text per language (markup dropped, ``<br>`` and paragraphs as line breaks,
  runs of spaces collapsed as a browser shows them; in ``[moodle]`` texts line ends are breaks
  too); text outside multilang spans belongs to both languages, and a language without a span
  shows the other's. ``[plain]`` and ``[markdown]`` texts are taken as they are. Images and other
  media, and languages other than Indonesian and English, are problems.
- Areas, difficulty and points, and the options GIFT has no syntax for, are Moodle tags in a
  comment line before the question (Moodle keeps them as the question's tags):
  ``[tag:area:<code>]`` per competency area, ``[tag:difficulty:easy|medium|hard]`` (default
  medium), ``[tag:points:<n>]`` (default 1), ``[tag:shuffle:false]`` (choices and matching),
  ``[tag:case_sensitive:true]`` (short answer) and ``[tag:min_words:<n>]`` (essay). An essay's
  information for graders is a ``// grader_info: <text>`` comment line, which Moodle ignores.
  Other tags and ``[id:…]`` are ignored.
- Choices: when an answer is marked ``=`` the question is single_choice (``=`` is full credit
  unless weighted, ``~`` none unless weighted, e.g. ``~%50%`` partial or ``~%-25%`` a penalty);
  when every answer is marked ``~`` it is multiple_response, whose positive weights must add up to
  100% (this is Moodle's own rule for "multiple answers allowed").
- Choice and matching-pair keys are a, b, c, … in authored order, so an export imports with the
  same keys. Matching answer keys are not written: imported matching bodies have none, and the
  bank gives fresh random ones when it saves them.
- A question without ``::name::`` is named by the start of its text. Numeric ranges ``{#1..5}``
  become value 3 with tolerance 2. A short answer containing ``->`` reads back as matching (GIFT
  cannot escape it).
"""

from __future__ import annotations

import html
import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from html.parser import HTMLParser
from itertools import accumulate

from shared.competencies import AREAS

from .interchange import DIFFICULTIES, ImportReport, Problem, choice_key, default_name, finished, same_text
from .question_types import EPSILON, question_type

FORMATS = ("html", "moodle", "markdown", "plain")
BLANK = "_____"
LANGUAGES = ("id", "en")
TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
SHUFFLED_TYPES = ("single_choice", "multiple_response", "matching")

# While the structure is parsed, escaped characters are private-use characters, so that only
# unescaped ones are markup; they are revealed in the texts.
ESCAPE = re.compile(r"\\([\\~=#{}:n])")
HIDDEN = {char: chr(0xE000 + index) for index, char in enumerate("\\~=#{}:n")}
REVEAL = str.maketrans({hidden: "\n" if char == "n" else char for char, hidden in HIDDEN.items()})

FORMAT = re.compile(rf"\s*\[({'|'.join(FORMATS)})\]")
NAME = re.compile(r"\s*::(.*?)::", re.S)
WEIGHT = re.compile(r"\s*%(-?\d+(?:\.\d+)?)%")
NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
NUMERIC_ANSWER = re.compile(rf"\s*({NUMBER})\s*(?:(:|\.\.)\s*({NUMBER})\s*)?")
CONTEXT = re.compile(r"^\$[a-z]+\$/")  # $course$/, $system$/, … before Moodle's top category
TAG = re.compile(r"\[tag:([^\]]*)\]")
GRADER_INFO = re.compile(r"\s*//\s*grader_info:(.*)")

# Line breaks of the HTML while it becomes text: a hard one per <br>, soft ones around paragraphs.
HARD_BREAK, SOFT_BREAK = "\x00", "\x01"
BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "table", "tr", "blockquote", "pre"} | {
    f"h{n}" for n in range(1, 7)
}
MEDIA_TAGS = {"img", "audio", "video", "iframe", "object", "embed", "svg", "math"}


class _Fault(Exception):
    """What makes a question unreadable, at a line."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


# Import


def parse_gift(text: str, default_category: str = "Default") -> ImportReport:
    """The questions of a GIFT file, and its problems, each at the line where it is."""
    questions, problems = [], []
    category: str | None = default_category
    for rows in _blocks(text):
        comments = [(number, line) for number, line in rows if line.lstrip().startswith("//")]
        content = [(number, line) for number, line in rows if not line.lstrip().startswith("//")]
        if content and content[0][1].lstrip().startswith("$CATEGORY:"):
            number, line = content.pop(0)
            try:
                category = _category(line.split(":", 1)[1], default_category)
            except ValueError as error:
                problems.append(Problem(number, str(error)))
                category = None
        if not content or category is None:  # a bad category's problem stands for its questions
            continue
        start = content[0][0]
        try:
            spec, found = _question(_Block(content), comments, category)
        except _Fault as fault:
            problems.append(Problem(fault.line, fault.message))
            continue
        spec, rejected = finished(start, spec)
        if found or rejected:
            problems += found + rejected
        else:
            questions.append((start, spec))
    return ImportReport(questions, sorted(problems, key=lambda problem: problem.line))


def _blocks(text: str) -> Iterator[list[tuple[int, str]]]:
    """The numbered lines of each question: questions are separated by blank lines."""
    rows: list[tuple[int, str]] = []
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        if line.strip():
            rows.append((number, line))
        elif rows:
            yield rows
            rows = []
    if rows:
        yield rows


def _category(path: str, default: str) -> str:
    path = path.strip()
    path = CONTEXT.sub("", path, count=1)
    if path == "top" or path.startswith("top/"):
        path = path[len("top/") :]
    if "//" in path:
        raise ValueError(
            "A category name with a '/' (written //) cannot be a level of ours; "
            "the questions under it are not imported."
        )
    levels = [level.strip() for level in path.split("/") if level.strip()]
    return "/".join(levels) or default


class _Block:
    """A question's lines joined, with escaped characters hidden; offsets map back to lines."""

    def __init__(self, rows: list[tuple[int, str]]):
        lines = [ESCAPE.sub(lambda match: HIDDEN[match[1]], line) for _, line in rows]
        self.text = "\n".join(lines)
        self.numbers = [number for number, _ in rows]
        self.starts = [0, *accumulate(len(line) + 1 for line in lines[:-1])]

    def line(self, offset: int) -> int:
        return self.numbers[bisect_right(self.starts, offset) - 1]


def _question(block: _Block, comments: list[tuple[int, str]], category: str) -> tuple[dict, list[Problem]]:
    text = block.text
    start = block.line(0)
    named = NAME.match(text)
    after_name = named.end() if named else 0
    opening = text.find("{", after_name)
    if opening < 0:
        raise _Fault(start, "No answer block {…}: descriptions are not a question type of ours.")
    closing = text.find("}", opening)
    if closing < 0:
        raise _Fault(block.line(opening), "The answer block is not closed with }.")
    strays = [
        text.find("}", after_name, opening),
        text.find("{", opening + 1, closing),
        text.find("{", closing + 1),
        text.find("}", closing + 1),
    ]
    if any(stray >= 0 for stray in strays):
        stray = min(stray for stray in strays if stray >= 0)
        raise _Fault(
            block.line(stray),
            "Only one answer block {…} per question (embedded answers are not supported); "
            "write a literal brace as \\{ or \\}.",
        )

    before, after = text[after_name:opening], text[closing + 1 :]
    # Missing-word format: the block stood in the sentence.
    question_format, question_text = _format(before + BLANK + after if after.strip() else before, "moodle")
    question_text = _text(question_text, question_format, start)

    inner = text[opening + 1 : closing]
    general_feedback = same_text("")
    general_at = inner.find("####")
    if general_at >= 0:
        line = block.line(opening + 1 + general_at)
        general_feedback = _formatted_text(inner[general_at + 4 :], question_format, line)
        inner = inner[:general_at]
    kind, body = _answers(block, inner, opening + 1, question_format)

    options, body_options, problems = _comments(comments, kind)
    name = named[1].translate(REVEAL).strip() if named else ""
    spec = {
        "name": name or default_name(question_text),
        "type": kind,
        "category": category,
        "text": question_text,
        "general_feedback": general_feedback,
        **options,
        "body": {**body, **body_options},
    }
    return spec, problems


def _answers(block: _Block, inner: str, at: int, question_format: str) -> tuple[str, dict]:
    """The question type, as Moodle tells it from the answer block, and the body."""
    answers = inner.strip()
    if not answers:
        return "essay", {}
    if answers.startswith("#"):
        return "numeric", _numeric(block, inner, at, question_format)
    if "~" in answers:
        return _choices(block, inner, at, question_format)
    if "=" in answers and "->" in answers:
        return "matching", _matching(block, inner, at, question_format)
    if answers.split("#", 1)[0].strip() in TRUE_FALSE:
        return "true_false", _true_false(block, inner, at, question_format)
    return "short_answer", _short_answer(block, inner, at, question_format)


def _segments(block: _Block, inner: str, at: int) -> list[tuple[str, str, int]]:
    """Each answer of a block: its mark (= or ~), what follows it, and the offset of the mark."""
    marks = [match.start() for match in re.finditer("[=~]", inner)]
    if inner[: marks[0] if marks else len(inner)].strip():
        raise _Fault(block.line(at), "Start each answer with = (right) or ~ (wrong).")
    ends = [*marks[1:], len(inner)]
    return [(inner[mark], inner[mark + 1 : end], at + mark) for mark, end in zip(marks, ends, strict=True)]


def _weight(answer: str) -> tuple[float | None, str]:
    """An answer's weight ``%50%`` as a fraction (None when there is none), and the rest."""
    match = WEIGHT.match(answer)
    if not match:
        return None, answer
    # Decimal keeps 33.33333% exactly 0.3333333, so an export imports to the same fraction.
    return float(Decimal(match[1]) / 100), answer[match.end() :]


def _choices(block: _Block, inner: str, at: int, question_format: str) -> tuple[str, dict]:
    choices = []
    segments = _segments(block, inner, at)
    for index, (mark, segment, offset) in enumerate(segments):
        line = block.line(offset)
        weight, segment = _weight(segment)
        answer, _, feedback = segment.partition("#")
        choices.append(
            {
                "key": choice_key(index),
                "text": _formatted_text(answer, question_format, line),
                "fraction": weight if weight is not None else 1.0 if mark == "=" else 0.0,
                "feedback": _formatted_text(feedback, question_format, line),
            }
        )
    if any(mark == "=" for mark, _, _ in segments):
        return "single_choice", {"choices": choices}
    if not any(choice["fraction"] > 0 for choice in choices):
        raise _Fault(
            block.line(at), "No right answer: mark it with =, or weight the right answers, e.g. ~%50%."
        )
    return "multiple_response", {"choices": choices}


def _true_false(block: _Block, inner: str, at: int, question_format: str) -> dict:
    line = block.line(at)
    answer, *feedbacks = inner.split("#")
    if len(feedbacks) > 2:
        raise _Fault(line, "A true/false answer has at most two feedbacks: {T#if wrong#if right}.")
    wrong, right = (_formatted_text(text, question_format, line) for text in [*feedbacks, "", ""][:2])
    answer = TRUE_FALSE[answer.strip()]
    return {
        "answer": answer,
        "feedback_true": right if answer else wrong,
        "feedback_false": wrong if answer else right,
    }


def _short_answer(block: _Block, inner: str, at: int, question_format: str) -> dict:
    answers = []
    for _, segment, offset in _segments(block, inner, at):
        weight, segment = _weight(segment)
        answer, _, feedback = segment.partition("#")
        answers.append(
            {
                # Typed answers are compared as plain strings, whatever the question's format.
                "text": answer.translate(REVEAL).strip(),
                "fraction": 1.0 if weight is None else weight,
                "feedback": _formatted_text(feedback, question_format, block.line(offset)),
            }
        )
    return {"answers": answers}


def _matching(block: _Block, inner: str, at: int, question_format: str) -> dict:
    pairs = []
    for index, (_, segment, offset) in enumerate(_segments(block, inner, at)):
        line = block.line(offset)
        prompt, arrow, answer = segment.partition("->")
        if not arrow:
            raise _Fault(line, "Write each matching pair as =prompt -> answer.")
        if "#" in segment:
            raise _Fault(line, "Matching pairs have no feedback in GIFT.")
        pairs.append(
            {
                "key": choice_key(index),
                "prompt": _formatted_text(prompt, question_format, line),
                "answer": _formatted_text(answer, question_format, line),
            }
        )
    return {"pairs": pairs}


def _numeric(block: _Block, inner: str, at: int, question_format: str) -> dict:
    answers_at = inner.index("#") + 1
    answers = inner[answers_at:]
    if "=" in answers or "~" in answers:
        segments = _segments(block, answers, at + answers_at)
    else:
        segments = [("=", answers, at + answers_at)]
    body = []
    for mark, segment, offset in segments:
        line = block.line(offset)
        if mark == "~":
            raise _Fault(line, "Numeric answers all give credit: mark each with =.")
        weight, segment = _weight(segment)
        number, _, feedback = segment.partition("#")
        value, tolerance = _number_and_tolerance(number, line)
        body.append(
            {
                "value": value,
                "tolerance": tolerance,
                "fraction": 1.0 if weight is None else weight,
                "feedback": _formatted_text(feedback, question_format, line),
            }
        )
    return {"answers": body}


def _number_and_tolerance(text: str, line: int) -> tuple[float, float]:
    match = NUMERIC_ANSWER.fullmatch(text)
    if not match:
        raise _Fault(
            line,
            f"Not a number, number:tolerance or minimum..maximum: {text.translate(REVEAL).strip()!r}.",
        )
    value = float(match[1])
    if match[2] == ":":
        return value, float(match[3])
    if match[2] == "..":
        low, high = value, float(match[3])
        if low > high:
            raise _Fault(line, "A range starts with its minimum: minimum..maximum.")
        return (low + high) / 2, (high - low) / 2
    return value, 0.0


def _comments(comments: list[tuple[int, str]], kind: str) -> tuple[dict, dict, list[Problem]]:
    """The spec's areas, difficulty and points and the body's options, from the question's tags."""
    options: dict = {"areas": [], "difficulty": "medium", "points": 1.0}
    body: dict = {}
    problems = []
    for number, line in comments:
        grader_info = GRADER_INFO.match(line)
        if grader_info:
            if kind != "essay":
                problems.append(Problem(number, "Information for graders belongs to essays only."))
            else:
                hidden = ESCAPE.sub(lambda match: HIDDEN[match[1]], grader_info[1])
                body["grader_info"] = _text(hidden, "html", number)
            continue
        for tag in TAG.finditer(line):
            try:
                _tag(tag[1], kind, options, body)
            except ValueError as error:
                problems.append(Problem(number, str(error)))
    return options, body, problems


def _tag(tag: str, kind: str, options: dict, body: dict) -> None:
    name, _, value = (part.strip() for part in tag.partition(":"))
    name = name.lower()
    if name == "area":
        if value not in AREAS:
            raise ValueError(f"Unknown competency area {value!r}.")
        if value not in options["areas"]:
            options["areas"].append(value)
    elif name == "difficulty":
        if value.lower() not in DIFFICULTIES:
            raise ValueError(f"Unknown difficulty {value!r}: give easy, medium or hard.")
        options["difficulty"] = value.lower()
    elif name == "points":
        if not re.fullmatch(NUMBER, value) or not 0 < float(value) < math.inf:
            raise ValueError(f"Points must be a number above 0, not {value!r}.")
        options["points"] = float(value)
    elif name in ("shuffle", "case_sensitive"):
        applies = SHUFFLED_TYPES if name == "shuffle" else ("short_answer",)
        if kind not in applies:
            raise ValueError(f"The {name} tag does not apply to {kind} questions.")
        if value.lower() not in ("true", "false"):
            raise ValueError(f"Give {name}:true or {name}:false, not {value!r}.")
        body[name] = value.lower() == "true"
    elif name == "min_words":
        if kind != "essay":
            raise ValueError(f"The min_words tag does not apply to {kind} questions.")
        if not (value.isascii() and value.isdigit()):
            raise ValueError(f"Give min_words as a whole number, not {value!r}.")
        body["min_words"] = int(value)
    # Any other tag is the author's own; our questions have no tags of their own to keep it in.


def _format(text: str, default: str) -> tuple[str, str]:
    match = FORMAT.match(text)
    return (match[1], text[match.end() :]) if match else (default, text)


def _formatted_text(text: str, default_format: str, line: int) -> dict:
    """A text of the answer block: it is in the question's format unless it names its own."""
    text_format, text = _format(text, default_format)
    return _text(text, text_format, line)


def _text(text: str, text_format: str, line: int) -> dict:
    """The bilingual plain text of a GIFT text (escapes still hidden)."""
    text = text.translate(REVEAL)
    if text_format in ("plain", "markdown"):
        return same_text(text.strip())
    parser = _HtmlText(line_breaks=text_format == "moodle")
    parser.feed(text)
    parser.close()
    if parser.media:
        raise _Fault(line, f"Our texts are plain text: <{parser.media[0]}> cannot be imported.")
    if parser.other_languages:
        raise _Fault(
            line,
            f"Text in language {parser.other_languages[0]!r}: only Indonesian (id) and English (en) are kept.",
        )
    return parser.text()


class _HtmlText(HTMLParser):
    """The plain text of HTML in each language of Moodle's multilang spans."""

    def __init__(self, line_breaks: bool):
        super().__init__()
        self.line_breaks = line_breaks
        self.pieces: list[tuple[str | None, str]] = []  # (language or None for all, text)
        self.language: str | None = None  # of the multilang span the parser is in
        self.depth = 0  # of spans inside that one
        self.languages: set[str] = set()
        self.other_languages: list[str] = []
        self.media: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "span" and self.language is not None:
            self.depth += 1
        elif tag == "span" and "multilang" in (attributes.get("class") or "").split():
            # Moodle's language codes may name a variant: en_us, id-ID.
            language = (attributes.get("lang") or "").lower().replace("-", "_").split("_")[0]
            if language not in LANGUAGES:
                self.other_languages.append(attributes.get("lang") or "")
            self.language = language
            self.languages.add(language)
        elif tag == "br":
            self.pieces.append((self.language, HARD_BREAK))
        elif tag in BLOCK_TAGS:
            self.pieces.append((self.language, SOFT_BREAK))
        elif tag in MEDIA_TAGS:
            self.media.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self.language is not None:
            if self.depth:
                self.depth -= 1
            else:
                self.language = None
        elif tag in BLOCK_TAGS:
            self.pieces.append((self.language, SOFT_BREAK))

    def handle_data(self, data: str) -> None:
        data = data.replace(HARD_BREAK, "").replace(SOFT_BREAK, "")
        if self.line_breaks:
            data = data.replace("\n", HARD_BREAK)
        self.pieces.append((self.language, data))

    def text(self) -> dict:
        text = {}
        for language, other in (("id", "en"), ("en", "id")):
            shown = other if other in self.languages and language not in self.languages else language
            text[language] = _tidy("".join(piece for of, piece in self.pieces if of in (None, shown)))
        return text


def _tidy(text: str) -> str:
    """Text as a browser shows it: runs of spaces are one, none around line breaks."""
    text = re.sub(r"[ \t\n\r\f]+", " ", text)
    text = re.sub(
        f" ?([{HARD_BREAK}{SOFT_BREAK}]+) ?",
        lambda match: "\n" * max(1, match[1].count(HARD_BREAK)),
        text,
    )
    return text.replace("\xa0", " ").strip()


# Export


def export_gift(questions: Iterable[Mapping]) -> str:
    """A GIFT file of question specs, which parse_gift reads back to the same specs."""
    parts = []
    category = None
    for spec in questions:
        if spec["category"] != category:
            category = spec["category"]
            parts.append(f"$CATEGORY: $course$/top/{category}\n")
        parts.append(_write_question(spec))
    return "\n".join(parts)


def _write_question(spec: Mapping) -> str:
    kind = spec["type"]
    body = question_type(kind).normalise_body(spec["body"])
    tags = [f"difficulty:{spec['difficulty']}", f"points:{_number(spec['points'])}"]
    tags += [f"area:{area}" for area in spec["areas"]]
    if kind in SHUFFLED_TYPES and not body["shuffle"]:
        tags.append("shuffle:false")
    if kind == "short_answer" and body["case_sensitive"]:
        tags.append("case_sensitive:true")
    if kind == "essay" and body["min_words"]:
        tags.append(f"min_words:{body['min_words']}")
    lines = ["// " + " ".join(f"[tag:{tag}]" for tag in tags)]
    if kind == "essay" and _html(body["grader_info"]):
        lines.append(f"// grader_info: {_html(body['grader_info'])}")

    general_feedback = _html(spec["general_feedback"])
    general = f"####{general_feedback}" if general_feedback else ""
    if kind == "true_false":
        block = f"{{{_write_true_false(body)}{general}}}"
    elif kind == "essay":
        block = f"{{{general}}}"
    else:
        answers = _ANSWER_WRITERS[kind](body)
        if general:
            answers.append(general)
        prefix = "#" if kind == "numeric" else ""
        block = f"{{{prefix}\n" + "".join(f"\t{answer}\n" for answer in answers) + "}"
    lines.append(f"::{_escape(spec['name'])}::[html]{_html(spec['text'])}{block}")
    return "\n".join(lines) + "\n"


def _answer(mark: str, fraction: float, default: float, text: str, feedback: Mapping) -> str:
    # A text that starts like a weight gets an explicit one, so that it stays text.
    weight = "" if fraction == default and not WEIGHT.match(text) else f"%{_percent(fraction)}%"
    feedback_html = _html(feedback)
    return f"{mark}{weight}{text}" + (f"#{feedback_html}" if feedback_html else "")


def _write_single_choice(body: Mapping) -> list[str]:
    return [
        _answer("=", choice["fraction"], 1.0, _html(choice["text"]), choice["feedback"])
        if choice["fraction"] >= 1.0 - EPSILON
        else _answer("~", choice["fraction"], 0.0, _html(choice["text"]), choice["feedback"])
        for choice in body["choices"]
    ]


def _write_multiple_response(body: Mapping) -> list[str]:
    return [
        _answer("~", choice["fraction"], 0.0, _html(choice["text"]), choice["feedback"])
        for choice in body["choices"]
    ]


def _write_short_answer(body: Mapping) -> list[str]:
    return [
        _answer("=", answer["fraction"], 1.0, _escape(answer["text"]), answer["feedback"])
        for answer in body["answers"]
    ]


def _write_matching(body: Mapping) -> list[str]:
    return [f"={_html(pair['prompt'])} -> {_html(pair['answer'])}" for pair in body["pairs"]]


def _write_numeric(body: Mapping) -> list[str]:
    return [
        _answer(
            "=",
            answer["fraction"],
            1.0,
            f"{_number(answer['value'])}:{_number(answer['tolerance'])}",
            answer["feedback"],
        )
        for answer in body["answers"]
    ]


_ANSWER_WRITERS = {
    "single_choice": _write_single_choice,
    "multiple_response": _write_multiple_response,
    "short_answer": _write_short_answer,
    "matching": _write_matching,
    "numeric": _write_numeric,
}


def _write_true_false(body: Mapping) -> str:
    answer = body["answer"]
    right = _html(body["feedback_true"] if answer else body["feedback_false"])
    wrong = _html(body["feedback_false"] if answer else body["feedback_true"])
    written = "TRUE" if answer else "FALSE"
    # An empty last feedback is left out: "#" next to the general feedback's "####" would join it.
    if right:
        return f"{written}#{wrong}#{right}"
    return f"{written}#{wrong}" if wrong else written


def _html(text: Mapping) -> str:
    """A bilingual text as escaped GIFT [html]: once, or in Moodle's multilang spans."""
    if text["id"] == text["en"]:
        markup = _html_part(text["id"])
    else:
        markup = "".join(
            f'<span lang="{language}" class="multilang">{_html_part(text[language])}</span>'
            for language in LANGUAGES
        )
    return _escape(markup)


def _html_part(text: str) -> str:
    lines = [
        # Spaces a browser would collapse or drop are non-breaking ones.
        re.sub(r"(?<= ) |^ | $", "&nbsp;", line)
        for line in html.escape(text, quote=False).split("\n")
    ]
    markup = "<br>".join(lines)
    # A leading % would read as a weight, a leading [ as a format.
    if markup[:1] in ("%", "["):
        markup = f"&#{ord(markup[0])};{markup[1:]}"
    return markup


def _escape(text: str) -> str:
    return re.sub(r"([\\~=#{}:])", r"\\\1", text).replace("\n", "\\n")


def _number(value: float) -> str:
    written = repr(float(value))
    return written.removesuffix(".0")


def _percent(fraction: float) -> str:
    return format((Decimal(repr(fraction)) * 100).normalize(), "f")
