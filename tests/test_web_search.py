"""Searching the archive from the web: the rule language, matched exactly as a rule matches.

Every search is checked against what `newswatch alerts test` computes for the same query:
the rule matcher run over every stored article. Both backends, both orders.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from alerts.archive import compile_search, search_page, story_page
from alerts.engine import article_text
from alerts.matching import Matcher, RuleSpec, prepare
from alerts.query import parse_query
from crawler.storage import matches
from crawler.storage.engine import sessions
from crawler.storage.feed import FeedFilter
from newswatch.settings import parse_settings
from newswatch.web import WebOptions, create_app
from tests import web_fixtures
from tests.alerts_fixtures import add_article
from tests.web_fixtures import T0

# Besides the web fixtures' articles: spellings the index and the rules read differently.
EXTRA = {
    "spaced": (
        "hln",
        "nl",
        "Mocro Maffia opnieuw in het nieuws",
        "De Mocro Maffia, gespatieerd geschreven: voor de regels een ander woord.",
    ),
    "strasse": (
        "tagesschau",
        "de",
        "Sperrung der Hauptstraße",
        "Die Polizei sperrt die Hauptstraße in Köln.",
    ),
    "coeur": ("le-soir", "fr", "Au cœur de l'enquête", "Le cœur du dossier DGST."),
    "email": ("hln", "nl", "Nieuwe e-mail van de DGST", "De DGST stuurde een e-mail."),
    "soft": ("tagesschau", "de", "Aktions\u00adplan verlängert", "Der Aktions\u00adplan läuft."),
    "accents": ("le-soir", "fr", "Une solution préférée", "La solution préférée du juge."),
}
# Every one must find on both backends exactly what the rule matcher finds.
QUERIES = [
    "mocromaffia",
    "Mocro-Maffia",
    "MOCRO-maffia",
    '"mocro maffia"',
    "mocro*",
    "Mocrom*",
    "lang:nl",
    "lang:de AND antwerpen",
    "-lang:nl",
    "source:le-soir",
    "tag:be-ma-security",
    "tag:ma OR tag:de",
    "title:DGST",
    "text:DGST",
    "title:(dgst OR mocro*)",
    "surete",
    "Sûreté",
    "SURETE",
    '"Sûreté de l\'État"',
    "etat",
    "hauptstrasse",
    "Hauptstraße",
    "Hauptstr*",
    "coeur",
    "cœur",
    "email",
    "e-mail",
    "antwerpen -razzia",
    "NOT antwerpen",
    "lang:nl OR dgst",
    '"politie Mocro"~3',
    '"Antwerpen Polizei"~3',
    "Aktions*",
    "drogenhandel OR festnahmen",
    "(mocro* OR dgst) AND lang:fr",
    "verdachtige",
    "Verdächtige",
    "المغرب",
    "source:hln AND NOT lang:fr",
    "nowhere",
]
# What PostgreSQL's index cannot see, so its searches miss (alerts.archive says why):
# a soft hyphen inside a word, and a word typed without three of its accents.
POSTGRESQL_MISSES = {"aktionsplan": "soft", "preferee": "accents"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    for site in web_fixtures.site(request.param, tmp_path_factory.mktemp("search")):
        for hours, (key, (source, language, title, body)) in enumerate(EXTRA.items(), 10):
            when = T0 + timedelta(hours=hours)
            site.ids[key] = add_article(
                site.engine, title, body, source=source, language=language, stored_at=when
            )
        yield site


@pytest.fixture(scope="module")
def client(site):
    with TestClient(site.app(), base_url="http://localhost") as client:
        yield client


def rule_matches(site, text: str) -> list[int]:
    """What `newswatch alerts test` finds: the matcher over every stored article, newest
    first (as the feed orders them)."""
    matcher = Matcher([RuleSpec("test", parse_query(text))])
    with sessions(site.engine)() as session:
        rows = [
            row
            for row in matches.archive(session, None)
            if matcher.match(prepare(article_text(row)))
        ]
    dated = sorted((r for r in rows if r.published_at), key=lambda r: (r.published_at, r.id))
    undated = sorted(r.id for r in rows if not r.published_at)
    return [r.id for r in reversed(dated)] + undated[::-1]


def searched(client, text: str, order: str = "", limit: int = 200) -> list[int]:
    """Ids of the API's search, every page followed."""
    ids, url = [], f"/api/articles?limit={limit}"
    params = {"q": text, "order": order} if order else {"q": text}
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, f"{text}: {response.text[:300]}"
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        if not page["next_url"]:
            return ids
        response = client.get(page["next_url"].removeprefix("http://localhost"))


@pytest.mark.parametrize("text", QUERIES)
def test_a_search_finds_what_a_rule_with_that_query_matches(client, site, text):
    expected = rule_matches(site, text)
    assert searched(client, text) == expected, f"{text}: newest first"
    ranked = searched(client, text, "relevance")
    assert sorted(ranked) == sorted(expected), f"{text}: best first"
    assert len(ranked) == len(set(ranked))


def test_what_the_postgresql_index_cannot_see(client, site):
    backend = site.engine.dialect.name
    for text, key in POSTGRESQL_MISSES.items():
        expected = rule_matches(site, text)
        assert site.ids[key] in expected
        if backend == "postgresql":  # when a folded index comes, these are found: say so
            expected.remove(site.ids[key])
        assert searched(client, text) == expected, text


def test_the_cases_the_search_box_got_wrong(client, site):
    ids = site.ids
    assert set(searched(client, "mocromaffia")) == {
        ids["mocro"],
        ids["mocro_copy"],
        ids["mocro_near"],
    }
    assert ids["spaced"] in searched(client, "Mocro-Maffia")  # spaced, hyphenated or joined
    nl = searched(client, "lang:nl")
    assert set(nl) == {ids[k] for k in ("mocro", "xss", "undated", "spaced", "email")}
    assert searched(client, "title:DGST") == [ids["email"], ids["surete"]]


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, f"{path}: {response.text[:300]}"
    return response.text


def titles(html: str) -> list[str]:
    found = re.findall(r'<h2[^>]*><a href="/articles/\d+">(.*?)</a></h2>', html, re.S)
    return [unescape(re.sub(r"</?mark>", "", title)) for title in found]


def test_the_feed_page_searches_in_the_rule_language_and_marks_hits(client):
    html = page(client, "/?q=mocromaffia")
    assert set(titles(html)) == {
        "Mocro-Maffia: nieuwe arrestaties in Antwerpen",
        "Mocro-Maffia: nouvelles arrestations à Anvers",
        "Mocromaffia: Festnahmen in Antwerpen",
    }
    assert "<mark>Mocro-Maffia</mark>: nieuwe" in html
    assert "<mark>Mocromaffia</mark>: Festnahmen" in html
    dutch = page(client, "/?q=lang%3Anl")
    assert "Mocro Maffia opnieuw in het nieuws" in titles(dutch)
    assert "No stored articles match" not in dutch and "<mark>" not in dutch
    assert 'name="order"' in dutch and "as in alert rules" in dutch


def test_a_query_that_does_not_parse_says_where(client):
    html = page(client, "/?q=Mocro-Maffia+AND+%28", 400)
    assert "missing &#39;)&#39; to close the &#39;(&#39; at position 18" in html
    assert '<code class="query">Mocro-Maffia AND <mark>(</mark></code>' in html
    assert "No stored articles match" not in html and titles(html) == []
    assert 'aria-invalid="true"' in html
    unclosed = page(client, "/?q=%22Sûreté+de", 400)
    assert "unclosed quote at position 1" in unclosed
    assert "has no word to search for" in page(client, "/?q=%21%21%21")  # still so


def test_both_orders_page_through_every_match_once(site):
    with TestClient(site.app(page_size=2), base_url="http://localhost") as small:
        for order in ("", "relevance"):
            seen, link = [], f"/?q=antwerpen+OR+dgst&order={order}"
            while link:
                html = page(small, link)
                seen += titles(html)
                found = re.search(r'<a rel="next" href="([^"]+)"', html)
                link = found and unescape(found.group(1))
            expected = rule_matches(site, "antwerpen OR dgst")
            assert len(seen) == len(set(seen)) == len(expected), order
        relevant = page(small, "/?q=antwerpen&order=relevance")
        assert '<option value="relevance" selected>' in relevant
        assert page(small, "/?q=antwerpen&order=best", 400)
        assert page(small, "/?q=antwerpen&order=relevance&after=-~5", 400)  # a date cursor


def test_words_without_an_operator_are_joined_as_the_rules_join_them(site):
    document = {
        **web_fixtures.SETTINGS,
        "alerts": {"timezone": "Europe/Brussels", "default_operator": "OR"},
    }
    settings = parse_settings(document, Path("web-test.toml"), {})
    app = create_app(site.engine, settings, WebOptions())
    with TestClient(app, base_url="http://localhost") as either:
        assert set(searched(either, "razzia eupen")) == {site.ids["xss"], site.ids["undated"]}
    assert searched(TestClient(site.app(), base_url="http://localhost"), "razzia eupen") == []


def test_a_page_stops_at_its_budget_and_its_cursor_searches_on(site):
    search = compile_search("NOT nowhere")  # the index cannot narrow: every article is judged
    everything = rule_matches(site, "NOT nowhere")
    with sessions(site.engine)() as session:
        first = search_page(session, search, FeedFilter(), limit=5, budget=3)
        assert first.partial and len(first.found) == 3 and first.next is not None
        seen, after = [], None
        while True:
            page_ = search_page(session, search, FeedFilter(), after=after, limit=5, budget=3)
            seen += [hit.item.id for hit in page_.found]
            if page_.next is None:
                break
            after = page_.next
        assert seen == everything
        # top-level lang: becomes the language filter: no article is judged in vain
        text = "lang:nl AND (mocro* OR razzia)"
        dutch = search_page(session, compile_search(text), FeedFilter(), limit=50)
        assert [hit.item.id for hit in dutch.found] == rule_matches(site, text)
        assert dutch.examined == len(dutch.found) == 3
        assert search_page(session, compile_search("lang:xx"), FeedFilter()).found == ()


def test_stories_are_listed_once_at_their_first_article_in_either_order(site):
    search = compile_search("antwerpen OR mocro*")
    expected = {site.ids["story_mocro"]}
    with sessions(site.engine)() as session:
        for order in ("newest", "relevance"):
            stories, after = [], None
            while True:
                found = story_page(session, search, FeedFilter(), order=order, after=after, limit=1)
                stories += [hit.found.item.story_id for hit in found.stories]
                if found.next is None:
                    break
                after = found.next
            assert len(stories) == len(set(stories)), order
            assert expected <= set(stories), order
            story = {
                hit.found.item.story_id
                for hit in story_page(
                    session, search, FeedFilter(languages=("de",)), order=order
                ).stories
            }
            assert story == expected  # only the German member is in view: still one story


@pytest.mark.parametrize("text", ["lang:nl", "mocromaffia NOT politie", "title:DGST"])
def test_exports_and_the_search_feed_find_what_the_page_finds(client, site, text):
    """An export or a subscribed search is the same search, not the index's rough cut."""
    expected = rule_matches(site, text)
    exported = client.get("/export.jsonl", params={"q": text})
    assert exported.status_code == 200
    ids = [json.loads(line)["id"] for line in exported.text.splitlines() if line]
    assert sorted(ids) == sorted(expected)
    atom = client.get("/feeds/search", params={"q": text})
    assert atom.status_code == 200
    assert atom.text.count("<entry>") <= len(expected)
    assert client.get("/export.csv", params={"q": 'title:"unclosed'}).status_code == 400
