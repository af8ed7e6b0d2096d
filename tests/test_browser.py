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
