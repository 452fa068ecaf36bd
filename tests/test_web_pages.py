"""The HTML pages in process: feed, filters, search, pagination, story, article, alerts, sources."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests import web_fixtures
from tests.web_fixtures import parse_html


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    yield from web_fixtures.site(request.param, tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def client(site):
    with TestClient(site.app(), base_url="http://localhost") as client:
        yield client


def page(client, path: str, status: int = 200):
    response = client.get(path)
    assert response.status_code == status, f"{path}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("text/html")
    return parse_html(response.text)


def titles(html) -> list[str]:
    """Article titles of a feed page, in order, as the links' text."""
    found = re.findall(r'<h2[^>]*><a href="/articles/\d+">(.*?)</a></h2>', html, re.S)
    return [re.sub(r"</?mark>", "", title) for title in found]


def test_feed_lists_newest_first_with_outlet_language_and_story(client):
    response = client.get("/")
    listed = titles(response.text)
    assert listed[:2] == [
        "&lt;script&gt;window.__xss = &#34;title&#34;&lt;/script&gt;&lt;img src=x "
        "onerror=&#34;window.__xss=1&#34;&gt; Razzia",
        "تعاون أمني بين المغرب وبلجيكا",
    ]
    assert listed[-1] == "Undated background piece"  # undated articles come last
    text = parse_html(response.text).text
    assert "HLN · nl" in text and "story: 3 articles" in text
    assert 'href="/feeds/search"' in response.text  # subscribe to this view


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "lang=de",
            {"Mocromaffia: Festnahmen in Antwerpen", "Aktionsplan zwischen Belgien und Marokko"},
        ),
        (
            "source=le-soir",
            {
                "Mocro-Maffia: nouvelles arrestations à Anvers",
                "La Sûreté de l'État et la DGST coopèrent",
            },
        ),
        ("tag=ma", {"تعاون أمني بين المغرب وبلجيكا"}),
        ("rule=dgst", {"La Sûreté de l'État et la DGST coopèrent"}),
        (
            "since=2026-11-29T12:00:00&until=2026-11-29T14:00:00",
            {"Mocromaffia: Festnahmen in Antwerpen", "Aktionsplan zwischen Belgien und Marokko"},
        ),
        # one row per story: its first article, or its first among those the filters keep
        ("rule=mocro-maffia&collapse=1", {"Mocro-Maffia: nieuwe arrestaties in Antwerpen"}),
        (
            "lang=de&collapse=1",
            {"Mocromaffia: Festnahmen in Antwerpen", "Aktionsplan zwischen Belgien und Marokko"},
        ),
    ],
)
def test_filters(client, query, expected):
    from html import unescape

    assert {unescape(t) for t in titles(client.get(f"/?{query}").text)} == expected


def test_filter_form_offers_rules_topics_sources_and_languages(client):
    html = page(client, "/?lang=de")
    options = {o.get("value") for o in html.tags("option")}
    assert {"mocro-maffia", "dgst", "quiet", "be-ma-security", "hln", "ar", "de"} <= options
    selected = [o["value"] for o in html.tags("option") if "selected" in o]
    assert selected == ["de"]


def test_search_highlights_hits_in_titles_and_snippets(client):
    response = client.get("/?q=aktionsplan")
    assert titles(response.text) == ["Aktionsplan zwischen Belgien und Marokko"]
    assert "<mark>Aktionsplan</mark> zwischen" in response.text
    assert "Der <mark>Aktionsplan</mark> gegen Drogenhandel" in response.text
    phrase = client.get('/?q="Sûreté de l\'État"').text
    assert "La <mark>Sûreté de l&#39;État</mark> et la DGST" in phrase
    assert len(titles(client.get("/?q=mocro*").text)) == 3
    assert titles(client.get("/?q=drogenhandel+-rabat").text) == []


def test_a_search_without_words_says_so(client):
    assert "has no word to search for" in page(client, "/?q=%21%21%21").text


def test_pagination_follows_keyset_links_through_every_article(site):
    with TestClient(site.app(page_size=3), base_url="http://localhost") as small:
        everything = titles(small.get("/?collapse=").text)
        seen, link, pages = [], "/", 0
        while link:
            response = small.get(link)
            seen += titles(response.text)
            found = re.search(r'<a rel="next" href="([^"]+)"', response.text)
            link = found and found.group(1).replace("&amp;", "&")
            pages += 1
        assert pages == 3 and len(seen) == 8 and len(set(seen)) == 8
        assert seen[:3] == everything
        assert "« Newest" in small.get(re.sub(r"^/", "/", "/?after=-~99")).text


def test_bad_parameters_are_a_clear_400(client):
    assert "since: &#39;yesterday&#39; is not a date" in client.get("/?since=yesterday").text
    assert client.get("/?since=yesterday").status_code == 400
    assert client.get("/?after=garbage").status_code == 400
    assert client.get("/alerts?state=lost").status_code == 400
    assert client.get("/?q=" + "x" * 301).status_code == 400


def test_story_page_shows_every_member_outlet_language_and_reason(client, site):
    html = page(client, f"/stories/{site.ids['story_mocro']}")
    text = html.text
    assert "3 articles from HLN, le-soir, tagesschau" in text
    for reason in [
        "first",
        f"same text as article #{site.ids['mocro']}",
        f"near-duplicate of article #{site.ids['mocro']}",
    ]:
        assert reason in text
    assert "nl" in text and "fr" in text and "de" in text
    assert "https://hln.example/mocro" in html.links


def test_article_page_shows_text_metadata_and_a_safe_original_link(client, site):
    html = page(client, f"/articles/{site.ids['mocro']}")
    assert "Drie verdachten werden opgepakt" in html.text
    assert [p for p in html.tags("p")]  # paragraphs of the extracted text
    assert "https://hln.example/mocro" in html.links
    assert f"/stories/{site.ids['story_mocro']}" in html.links
    assert "Also in this story" in html.text


def test_alert_log_shows_states_errors_and_retry_only_for_dead(client, site):
    html = page(client, "/alerts")
    assert "pending (1)" in html.text and "sent (1)" in html.text and "dead (1)" in html.text
    assert "HTTP 500 <b>boom</b>" in html.text  # the error as text, not markup
    ids = [i.get("value") for i in html.tags("input") if i.get("name") == "id"]
    assert ids == ["all", str(site.ids["delivery_dead"])]
    assert "token" not in {i.get("name") for i in html.tags("input")}  # loopback, no token set
    dead = page(client, "/alerts?state=dead")
    assert "ops-webhook" in dead.text and "console" not in dead.text
    assert "dgst" in page(client, "/alerts?rule=dgst").text


def test_alert_log_pages(site):
    with TestClient(site.app(page_size=2), base_url="http://localhost") as small:
        first = small.get("/alerts").text
        older = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
        assert older.startswith("/alerts?before=")
        assert len(parse_html(small.get(older).text).tags("tr")) == 2  # header and one row


def test_sources_page_shows_health_and_configured_sources_never_run(client):
    text = page(client, "/sources").text
    assert "hespress feed never run" in text
    assert "rtbf" in text  # configured, never stored anything


def test_unknown_things_are_404_pages(client):
    for path in ["/articles/999999", "/stories/999999", "/nowhere"]:
        page(client, path, 404)


def test_static_stylesheet(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
