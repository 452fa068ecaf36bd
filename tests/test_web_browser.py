"""What a person sees in a real browser: Debian's headless Chromium driven by Playwright.

The app runs in a real uvicorn server on a loopback port. Skips only where Chromium is not
installed (`apt-get install chromium`); Playwright never downloads a browser here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from newswatch.web import WebOptions
from newswatch.web.server import serve_in_thread
from tests import web_fixtures
from tests.web_fixtures import TOKEN, XSS_TITLE

CHROMIUM = Path("/usr/bin/chromium")
# As root in a container: no sandbox; and no background traffic to a network we lack.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    """The app over a populated SQLite database, served by uvicorn on a free loopback port."""
    for site in web_fixtures.site("sqlite", tmp_path_factory.mktemp("browser")):
        # The socket listens before the thread starts: the browser's first connection
        # waits in the backlog until uvicorn accepts it, so nothing polls for readiness.
        running = serve_in_thread(site.app(), WebOptions(port=0))
        try:
            yield running.base_url
        finally:
            running.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def exposed_url(tmp_path_factory) -> Iterator[str]:
    """The same, but named news.example.org in [web]: as if a proxy showed it to the world."""
    for site in web_fixtures.site("sqlite", tmp_path_factory.mktemp("exposed")):
        options = {
            "port": 0,
            "token": TOKEN,
            "hosts": ("news.example.org",),
            "base_url": "http://news.example.org",
        }
        running = serve_in_thread(site.app(**options), WebOptions(**options))
        try:
            yield running.base_url
        finally:
            running.stop()


@contextlib.contextmanager
def watched(browser, base_url: str, expected: str | None = None) -> Iterator[Page]:
    """A page that records every console error (but the `expected` one), script error and
    dialog."""
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    yield page
    problems = [p for p in problems if not (expected and expected in p)]
    # nothing ran and nothing was blocked: the policy leaves our own page whole
    assert problems == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    context.close()


@pytest.fixture
def page(browser, base_url) -> Iterator[Page]:
    with watched(browser, base_url) as page:
        yield page


def test_feed_search_and_story_as_a_person_sees_them(page: Page, tmp_path):
    page.goto("/")
    assert page.title() == "Feed · newswatch"
    titles = page.locator("li.item h2").all_inner_texts()
    assert titles[0] == XSS_TITLE  # the hostile title, shown as the text it is
    assert "Aktionsplan zwischen Belgien und Marokko" in titles
    # the stylesheet applied under the policy (the header is laid out as flex)
    assert page.eval_on_selector("header.top", "e => getComputedStyle(e).display") == "flex"

    page.get_by_role("search").get_by_role("searchbox").fill("Antwerpen")
    page.get_by_role("search").get_by_role("searchbox").press("Enter")
    page.wait_for_url("**/?q=Antwerpen")
    assert page.locator("li.item").count() == 4
    assert set(page.locator("li.item mark").all_inner_texts()) == {"Antwerpen"}

    page.get_by_role("link", name="story: 3 articles").first.click()
    page.wait_for_url("**/stories/*")
    rows = page.locator("table.members tbody tr")
    assert rows.count() == 3
    assert page.locator("td.reason").all_inner_texts()[0] == "first"
    assert "near-duplicate of article" in page.locator("td.reason").all_inner_texts()[2]
    assert "3 articles from HLN, le-soir, tagesschau" in page.inner_text("p.meta")
    page.screenshot(path=str(tmp_path / "story.png"), full_page=True)


def test_hostile_article_page_runs_nothing(page: Page):
    page.goto("/")
    page.locator("li.item h2 a").first.click()
    page.wait_for_url("**/articles/*")
    assert page.inner_text("h1") == XSS_TITLE
    text = page.inner_text("div.text")
    assert '<img src=x onerror="window.__xss = 2">' in text
    assert page.locator("script, img, svg, iframe").count() == 0
    assert page.locator("a[href^='javascript:' i]").count() == 0
    assert page.inner_text("span.unlinked") == "javascript:window.__xss=4"


def test_signing_in_on_an_exposed_server_and_subscribing_to_a_feed(browser, exposed_url):
    # the one expected error: the answer to the wrong token is a 403
    with watched(browser, exposed_url, expected="status of 403") as page:
        page.goto("/alerts")
        page.wait_for_url("**/login?next=%2Falerts")
        assert page.title() == "Sign in · newswatch"
        assert page.locator("li.item, table").count() == 0  # nothing of the archive yet
        page.get_by_label("Token").fill("wrong-token-0123456789")
        page.get_by_role("button", name="Sign in").click()
        assert "not the token" in page.inner_text("p.error")
        page.get_by_label("Token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/alerts")
        assert page.locator("table.deliveries tbody tr").count() == 3
        feed = page.get_by_role("link", name="Atom").first.get_attribute("href")
        assert "key=" in feed and TOKEN not in feed
        # acting still takes the token, typed into the form
        dead = page.locator("tr.state-dead")
        dead.get_by_label("Token").fill(TOKEN)
        dead.get_by_role("button", name="Retry").click()
        page.wait_for_url("**/alerts?state=pending&retried=1")
        assert "Re-queued 1 dead delivery" in page.inner_text("p.notice")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/login")
    # a feed reader: no cookie, no header, only the link it was given
    reader = browser.new_context(base_url=exposed_url)
    try:
        assert reader.request.get(feed).status == 200
        assert reader.request.get("/feeds/rules/dgst").status == 401
        assert reader.request.get("/", max_redirects=0).status == 303
    finally:
        reader.close()
