"""GIFT and Aiken files into the bank and out of it: a dry run reports every problem at its line,
nothing is imported with problems unless a partial import is accepted, importing a file twice
changes nothing, export then import gives the same questions (API, CLI and web), and oversized
or badly encoded files are refused with nothing stored."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from services.assessment.handlers import MAX_IMPORT_BYTES, question_spec
from services.assessment.models import Question
from services.cli import main
from tests.test_assessment_bank import SPECS
from tests.test_gift import line_of
from tests.test_question_bank_web import coordinator_web, csrf_of, question_count
from tests.test_skeleton import bearer, people, token

GIFT = """// Soal uji impor
$CATEGORY: $course$/top/Impor uji

// [tag:area:searching] [tag:difficulty:easy]
::Boolean::Operator mana yang mempersempit penelusuran?{
=AND#Tepat.
~OR
~NOT#NOT menyingkirkan, tidak mempersempit.
}

::Ibu kota::Ibu kota Jawa Tengah adalah Semarang.{T}

::Tahun::Pada tahun berapa Sumpah Pemuda?{#1928}
"""
BROKEN = (
    GIFT
    + """
::Rusak::Soal tanpa jawaban yang benar{
~satu
~dua
}
"""
)
AIKEN = """Apa kepanjangan OPAC?
A. Online Public Access Catalog
B) Open Access Collection
ANSWER: A
"""


def coordinator_headers(running) -> dict:
    (address,) = people(running, "koordinator")
    return bearer(token(running.client("enrollment"), address))


def upload(running, headers: dict, content: bytes | str, **form):
    content = content.encode() if isinstance(content, str) else content
    return running.client("assessment").post(
        "/api/v1/questions/import",
        data={"file": (io.BytesIO(content), "bank.gift"), **form},
        headers=headers,
        content_type="multipart/form-data",
    )


def bank(running) -> dict[str, dict]:
    """Every question's portable form, with its version, by name."""

    def read(session):
        questions = session.scalars(select(Question)).all()
        return {q.name: question_spec(q) | {"version": q.version_number} for q in questions}

    return running.query("assessment", read)


def planned(response) -> list[tuple[str, str]]:
    return [(item["name"], item["status"]) for item in response.json["questions"]]


def keyless(spec: dict) -> dict:
    """A question as GIFT carries it: options are lettered by position, matching answers unkeyed."""
    body = {
        field: [{k: v for k, v in item.items() if k not in ("key", "answer_key")} for item in value]
        if isinstance(value, list)
        else value
        for field, value in spec["body"].items()
    }
    return {key: value for key, value in spec.items() if key != "version"} | {"body": body}


# The API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_a_file_with_problems_is_imported_only_in_part_and_only_when_accepted(make_system, mode):
    running = make_system(mode)
    headers = coordinator_headers(running)
    lines = {name: line_of(BROKEN, f"::{name}::") for name in ("Boolean", "Ibu kota", "Tahun", "Rusak")}

    dry = upload(running, headers, BROKEN, dry_run="true")
    assert dry.status_code == 200 and dry.json["imported"] is False
    assert [problem["line"] for problem in dry.json["problems"]] == [lines["Rusak"]]
    assert "No right answer" in dry.json["problems"][0]["message"]
    assert [(q["name"], q["line"], q["status"], q["category"]) for q in dry.json["questions"]] == [
        (name, lines[name], "new", "Impor uji") for name in ("Boolean", "Ibu kota", "Tahun")
    ]
    assert dry.json["counts"] == {"new": 3, "new_version": 0, "updated": 0, "unchanged": 0}
    assert bank(running) == {}

    refused = upload(running, headers, BROKEN)
    assert refused.status_code == 422 and refused.json["imported"] is False
    assert [problem["line"] for problem in refused.json["problems"]] == [lines["Rusak"]]
    assert bank(running) == {}

    partial = upload(running, headers, BROKEN, accept_partial="true")
    assert partial.status_code == 200 and partial.json["imported"] is True
    assert all(item["question_id"] for item in partial.json["questions"])
    stored = bank(running)
    assert set(stored) == {"Boolean", "Ibu kota", "Tahun"}
    assert stored["Boolean"]["areas"] == ["searching"] and stored["Boolean"]["difficulty"] == "easy"
    assert stored["Tahun"]["body"]["answers"][0]["value"] == 1928.0

    # The same file again changes nothing.
    again = upload(running, headers, GIFT)
    assert again.status_code == 200 and again.json["imported"] is True
    assert planned(again) == [("Boolean", "unchanged"), ("Ibu kota", "unchanged"), ("Tahun", "unchanged")]
    assert bank(running) == stored

    # Changed content is a new version; a changed tag changes the question, not its content.
    changed = GIFT.replace("=AND#Tepat.", "=AND#Tepat sekali.").replace(
        "::Tahun::", "// [tag:difficulty:hard]\n::Tahun::"
    )
    result = upload(running, headers, changed)
    assert planned(result) == [("Boolean", "new_version"), ("Ibu kota", "unchanged"), ("Tahun", "updated")]
    after = bank(running)
    assert after["Boolean"]["version"] == 2
    assert after["Boolean"]["body"]["choices"][0]["feedback"]["id"] == "Tepat sekali."
    assert (after["Tahun"]["version"], after["Tahun"]["difficulty"]) == (1, "hard")

    # A name is the bank's: the same name in another category is a problem at its line.
    elsewhere = upload(running, headers, GIFT.replace("Impor uji", "Kategori lain"), dry_run="true")
    assert [problem["line"] for problem in elsewhere.json["problems"]] == [
        line_of(GIFT, f"::{name}::") for name in ("Boolean", "Ibu kota", "Tahun")
    ]
    assert "Impor uji" in elsewhere.json["problems"][0]["message"]


def test_aiken_goes_to_the_category_given_and_a_name_twice_in_a_file_is_a_problem(make_system):
    running = make_system("embedded")
    headers = coordinator_headers(running)
    imported = upload(running, headers, AIKEN, format="aiken", category="Uji / Aiken")
    assert imported.status_code == 200, imported.json
    question = bank(running)["Apa kepanjangan OPAC?"]
    assert (question["category"], question["type"]) == ("Uji/Aiken", "single_choice")
    assert [(c["key"], c["fraction"]) for c in question["body"]["choices"]] == [("a", 1.0), ("b", 0.0)]

    twice = upload(
        running, headers, AIKEN + "\n" + AIKEN, format="aiken", category="Uji/Aiken", dry_run="true"
    )
    assert planned(twice) == [("Apa kepanjangan OPAC?", "unchanged")]
    assert [problem["line"] for problem in twice.json["problems"]] == [6]
    assert "line 1" in twice.json["problems"][0]["message"]

    assert upload(running, headers, AIKEN, format="moodle-xml").status_code == 422
    assert running.client("assessment").post("/api/v1/questions/import", headers=headers).status_code == 422
    staff = bearer(token(running.client("enrollment"), people(running, "koordinator2", "staf")[1]))
    assert upload(running, staff, AIKEN, format="aiken").status_code == 403
    assert len(bank(running)) == 1


def test_oversized_and_badly_encoded_files_are_refused_with_nothing_stored(make_system):
    running = make_system("embedded")
    headers = coordinator_headers(running)
    padding = "// " + "x" * 76 + "\n"
    just_over = (GIFT + padding * (MAX_IMPORT_BYTES // len(padding))).encode()[: MAX_IMPORT_BYTES + 1]
    for content in (just_over, GIFT.encode() + b"//" * MAX_IMPORT_BYTES):
        refused = upload(running, headers, content)
        assert refused.status_code == 413
        assert refused.json["errors"]["file"] == ["The file is larger than 2 MB."]

    latin1 = GIFT.replace("Semarang", "Sémarang").encode("latin-1")
    refused = upload(running, headers, latin1)
    assert refused.status_code == 422 and "UTF-8" in refused.json["errors"]["file"][0]
    assert bank(running) == {}

    # UTF-8 with a byte-order mark is UTF-8.
    with_bom = upload(running, headers, b"\xef\xbb\xbf" + GIFT.replace("Semarang", "Sémarang").encode())
    assert with_bom.status_code == 200
    assert "Sémarang" in bank(running)["Ibu kota"]["text"]["id"]


def test_export_then_import_gives_the_same_questions(make_system):
    source = make_system("embedded")
    headers = coordinator_headers(source)
    assessment = source.client("assessment")
    for spec in SPECS.values():
        assert assessment.post("/api/v1/questions", json=spec, headers=headers).status_code == 201
    exported = assessment.get("/api/v1/questions/export.gift", headers=headers)
    assert exported.status_code == 200 and exported.mimetype == "text/plain"
    assert 'filename="questions.gift"' in exported.headers["Content-Disposition"]
    one_category = assessment.get("/api/v1/questions/export.gift?category=Uji/Acak", headers=headers)
    assert one_category.text.count("::UJI-Acak") == 4 and "UJI-Esai" not in one_category.text
    assert (
        assessment.get("/api/v1/questions/export.gift?category=Tidak ada", headers=headers).status_code == 404
    )

    # Back into the same bank nothing changes, though GIFT letters the options a, b, c.
    before = bank(source)
    again = upload(source, headers, exported.data)
    assert again.status_code == 200 and {status for _, status in planned(again)} == {"unchanged"}
    assert bank(source) == before

    # Into another bank (on PostgreSQL): the same questions, which export to the same file.
    target = make_system("distributed")
    target_headers = coordinator_headers(target)
    imported = upload(target, target_headers, exported.data)
    assert imported.status_code == 200 and imported.json["counts"]["new"] == len(SPECS)
    assert {name: keyless(spec) for name, spec in bank(target).items()} == {
        name: keyless(spec) for name, spec in before.items()
    }
    reexported = target.client("assessment").get("/api/v1/questions/export.gift", headers=target_headers)
    assert reexported.data == exported.data


# The command line ------------------------------------------------------------------------------


def pustaka(running, tmp_path, *arguments: str):
    """Run the ``pustaka`` command against the running system's assessment database."""
    config = running.apps["assessment"].config
    environment = {
        "PUSTAKA_DATA_DIR": config["PUSTAKA_DATA_DIR"],
        "PUSTAKA_ASSESSMENT_DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
    }
    return CliRunner().invoke(main, list(arguments), env=environment, catch_exceptions=False)


def test_the_command_line_imports_and_exports(make_system, tmp_path):
    running = make_system("embedded")
    broken, good = tmp_path / "broken.gift", tmp_path / "good.gift"
    broken.write_text(BROKEN, encoding="utf-8")
    good.write_bytes(b"\xef\xbb\xbf" + GIFT.encode())

    dry = pustaka(running, tmp_path, "questions", "import", str(broken), "--dry-run")
    assert dry.exit_code == 1
    assert f"broken.gift:{line_of(BROKEN, '::Rusak::')}: No right answer" in dry.stderr
    assert f"{line_of(BROKEN, '::Boolean::')}\tnew\tImpor uji\tBoolean" in dry.stdout
    refused = pustaka(running, tmp_path, "questions", "import", str(broken))
    assert refused.exit_code == 1 and "nothing imported" in refused.stderr
    assert bank(running) == {}

    partial = pustaka(running, tmp_path, "questions", "import", str(broken), "--partial")
    assert partial.exit_code == 0 and "imported: 3 new" in partial.stdout
    assert set(bank(running)) == {"Boolean", "Ibu kota", "Tahun"}
    again = pustaka(running, tmp_path, "questions", "import", str(good))
    assert again.exit_code == 0 and "0 new, 0 new_version, 0 updated, 3 unchanged" in again.stdout

    exported = pustaka(running, tmp_path, "questions", "export")
    assert exported.exit_code == 0 and exported.stdout_bytes.startswith(b"$CATEGORY: $course$/top/Impor uji")
    assert "Tahun" in pustaka(running, tmp_path, "questions", "export", "--category", "Impor uji").stdout
    missing = pustaka(running, tmp_path, "questions", "export", "--category", "Tidak ada")
    assert missing.exit_code == 1 and "no questions" in missing.stderr

    # What the command exported, it imports back unchanged, into this bank and into another.
    exported_file = tmp_path / "export.gift"
    exported_file.write_bytes(exported.stdout_bytes)
    back = pustaka(running, tmp_path, "questions", "import", str(exported_file))
    assert back.exit_code == 0 and "3 unchanged" in back.stdout
    other = make_system("distributed")
    assert pustaka(other, tmp_path, "questions", "import", str(exported_file)).exit_code == 0
    assert {name: keyless(spec) for name, spec in bank(other).items()} == {
        name: keyless(spec) for name, spec in bank(running).items()
    }
    assert pustaka(other, tmp_path, "questions", "export").stdout_bytes == exported.stdout_bytes

    aiken = tmp_path / "opac.txt"
    aiken.write_text(AIKEN, encoding="utf-8")
    imported = pustaka(running, tmp_path, "questions", "import", str(aiken), "--format", "aiken")
    assert imported.exit_code == 0 and "\tnew\tImpor\tApa kepanjangan OPAC?" in imported.stdout

    latin1 = tmp_path / "latin1.gift"
    latin1.write_bytes(GIFT.replace("Semarang", "Sémarang").encode("latin-1"))
    refused = pustaka(running, tmp_path, "questions", "import", str(latin1))
    assert refused.exit_code == 1 and "not UTF-8" in refused.stderr
    assert len(bank(running)) == 4


# The web ---------------------------------------------------------------------------------------


def web_upload(web, content: bytes | str, **fields):
    page = web.get("/questions/import")
    content = content.encode() if isinstance(content, str) else content
    data = {"csrf_token": csrf_of(page.text), "format": "gift", "category": "Impor"} | fields
    return web.post(
        "/questions/import",
        data=data | {"file": (io.BytesIO(content), "bank.gift")},
        content_type="multipart/form-data",
    )


def checked_upload(report) -> str:
    return re.search(r'name="upload" type="hidden" value="([^"]+)"', report.text).group(1)


def test_the_web_upload_shows_a_dry_run_and_imports_when_confirmed(make_system):
    running = make_system("embedded")
    web = coordinator_web(running)
    report = web_upload(web, BROKEN)
    assert report.status_code == 200
    problems = report.text.split('id="problems"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>(\d+)</td>", problems) == [str(line_of(BROKEN, "::Rusak::"))]
    rows = re.findall(r'<tr class="(\w+)">\s*<td>(\d+)</td>\s*<td>([^<]+)</td>', report.text)
    assert [(status, name) for status, _, name in rows] == [
        ("new", "Boolean"),
        ("new", "Ibu kota"),
        ("new", "Tahun"),
    ]
    assert "Baru" in report.text and "Belum ada yang diimpor." in report.text
    assert question_count(running) == (0, 0)

    # With problems, nothing is imported unless the box is ticked.
    confirm = {"csrf_token": csrf_of(report.text), "upload": checked_upload(report)}
    refused = web.post("/questions/import/confirm", data=confirm)
    assert refused.status_code == 400 and "tidak ada yang diimpor" in refused.text
    assert question_count(running) == (0, 0)
    imported = web.post("/questions/import/confirm", data=confirm | {"accept_partial": "y"})
    assert imported.status_code == 302 and imported.headers["Location"] == "/questions"
    assert "Diimpor: 3 baru" in web.get("/questions").text
    assert question_count(running) == (3, 3)

    # The same questions again: the report says they are there already, and importing changes nothing.
    again = web_upload(web, GIFT)
    assert again.text.count("Sudah ada di bank soal: dilewati") == 3
    confirmed = web.post(
        "/questions/import/confirm", data={"csrf_token": csrf_of(again.text), "upload": checked_upload(again)}
    )
    assert confirmed.status_code == 302 and question_count(running) == (3, 3)

    # What the confirming form carries is signed: a changed one is refused.
    forged = web.post(
        "/questions/import/confirm", data=confirm | {"upload": checked_upload(report)[:-2] + "xx"}
    )
    assert forged.status_code == 302 and forged.headers["Location"] == "/questions/import"
    no_token = web.post("/questions/import/confirm", data={"upload": checked_upload(report)})
    assert no_token.status_code == 400 and question_count(running) == (3, 3)

    # The whole bank and one category download as GIFT.
    whole = web.get("/questions/export.gift")
    assert whole.status_code == 200 and "::Boolean::" in whole.text
    assert (
        'filename="impor-uji.gift"'
        in web.get("/questions/export.gift?category=Impor uji").headers["Content-Disposition"]
    )


def test_the_web_upload_refuses_large_and_badly_encoded_files_readably(make_system):
    running = make_system("embedded")
    web = coordinator_web(running)
    too_large = web_upload(web, GIFT.encode() + b"//" * MAX_IMPORT_BYTES)
    assert too_large.status_code == 413 and "Berkas lebih besar dari 2 MB." in too_large.text
    assert 'type="file"' in too_large.text  # the form, to try another file
    just_over = web_upload(web, b"/" * (MAX_IMPORT_BYTES + 1))
    assert just_over.status_code == 413 and "Berkas lebih besar dari 2 MB." in just_over.text
    latin1 = web_upload(web, GIFT.replace("Semarang", "Sémarang").encode("latin-1"))
    assert latin1.status_code == 422 and "Berkas bukan teks UTF-8" in latin1.text
    no_file = web.post("/questions/import", data={"csrf_token": csrf_of(web.get("/questions/import").text)})
    assert no_file.status_code == 400 and "Pilih sebuah berkas." in no_file.text
    no_token = web_upload(web, GIFT, csrf_token="")
    assert no_token.status_code == 400
    assert question_count(running) == (0, 0)
