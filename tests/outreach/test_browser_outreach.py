"""In Chromium: the outreach dashboard renders its charts, and the widget shows inbox reminders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent.test_browser import (  # noqa: F401  (fixtures: browser, server, server_env)
    VERIFY,
    Watch,
    browser,
    open_widget,
    save_screenshot,
    say,
    server,
    server_env,
    type_message,
)

try:
    from playwright.sync_api import Browser, Route, expect
except ImportError:  # pragma: no cover - the fixtures skip or fail first
    pass

pytestmark = pytest.mark.slow
PASSWORD = "kata-sandi-panjang-1"


def santun(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        input=stdin,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_compliance_officer_reads_the_outreach_dashboard(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    chrome: Browser = request.getfixturevalue("browser")
    base: str = request.getfixturevalue("server")
    env: dict[str, str] = request.getfixturevalue("server_env")
    santun(env, "operator", "add", "sari", "--role", "compliance", stdin=PASSWORD + "\n")
    santun(env, "outreach", "run")  # 10:00 WIB Monday: CC-1003's reminder goes out
    context = chrome.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill("sari")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in|Log in|Masuk", re.I)).click()
    page.get_by_role("link", name="Outreach").click()
    expect(page).to_have_url(re.compile(r"/console/outreach"))
    charts = page.locator("svg[role='img']")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 5
    expect(page.get_by_text("CC-1010").first).to_be_visible()  # the debtor table
    save_screenshot(page, "outreach-dashboard.png", tmp_path)
    watch.assert_clean()
    context.close()


def test_widget_shows_web_inbox_reminders_after_verification(
    request: pytest.FixtureRequest,
) -> None:
    chrome: Browser = request.getfixturevalue("browser")
    base: str = request.getfixturevalue("server")
    context = chrome.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch = Watch(page)
    asked: list[str] = []
    reminder = "Bapak/Ibu Budi, <b>pengingat</b> dari Bank Nusantara."

    def inbox(route: Route) -> None:
        asked.append(route.request.url)
        route.fulfill(
            json={"messages": [{"text": reminder, "sent_at": "2026-11-23T03:00:00+00:00"}]}
        )

    page.route(re.compile(r"/api/sessions/[^/]+/inbox$"), inbox)
    open_widget(page, base)
    say(page, "halo")
    assert asked == []  # not before the debtor is verified
    type_message(page, VERIFY)
    bubble = page.locator(".santun-msg--bot .santun-text", has_text="pengingat")
    expect(bubble).to_have_count(1, timeout=10_000)
    expect(bubble).to_have_text(reminder)  # markup stays text
    expect(page.get_by_text("Pesan dari Bank Nusantara untuk Anda:")).to_be_visible()
    assert page.locator(".santun-log b").count() == 0
    watch.assert_clean()
    context.close()
