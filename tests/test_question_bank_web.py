"""The coordinators' question-bank pages: a form per question type, errors at their inputs with
what was typed kept, versions, retiring, preview, and the bank's filters."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from services.assessment.handlers import question_spec
from services.assessment.models import Question, QuestionVersion
from tests.test_assessment_bank import seeded, spec
from tests.test_skeleton import bearer, login, people, token

NO_TEXT = {"id": "", "en": ""}


@pytest.fixture
def embedded(make_system):
    return make_system("embedded")


# Helpers: a coordinator's browser ---------------------------------------------------------------


def coordinator_web(running):
    """An assessment web client signed in as a new coordinator."""
    (address,) = people(running, "koordinator")
    enrollment = running.client("enrollment")
    login(enrollment, address)
    web = running.client("assessment")
    web.set_cookie("pustaka_token", enrollment.get_cookie("pustaka_token").value)
    return web


class _Form(HTMLParser):
    """The fields of a page's own form (the one without an action) as a browser sends them."""

    def __init__(self, html: str):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.inside = False
        self.textarea: list[str] | None = None
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = "action" not in attributes and attributes.get("method") == "post"
        elif not self.inside:
            return
        elif tag == "input" and attributes.get("name"):
            kind = attributes.get("type", "text")
            if kind not in ("checkbox", "radio", "file") or "checked" in attributes:
                self.fields.append((attributes["name"], attributes.get("value", "")))
        elif tag == "textarea":
            self.textarea = [attributes["name"], ""]
        elif tag == "select":
            self.select, self.options = attributes["name"], []
        elif tag == "option" and self.select:
            self.options.append((attributes.get("value", ""), "selected" in attributes))

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            # A browser drops the line break that starts a text area.
            self.fields.append((name, text.removeprefix("\r\n").removeprefix("\n")))
            self.textarea = None
        elif tag == "select" and self.select:
            chosen = [value for value, selected in self.options if selected] or [self.options[0][0]]
            self.fields.append((self.select, chosen[0]))
            self.select = None


def form_fields(html: str) -> MultiDict:
    return MultiDict(_Form(html).fields)


def submit(web, page, path: str, changes: dict):
    """Post the page's form with some fields changed (None takes a field away, a list sets a
    field's several values), as a browser would."""
    fields = form_fields(page.text)
    for name, value in changes.items():
        fields.setlist(name, [] if value is None else value if isinstance(value, list) else [value])
    return web.post(path, data=fields)


def field_div(html: str, name: str) -> str:
    """The ``field`` block of the page that holds the input ``name``."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, re.S):
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name} on the page")


def errors_at(html: str, name: str) -> list[str]:
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', field_div(html, name), re.S)


def stored(running, name: str) -> dict | None:
    def find(session):
        question = session.scalar(select(Question).where(Question.name == name))
        return question and question_spec(question) | {"version": question.version_number}

    return running.query("assessment", find)


def question_count(running) -> tuple[int, int]:
    return running.query(
        "assessment",
        lambda s: tuple(s.scalar(select(func.count()).select_from(m)) for m in (Question, QuestionVersion)),
    )


def without_answer_keys(body: dict) -> dict:
    return body | {"pairs": [{k: v for k, v in pair.items() if k != "answer_key"} for pair in body["pairs"]]}


# What a coordinator types, per type, and the body it makes -------------------------------------


def text(indonesian: str, english: str = "") -> dict:
    return {"id": indonesian, "en": english}


BODIES = {
    "single_choice": (
        {
            "body.choices.0.text.id": "Katalog daring",
            "body.choices.0.text.en": "Online catalogue",
            "body.choices.0.fraction": "100",
            "body.choices.0.feedback.id": "Tepat.",
            "body.choices.1.text.id": "Mesin pencari",
            "body.choices.1.text.en": "Search engine",
        },
        {
            "choices": [
                {
                    "key": "a",
                    "text": text("Katalog daring", "Online catalogue"),
                    "fraction": 1.0,
                    "feedback": text("Tepat."),
                },
                {
                    "key": "b",
                    "text": text("Mesin pencari", "Search engine"),
                    "fraction": 0.0,
                    "feedback": NO_TEXT,
                },
            ],
            "shuffle": True,
        },
    ),
    "multiple_response": (
        {
            "body.choices.0.text.id": "Penulis jelas",
            "body.choices.0.fraction": "50",
            "body.choices.1.text.id": "Tanggal terbit",
            "body.choices.1.fraction": "50",
            # The third row is left empty: the fourth becomes the third choice.
            "body.choices.3.text.id": "Banyak iklan",
            "body.choices.3.fraction": "-33,33333",
            "body.choices.3.feedback.en": "Adverts say nothing of quality.",
        },
        {
            "choices": [
                {"key": "a", "text": text("Penulis jelas"), "fraction": 0.5, "feedback": NO_TEXT},
                {"key": "b", "text": text("Tanggal terbit"), "fraction": 0.5, "feedback": NO_TEXT},
                {
                    "key": "c",
                    "text": text("Banyak iklan"),
                    "fraction": -0.3333333,
                    "feedback": text("", "Adverts say nothing of quality."),
                },
            ],
            "shuffle": True,
        },
    ),
    "true_false": (
        {
            "body.answer": "false",
            "body.feedback_true.id": "Keliru: hoaks juga beredar lewat pesan berantai.",
            "body.feedback_false.id": "Tepat.",
            "body.feedback_false.en": "Right.",
        },
        {
            "answer": False,
            "feedback_true": text("Keliru: hoaks juga beredar lewat pesan berantai."),
            "feedback_false": text("Tepat.", "Right."),
        },
    ),
    "short_answer": (
        {
            "body.case_sensitive": "y",
            "body.answers.0.text": "OPAC",
            "body.answers.1.text": "  katalog   daring ",
            "body.answers.1.fraction": "50",
            "body.answers.1.feedback.id": "Hampir: singkatannya?",
        },
        {
            "answers": [
                {"text": "OPAC", "fraction": 1.0, "feedback": NO_TEXT},
                {"text": "katalog daring", "fraction": 0.5, "feedback": text("Hampir: singkatannya?")},
            ],
            "case_sensitive": True,
        },
    ),
    "numeric": (
        {
            "body.answers.0.value": "1945",
            "body.answers.1.value": "3,5",
            "body.answers.1.tolerance": "0,25",
            "body.answers.1.fraction": "50",
        },
        {
            "answers": [
                {"value": 1945.0, "tolerance": 0.0, "fraction": 1.0, "feedback": NO_TEXT},
                {"value": 3.5, "tolerance": 0.25, "fraction": 0.5, "feedback": NO_TEXT},
            ]
        },
    ),
    "matching": (
        {
            "body.shuffle": None,
            "body.pairs.0.prompt.id": "Buku",
            "body.pairs.0.answer.id": "Katalog",
            "body.pairs.1.prompt.id": "Artikel jurnal",
            "body.pairs.1.answer.id": "Basis data jurnal",
            "body.pairs.2.answer.id": "Media sosial",
        },
        {
            "pairs": [
                {"key": "a", "prompt": text("Buku"), "answer": text("Katalog")},
                {"key": "b", "prompt": text("Artikel jurnal"), "answer": text("Basis data jurnal")},
                {"key": "c", "prompt": NO_TEXT, "answer": text("Media sosial")},
            ],
            "shuffle": False,
        },
    ),
    "essay": (
        {
            "body.min_words": "50",
            "body.grader_info.id": "Nilai alur argumennya.",
            "body.grader_info.en": "Grade it.",
        },
        {"min_words": 50, "grader_info": text("Nilai alur argumennya.", "Grade it.")},
    ),
}


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_each_type_is_created_and_edited_through_its_form(make_system, mode):
    running = make_system(mode)
    web = coordinator_web(running)
    listing = web.get("/questions")
    assert listing.status_code == 200 and "Bank soal" in listing.text
    for type_name, (typed, body) in BODIES.items():
        assert f"/questions/new?type={type_name}" in listing.text
        path = f"/questions/new?type={type_name}"
        page = web.get(path)
        assert page.status_code == 200
        name = f"Web {type_name}"
        created = submit(
            web,
            page,
            path,
            {
                "name": name,
                "category": " Uji / Web ",
                "text_id": f"Pertanyaan {type_name}\r\nbaris kedua",
                "text_en": f"Question {type_name}",
                "feedback_id": "Umpan balik umum",
                "areas": ["searching", "evaluating"],
                "difficulty": "hard",
                "points": "1,5",
                **typed,
            },
        )
        assert created.status_code == 302, errors_of(created.text)
        question = stored(running, name)
        assert question["body"] == body or without_answer_keys(question["body"]) == body, type_name
        assert question == question | {
            "type": type_name,
            "category": "Uji/Web",
            "text": text(f"Pertanyaan {type_name}\nbaris kedua", f"Question {type_name}"),
            "general_feedback": text("Umpan balik umum"),
            "areas": ["searching", "evaluating"],
            "difficulty": "hard",
            "points": 1.5,
            "version": 1,
        }

        # The edit page shows what was saved: sent back unchanged, it makes no new version.
        edit_path = created.headers["Location"]
        edit = web.get(edit_path)
        assert edit.status_code == 200
        again = submit(web, edit, edit_path, {})
        assert again.status_code == 302, errors_of(again.text)
        assert stored(running, name) == question
        assert "tidak ada versi baru" in web.get(edit_path).text

    # A changed body is a new version; the page lists both, newest first, with their dates.
    edit_path = f"/questions/{running.query('assessment', lambda s: s.scalar(select(Question.id).where(Question.name == 'Web numeric')))}"
    changed = submit(web, web.get(edit_path), edit_path, {"body.answers.1.tolerance": "0,5"})
    assert changed.status_code == 302
    question = stored(running, "Web numeric")
    assert question["version"] == 2 and question["body"]["answers"][1]["tolerance"] == 0.5
    page = web.get(edit_path).text
    versions = re.findall(r"<tr>\s*<td>(\d+)[^<]*</td>\s*<td>([^<]+)</td>", page.split('id="versions"')[1])
    assert [number for number, _ in versions] == ["2", "1"] and all(
        re.search(r"\d{4}", when) for _, when in versions
    )


def errors_of(html: str) -> list[str]:
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', html, re.S)


def test_errors_show_at_their_inputs_and_what_was_typed_is_kept(embedded):
    web = coordinator_web(embedded)
    path = "/questions/new?type=single_choice"
    page = web.get(path)
    refused = submit(
        web,
        page,
        path,
        {
            "name": "",
            "text_id": "Apa kepanjangan OPAC?",
            "points": "0",
            "body.choices.0.text.id": "Online Public Access Catalog",
            "body.choices.0.fraction": "seratus",
            # The second row is empty and left out: the type's "choices.1" is the third row.
            "body.choices.2.text.en": "Open Access",
            "body.choices.2.fraction": "150",
        },
    )
    assert refused.status_code == 400
    html = refused.text
    assert errors_at(html, "name") == ["Kolom ini wajib diisi."]
    assert errors_at(html, "points") == ["Berikan poin di atas 0."]
    assert errors_at(html, "body.choices.0.fraction") == ["Berikan sebuah angka."]
    assert errors_at(html, "body.choices.2.fraction") == ["Berikan persentase dari -100 sampai 100."]
    assert errors_at(html, "body.choices.1.fraction") == []
    # What was typed is on the page again, errors and all.
    fields = form_fields(html)
    assert fields["text_id"] == "Apa kepanjangan OPAC?"
    assert fields["body.choices.0.fraction"] == "seratus"
    assert (fields["body.choices.2.text.en"], fields["body.choices.2.fraction"]) == ("Open Access", "150")
    assert question_count(embedded) == (0, 0)

    # A fault only the type sees (no choice with full credit) shows above the choices.
    refused = submit(
        web,
        page,
        path,
        {
            "name": "OPAC",
            "text_id": "Apa kepanjangan OPAC?",
            "body.choices.0.text.id": "Online Public Access Catalog",
            "body.choices.1.text.id": "Open Access",
        },
    )
    assert refused.status_code == 400
    assert "Berikan nilai penuh (pecahan 1) kepada paling sedikit satu pilihan." in errors_of(refused.text)
    assert question_count(embedded) == (0, 0)

    # The name is the bank's: a second question of the same name is refused at the name.
    ok = submit(
        web,
        page,
        path,
        {
            "name": "OPAC",
            "category": "Uji",
            "text_id": "OPAC?",
            "body.choices.0.text.id": "Ya",
            "body.choices.0.fraction": "100",
            "body.choices.1.text.id": "Tidak",
        },
    )
    assert ok.status_code == 302, errors_of(ok.text)
    clash = submit(
        web,
        page,
        path,
        {
            "name": "OPAC",
            "category": "Uji",
            "text_id": "OPAC lagi?",
            "body.choices.0.text.id": "Ya",
            "body.choices.0.fraction": "100",
            "body.choices.1.text.id": "Tidak",
        },
    )
    assert clash.status_code == 400 and errors_at(clash.text, "name") == ["Sudah dipakai."]
    assert question_count(embedded) == (1, 1)


def test_more_rows_keep_what_was_typed(embedded):
    web = coordinator_web(embedded)
    path = "/questions/new?type=matching"
    page = web.get(path)
    assert len(re.findall(r'name="body\.pairs\.\d+\.answer\.id"', page.text)) == 4
    more = submit(
        web, page, path, {"name": "Pasangan", "body.pairs.3.answer.id": "Jawaban", "action": "rows"}
    )
    assert more.status_code == 200
    assert len(re.findall(r'name="body\.pairs\.\d+\.answer\.id"', more.text)) == 6
    fields = form_fields(more.text)
    assert (fields["name"], fields["body.pairs.3.answer.id"], fields["body.rows"]) == (
        "Pasangan",
        "Jawaban",
        "6",
    )
    assert question_count(embedded) == (0, 0)


def test_versions_retiring_and_preview(embedded):
    web = coordinator_web(embedded)
    (address,) = people(embedded, "koordinator2")
    api_headers = bearer(token(embedded.client("enrollment"), address))
    created = embedded.client("assessment").post(
        "/api/v1/questions", json=spec("UJI-Pilihan tunggal"), headers=api_headers
    )
    question_id = created.json["id"]
    path = f"/questions/{question_id}"

    # The key of each choice is kept on the form: a past answer "b" still means the same choice.
    edit = web.get(path)
    assert form_fields(edit.text)["body.choices.1.key"] == "b"
    changed = submit(web, edit, path, {"body.choices.0.fraction": "100", "body.choices.1.fraction": "0"})
    assert changed.status_code == 302
    versions = (
        embedded.client("assessment")
        .get(f"/api/v1/questions/{question_id}", headers=api_headers)
        .json["versions"]
    )
    assert [[c["fraction"] for c in v["body"]["choices"]] for v in versions] == [
        [0.0, 1.0, 0.0],
        [1.0, 0.0, 0.0],
    ]
    assert [[c["key"] for c in v["body"]["choices"]] for v in versions] == [["a", "b", "c"]] * 2
    assert "versi 2" in web.get(path).text

    # Retired, it leaves the list of questions in use; brought back, it returns.
    token_value = form_fields(edit.text)["csrf_token"]
    assert web.post(f"{path}/retire", data={}).status_code == 400  # no CSRF token
    assert web.post(f"{path}/retire", data={"csrf_token": token_value}).status_code == 302
    assert stored(embedded, "UJI-Pilihan tunggal") is not None
    in_use = web.get("/questions?retired=false").text
    retired = web.get("/questions?retired=true").text
    assert "UJI-Pilihan tunggal" not in in_use and "UJI-Pilihan tunggal" in retired
    assert web.post(f"{path}/unretire", data={"csrf_token": token_value}).status_code == 302
    assert "UJI-Pilihan tunggal" in web.get("/questions?retired=false").text

    # The preview is the taker's view (the choices, no fractions) and the review of an answer tried.
    preview = web.get(f"{path}/preview")
    assert preview.status_code == 200
    assert "banjir rob Semarang" in preview.text and "fraction" not in preview.text
    assert "Umpan balik SC-a-5e1" not in preview.text  # choice feedback waits for an answer
    tried = web.post(f"{path}/preview", data={"csrf_token": csrf_of(preview.text), f"q-{question_id}": "a"})
    assert tried.status_code == 200
    assert "Umpan balik SC-a-5e1" in tried.text and "Benar" in tried.text
    wrong = web.post(f"{path}/preview", data={"csrf_token": csrf_of(preview.text), f"q-{question_id}": "zz"})
    assert wrong.status_code == 400 and "Bukan pilihan dari soal ini." in wrong.text


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_bank_filters_and_who_may_see_it(embedded):
    seeded(embedded)
    web = coordinator_web(embedded)

    def names(query: str) -> set[str]:
        page = web.get(f"/questions{query}")
        assert page.status_code == 200
        return set(re.findall(r'<a href="/questions/\d+">([^<]+)</a>', page.text))

    assert names("?type=matching") == {"UJI-Menjodohkan"}
    assert names("?search=BANJIR ROB di") == {"UJI-Pilihan tunggal"}
    assert names("?category=Uji/Acak") == {f"UJI-Acak {n}" for n in range(1, 5)}
    assert names("?category=Uji&difficulty=easy&area=searching") <= names("?area=searching")
    assert "UJI-Esai" in names("") and names("?retired=true") == set()

    _, staff = people(embedded, "koordinator3", "staf")
    other = embedded.client("assessment")
    assert other.get("/questions").status_code == 302  # to the sign-in page
    enrollment = embedded.client("enrollment")
    login(enrollment, staff)
    other.set_cookie("pustaka_token", enrollment.get_cookie("pustaka_token").value)
    assert other.get("/questions").status_code == 403
    assert other.get("/questions/export.gift").status_code == 403
