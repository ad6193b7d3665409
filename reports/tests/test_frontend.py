"""The dashboard's front end: its ES modules' unit tests (node --test), and the page in
headless Chromium (Python playwright driving Debian's chromium), with a screenshot."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from django.test import Client

from dialogue.tests.browser import (
    SCREENSHOTS,
    assert_node_tests_pass,
    launch,
    session_cookie,
    wait_until,
)
from reports.tests.test_numbers import history  # noqa: F401 (fixture)

JS_TESTS = Path(__file__).parent / "js"


def test_es_module_unit_tests_pass():
    assert_node_tests_pass(JS_TESTS)


def open_dashboard(
    playwright, url: str, session: str, language: str, width: int, fake_clock: bool = False
):
    """The dashboard of the custom period 2026-03-10 to 11; with `fake_clock`, the page's
    timers run on Playwright's clock (page.clock), which the test moves forward."""
    browser = launch(playwright)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(
        [
            {"name": "sessionid", "value": session, "url": url},
            {"name": "django_language", "value": language, "url": url},
        ]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    if fake_clock:
        page.clock.install()
    page.goto(f"{url}/admin/?period=custom&start=2026-03-10&end=2026-03-11")
    page.wait_for_selector(".hd-counter")
    wait_until(page, "() => window.Chart && Object.keys(Chart.instances).length === 10")
    return browser, page, errors


TOP = "node => Math.round(node.getBoundingClientRect().top)"


def card_rows(page) -> list[list[int]]:
    """How many cards stand side by side in each row of each section, top to bottom."""
    tops = page.eval_on_selector_all(
        ".hd-grid", f"grids => grids.map(grid => [...grid.children].map({TOP}))"
    )
    return [list(Counter(section).values()) for section in tops]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_dashboard_in_chromium(language, live_server, agent_a, history):  # noqa: F811
    from playwright.sync_api import sync_playwright  # lazy: only the browser tests need it

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    session = session_cookie(agent_a)
    with sync_playwright() as playwright:
        browser, page, errors = open_dashboard(playwright, live_server.url, session, language, 1400)
        counters = page.locator(".hd-counter").count()
        conversations = page.locator("[data-counter=conversations] .hd-counter-value").inner_text()
        questions = page.locator(".hd-question-text").all_inner_texts()
        buttons = page.locator(".hd-draft button").count()
        sections = page.locator(".hd-section-title").all_inner_texts()
        wide_rows = card_rows(page)
        counter_tops = page.eval_on_selector_all(".hd-counter", f"cards => cards.map({TOP})")
        # The dashboard itself; the admin's list of models follows it on the same page.
        height = page.eval_on_selector("#hd-dashboard", "node => node.offsetHeight")
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{language}.png"), full_page=True)
        page.set_viewport_size({"width": 420, "height": 900})
        page.wait_for_timeout(300)
        narrow_rows = card_rows(page)
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{language}-narrow.png"), full_page=True)
        browser.close()
    assert errors == []
    assert counters == 15 and conversations == "3"
    assert sorted(questions) == sorted(["OTA 升级失败怎么办", "蓝牙连不上"])
    assert buttons == 2
    assert sections[0] == ("Conversations" if language == "en" else "会话")
    # Wide: counters in two rows (7 and 8), cards three to a row (the conversations chart
    # takes two places); narrow: one card per row.
    assert sorted(Counter(counter_tops).values()) == [7, 8]
    assert wide_rows == [[2, 1], [3, 3], [3]]
    assert all(row == 1 for section in narrow_rows for row in section)
    assert height < 2400


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_refresh_follows_the_period(live_server, agent_a, history):  # noqa: F811
    from playwright.sync_api import sync_playwright  # lazy: only the browser tests need it

    client = Client()
    client.force_login(agent_a)
    today = client.get("/admin/", {"period": "today"}).content.decode()
    assert 'data-data-url="/admin/dashboard/data/?period=today"' in today
    custom = client.get("/admin/", {"period": "custom", "start": "2026-03-10", "end": "2026-03-11"})
    assert "?period=custom&amp;start=2026-03-10&amp;end=2026-03-11" in custom.content.decode()
    session = session_cookie(agent_a)
    with sync_playwright() as playwright:
        browser, page, errors = open_dashboard(
            playwright, live_server.url, session, "en", 1400, fake_clock=True
        )
        loads: list[str] = []
        page.on("request", lambda r: loads.append(r.url) if "/dashboard/data/" in r.url else None)
        interval_ms = 1000 * int(page.get_attribute("#hd-dashboard", "data-refresh-seconds"))
        page.evaluate("document.querySelector('#hd-status').textContent = ''")
        # Nothing is loaded before the refresh interval is up ...
        page.clock.run_for(interval_ms - 1000)
        page.wait_for_timeout(300)
        early = list(loads)
        # ... and when it is, the periodic refresh loads the numbers again and redraws.
        with page.expect_response(lambda r: "/admin/dashboard/data/" in r.url) as refreshed:
            page.clock.run_for(1000)
        wait_until(page, "() => document.querySelector('#hd-status').textContent !== ''")
        status = page.locator("#hd-status").inner_text()
        data_url = refreshed.value.url
        browser.close()
    assert errors == []
    assert early == []
    assert status.startswith("Updated")
    assert data_url.endswith("/admin/dashboard/data/?period=custom&start=2026-03-10&end=2026-03-11")
