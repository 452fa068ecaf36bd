"""The coverage page: every number per outlet, the articles behind them, crawled text as text."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from newswatch.web import WebOptions, create_app
from tests.test_coverage import HOSTILE_KEY, HOSTILE_TITLE, SITE, populate
from tests.web_fixtures import PUBLIC, TOKEN, parse_html


@pytest.fixture
def client(engine):
    ids = populate(engine)
    with TestClient(create_app(engine, None, WebOptions()), base_url="http://localhost") as client:
        client.ids = ids
        yield client


def page(client: TestClient, path: str, status: int = 200):
    response = client.get(path)
    assert response.status_code == status, response.text
    return parse_html(response.text)


def test_every_number_per_outlet(client):
    html = page(client, "/coverage")
    # outlet, found, stored, found by feed sitemap listing search, only by the same, why not
    assert (
        "news.example 12 6 5 9 4 0 1 4 2 0 cap: 1, extraction: 1, http 404: 1, "
        "not fetched yet: 1, robots: 1, timeout (retrying): 1"
    ) in html.text
    assert "other.example 2 1 0 0 0 2 0 0 0 2 http 410: 1" in html.text
    assert "127.0.0.1:8080 1 1 1 0 0 0 1 0 0 0 —" in html.text
    assert "4 outlets: 16 articles found, 9 stored." in html.text
    assert "/coverage?outlet=news.example" in html.links
    current = [a for a in html.tags("a") if a.get("aria-current") == "page"]
    assert [a["href"] for a in current] == ["/coverage"]  # the nav link


def test_articles_found_one_way_only_and_not_stored(client):
    html = page(client, "/coverage?outlet=www.news.example")
    assert html.text.count("news.example 12 6") == 1
    assert "other.example" not in html.text
    assert "Found by one way only (7)" in html.text
    assert "Found but not stored (6)" in html.text
    assert f"sitemap {SITE}/a5?utm_source=rss not stored: http 404" in html.text
    assert (
        f"timeout (retrying) {SITE}/a7?utm_source=rss no complete response in time sitemap, listing"
    ) in html.text
    stored = client.ids[f"{SITE}/a3"]
    assert f"/articles/{stored}" in html.links
    assert f"{SITE}/a9" in html.links  # the original, as a link

    limited = page(client, "/coverage?outlet=news.example&limit=2")
    assert "… and 5 more" in limited.text and "… and 4 more" in limited.text
    assert "/coverage?outlet=news.example&limit=1000" in limited.links


def test_crawled_text_renders_as_text(client):
    html = page(client, "/coverage")
    assert not html.tags("script") and not html.tags("img")
    handlers = [
        (tag, name) for tag, attrs in html.elements for name in attrs if name.startswith("on")
    ]
    assert not handlers
    for link in html.links:
        assert urlsplit(link).scheme in ("", "http", "https"), link
    assert HOSTILE_TITLE in html.text
    assert f"{HOSTILE_KEY}?utm_source=rss" in html.text


def test_filters(client):
    assert "No articles found by any way match." in page(client, "/coverage?since=2027-01-01").text
    since = page(client, "/coverage?since=2026-11-20&outlet=news.example")
    assert "news.example 11 5 4 8 4 1 4 2" in since.text
    assert "is not a date" in page(client, "/coverage?since=soon", 400).text
    assert "outlet: longer than" in page(client, "/coverage?outlet=" + "x" * 301, 400).text
    assert "expected a positive whole number" in page(client, "/coverage?limit=-1", 400).text


def test_an_empty_database_says_when_counting_starts(engine):
    with TestClient(create_app(engine, None, WebOptions()), base_url="http://localhost") as c:
        assert "coverage is counted from the next newswatch crawl on" in page(c, "/coverage").text


def test_an_exposed_server_shows_it_only_with_the_token(engine):
    populate(engine)
    app = create_app(engine, None, WebOptions(**PUBLIC))
    with TestClient(app, base_url=PUBLIC["base_url"], follow_redirects=False) as client:
        refused = client.get("/coverage?outlet=news.example")
        assert refused.status_code == 303
        assert "news.example" not in refused.text
        allowed = client.get("/coverage", headers={"authorization": f"Bearer {TOKEN}"})
        assert allowed.status_code == 200 and "news.example" in allowed.text
