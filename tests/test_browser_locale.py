"""The chat page in another locale, driven in Debian's chromium: every number a person may need
is the locale's own (policy.yaml), in the header, the banner and the reply."""

from __future__ import annotations

import pytest

from tests.conftest import require
from tests.helpers import RunningServer
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, REPLY_TIMEOUT_MS, _loopback_only

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def uk_page(services):
    from playwright.sync_api import sync_playwright

    require(CHROMIUM.exists(), "Debian's chromium is not installed (/usr/bin/chromium; `make chromium`)")
    srv = RunningServer(
        services.settings.data_dir, env={"KQA_LOCALE": "UK", "KQA_RATE_LIMIT_PER_MINUTE": "0"}
    )
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1100, "height": 1000})
            context.route("**/*", _loopback_only)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(srv.url + "/")
            page.locator("textarea[data-testid='textbox']").wait_for(state="visible")
            yield page
            browser.close()
    finally:
        srv.stop()


def test_uk_page_header_gives_999_and_nhs_111_and_never_911(uk_page):
    from playwright.sync_api import expect

    note = uk_page.locator(".kqa-disclaimer")
    expect(note).to_contain_text("999")
    expect(note).to_contain_text("NHS 111")
    assert "911" not in uk_page.locator("body").inner_text()


def test_uk_emergency_banner_links_999_and_the_page_never_says_911(uk_page):
    from playwright.sync_api import expect

    box = uk_page.locator("textarea[data-testid='textbox']")
    box.fill("my friend took kratom and won't wake up")
    box.press("Enter")
    bot = uk_page.locator("#kqa-chat [data-testid='bot']")
    expect(bot).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(uk_page.locator("button[data-testid='submit-button']")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    banner = bot.last.locator(".kqa-urgent")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Emergency: get help now")
    expect(banner.locator("a[href='tel:999']")).to_have_count(1)
    expect(banner.locator("a[href='tel:111']")).to_have_count(1)
    expect(bot.last).to_contain_text("Call 999 now")
    assert "911" not in uk_page.locator("body").inner_text()
