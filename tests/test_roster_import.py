"""Roster import from CSV: a dry run reports every row's problems by line and writes nothing; a real
run writes all rows or none, or row by row; importing the same file again changes nothing; Excel's
files (BOM, semicolons) are read, wrong encodings and columns refused clearly; the command line
with its progress bar, the upload page and the API."""

from __future__ import annotations

import io
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from services.cli import main as pustaka
from services.enrollment import roster
from services.enrollment.models import Enrollment, LearnerRecord, User
from shared.messaging import OutboxMessage
from tests.support import csrf_token
from tests.test_lms_ingress import cloud_event, deliver, new_client
from tests.test_skeleton import admin_token, bearer, email, login, people, programme_with_session, token

WELCOME = "pustaka.user.registered.v1"


@pytest.fixture(params=["embedded", "distributed"])
def system(request, make_system):
    return make_system(request.param)


@pytest.fixture
def embedded(make_system):
    return make_system("embedded")


def counts(running) -> tuple[int, int, int]:
    """Accounts, enrollments and welcome events stored."""

    def count(session):
        return (
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(Enrollment)),
            session.scalar(select(func.count()).where(OutboxMessage.event_type == WELCOME)),
        )

    return running.query("enrollment", count)


def sessions(running) -> tuple[str, str, int, int]:
    """A coordinator (email and token) and two open staff sessions, of five seats and of one."""
    enrollment = running.client("enrollment")
    (coordinator_email,) = people(running, "koordinator")
    coordinator = token(enrollment, coordinator_email)
    _, first = programme_with_session(enrollment, coordinator, seats=5)
    _, second = programme_with_session(enrollment, coordinator, seats=1)
    return coordinator_email, coordinator, first["id"], second["id"]


def csv_file(rows: list[str], separator: str = ",", bom: bool = False) -> bytes:
    header = separator.join(("email", "name", "language", "roles", "session_id"))
    text = "\r\n".join([header, *rows]) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def import_api(client, access: str, data: bytes, **query):
    return client.post(
        "/api/v1/roster/imports",
        query_string=query,
        data=data,
        content_type="text/csv",
        headers=bearer(access),
    )


def outcomes(report: dict) -> list[tuple]:
    return [
        (row["line"], row["account"], row["enrollment"], [p["column"] for p in row["problems"]])
        for row in report["rows"]
    ]


def test_dry_run_then_all_or_nothing_then_the_same_file_again(system):
    enrollment = system.client("enrollment")
    _, coordinator, first, second = sessions(system)
    ani, budi, citra = email("ani"), email("budi"), email("citra")
    good = [
        f"{ani};Ani Wijaya;id;staff;{first}",
        f"{ani};Ani Wijaya;id;staff;{second}",
        f"{budi};Budi Santoso;en;staff mentor;{second}",
        f"{citra};Citra Lestari;;;",
    ]
    bad = [
        *good,
        "not-an-email;Dedi;id;staff;",
        f"{email('eka')};Eka;fr;admin;999999",
        f'"{email("fajar")}";"";id;;x',
    ]
    before = counts(system)

    dry = import_api(enrollment, coordinator, csv_file(bad, ";", bom=True), dry_run="true")
    assert dry.status_code == 200, dry.json
    assert outcomes(dry.json) == [
        (2, "new", "to_enroll", []),
        (3, "existing", "to_enroll", []),
        (4, "new", "to_enroll", []),
        (5, "new", "", []),
        (6, "new", "", ["email"]),
        (7, "new", "", ["language", "roles", "session_id"]),
        (8, "new", "", ["name", "session_id"]),
    ]
    assert dry.json["written"] is False and counts(system) == before

    refused = import_api(enrollment, coordinator, csv_file(bad, ";", bom=True))
    assert refused.status_code == 422
    assert {"line.6.email", "line.7.roles", "line.7.session_id", "line.8.name"} <= set(refused.json["errors"])
    assert counts(system) == before

    done = import_api(enrollment, coordinator, csv_file(good, ";", bom=True))
    assert done.status_code == 200, done.json
    # The second session has one seat: Ani takes it, Budi waits.
    assert outcomes(done.json) == [
        (2, "new", "confirmed", []),
        (3, "existing", "confirmed", []),
        (4, "new", "waitlisted", []),
        (5, "new", "", []),
    ]
    accounts, enrollments, welcomes = before
    assert counts(system) == (accounts + 3, enrollments + 3, welcomes + 3)
    budi_roles = system.query("enrollment", lambda s: s.scalar(select(User.roles).where(User.email == budi)))
    assert budi_roles == ["mentor", "staff"]

    again = import_api(enrollment, coordinator, csv_file(good, ";", bom=True))
    assert outcomes(again.json) == [
        (2, "existing", "already", []),
        (3, "existing", "already", []),
        (4, "existing", "already", []),
        (5, "existing", "", []),
    ]
    assert again.json["accounts_new"] == again.json["enrollments_new"] == 0
    assert counts(system) == (accounts + 3, enrollments + 3, welcomes + 3)


def test_per_row_imports_the_good_rows_and_existing_accounts_keep_their_details(embedded):
    enrollment = embedded.client("enrollment")
    _, coordinator, first, _ = sessions(embedded)
    _, gita = people(embedded, "koordinator2", "gita")
    hadi = email("hadi")
    data = csv_file(
        [
            f"{gita.upper()},Gita Baru,en,mentor,{first}",
            f"{hadi},Hadi,id,coordinator,",
            f"{hadi},Hadi,id,staff,{first}",
            "",
            f"{email('indra')},Indra,id,staff,{first},extra",
        ]
    )
    report = import_api(enrollment, coordinator, data, mode="per-row")
    assert report.status_code == 200, report.json
    assert outcomes(report.json) == [
        (2, "existing", "confirmed", []),
        (3, "new", "", ["roles"]),
        (4, "new", "", [""]),
        (6, "", "", [""]),
    ]
    assert report.json["written"] is True
    gita_row = report.json["rows"][0]
    assert {note["column"] for note in gita_row["notes"]} == {"name", "language", "roles"}
    gita_user = embedded.query("enrollment", lambda s: s.scalar(select(User).where(User.email == gita)))
    # Name and language stay the account's; the file's roles are added.
    assert (gita_user.name, gita_user.language, gita_user.roles) == ("Gita", "id", ["mentor", "staff"])
    # Line 4 repeats Hadi with other roles: refused, and line 3 (a coordinator) too, as a coordinator imports.
    assert embedded.query("enrollment", lambda s: s.scalar(select(User.id).where(User.email == hadi))) is None

    # An admin may give the coordinator role.
    admin = admin_token(embedded)
    by_admin = import_api(enrollment, admin, csv_file([f"{hadi},Hadi,id,coordinator staff,"]))
    assert outcomes(by_admin.json) == [(2, "new", "", [])]
    assert embedded.query("enrollment", lambda s: s.scalar(select(User.roles).where(User.email == hadi))) == [
        "coordinator",
        "staff",
    ]
    staff = token(enrollment, gita)
    assert import_api(enrollment, staff, data).status_code == 403


def test_files_that_are_not_rosters_are_refused_clearly(embedded):
    enrollment = embedded.client("enrollment")
    _, coordinator, _, _ = sessions(embedded)
    cases = [
        (b"Nama;Surel\nAni;ani@x.id\n", "Unknown columns: nama, surel"),
        (b"email,language\nani@x.id,id\n", "Missing columns: name"),
        (b"email,name,email\n", "Repeated columns: email"),
        (b"", "The file is empty."),
        (b"email,name\n\n", "no rows under its header"),
        ("email,name\nani@x.id,Ani\nbudi@x.id,Bud\u00ed\n".encode("latin-1"), "not UTF-8 (line 3)"),
        ("email,name\nani@x.id,Ani\n".encode("utf-16"), "UTF-16"),
    ]
    before = counts(embedded)
    for data, message in cases:
        response = import_api(enrollment, coordinator, data, dry_run="true")
        assert response.status_code == 422, (message, response.json)
        assert message in response.json["errors"]["file"][0], response.json
    too_large = import_api(enrollment, coordinator, b"x" * (roster.MAX_UPLOAD + 1))
    assert too_large.status_code == 413
    assert counts(embedded) == before


def test_a_new_account_gets_what_an_lms_reported_before_it_existed(embedded):
    enrollment, admin = embedded.client("enrollment"), admin_token(embedded)
    client = new_client(embedded, admin)
    joko = email("joko")
    assert deliver(enrollment, client["secret"], cloud_event(learner_email=joko)).json["pending"] == 1
    imported = import_api(enrollment, admin, csv_file([f"{joko},Joko,id,staff,"]))
    assert outcomes(imported.json) == [(2, "new", "", [])]
    user_id = embedded.query("enrollment", lambda s: s.scalar(select(User.id).where(User.email == joko)))
    kinds = embedded.query(
        "enrollment",
        lambda s: s.scalars(select(LearnerRecord.kind).where(LearnerRecord.user_id == user_id)).all(),
    )
    assert kinds == ["lms_completion"]


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_command_line_import_with_progress(make_system, tmp_path, monkeypatch, mode):
    running = make_system(mode)
    config = running.apps["enrollment"].config
    monkeypatch.setenv("PUSTAKA_DATA_DIR", config["PUSTAKA_DATA_DIR"])
    monkeypatch.setenv("PUSTAKA_ENROLLMENT_DATABASE_URL", config["SQLALCHEMY_DATABASE_URI"])
    _, _, first, _ = sessions(running)
    rows = [f"{email(f'staf{n}')};Staf {n};id;staff;{first}" for n in range(3)]
    path = tmp_path / f"roster-{uuid.uuid4().hex[:6]}.csv"
    path.write_bytes(csv_file([*rows, "kosong;;id;staff;"], ";"))
    before = counts(running)
    cli = CliRunner()

    dry = cli.invoke(pustaka, ["roster", "import", str(path), "--dry-run"])
    assert dry.exit_code == 1, dry.output
    assert f"{path}:5: email: Not an email address." in dry.output and "checked only" in dry.output
    refused = cli.invoke(pustaka, ["roster", "import", str(path)])
    assert refused.exit_code == 1 and "nothing imported" in refused.output
    assert counts(running) == before

    per_row = cli.invoke(pustaka, ["roster", "import", str(path), "--mode", "per-row"])
    assert per_row.exit_code == 1, per_row.output
    assert (
        "Importing" in per_row.output
        and "3 new accounts, 3 new enrollments, 1 with problems" in per_row.output
    )
    path.write_bytes(csv_file(rows, ";"))
    again = cli.invoke(pustaka, ["roster", "import", str(path)])
    assert again.exit_code == 0, again.output
    assert "imported: 3 rows, 0 new accounts, 0 new enrollments, 0 with problems" in again.output
    accounts, enrollments, welcomes = before
    assert counts(running) == (accounts + 3, enrollments + 3, welcomes + 3)
    missing = cli.invoke(pustaka, ["roster", "import", str(tmp_path / "nothing.csv")])
    assert missing.exit_code == 2


def test_upload_page_checks_and_imports(embedded):
    coordinator_email, _, first, _ = sessions(embedded)
    web = embedded.client("enrollment")
    login(web, coordinator_email)
    page = web.get("/roster/import")
    assert page.status_code == 200 and "Impor staf dari CSV" in page.text
    csrf = csrf_token(page.text)
    lina = email("lina")
    data = csv_file([f"{lina};Lina;id;staff;{first}", "salah;Salah;id;staff;"], ";")

    def upload(content: bytes, button: str, mode: str = "all-or-nothing"):
        return web.post(
            "/roster/import",
            data={"csrf_token": csrf, "mode": mode, button: "1", "file": (io.BytesIO(content), "roster.csv")},
            content_type="multipart/form-data",
        )

    checked = upload(data, "check")
    assert (
        checked.status_code == 200
        and "Hanya diperiksa" in checked.text
        and "Bukan alamat email." in checked.text
    )
    assert 'data-line="3"' in checked.text
    refused = upload(data, "run")
    assert "Tidak ada yang diimpor." in refused.text
    assert embedded.query("enrollment", lambda s: s.scalar(select(User.id).where(User.email == lina))) is None
    imported = upload(data, "run", "per-row")
    assert "Diimpor: 1 akun baru dan 1 pendaftaran." in imported.text
    assert embedded.query("enrollment", lambda s: s.scalar(select(User.id).where(User.email == lina)))

    latin = upload("email;name\nani@x.id;Ani\nbudi@x.id;Bud\u00ed\n".encode("latin-1"), "check")
    assert latin.status_code == 400 and "Berkas bukan UTF-8 (baris 3)" in latin.text
    columns = upload(b"surel;nama\n", "check")
    assert columns.status_code == 400 and "Kolom tidak dikenal: surel, nama." in columns.text
    too_large = upload(b"email,name\n" + b"x" * roster.MAX_UPLOAD, "check")
    assert too_large.status_code == 400 and "lebih besar dari 256 KB" in too_large.text
    nothing = web.post(
        "/roster/import", data={"csrf_token": csrf, "check": "1"}, content_type="multipart/form-data"
    )
    assert nothing.status_code == 400 and "Pilih berkas CSV." in nothing.text
    staff_web = embedded.client("enrollment")
    login(staff_web, lina_account(embedded, lina))
    assert staff_web.get("/roster/import").status_code == 403


def lina_account(running, address: str) -> str:
    """The imported account's address, after setting a password its owner would choose."""
    from services.enrollment.handlers import password_hasher
    from tests.test_skeleton import PASSWORD

    def set_password(session):
        user = session.scalar(select(User).where(User.email == address))
        user.password_hash = password_hasher.hash(PASSWORD)
        session.commit()

    running.query("enrollment", set_password)
    return address
