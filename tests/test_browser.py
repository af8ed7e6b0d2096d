"""A person in a real browser: sign in, enroll through the form, find the notification in the inbox;
on a phone, take the public quizzes without an account, a timed one handing itself in."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pypdf
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from services.assessment.seed import SEED_DIR
from shared.localtime import JAKARTA
from tests.test_attempts import move_deadline
from tests.test_skeleton import PASSWORD, people, programme_with_session, token

CHROMIUM = "/usr/bin/chromium"  # Debian's; a test tool's own browser download does not work here
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


# A phone held upright: what most of the public takes the quizzes on.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "id-ID",
}


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


def test_staff_member_enrolls_and_sees_the_notification(browser, embedded_processes):
    running = embedded_processes
    enrollment = running.client("enrollment")
    coordinator_email, staff_email = people(running, "koordinator", "nadia")
    programme, _ = programme_with_session(enrollment, token(enrollment, coordinator_email), seats=10)
    base = running.base_url("enrollment")

    page = browser.new_page()
    page.goto(f"{base}/enrollment/login")
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    page.get_by_label("Email").fill(staff_email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_text("Nadia")).to_be_visible()

    page.goto(f"{base}/enrollment/programmes/{programme['id']}")
    page.get_by_role("button", name="Daftar").click()
    expect(page.get_by_role("status")).to_contain_text("Kursi Anda sudah dikonfirmasi")

    page.get_by_role("link", name="Kotak masuk").click()
    deadline = time.monotonic() + 15
    while "Pelatihan Katalogisasi" not in page.content() and time.monotonic() < deadline:
        time.sleep(0.2)
        page.reload()
    notification = page.locator(".notification.unread").first
    expect(notification).to_contain_text("Kursi Anda terkonfirmasi")
    expect(notification).to_contain_text("Pelatihan Katalogisasi")
    page.screenshot(path=str(running.data_dir / "inbox.png"))

    page.get_by_role("button", name="Tandai sudah dibaca").first.click()
    expect(page.locator(".notification.unread")).to_have_count(1)  # the welcome message is left
    page.get_by_role("button", name="Tandai semua sudah dibaca").click()
    expect(page.locator(".notification.unread")).to_have_count(0)


def test_staff_member_turns_off_enrollment_email_and_clears_the_inbox(browser, embedded_processes):
    running = embedded_processes
    _, staff_email = people(running, "koordinator", "rina")
    base = running.base_url("enrollment")

    page = browser.new_page()
    page.goto(f"{base}/enrollment/login")
    page.get_by_label("Email").fill(staff_email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_text("Rina")).to_be_visible()

    page.get_by_role("link", name="Preferensi").click()
    expect(page.get_by_role("heading", name="Preferensi notifikasi")).to_be_visible()
    expect(page.get_by_label("Akun dan keamanan: Email")).to_be_disabled()
    enrollment_email = page.get_by_label("Pendaftaran: Email")
    expect(enrollment_email).to_be_checked()
    enrollment_email.uncheck()
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("status")).to_contain_text("Preferensi Anda sudah disimpan.")

    page.reload()
    expect(page.get_by_label("Pendaftaran: Email")).not_to_be_checked()
    expect(page.get_by_label("Pendaftaran: Di aplikasi")).to_be_checked()
    expect(page.get_by_label("Hasil kuis: Email")).to_be_checked()
    page.screenshot(path=str(running.data_dir / "preferences.png"))

    page.get_by_role("link", name="Kotak masuk").click()
    mark_all = page.get_by_role("button", name="Tandai semua sudah dibaca")
    deadline = time.monotonic() + 15
    while not mark_all.is_visible() and time.monotonic() < deadline:  # the welcome arrives by event
        time.sleep(0.2)
        page.reload()
    expect(page.locator(".notification.unread")).not_to_have_count(0)
    mark_all.click()
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(page.locator("#unread-count")).to_contain_text("0")


# Quizzes on a phone ----------------------------------------------------------------------------

LITERACY = json.loads((SEED_DIR / "literasi-informasi.json").read_text(encoding="utf-8"))
LITERACY_QUESTIONS = {question["name"]: question for question in LITERACY["questions"]}


def seeded_quiz(slug: str) -> tuple[dict, list[dict]]:
    """A demo quiz's definition and its questions, as the seed file has them."""
    quiz = next(quiz for quiz in LITERACY["quizzes"] if quiz["slug"] == slug)
    return quiz, [LITERACY_QUESTIONS[name] for name in quiz["questions"]]


def right_answer(question: dict) -> str:
    """What a taker who knows picks or types: the right option's text, or the number."""
    body = question["body"]
    if question["type"] == "single_choice":
        return next(choice["text"]["id"] for choice in body["choices"] if choice["fraction"] == 1)
    if question["type"] == "true_false":
        return "Benar" if body["answer"] else "Salah"
    return f"{next(answer['value'] for answer in body['answers'] if answer['fraction'] == 1):g}"


def answer(page: Page, question: dict, text: str) -> None:
    """Tap the option (its whole label is the target) or type the number, as a thumb would."""
    fieldset = page.locator("fieldset.question", has_text=question["text"]["id"])
    if question["type"] == "numeric":
        fieldset.get_by_role("textbox").fill(text)
        return
    fieldset.locator("label.option", has_text=text).tap()
    expect(fieldset.get_by_label(text, exact=True)).to_be_checked()


def assert_fits_the_phone(page: Page) -> None:
    """Nothing wider than the screen (no sideways scrolling, no zooming out to show it all), buttons
    a thumb can hit, and each question's text inside its card, not across its top border."""
    page.wait_for_load_state()  # the stylesheet too: a page is measured as it is shown
    width, client_width, scroll_width = page.evaluate(
        "[window.innerWidth, document.documentElement.clientWidth, document.documentElement.scrollWidth]"
    )
    assert width == PHONE["viewport"]["width"], f"{page.url}: zoomed out to {width}px"
    assert scroll_width <= client_width, f"{page.url}: {scroll_width}px wide on a {client_width}px screen"
    for button in page.locator("main button").all():
        assert button.bounding_box()["height"] >= 44, f"{page.url}: a small button, {button.inner_text()!r}"
    for question in page.locator("fieldset.question").all():
        assert question.locator("legend").bounding_box()["y"] > question.bounding_box()["y"], page.url


@pytest.mark.browser
def test_a_visitor_takes_the_public_quiz_on_a_phone(phone, embedded_processes):
    running = embedded_processes
    running.seed("assessment")
    quiz, questions = seeded_quiz("literasi-informasi-dasar")
    numeric = next(question for question in questions if question["type"] == "numeric")
    page = phone

    page.goto(f"{running.base_url('assessment')}/assessment/quizzes/{quiz['slug']}")
    expect(page.get_by_role("heading", name=quiz["title"]["id"])).to_be_visible()
    expect(page.get_by_text("Tidak perlu akun.")).to_be_visible()
    assert_fits_the_phone(page)
    page.get_by_role("button", name="Mulai kuis").tap()

    pages = len(questions) // quiz["questions_per_page"]
    for number in range(1, pages + 1):
        expect(page.get_by_text(f"Halaman {number} dari {pages}")).to_be_visible()
        assert_fits_the_phone(page)
        shown = [q for q in questions if page.locator("fieldset.question", has_text=q["text"]["id"]).count()]
        assert len(shown) == quiz["questions_per_page"]
        for question in shown:
            # One number off by the titles counted twice: half its points.
            answer(page, question, "65" if question is numeric else right_answer(question))
        last = number == pages
        page.get_by_role("button", name="Selesaikan percobaan" if last else "Berikutnya").tap()

    expect(page.locator("#answered")).to_have_text(
        f"Anda menjawab {len(questions)} dari {len(questions)} soal."
    )
    assert_fits_the_phone(page)
    page.get_by_role("button", name="Kumpulkan jawaban saya").tap()

    expect(page.locator("#score")).to_have_text(f"{len(questions) - 0.5:g} / {len(questions)}")
    expect(page.locator("#level")).to_contain_text("Mahir")
    expect(page.locator("#areas tr")).to_have_count(5)
    expect(page.get_by_role("heading", name="Pembahasan")).to_be_visible()
    expect(page.locator(".review")).to_have_count(len(questions))
    expect(page.locator(".review.correct")).to_have_count(len(questions) - 1)
    partly = page.locator(".review.partial")
    expect(partly).to_contain_text(numeric["text"]["id"])
    expect(partly.locator(".correctness")).to_contain_text("Sebagian benar")
    expect(partly.locator(".correct-answer")).to_contain_text(right_answer(numeric))
    assert_fits_the_phone(page)
    page.screenshot(path=str(running.data_dir / "quiz-result-phone.png"), full_page=True)


@pytest.mark.browser
def test_a_timed_quiz_hands_itself_in_on_a_phone(phone, embedded_processes):
    running = embedded_processes
    running.seed("assessment")
    quiz, questions = seeded_quiz("kuis-kilat-hoaks")
    page = phone

    page.goto(f"{running.base_url('assessment')}/assessment/quizzes/{quiz['slug']}")
    expect(page.get_by_text(f"Batas waktu: {quiz['time_limit_minutes']} menit")).to_be_visible()
    assert_fits_the_phone(page)
    page.get_by_role("button", name="Mulai kuis").tap()
    expect(page).to_have_url(re.compile(r"/attempts/\d+/pages/0$"))
    limit = 60 * quiz["time_limit_minutes"]
    assert limit - 10 <= int(page.locator("#time-left").get_attribute("data-seconds")) <= limit

    # Let most of the limit pass: 12 seconds are left.
    move_deadline(running, int(page.url.split("/attempts/")[1].split("/")[0]), 12)
    page.reload()
    assert int(page.locator("#time-left").get_attribute("data-seconds")) <= 12
    known = questions[0]
    answer(page, known, right_answer(known))
    page.get_by_role("button", name="Simpan").tap()
    expect(page.get_by_role("status")).to_contain_text("Jawaban Anda sudah disimpan.")
    assert_fits_the_phone(page)
    # The time left stays in view below the last question.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(page.locator(".timer")).to_be_in_viewport()

    # Nobody touches anything: at zero the page hands itself in.
    expect(page).to_have_url(re.compile(r"/attempts/\d+$"), timeout=20_000)
    expect(page.get_by_role("status")).to_contain_text("Waktu habis")
    expect(page.locator("#score")).to_have_text(f"1 / {len(questions)}")
    expect(page.locator("#level")).to_contain_text("Dasar")
    answered = page.locator(".review", has_text=known["text"]["id"])
    expect(answered).to_contain_text(f"Jawaban Anda: {right_answer(known)}")
    expect(page.locator(".review", has_text="Tidak dijawab")).to_have_count(len(questions) - 1)
    assert_fits_the_phone(page)


# A programme from its creation to a verified certificate ------------------------------------------


def sign_in(page: Page, base: str, address: str) -> None:
    page.goto(f"{base}/enrollment/login")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("link", name="Pembelajaran saya")).to_be_visible()


@pytest.mark.browser
def test_a_programme_from_its_creation_to_a_verified_certificate(browser, embedded_processes):
    running = embedded_processes
    coordinator_email, staff_email = people(running, "koordinator", "sekar")
    base = running.base_url("enrollment")
    title = f"Pelatihan Metadata Digital {uuid.uuid4().hex[:6]}"
    starts = datetime.now(JAKARTA).replace(second=0, microsecond=0) + timedelta(days=3)

    # The coordinator creates and publishes the programme, then schedules its session.
    coordinator = browser.new_context(locale="id-ID").new_page()
    sign_in(coordinator, base, coordinator_email)
    coordinator.goto(f"{base}/enrollment/programmes/new")
    coordinator.get_by_label("Judul (bahasa Indonesia)").fill(title)
    coordinator.get_by_label("Judul (bahasa Inggris)").fill("Digital Metadata Training")
    coordinator.get_by_label("Jenis").select_option(label="Pelatihan")
    coordinator.get_by_label("Katalogisasi dan metadata").check()
    coordinator.get_by_label("Terbitkan sekarang (jika tidak, tetap sebagai draf)").check()
    coordinator.get_by_role("button", name="Buat").click()
    expect(coordinator.get_by_role("status")).to_contain_text("Program diterbitkan.")
    programme_url = coordinator.url
    coordinator.get_by_role("link", name="Jadwalkan sesi").click()
    coordinator.get_by_label("Mulai (WIB)").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    coordinator.get_by_label("Selesai (WIB)").fill((starts + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"))
    coordinator.get_by_label("Tempat").fill("Aula Perpustakaan Kota Semarang")
    coordinator.get_by_label("Kursi").fill("20")
    coordinator.get_by_role("button", name="Jadwalkan").click()
    expect(coordinator.get_by_role("status")).to_contain_text("Sesi berhasil dijadwalkan.")

    # The staff member enrolls through the programme's page.
    staff = browser.new_context(locale="id-ID").new_page()
    sign_in(staff, base, staff_email)
    staff.goto(programme_url)
    staff.get_by_role("button", name="Daftar", exact=True).click()
    expect(staff.get_by_role("status")).to_contain_text("Kursi Anda sudah dikonfirmasi")

    # The coordinator marks the attendance: that completes the programme.
    coordinator.goto(programme_url)
    coordinator.get_by_role("link", name="Daftar peserta").click()
    coordinator.locator("#confirmed tr", has_text="Sekar").get_by_label("Hadir", exact=True).check()
    coordinator.get_by_role("button", name="Simpan kehadiran").click()
    expect(coordinator.get_by_role("status").first).to_contain_text("Kehadiran disimpan.")
    expect(coordinator.get_by_role("status").last).to_contain_text("1 peserta menyelesaikan program.")
    coordinator.goto(programme_url)
    coordinator.get_by_role("link", name="Penyelesaian dan sertifikat").click()
    learner = coordinator.locator("#learners tr", has_text="Sekar")
    code = learner.get_by_role("link", name=re.compile(r"^PST-")).inner_text()
    coordinator.screenshot(path=str(running.data_dir / "completion.png"), full_page=True)

    # The staff member downloads the certificate from "my learning".
    staff.get_by_role("link", name="Pembelajaran saya").click()
    completions = staff.locator("#completions")
    expect(completions).to_contain_text(title)
    expect(completions).to_contain_text(code)
    with staff.expect_download() as download:
        completions.get_by_role("link", name="Unduh sertifikat (PDF)").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    (printed,) = pypdf.PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(printed.extract_text().split())
    assert "Sekar" in text and title in text and code in text
    assert f"/enrollment/certificates/verify/{code}" in text  # where the QR code leads

    # Anyone checks the code on the public page, typed the way people type.
    visitor = browser.new_context(locale="id-ID").new_page()
    visitor.goto(f"{base}/enrollment/certificates/verify")
    visitor.get_by_label("Kode verifikasi").fill(code.lower().replace("-", " "))
    visitor.get_by_role("button", name="Verifikasi").click()
    expect(visitor).to_have_url(re.compile(f"/certificates/verify/{code}$"))
    verdict = visitor.locator("#verdict")
    expect(verdict).to_contain_text("Sertifikat sah")
    expect(verdict.locator("#learner")).to_have_text("Sekar")
    expect(verdict.locator("#programme")).to_have_text(title)
    expect(verdict.locator("#dates")).to_have_text(starts.strftime("%d-%m-%Y"))
    visitor.screenshot(path=str(running.data_dir / "verified.png"), full_page=True)
    for page in (coordinator, staff, visitor):
        page.context.close()
