"""GIFT and Aiken: a Moodle export imports whole, faults are reported at their lines, and our own
GIFT export imports back to the very same question specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.assessment.aiken import parse_aiken
from services.assessment.gift import export_gift, parse_gift
from services.assessment.question_types import question_type

DATA = Path(__file__).parent / "data"
NO_TEXT = {"id": "", "en": ""}


def same(text: str) -> dict:
    return {"id": text, "en": text}


def line_of(text: str, fragment: str) -> int:
    """The number of the one line of ``text`` that holds ``fragment``."""
    numbers = [number for number, line in enumerate(text.split("\n"), 1) if fragment in line]
    assert len(numbers) == 1, fragment
    return numbers[0]


def problems_of(report) -> list[tuple[int, str]]:
    return [(problem.line, problem.message) for problem in report.problems]


# --- A Moodle export -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> tuple[str, dict]:
    text = (DATA / "moodle_sample.gift").read_text(encoding="utf-8")
    report = parse_gift(text, default_category="Impor")
    assert report.problems == []
    return text, {spec["name"]: (line, spec) for line, spec in report.questions}


def test_every_question_of_the_sample_is_read_at_its_line(sample):
    text, questions = sample
    found = {name: (line, spec["type"]) for name, (line, spec) in questions.items()}
    assert found == {
        "Ciri hoaks": (line_of(text, "::Ciri hoaks::"), "single_choice"),
        "Sumber primer": (line_of(text, "::Sumber primer::"), "multiple_response"),
        "Hoaks selalu dari media sosial": (line_of(text, "::Hoaks selalu"), "true_false"),
        "Perpustakaan kota": (line_of(text, "::Perpustakaan kota::"), "true_false"),
        "Singkat T": (line_of(text, "::Singkat T::"), "true_false"),
        "Operator Boolean": (line_of(text, "::Operator Boolean::"), "short_answer"),
        "Katalog": (line_of(text, "::Katalog::"), "matching"),
        "DDC 500": (line_of(text, "::DDC 500::"), "numeric"),
        "Pi": (line_of(text, "::Pi::"), "numeric"),
        "Rentang": (line_of(text, "::Rentang::"), "numeric"),
        "Tahun Deklarasi Praha": (line_of(text, "::Tahun Deklarasi Praha::"), "numeric"),
        "Esai sumber": (line_of(text, "::Esai sumber::"), "essay"),
        "Kata hilang": (line_of(text, "::Kata hilang::"), "single_choice"),
        "Lolos karakter": (line_of(text, "::Lolos karakter::"), "single_choice"),
        # Without ::name::, the question is named by its text.
        'Operator untuk "atau" dalam penelusuran Boolean adalah?': (
            line_of(text, 'Operator untuk "atau"'),
            "short_answer",
        ),
    }


def test_multilang_html_weights_penalties_and_feedback(sample):
    _, questions = sample
    assert questions["Ciri hoaks"][1] == {
        "name": "Ciri hoaks",
        "type": "single_choice",
        "category": "Literasi informasi/Evaluasi sumber",
        "text": {"id": "Manakah ciri berita hoaks?", "en": "Which is a sign of a hoax?"},
        "general_feedback": {"id": "Periksa sumbernya.", "en": "Check the source."},
        "areas": ["evaluating"],
        "difficulty": "easy",
        "points": 1.0,
        "body": {
            "choices": [
                {
                    "key": "a",
                    "text": {"id": "Judul yang memancing emosi", "en": "A headline that stirs emotions"},
                    "fraction": 1.0,
                    "feedback": {"id": "Benar.", "en": "Right."},
                },
                {
                    "key": "b",
                    "text": {"id": "Ada nama penulis", "en": "It names its author"},
                    "fraction": 0.0,
                    "feedback": NO_TEXT,
                },
                {
                    "key": "c",
                    "text": {"id": "Tanpa tanggal", "en": "No date"},
                    "fraction": 0.5,
                    "feedback": same("Hampir."),
                },
                {
                    "key": "d",
                    "text": same("Dimuat di situs resmi pemerintah"),
                    "fraction": -0.3333333,
                    "feedback": NO_TEXT,
                },
            ],
            "shuffle": True,
        },
    }
    body = questions["Ciri hoaks"][1]["body"]
    assert question_type("single_choice").grade(body, "c") == 0.5


def test_weights_without_a_right_mark_make_a_multiple_response(sample):
    _, questions = sample
    spec = questions["Sumber primer"][1]
    assert (spec["areas"], spec["difficulty"], spec["points"]) == (["evaluating", "searching"], "medium", 2.0)
    assert [(choice["key"], choice["fraction"]) for choice in spec["body"]["choices"]] == [
        ("a", 0.5),
        ("b", 0.5),
        ("c", -1.0),
        ("d", 0.0),
    ]
    assert question_type("multiple_response").grade(spec["body"], ["a", "b"]) == 1.0


def test_true_false_feedback_is_for_a_wrong_then_a_right_response(sample):
    _, questions = sample
    assert questions["Hoaks selalu dari media sosial"][1]["body"] == {
        "answer": False,
        "feedback_true": same("Hoaks juga menyebar lewat pesan berantai dan media cetak."),
        "feedback_false": same("Betul, hoaks menyebar lewat banyak saluran."),
    }
    assert questions["Perpustakaan kota"][1]["body"]["answer"] is True
    short = questions["Singkat T"][1]
    assert short["body"]["answer"] is True
    assert short["general_feedback"] == same("Sudah dibuktikan sejak abad ke-16.")


def test_short_answers_matching_and_numeric_answers(sample):
    _, questions = sample
    boolean = questions["Operator Boolean"][1]
    assert boolean["category"] == "Literasi informasi/Penelusuran"
    assert boolean["body"] == {
        "answers": [
            {"text": "AND", "fraction": 1.0, "feedback": same("Tepat.")},
            {"text": "dan", "fraction": 1.0, "feedback": NO_TEXT},
            {
                "text": "+",
                "fraction": 0.5,
                "feedback": same("Tanda plus juga mempersempit di beberapa mesin pencari."),
            },
        ],
        "case_sensitive": False,
    }
    pairs = questions["Katalog"][1]["body"]["pairs"]
    assert [(pair["key"], pair["prompt"]["id"], pair["answer"]["en"]) for pair in pairs] == [
        ("a", "Katalog pengarang", "Mencari menurut nama penulis"),
        ("b", "Katalog judul", "Mencari menurut judul buku"),
        ("c", "Katalog subjek", "Mencari menurut topik"),
        ("d", "", "Mencari menurut warna sampul"),  # a distractor
    ]

    def answers(name):
        return [
            (answer["value"], answer["tolerance"], answer["fraction"])
            for answer in questions[name][1]["body"]["answers"]
        ]

    assert answers("DDC 500") == [(500.0, 0.0, 1.0)]
    assert answers("Pi") == [(3.14, 0.01, 1.0)]
    assert answers("Rentang") == [(3.0, 2.0, 1.0)]
    assert answers("Tahun Deklarasi Praha") == [(2003.0, 0.0, 1.0), (2003.0, 1.0, 0.5)]
    assert questions["Tahun Deklarasi Praha"][1]["body"]["answers"][1]["feedback"] == same("Hampir.")
    # [markdown] text is kept as written.
    assert questions["Tahun Deklarasi Praha"][1]["text"]["en"] == (
        "Deklarasi Praha tentang *literasi informasi* terbit tahun?"
    )


def test_essay_missing_word_escapes_and_formats(sample):
    _, questions = sample
    essay = questions["Esai sumber"][1]
    assert essay["text"] == same(
        "Jelaskan bagaimana Anda menilai keandalan sebuah situs web.\nTulis paling sedikit satu paragraf."
    )
    assert (essay["areas"], essay["points"], essay["body"]) == (
        ["communicating"],
        5.0,
        {"min_words": 0, "grader_info": NO_TEXT},
    )
    missing = questions["Kata hilang"][1]
    assert missing["text"] == same("Literasi informasi adalah kemampuan _____ dan menilai informasi.")
    assert [choice["fraction"] for choice in missing["body"]["choices"]] == [1.0, 0.0, 0.0]
    escaped = questions["Lolos karakter"][1]
    assert escaped["text"] == same(
        "Karakter khusus: ~ = # { } dan garis miring terbalik \\ ditulis dengan escape."
    )
    assert escaped["body"]["choices"][0]["text"] == same("Paham: semua~lolos")
    assert escaped["body"]["choices"][0]["feedback"] == same("Ya # itu benar")


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("[html]<p>Satu</p><p>Dua<br>Tiga &amp; <i>empat</i></p>{T}", same("Satu\nDua\nTiga & empat")),
        ("[html]Baris\nyang   sama{T}", same("Baris yang sama")),
        ("[moodle]Baris\npertama{T}", same("Baris\npertama")),
        ("Tanpa format <b>tebal</b>{T}", same("Tanpa format tebal")),
        ("[plain]Apa adanya <b>x</b>{T}", same("Apa adanya <b>x</b>")),
        (
            '[html]<span lang\\="en" class\\="multilang">Only English</span>{T}',
            same("Only English"),
        ),
        (
            '[html]Q1. <span lang\\="id_id" class\\="multilang">Apa <span>ini</span>?</span>'
            '<span lang\\="EN" class\\="multilang">What?</span>{T}',
            {"id": "Q1. Apa ini?", "en": "Q1. What?"},
        ),
    ],
)
def test_texts_are_read_as_plain_text_per_language(question, text):
    report = parse_gift(question)
    assert report.problems == []
    assert report.questions[0][1]["text"] == text


def test_categories_and_the_default_category():
    report = parse_gift(
        "Pertanyaan pertama?{T}\n\n"
        "$CATEGORY: $course$/top/Staf/ Katalogisasi /\n\n"
        "Pertanyaan kedua?{T}\n\n"
        "$CATEGORY: $system$/top\n\n"
        "Pertanyaan ketiga?{T}\n\n"
        "$CATEGORY: Tanpa konteks\n"
        "Pertanyaan keempat?{T}\n",
        default_category="Impor/GIFT",
    )
    assert report.problems == []
    assert [(line, spec["category"]) for line, spec in report.questions] == [
        (1, "Impor/GIFT"),
        (5, "Staf/Katalogisasi"),
        (9, "Impor/GIFT"),
        (12, "Tanpa konteks"),
    ]


# --- Faults at their lines -----------------------------------------------------------------------

BAD = r"""// A file with one fault per question, and two good questions.
::Deskripsi::Hanya teks, tanpa blok jawaban.

::Tidak tertutup::Kalimat {
	=benar
	~salah

::Cloze::Ibu kota {=Jakarta ~Bandung} dan {=Semarang ~Solo}.

// [tag:area:astrologi]
// [tag:difficulty:sulit] [tag:points:nol]
::Tag salah::Manakah yang benar?{=a ~b}

// [tag:shuffle:false]
::Acak benar salah::Perpustakaan buka hari Minggu.{F}

::Tanpa jawaban benar::Pilih satu.{~a ~b ~c}

::Bobot kurang::Pilih yang benar.{~%50%a ~%30%b ~c}

::Bobot lebih::Pilih satu.{=a ~%150%b}

::Angka rusak::Berapa?{#dua}

::Rentang terbalik::Berapa?{#5..1}

::Angka tanpa nilai::Berapa?{#
	=3:1
	~4#tidak
}

::Pasangan berumpan balik::Pasangkan.{
	=a -> b#umpan
	=c -> d
}

::Satu pasangan::Pasangkan.{=a -> b}

::Benar salah kebanyakan::Benar?{T#a#b#c}

::Jawaban tanpa tanda::Ibu kota Jawa Tengah?{Semarang}

::Gambar::[html]Lihat <img src\="@@PLUGINFILE@@/a.png"> ini.{T}

::Bahasa lain::[html]<span lang\="jv" class\="multilang">Apa?</span>{T}

::Teks sebelum jawaban::Pilih.{ini ~a =b}

::Nol persen::Sebutkan.{=benar =%0%salah}

// grader_info: Bukan esai.
::Info penilai::Benar?{T}

::Baik sekali::Perpustakaan Kota Semarang ada di Jawa Tengah.{T}

$CATEGORY: $course$/top/Arsip//Lama

::Di kategori rusak::Tidak diimpor.{T}

$CATEGORY: $course$/top/Pulih

::Baik lagi::Kategori ini sah.{F}
"""


def test_each_fault_is_reported_at_its_line():
    report = parse_gift(BAD)
    expected = [
        ("::Deskripsi::", "No answer block"),
        ("::Tidak tertutup::", "not closed"),
        ("{=Semarang ~Solo}", "Only one answer block"),
        ("[tag:area:astrologi]", "Unknown competency area 'astrologi'"),
        ("[tag:difficulty:sulit]", "Unknown difficulty 'sulit'"),
        ("[tag:difficulty:sulit]", "Points must be a number above 0"),
        ("[tag:shuffle:false]", "does not apply to true_false"),
        ("::Tanpa jawaban benar::", "No right answer"),
        ("::Bobot kurang::", "body.choices: The positive fractions must add up to 1."),
        ("::Bobot lebih::", "body.choices.1.fraction: Give a fraction from -1 to 1."),
        ("::Angka rusak::", "Not a number, number:tolerance or minimum..maximum: 'dua'"),
        ("::Rentang terbalik::", "A range starts with its minimum"),
        ("~4#tidak", "Numeric answers all give credit"),
        ("=a -> b#umpan", "Matching pairs have no feedback"),
        ("::Satu pasangan::", "body.pairs: Give at least two pairs with a prompt."),
        ("::Benar salah kebanyakan::", "at most two feedbacks"),
        ("::Jawaban tanpa tanda::", "Start each answer with ="),
        ("::Gambar::", "<img> cannot be imported"),
        ("::Bahasa lain::", "Text in language 'jv'"),
        ("::Teks sebelum jawaban::", "Start each answer with ="),
        ("::Nol persen::", "body.answers.1.fraction: Give a fraction above 0 and at most 1."),
        ("// grader_info:", "Information for graders belongs to essays only"),
        ("$CATEGORY: $course$/top/Arsip//Lama", "category name with a '/'"),
    ]
    problems = problems_of(report)
    assert len(problems) == len(expected), problems
    for (line, message), (fragment, part) in zip(problems, expected, strict=True):
        assert (line, part in message) == (line_of(BAD, fragment), True), (line, message, part)
    assert [(line, spec["name"], spec["category"]) for line, spec in report.questions] == [
        (line_of(BAD, "::Baik sekali::"), "Baik sekali", "Default"),
        (line_of(BAD, "::Baik lagi::"), "Baik lagi", "Pulih"),
    ]


def test_a_name_too_long_and_a_question_without_text():
    report = parse_gift(f"::{'n' * 201}::Teks?{{T}}\n\n::Kosong::{{T}}\n")
    assert problems_of(report) == [
        (1, "The name is longer than 200 characters."),
        (3, "The question has no text."),
    ]
    assert report.questions == []


# --- Aiken ---------------------------------------------------------------------------------------

AIKEN = """\ufeffKatalog mana yang mencari buku menurut topiknya?
A. Katalog pengarang
B) Katalog subjek
C. Katalog judul
ANSWER: B

Deklarasi Praha tentang literasi informasi
terbit pada tahun?
A) 1999
B) 2003
ANSWER: B
"""


def test_aiken_questions_are_single_choices_keyed_by_their_letters():
    report = parse_aiken(AIKEN, category="Literasi informasi/Penelusuran")
    assert report.problems == []
    (first_line, first), (second_line, second) = report.questions
    assert (first_line, second_line) == (1, 7)
    assert first == {
        "name": "Katalog mana yang mencari buku menurut topiknya?",
        "type": "single_choice",
        "category": "Literasi informasi/Penelusuran",
        "text": same("Katalog mana yang mencari buku menurut topiknya?"),
        "general_feedback": NO_TEXT,
        "areas": [],
        "difficulty": "medium",
        "points": 1.0,
        "body": {
            "choices": [
                {"key": "a", "text": same("Katalog pengarang"), "fraction": 0.0, "feedback": NO_TEXT},
                {"key": "b", "text": same("Katalog subjek"), "fraction": 1.0, "feedback": NO_TEXT},
                {"key": "c", "text": same("Katalog judul"), "fraction": 0.0, "feedback": NO_TEXT},
            ],
            "shuffle": True,
        },
    }
    assert second["text"] == same("Deklarasi Praha tentang literasi informasi\nterbit pada tahun?")
    assert second["body"]["choices"][1] == {
        "key": "b",
        "text": same("2003"),
        "fraction": 1.0,
        "feedback": NO_TEXT,
    }


AIKEN_BAD = """A. Pilihan sebelum pertanyaan

Jawaban di luar pilihan?
A. Satu
B. Dua
ANSWER: E

Pilihan kembar?
A. Satu
A. Dua
ANSWER: A

Lupa baris jawaban?
A. Satu
B. Dua

Hanya satu pilihan?
A. Satu
ANSWER: A

Pertanyaan yang sah?
A. Ya
B. Tidak
ANSWER: a

Tanpa akhir
A. Ya
"""


def test_aiken_faults_are_reported_at_their_lines():
    report = parse_aiken(AIKEN_BAD)
    assert problems_of(report) == [
        (1, "A choice or an ANSWER line before the question's text."),
        (line_of(AIKEN_BAD, "ANSWER: E"), "The ANSWER 'E' is not the letter of one of the choices."),
        (line_of(AIKEN_BAD, "A. Dua"), "A second choice A."),
        (line_of(AIKEN_BAD, "Lupa baris jawaban?"), "The question has no ANSWER line after its choices."),
        (line_of(AIKEN_BAD, "Hanya satu pilihan?"), "body.choices: Give at least two choices."),
        (line_of(AIKEN_BAD, "Tanpa akhir"), "The question has no ANSWER line."),
    ]
    assert [(line, spec["name"]) for line, spec in report.questions] == [
        (line_of(AIKEN_BAD, "Pertanyaan yang sah?"), "Pertanyaan yang sah?")
    ]


# --- Export and import again ---------------------------------------------------------------------


def bil(id_text: str, en_text: str) -> dict:
    return {"id": id_text, "en": en_text}


def spec(name: str, kind: str, body: dict, **fields) -> dict:
    return {
        "name": name,
        "type": kind,
        "category": fields.get("category", "Literasi informasi/Evaluasi sumber"),
        "text": fields.get("text", bil(f"Soal {name}?", f"Question {name}?")),
        "general_feedback": fields.get("general_feedback", NO_TEXT),
        "areas": fields.get("areas", []),
        "difficulty": fields.get("difficulty", "medium"),
        "points": fields.get("points", 1.0),
        "body": body,
    }


def choice(key: str, text: dict, fraction: float, feedback: dict = NO_TEXT) -> dict:
    return {"key": key, "text": text, "fraction": fraction, "feedback": feedback}


SPECIAL = "Tanda ~ = # { } : \\ <b>&amp;</b> 50% [catatan]  dua  spasi"

BANK = [
    spec(
        "Hoaks: ciri {utama}",
        "single_choice",
        {
            "choices": [
                choice("a", bil("Judul memancing emosi", "Emotional headline"), 1.0, bil("Benar!", "Right!")),
                choice("b", bil("Ada penulis", "Named author"), 0.0, bil("Bukan.", "No.")),
                choice("c", same("%50% diskon"), 0.5, same("Separuh benar")),
                choice("d", same("[html] bukan format"), -0.3333333),
                choice("e", bil(SPECIAL, "Line one\n  indented line\nthird"), -1.0),
            ],
            "shuffle": False,
        },
        text=bil("Manakah ciri hoaks?\nPilih satu.", "Which marks a hoax?\nPick one."),
        general_feedback=bil("Periksa sumber.", "Check the source."),
        areas=["evaluating", "ethical_use"],
        difficulty="easy",
        points=2.5,
    ),
    spec(
        "Sumber primer",
        "multiple_response",
        {
            "choices": [
                choice("a", same("Buku harian"), 0.3333333, same("Ya")),
                choice("b", same("Arsip surat"), 0.3333333),
                choice("c", same("Foto asli"), 0.3333334),
                choice("d", same("Ensiklopedia"), -0.5, bil("Sekunder", "Secondary")),
            ],
            "shuffle": True,
        },
        areas=["evaluating"],
    ),
    spec(
        "Satu benar, penalti",
        "multiple_response",
        {
            "choices": [choice("a", same("Benar"), 1.0), choice("b", same("Salah"), -1.0)],
            "shuffle": True,
        },
    ),
    spec(
        "Benar, umpan balik salah saja",
        "true_false",
        {"answer": True, "feedback_true": NO_TEXT, "feedback_false": bil("Keliru.", "Wrong.")},
        general_feedback=same("Umum"),
    ),
    spec(
        "Salah, umpan balik benar saja",
        "true_false",
        {"answer": False, "feedback_true": NO_TEXT, "feedback_false": bil("Tepat.", "Right.")},
        general_feedback=bil("Umum", "General"),
    ),
    spec(
        "Benar, dua umpan balik",
        "true_false",
        {"answer": True, "feedback_true": same("Ya"), "feedback_false": same("Tidak")},
    ),
    spec(
        "Singkat",
        "short_answer",
        {
            "answers": [
                {"text": "AND", "fraction": 1.0, "feedback": bil("Tepat", "Exact")},
                {"text": "%5% x: {y} = #z", "fraction": 1.0, "feedback": NO_TEXT},
                {"text": "dan", "fraction": 0.5, "feedback": same("Hampir")},
            ],
            "case_sensitive": True,
        },
        category="Literasi informasi/Penelusuran",
        areas=["searching"],
        difficulty="hard",
    ),
    spec(
        "Pasangan",
        "matching",
        {
            "pairs": [
                {"key": "a", "prompt": bil("Pengarang", "Author"), "answer": bil("Nama", "Name")},
                {"key": "b", "prompt": same("Judul -> x"), "answer": same("Judul <buku>")},
                {"key": "c", "prompt": same("Subjek"), "answer": bil("Topik", "Topic")},
                {"key": "d", "prompt": NO_TEXT, "answer": same("Warna sampul")},
            ],
            "shuffle": False,
        },
        category="Literasi informasi/Penelusuran",
    ),
    spec(
        "Angka",
        "numeric",
        {
            "answers": [
                {"value": 3.14159, "tolerance": 0.00001, "fraction": 1.0, "feedback": same("Tepat")},
                {"value": -2.5, "tolerance": 0.5, "fraction": 0.25, "feedback": NO_TEXT},
                {"value": 1e20, "tolerance": 0.0, "fraction": 0.1, "feedback": bil("Besar", "Big")},
            ]
        },
        general_feedback=same("π"),
    ),
    spec(
        "Esai",
        "essay",
        {"min_words": 150, "grader_info": bil("Nilai: struktur {1}", "Grade: structure {1}")},
        text=bil("Jelaskan.", ""),
        general_feedback=same("Contoh jawaban: …"),
        areas=["communicating"],
        points=10.0,
        category="Staf/Menulis",
    ),
    spec("Esai polos", "essay", {"min_words": 0, "grader_info": NO_TEXT}, category="Staf/Menulis"),
]


def test_a_bank_of_every_type_exports_and_imports_to_the_same_specs():
    assert {question["type"] for question in BANK} == {
        "single_choice",
        "multiple_response",
        "true_false",
        "short_answer",
        "matching",
        "numeric",
        "essay",
    }
    exported = export_gift(BANK)
    report = parse_gift(exported)
    assert report.problems == []
    assert [question for _, question in report.questions] == BANK
    assert export_gift(question for _, question in report.questions) == exported


def test_the_export_is_moodle_gift():
    exported = export_gift([BANK[0], BANK[4]])
    assert exported.startswith("$CATEGORY: $course$/top/Literasi informasi/Evaluasi sumber\n\n")
    lines = exported.split("\n")
    assert lines[2] == (
        "// [tag:difficulty:easy] [tag:points:2.5] [tag:area:evaluating] [tag:area:ethical_use]"
        " [tag:shuffle:false]"
    )
    assert lines[3] == (
        r'::Hoaks\: ciri \{utama\}::[html]<span lang\="id" class\="multilang">Manakah ciri hoaks?<br>'
        r'Pilih satu.</span><span lang\="en" class\="multilang">Which marks a hoax?<br>Pick one.</span>{'
    )
    assert lines[6] == "\t~%50%&\\#37;50% diskon#Separuh benar"
    assert lines[7] == "\t~%-33.33333%&\\#91;html] bukan format"
    assert r"::Salah, umpan balik benar saja::[html]" in exported
    assert (
        r'{FALSE##<span lang\="id" class\="multilang">Tepat.</span><span lang\="en" class\="multilang">'
        r'Right.</span>####<span lang\="id" class\="multilang">Umum</span>' in exported
    )
