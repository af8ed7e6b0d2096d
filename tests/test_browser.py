"""A person in a real browser: sign in, enroll through the form, find the notification in the inbox."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect, sync_playwright

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
