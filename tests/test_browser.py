"""The chat embedded in a host page (examples/embed.html), driven in Debian's chromium.

A real `kratom-qa serve` (over the session's index) allows the examples server's origin in
KQA_ALLOWED_ORIGINS; the host page is served by http.server on another loopback port, so the
chat really is cross-origin in an iframe. Requests to anything but loopback are aborted.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from bot.settings import REPO_ROOT
from tests.conftest import require
from tests.helpers import RunningServer

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXAMPLES = REPO_ROOT / "examples"
REPLY_TIMEOUT_MS = 90_000
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>[click](javascript:window.__xss=3)'


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def sites(services):
    """(examples origin, chat server): the host page's site and a chat that allows it to embed it."""
    require(CHROMIUM.exists(), "Debian's chromium is not installed (/usr/bin/chromium; `make chromium`)")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(EXAMPLES)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    srv = None
    try:
        srv = RunningServer(
            services.settings.data_dir, env={"KQA_ALLOWED_ORIGINS": origin, "KQA_RATE_LIMIT_PER_MINUTE": "0"}
        )
        yield origin, srv
    finally:
        if srv is not None:
            srv.stop()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(sites):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _loopback_only(route) -> None:
    if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    else:  # e.g. web fonts: the test must not depend on (or leak to) the internet
        route.abort()


class Embedded:
    """One browser page showing embed.html with the chat in its iframe."""

    def __init__(self, browser, host_origin: str, chat_url: str):
        self.context = browser.new_context(viewport={"width": 1100, "height": 1000})
        self.context.route("**/*", _loopback_only)
        self.page = self.context.new_page()
        self.popups: list = []  # windows opened from the page or its iframe
        self.page.on("popup", lambda popup: self.popups.append(popup.url))
        self.page.set_default_timeout(30_000)
        self.dialogs: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.chat_url = chat_url.rstrip("/") + "/"
        with self.page.expect_response(
            lambda r: r.url == self.chat_url and r.request.resource_type == "document", timeout=60_000
        ) as document:
            self.page.goto(f"{host_origin}/embed.html?chat={quote(self.chat_url, safe='')}")
        self.document = document.value  # the response that became the iframe's document
        self.ui = self.page.frame_locator("#kqa-frame")
        self.textbox = self.ui.locator("textarea[data-testid='textbox']")
        self.textbox.wait_for(state="visible", timeout=60_000)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    @property
    def frame(self):
        return self.page.locator("#kqa-frame").element_handle().content_frame()

    def bot_messages(self):
        return self.ui.locator("#kqa-chat [data-testid='bot']")

    def user_messages(self):
        return self.ui.locator("#kqa-chat [data-testid='user']")

    def ask(self, text: str):
        """Send one message and wait until the whole reply has streamed; return the reply element."""
        from playwright.sync_api import expect

        before = self.bot_messages().count()
        self.textbox.fill(text)
        self.textbox.press("Enter")
        expect(self.bot_messages()).to_have_count(before + 1, timeout=REPLY_TIMEOUT_MS)
        # While a reply streams, ChatInterface swaps the submit button for a stop button.
        expect(self.ui.locator("button.stop-button")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
        expect(self.ui.locator("button[data-testid='submit-button']")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
        return self.bot_messages().last

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def embedded(browser, sites):
    """One embedded chat shared by the conversation tests below (they run in file order)."""
    origin, srv = sites
    e = Embedded(browser, origin, srv.url)
    yield e
    e.close()


def test_embedded_chat_answers_with_citations_and_linked_sources(embedded):
    from playwright.sync_api import expect

    reply = embedded.ask("Can kratom damage your liver?")
    expect(reply).to_contain_text("[1]")
    expect(reply.locator("strong", has_text="Sources")).to_be_visible()
    links = reply.locator(
        "xpath=.//p[strong[normalize-space()='Sources']]/following-sibling::ol[1]//a[starts-with(@href, 'https://')]"
    )
    assert links.count() >= 1, reply.inner_html()
    expect(links.first).to_be_visible()
    assert links.first.get_attribute("target") == "_blank"  # a source never replaces the chat
    assert "noopener" in (links.first.get_attribute("rel") or "")


def test_embedded_chat_shows_the_red_emergency_banner_with_a_911_link(embedded):
    from playwright.sync_api import expect

    reply = embedded.ask("my friend took kratom and won't wake up")
    banner = reply.locator(".kqa-urgent")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("911")
    expect(banner.locator("a[href='tel:911']")).to_have_count(1)
    expect(banner.locator("a[href='tel:911']")).to_be_visible()
    # The app's CSS reaches the embedded page: the banner really is red.
    assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(176, 0, 32)"


def test_embedded_chat_shows_markup_in_messages_inertly(embedded):
    from playwright.sync_api import expect

    reply = embedded.ask(XSS)
    expect(reply).not_to_be_empty()
    turn = [embedded.user_messages().last, reply]
    for message in turn:
        links = message.locator("a")
        for i in range(links.count()):
            href = (links.nth(i).get_attribute("href") or "").strip().lower()
            assert not href.startswith("javascript:"), links.nth(i).evaluate("e => e.outerHTML")
            if not href.startswith(("http:", "https:", "tel:")):  # never leave loopback from a test
                links.nth(i).click()
    # Whatever was shown is inert: no script elements, no event-handler attributes, no script URLs.
    active = embedded.ui.locator("#kqa-chat").evaluate(
        """chat => {
            const bad = [];
            for (const el of chat.querySelectorAll('*')) {
                if (el.tagName === 'SCRIPT') bad.push(el.outerHTML);
                for (const a of el.attributes) {
                    if (a.name.startsWith('on')) bad.push(el.outerHTML);
                    if (/^\\s*javascript:/i.test(a.value)) bad.push(el.outerHTML);
                }
            }
            return bad;
        }"""
    )
    assert active == []
    assert embedded.frame.evaluate("typeof window.__xss") == "undefined"
    assert embedded.page.evaluate("typeof window.__xss") == "undefined"
    assert embedded.dialogs == []
    assert embedded.popups == []
    # ...and the chat still works afterwards.
    expect(embedded.textbox).to_be_editable()


def test_users_own_message_is_shown_as_typed(embedded):
    """Issue #18: the user's Markdown or HTML stays text in their bubble (no image request, no live link)."""
    typed = (
        "![pixel](http://127.0.0.1:9/pixel.png) [live](https://example.com) <b>bold</b> https://example.com"
    )
    embedded.ask(typed)
    mine = embedded.user_messages().last
    assert mine.locator("img, a, b").count() == 0, mine.inner_html()
    assert typed in mine.inner_text()


def test_starter_questions_show_a_click_asks_one_and_new_chat_starts_over(browser, sites):
    """Issue #15: the five starter questions render (no 404 for an example renderer), a click asks
    that question and gets a cited answer, and the visible "New chat" button clears the chat."""
    from playwright.sync_api import expect

    from bot.ui import EXAMPLES as STARTERS

    origin, srv = sites
    e = Embedded(browser, origin, srv.url)
    failed: list[str] = []
    e.page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        cards = e.ui.locator("#kqa-chat button.example")
        expect(cards).to_have_count(len(STARTERS))
        for card, question in zip(cards.all(), STARTERS):
            expect(card).to_be_visible()
            expect(card).to_have_text(question)
        cards.nth(1).click()
        expect(e.user_messages()).to_have_count(1)
        expect(e.user_messages().first).to_have_text(STARTERS[1])
        expect(e.bot_messages()).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
        expect(e.ui.locator("button.stop-button")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
        expect(e.bot_messages().first).to_contain_text("[1]")
        expect(e.bot_messages().first.locator("strong", has_text="Sources")).to_be_visible()
        new_chat = e.ui.get_by_role("button", name="New chat")
        expect(new_chat).to_be_visible()
        new_chat.click()
        expect(e.bot_messages()).to_have_count(0)
        expect(e.user_messages()).to_have_count(0)
        expect(cards).to_have_count(len(STARTERS))  # the empty chat offers the questions again
        reply = e.ask("Is kratom approved by the FDA?")  # and a new conversation works
        expect(reply).to_contain_text("[1]")
        expect(e.user_messages()).to_have_count(1)
        assert not [f for f in failed if "/custom_component/" in f or f.startswith("404")], failed
    finally:
        e.close()


def test_chat_document_allows_the_host_in_frame_ancestors_and_screenshot(browser, sites, tmp_path):
    from playwright.sync_api import expect

    origin, srv = sites
    e = Embedded(browser, origin, srv.url)
    try:
        assert e.document.status == 200
        csp = e.document.header_value("content-security-policy") or ""
        directive = next((d.strip() for d in csp.split(";") if d.strip().startswith("frame-ancestors")), "")
        assert origin in directive.split()[1:], csp
        assert e.frame.url == e.chat_url  # the browser accepted the header and showed the chat
        reply = e.ask("Can kratom damage your liver?")
        expect(reply).to_contain_text("Sources")
        shot = tmp_path / "embedded-chat.png"
        e.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
    finally:
        e.close()


def test_chat_refuses_to_be_embedded_by_a_host_not_listed(browser, sites):
    origin, srv = sites
    other = origin.replace("127.0.0.1", "localhost")  # same files, an origin the server does not allow
    context = browser.new_context()
    context.route("**/*", _loopback_only)
    try:
        page = context.new_page()
        with page.expect_response(
            lambda r: r.url == srv.url + "/" and r.request.resource_type == "document", timeout=60_000
        ) as document:
            page.goto(f"{other}/embed.html?chat={quote(srv.url + '/', safe='')}")
        assert other not in (document.value.header_value("content-security-policy") or "")
        frame = page.locator("#kqa-frame").element_handle().content_frame()
        frame.wait_for_load_state()
        assert frame.locator("textarea").count() == 0
        assert not frame.url.startswith(srv.url)  # chromium shows its error page instead
    finally:
        context.close()


# ---- /embed.js: one script tag, a floating button, the chat in a panel (issue #15) ----------


class Widget:
    """examples/widget.html: a host page whose only integration is the /embed.js script tag."""

    def __init__(self, browser, host_origin: str, chat_url: str, query: str = ""):
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.context.route("**/*", _loopback_only)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(m.text))
        with self.page.expect_response(lambda r: r.url.endswith("/embed.js"), timeout=60_000) as script:
            self.page.goto(
                f"{host_origin}/widget.html?chat={quote(chat_url.rstrip('/') + '/', safe='')}{query}"
            )
        self.script = script.value
        self.button = self.page.locator("#kqa-embed-button")
        self.panel = self.page.locator("#kqa-embed-panel")
        self.ui = self.page.frame_locator("#kqa-embed-frame")

    def ask(self, text: str):
        from playwright.sync_api import expect

        bots = self.ui.locator("#kqa-chat [data-testid='bot']")
        before = bots.count()
        box = self.ui.locator("textarea[data-testid='textbox']")
        box.fill(text)
        box.press("Enter")
        expect(bots).to_have_count(before + 1, timeout=REPLY_TIMEOUT_MS)
        expect(self.ui.locator("button.stop-button")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
        return bots.last

    def close(self) -> None:
        self.context.close()


def test_widget_button_opens_the_chat_panel_by_keyboard_with_cited_answers_and_the_911_banner(browser, sites):
    from playwright.sync_api import expect

    origin, srv = sites
    w = Widget(browser, origin, srv.url)
    try:
        assert w.script.status == 200 and "javascript" in (w.script.header_value("content-type") or "")
        expect(w.button).to_be_visible()
        expect(w.button).to_have_text("Ask about kratom")
        assert "Ask about kratom" in (w.button.get_attribute("aria-label") or "")
        expect(w.button).to_have_attribute("aria-expanded", "false")
        expect(w.panel).to_be_hidden()
        w.button.focus()
        w.page.keyboard.press("Enter")  # keyboard only
        expect(w.panel).to_be_visible()
        expect(w.button).to_have_attribute("aria-expanded", "true")
        expect(w.panel).to_have_attribute("role", "dialog")
        assert w.panel.get_attribute("aria-label")
        expect(w.page.get_by_role("button", name="Close the chat")).to_be_focused()
        w.ui.locator("textarea[data-testid='textbox']").wait_for(state="visible", timeout=60_000)
        reply = w.ask("Can kratom damage your liver?")
        expect(reply).to_contain_text("[1]")
        expect(reply.locator("strong", has_text="Sources")).to_be_visible()
        urgent = w.ask("my friend took kratom and won't wake up")
        banner = urgent.locator(".kqa-urgent")
        expect(banner).to_be_visible()
        expect(banner).to_be_in_viewport()  # the panel shows it, not just the DOM
        expect(banner.locator("a[href='tel:911']")).to_be_visible()
        w.page.keyboard.press("Escape")
        expect(w.panel).to_be_hidden()
        expect(w.button).to_be_focused()
        expect(w.button).to_have_attribute("aria-expanded", "false")
    finally:
        w.close()


def test_widget_passes_locale_and_language_to_the_chat(browser, sites):
    from playwright.sync_api import expect

    origin, srv = sites
    w = Widget(browser, origin, srv.url, query="&locale=uk&lang=es")
    try:
        expect(w.button).to_have_text("Preguntar sobre el kratom")
        w.button.click()
        src = w.page.locator("#kqa-embed-frame").get_attribute("src") or ""
        assert "locale=UK" in src and "lang=es" in src, src
        w.ui.locator("textarea[data-testid='textbox']").wait_for(state="visible", timeout=60_000)
        banner = w.ask("my friend took kratom and won't wake up").locator(".kqa-urgent")
        expect(banner).to_be_visible()
        expect(banner.locator("a[href='tel:999']")).to_be_visible()  # UK numbers, from data-locale
        expect(banner.locator("a[href='tel:911']")).to_have_count(0)
    finally:
        w.close()


def test_widget_panel_header_follows_the_widgets_uk_locale_not_the_servers(browser, sites):
    """The server runs with the US locale; `data-locale="UK"` gives the panel's own header the UK
    numbers (999, NHS 111), not just its replies."""
    from playwright.sync_api import expect

    origin, srv = sites
    w = Widget(browser, origin, srv.url, query="&locale=UK")
    try:
        w.button.click()
        note = w.ui.locator("[role='note']")
        expect(note).to_contain_text("In an emergency call 999", timeout=60_000)
        expect(note).to_contain_text("NHS 111")
        expect(note).not_to_contain_text("911")
    finally:
        w.close()


def test_widget_data_lang_es_makes_the_chat_page_spanish(browser, sites):
    """`data-lang="es"`: the chat's fixed text (header, greeting, controls) is Spanish, not only
    the widget's button; the US numbers stay (no data-locale)."""
    from playwright.sync_api import expect

    origin, srv = sites
    w = Widget(browser, origin, srv.url, query="&lang=es")
    try:
        w.button.click()
        ui = w.ui
        expect(ui.locator("[role='note']")).to_contain_text("En una emergencia llama al 911", timeout=60_000)
        expect(ui.locator("#kqa-chat")).to_contain_text("Haz una pregunta sobre los efectos del kratom")
        expect(ui.locator("#kqa-new-chat")).to_have_text("Nueva conversación")
        expect(ui.locator("textarea[data-testid='textbox']")).to_have_attribute(
            "placeholder", "Escribe un mensaje..."
        )
        expect(ui.get_by_text("Cuando califiques una respuesta")).to_be_visible()
        expect(ui.get_by_text("Education, not medical advice")).to_have_count(0)
    finally:
        w.close()


def test_widget_refuses_a_site_not_in_the_allowlist(browser, sites):
    from playwright.sync_api import expect

    origin, srv = sites
    other = origin.replace("127.0.0.1", "localhost")  # same page, an origin the server does not allow
    w = Widget(browser, other, srv.url)
    try:
        assert w.script.status == 200
        w.page.wait_for_function("window.__kqaEmbed === true && document.readyState === 'complete'")  # it ran
        expect(w.button).to_have_count(0)
        expect(w.panel).to_have_count(0)
        for _ in range(100):  # console events reach Python a moment later
            if any("not in the chat server's KQA_ALLOWED_ORIGINS" in m for m in w.console):
                break
            w.page.wait_for_timeout(100)
        assert any("not in the chat server's KQA_ALLOWED_ORIGINS" in m for m in w.console), w.console
        expect(w.button).to_have_count(0)
    finally:
        w.close()
