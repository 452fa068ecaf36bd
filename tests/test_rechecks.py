"""Re-checks end to end: a matched article fetched again through real Scrapy, its edits
recorded as versions and shown by `newswatch show --versions` and the web article page.

The outlet is a loopback server whose pages the test edits between crawls. Every page it
serves carries a rotating advert and cache-busting tokens, as real outlets' pages do;
its ETag follows the article's content only, as a CMS's revision does. The whole
scenario runs on both databases; the robots, guard and redirect cases, whose storage is
the same queries, on SQLite only (each crawl is a process start-up).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

import pytest
from starlette.testclient import TestClient

from crawler.storage.engine import open_engine
from newswatch.demo.server import Request, Response, text
from newswatch.settings import ConfigError, load_settings
from newswatch.web import create_app
from tests.crawl_helpers import execute, newswatch, rows, serving, write_config

NOW = datetime.now(UTC).replace(microsecond=0)
PUBLISHED = NOW - timedelta(hours=3)
ADVERTS = ("Shiny cars for less, only this week.", "Cheap flights to the sun, book today.")
STRIKE = [
    "Dock workers in the harbour of Antwerp ended their strike on Tuesday after the port "
    "authority agreed to review night shifts and the staffing of the container terminals.",
    "The union said the agreement covers all four terminals and that members will vote on it "
    "next week; ships that waited off the coast began to berth in the afternoon.",
    "Shipping companies had warned that the week-long stoppage would delay deliveries of "
    "perishable goods across the region and raise costs for importers.",
]
WEATHER = [
    "Heavy rain is expected across the region on Wednesday, with local flooding possible in "
    "low-lying areas near the rivers and the canals of the old town.",
    "The weather service advised drivers to take care on the ring road during the evening "
    "rush, when the heaviest showers are forecast to arrive from the west.",
]
RECHECK_AFTER = [f"{hours}h" for hours in range(1, 13)]
RULES = """
[alerts]
backfill_hours = 48

[channels.console]
kind = "console"

[[rules]]
name = "harbour"
query = "harbour"
"""


@dataclass
class Page:
    headline: str
    paragraphs: list[str]
    published: datetime
    status: int = 200
    redirect_to: str | None = None  # a path: answered with a 301 there


@dataclass
class EditableOutlet:
    """A feed of articles the test may edit, delete or put behind robots.txt."""

    pages: dict[str, Page]
    robots: str = "User-agent: *\nDisallow: /private/\n"
    requests: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    served: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request) -> Response:
        response = self.respond(request)
        with self.lock:
            self.requests.append((request.target, response.status, dict(request.headers)))
        return response

    def respond(self, request: Request) -> Response:
        if request.path == "/robots.txt":
            return text(200, self.robots, "text/plain")
        if request.path == "/feed.xml":
            return text(200, self.feed(request.base_url), "application/rss+xml")
        page = self.pages.get(request.target) or self.pages.get(request.path)
        if page is None:
            return text(404, "<h1>Not found</h1>")
        if page.redirect_to:
            return Response(301, b"", {"Location": request.base_url + page.redirect_to})
        if page.status != 200:
            return text(page.status, "<h1>Gone</h1>")
        return self.article(request, page)

    def feed(self, base_url: str) -> str:
        items = "".join(
            f"<item><title>{escape(page.headline)}</title><link>{base_url}{path}</link>"
            f"<pubDate>{format_datetime(page.published, usegmt=True)}</pubDate></item>"
            for path, page in self.pages.items()
        )
        channel = f"<channel><title>Port news</title>{items}</channel>"
        return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'

    def article(self, request: Request, page: Page) -> Response:
        content = "\n".join([page.headline, page.published.isoformat(), *page.paragraphs])
        etag = '"' + hashlib.sha256(content.encode()).hexdigest()[:16] + '"'
        if request.header("If-None-Match") == etag:
            return Response(304, b"", {"ETag": etag})
        with self.lock:
            self.served += 1
            token = hashlib.sha256(f"{self.served}".encode()).hexdigest()[:10]
            advert = ADVERTS[self.served % 2]
        first, *rest = [f"<p>{escape(paragraph)}</p>" for paragraph in page.paragraphs]
        html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{escape(page.headline)}</title>
<meta property="article:published_time" content="{page.published.isoformat()}">
<meta name="author" content="Ann Example">
<script src="/static/app.js?cb={token}"></script></head>
<body><nav><a href="/">Home</a> <a href="/news/?session={token}">News</a></nav>
<article><h1>{escape(page.headline)}</h1>
{first}
<div id="slot-{token}"><p>Advertisement</p><p>{advert}</p></div>
{"".join(rest)}
<img src="/pixel.gif?cb={token}" alt=""></article>
<footer>Page rendered for request {token}</footer></body></html>"""
        response = text(200, html)
        return Response(200, response.body, {**response.headers, "ETag": etag})

    def asked(self, path: str) -> list[tuple[int, dict[str, str]]]:
        with self.lock:
            return [(status, headers) for seen, status, headers in self.requests if seen == path]


@pytest.fixture
def outlet():
    return EditableOutlet(
        {
            "/news/strike.html": Page("Harbour strike ends", list(STRIKE), PUBLISHED),
            "/news/weather.html": Page("Rain on Wednesday", list(WEATHER), PUBLISHED),
        }
    )


class Newsroom:
    """The config, the database and the commands of one test."""

    def __init__(self, tmp_path, database_url: str, base_url: str, **crawl):
        source = {"name": "port-news", "kind": "feed", "url": f"{base_url}/feed.xml"}
        # extraction in the crawl process: no fork server to start for each short crawl
        crawl = {"extraction_workers": 0, **crawl}
        self.config = write_config(
            tmp_path / "newswatch.toml", [source], recheck_after=RECHECK_AFTER, **crawl
        )
        self.config.write_text(self.config.read_text(encoding="utf-8") + RULES, encoding="utf-8")
        self.database_url = database_url

    def run(self, *args: str) -> str:
        done = newswatch(self.config, self.database_url, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def crawl_and_match(self) -> dict[str, int]:
        self.run("crawl")
        self.run("alerts", "run")
        self.run("crawl")  # puts the matched article on the schedule: first check in 1 h
        return {
            url.rsplit("/", 1)[-1]: article_id
            for article_id, url in rows(self.database_url, "SELECT id, url FROM articles")
        }

    def recheck(self) -> None:
        """Make every scheduled re-check due (the stored clock), then crawl."""
        execute(
            self.database_url,
            "UPDATE article_watch SET next_check_at = '2000-01-01 00:00:00' "
            "WHERE next_check_at IS NOT NULL",
        )
        self.run("crawl")

    def versions(self, article_id: int) -> list[tuple]:
        return rows(
            self.database_url,
            "SELECT number, change, changed, status, title FROM article_versions "
            f"WHERE article_id = {article_id} ORDER BY number",
        )


def test_edits_of_a_matched_article_become_versions_with_diffs(tmp_path, database_url, outlet):
    with serving(outlet) as base_url:
        newsroom = Newsroom(tmp_path, database_url, base_url)
        ids = newsroom.crawl_and_match()
        strike = ids["strike.html"]
        watched = rows(database_url, "SELECT article_id FROM article_watch")
        assert watched == [(strike,)]  # the unmatched article is not watched
        assert len(outlet.asked("/news/strike.html")) == 1

        # Only the advert, the cache-busting tokens and the footer changed: no version.
        newsroom.recheck()
        (first_recheck,) = outlet.asked("/news/strike.html")[1:]
        assert first_recheck[0] == 200
        assert newsroom.versions(strike) == []

        # Unchanged content: a conditional GET answered 304, no version.
        newsroom.recheck()
        status, headers = outlet.asked("/news/strike.html")[-1]
        assert status == 304 and "If-None-Match" in headers
        assert newsroom.versions(strike) == []

        page = outlet.pages["/news/strike.html"]
        page.headline = "Harbour strike ends after night-shift deal"
        newsroom.recheck()
        page.paragraphs = page.paragraphs[:2]  # the last paragraph trimmed
        newsroom.recheck()
        page.published = PUBLISHED - timedelta(days=1, hours=2)
        newsroom.recheck()
        page.status = 410
        newsroom.recheck()
        newsroom.recheck()  # still gone: no second removal

    assert newsroom.versions(strike) == [
        (2, "edited", "title", 200, "Harbour strike ends after night-shift deal"),
        (3, "edited", "text", 200, "Harbour strike ends after night-shift deal"),
        (4, "edited", "published_at", 200, "Harbour strike ends after night-shift deal"),
        (5, "removed", "", 410, None),
    ]
    assert len(outlet.asked("/news/weather.html")) == 1  # never fetched again

    shown = newsroom.run("show", str(strike), "--versions")
    assert "version 2" in shown and "version 5" in shown, shown
    assert "-Harbour strike ends\n" in shown
    assert "+Harbour strike ends after night-shift deal" in shown
    assert "-Shipping companies had warned" in shown  # the trimmed paragraph
    assert "removed (HTTP 410)" in shown
    old_day = PUBLISHED.strftime("%Y-%m-%d %H:%M")
    new_day = (PUBLISHED - timedelta(days=1, hours=2)).strftime("%Y-%m-%d %H:%M")
    assert f"-{old_day} UTC" in shown and f"+{new_day} UTC" in shown, shown

    engine = open_engine(database_url)
    try:
        app = create_app(engine, load_settings(newsroom.config))
        with TestClient(app, base_url="http://localhost") as client:
            page = client.get(f"/articles/{strike}")
    finally:
        engine.dispose()
    assert page.status_code == 200
    html = page.text
    assert 'class="versions"' in html
    assert '<del class="diff">Harbour strike ends</del>' in html, html
    assert '<ins class="diff">Harbour strike ends after night-shift deal</ins>' in html
    assert "Shipping companies had warned" in html
    assert "removed (HTTP 410)" in html


def test_rechecks_obey_robots_txt_and_the_private_address_guard(tmp_path, sqlite_url, outlet):
    outlet.pages["/news/weather.html"].paragraphs.insert(
        0, "Ferries in the harbour will keep to their timetable despite the weather."
    )
    with serving(outlet) as base_url:
        newsroom = Newsroom(tmp_path, sqlite_url, base_url)
        ids = newsroom.crawl_and_match()
        strike, weather = ids["strike.html"], ids["weather.html"]
        assert sorted(rows(sqlite_url, "SELECT article_id FROM article_watch")) == sorted(
            [(strike,), (weather,)]
        )
        # The weather article's stored address now names another host of this machine,
        # not the source's own: the guard refuses it.
        port = base_url.rsplit(":", 1)[1]
        execute(
            sqlite_url,
            f"UPDATE articles SET final_url = 'http://localhost:{port}/news/weather.html' "
            f"WHERE id = {weather}",
        )
        # robots.txt now forbids the news section (read afresh: the cached copy dropped).
        outlet.robots = "User-agent: *\nDisallow: /news/\n"
        execute(sqlite_url, "DELETE FROM robots_files")
        newsroom.recheck()

    assert len(outlet.asked("/news/strike.html")) == 1
    assert len(outlet.asked("/news/weather.html")) == 1
    errors = dict(rows(sqlite_url, "SELECT article_id, last_error FROM article_watch"))
    assert errors[strike] == "forbidden by robots.txt"
    assert "private address" in errors[weather], errors
    assert rows(sqlite_url, "SELECT id FROM article_versions") == []


def test_a_redirect_elsewhere_is_a_version_a_redirect_to_the_same_page_is_not(
    tmp_path, sqlite_url, outlet
):
    with serving(outlet) as base_url:
        newsroom = Newsroom(tmp_path, sqlite_url, base_url)
        strike = newsroom.crawl_and_match()["strike.html"]
        page = outlet.pages["/news/strike.html"]

        # Unavailable for a while: tried again later (retry_schedule), no version.
        page.status = 503
        newsroom.recheck()
        ((attempts, error, next_check),) = rows(
            sqlite_url, "SELECT attempts, last_error, next_check_at FROM article_watch"
        )
        assert (attempts, error) == (1, "HTTP 503") and next_check is not None
        page.status = 200

        # The same article at a spelling with tracking parameters: the same canonical URL.
        outlet.pages["/news/strike.html?utm_source=rss"] = page
        page.redirect_to = "/news/strike.html?utm_source=rss"
        outlet.pages["/news/strike.html"] = Page(
            page.headline, page.paragraphs, page.published, redirect_to=page.redirect_to
        )
        page.redirect_to = None
        newsroom.recheck()
        assert outlet.asked("/news/strike.html")[-1][0] == 301
        assert outlet.asked("/news/strike.html?utm_source=rss")[-1][0] == 200
        assert newsroom.versions(strike) == []

        # Moved to another article: a version of its own, with what the new page says.
        outlet.pages["/news/port-reopens.html"] = Page(
            "Port reopens", list(STRIKE[:2]), PUBLISHED + timedelta(hours=1)
        )
        outlet.pages["/news/strike.html"].redirect_to = "/news/port-reopens.html"
        newsroom.recheck()
        newsroom.recheck()  # still there: no second version

        # Then to the front page, where extraction finds no article: a version all the same.
        outlet.pages["/"] = Page("Port news", ["Latest news from the port."], PUBLISHED)
        outlet.pages["/news/strike.html"].redirect_to = "/"
        newsroom.recheck()

    assert newsroom.versions(strike) == [
        (2, "redirected", "title,text,published_at", 200, "Port reopens"),
        (3, "redirected", "title,text,published_at,author", 200, None),
    ]
    final_urls = rows(sqlite_url, "SELECT final_url FROM article_versions ORDER BY number")
    assert final_urls == [(f"{base_url}/news/port-reopens.html",), (f"{base_url}/",)]
    shown = newsroom.run("show", str(strike), "--versions")
    assert f"redirected to {base_url}/news/port-reopens.html" in shown, shown
    assert "+Port reopens" in shown


def test_recheck_after_is_read_with_its_errors_named(tmp_path):
    path = tmp_path / "newswatch.toml"
    path.write_text("[crawl]\nrecheck_after = []\n", encoding="utf-8")
    assert load_settings(path, env={}).crawl.recheck_after == ()
    path.write_text('[crawl]\nrecheck_after = ["30m", "2h"]\n', encoding="utf-8")
    assert load_settings(path, env={}).crawl.recheck_after == (1800.0, 7200.0)
    for value, problem in (
        ('["6h", "1h"]', "crawl.recheck_after: must be in increasing order"),
        ('["1h", "soon"]', "crawl.recheck_after[1]: must be a duration"),
        ('"1h"', "crawl.recheck_after: must be a list of durations"),
    ):
        path.write_text(f"[crawl]\nrecheck_after = {value}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_settings(path, env={})
        assert any(problem in line for line in caught.value.lines()), caught.value.lines()


EDIT_RULES = """
[[rules]]
name = "harbour-quiet"
query = "harbour"
"""


def test_each_version_alerts_once_where_the_rule_opts_in(tmp_path, sqlite_url, outlet):
    """The whole way: crawl, match, re-fetch, version, edit alert; for a rule with
    `on_edit = true` one alert per version, for the same query without it none."""
    with serving(outlet) as base_url:
        newsroom = Newsroom(tmp_path, sqlite_url, base_url)
        text = newsroom.config.read_text(encoding="utf-8")
        text = text.replace('query = "harbour"\n', 'query = "harbour"\non_edit = true\n')
        newsroom.config.write_text(text + EDIT_RULES, encoding="utf-8")
        newsroom.crawl_and_match()
        alerts = []
        page = outlet.pages["/news/strike.html"]
        edits = [
            lambda: setattr(page, "headline", "Harbour strike ends after night-shift deal"),
            lambda: setattr(page, "paragraphs", page.paragraphs[:2]),
            lambda: setattr(page, "published", PUBLISHED - timedelta(days=1, hours=2)),
            lambda: setattr(page, "status", 410),
            lambda: None,  # nothing changed: nothing to tell
        ]
        for edit in edits:
            edit()
            newsroom.recheck()
            alerts.append(newsroom.run("alerts", "run"))

    told = [
        [line for line in output.splitlines() if line.startswith("=== [newswatch]")]
        for output in alerts
    ]
    headline = "Harbour strike ends after night-shift deal"
    assert told == [
        [f"=== [newswatch] harbour: Edited: {headline}"],
        [f"=== [newswatch] harbour: Edited: {headline}"],
        [f"=== [newswatch] harbour: Edited: {headline}"],
        [f"=== [newswatch] harbour: Removed: {headline}"],
        [],
    ], alerts
    sent = rows(
        sqlite_url,
        "SELECT rule, count(*) FROM alert_deliveries WHERE version_id IS NOT NULL GROUP BY rule",
    )
    assert sent == [("harbour", 4)]
