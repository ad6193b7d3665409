"""The dashboard's front end: its ES modules' unit tests (node --test), and the page in
headless Chromium (Python playwright driving Debian's chromium), with a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reports.tests.test_numbers import history  # noqa: F401 (fixture)

JS_TESTS = Path(__file__).parent / "js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("HELPDESK_SCREENSHOTS", "var/screenshots"))


def test_es_module_unit_tests_pass():
    node = shutil.which("node")
    assert node, "Node.js is needed for the front-end unit tests"
    result = subprocess.run(
        [node, "--test", str(JS_TESTS)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_dashboard_in_chromium(language, live_server, agent_a, history):  # noqa: F811
    from django.test import Client
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium is needed at {CHROMIUM} (apt-get install chromium)"
    client = Client()
    client.force_login(agent_a)
    session = client.cookies["sessionid"].value
    url = f"{live_server.url}/admin/?period=custom&start=2026-03-10&end=2026-03-11"
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 2000})
        context.add_cookies(
            [
                {"name": "sessionid", "value": session, "url": live_server.url},
                {"name": "django_language", "value": language, "url": live_server.url},
            ]
        )
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_selector(".hd-counter")
        page.wait_for_function("document.querySelectorAll('canvas').length === 10")
        page.wait_for_function("window.Chart && Object.keys(Chart.instances).length === 10")
        counters = page.locator(".hd-counter").count()
        conversations = page.locator("[data-counter=conversations] .hd-counter-value").inner_text()
        questions = page.locator(".hd-question-text").all_inner_texts()
        buttons = page.locator(".hd-draft button").count()
        heading = page.locator("#content h2").first.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{language}.png"), full_page=True)
        browser.close()
    assert errors == []
    assert counters == 15 and conversations == "3"
    assert sorted(questions) == sorted(["OTA 升级失败怎么办", "蓝牙连不上"])
    assert buttons == 2
    assert heading == (
        "Conversations and hand-offs per day" if language == "en" else "每日会话与转人工"
    )
