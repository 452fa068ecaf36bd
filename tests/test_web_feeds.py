"""Atom feeds per rule, tag and search: valid Atom 1.0 for feedparser, one entry per story."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feedparser
import pytest
from starlette.testclient import TestClient

from newswatch.web import atom
from tests import web_fixtures
from tests.web_fixtures import XSS_TITLE

NS = {"a": "http://www.w3.org/2005/Atom"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    yield from web_fixtures.site(request.param, tmp_path_factory.mktemp("feeds"))


@pytest.fixture(scope="module")
def client(site):
    with TestClient(site.app(), base_url="http://localhost") as client:
        yield client


def fetch(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    check_atom(response.content)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, f"{path}: feedparser: {parsed.get('bozo_exception')}"
    assert parsed.version == "atom10"
    return parsed


def check_atom(document: bytes) -> None:
    """What RFC 4287 requires of a feed and of each entry."""
    root = ET.fromstring(document)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for required in ("a:id", "a:title", "a:updated", "a:author/a:name", "a:link[@rel='self']"):
        assert root.find(required, NS) is not None, f"the feed has no {required}"
    ids = []
    for entry in root.findall("a:entry", NS):
        for required in ("a:id", "a:title", "a:updated", "a:link[@rel='alternate']"):
            assert entry.find(required, NS) is not None, f"an entry has no {required}"
        ids.append(entry.find("a:id", NS).text)
        assert entry.find("a:title", NS).get("type") == "text"
    assert len(ids) == len(set(ids)), "entry ids repeat"
    # no markup of any other vocabulary: crawled text never became elements
    assert {element.tag.split("}")[0] for element in root.iter()} == {"{" + NS["a"]}


def test_rule_feed_has_one_entry_per_matched_story(client, site):
    parsed = fetch(client, "/feeds/rules/mocro-maffia")
    assert parsed.feed.title == "newswatch: rule mocro-maffia"
    assert parsed.feed.subtitle == "Query: Mocro*"
    [entry] = parsed.entries  # three articles in the story, one entry
    assert entry.id == atom.story_entry_id(site.ids["story_mocro"])
    assert entry.link == "https://hln.example/mocro"
    assert entry.summary == "snippet of mocro"
    assert entry.updated == "2026-11-29T17:00:00Z"  # when the rule matched
    assert any(
        link.rel == "related" and link.href.endswith(f"/stories/{site.ids['story_mocro']}")
        for link in entry.links
    )


def test_a_configured_rule_without_matches_is_an_empty_feed_and_unknown_is_404(client):
    assert fetch(client, "/feeds/rules/quiet").entries == []
    assert client.get("/feeds/rules/no-such-rule").status_code == 404


def test_tag_feed_collapses_stories_and_ids_are_stable(client, site):
    parsed = fetch(client, "/feeds/tags/be-ma-security")
    assert parsed.feed.title == "newswatch: Belgium–Morocco security"
    titles = [e.title for e in parsed.entries]
    assert "تعاون أمني بين المغرب وبلجيكا" in titles
    again = fetch(client, "/feeds/tags/be-ma-security")
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]
    assert parsed.feed.id == again.feed.id != fetch(client, "/feeds/tags/ma").feed.id


def test_search_feed_is_one_entry_per_story_with_hit_snippets(client, site):
    parsed = fetch(client, "/feeds/search?q=politie")  # in two copies of one story
    [entry] = parsed.entries
    assert entry.id == atom.story_entry_id(site.ids["story_mocro"])
    assert entry.summary == "De politie heeft de Mocro-Maffia opnieuw getroffen."
    assert len(fetch(client, "/feeds/search?q=antwerpen").entries) == 2  # stories, not articles
    assert fetch(client, "/feeds/search?q=nothing-like-this").entries == []


def test_hostile_titles_stay_text_in_the_feed(client, site):
    parsed = fetch(client, "/feeds/search?q=razzia")
    hostile = [e for e in parsed.entries if "Razzia" in e.title]
    assert hostile and hostile[0].title == XSS_TITLE
    # a javascript: address is never the entry's link: it points to our story page instead
    assert hostile[0].link.startswith("http://localhost/stories/")


def test_writer_strips_characters_xml_forbids_and_keeps_ids_stable():
    moment = datetime(2026, 11, 29, tzinfo=UTC)
    entry = atom.Entry(
        id=atom.story_entry_id(7),
        title="bell\x07 and \x00null\ufffe",
        updated=moment,
        link="https://x.example/a?b=1&c=2",
        related="http://localhost/stories/7",
        author="<b>",
        summary="]]> & <![CDATA[",
        language="not a language!",
    )
    document = atom.render(atom.Feed(atom.feed_id("k"), "t", "http://h/f", "http://h/", (entry,)))
    root = ET.fromstring(document)
    assert root.find("a:entry/a:title", NS).text == "bell  and  null "
    assert root.find("a:entry/a:link", NS).get("href") == "https://x.example/a?b=1&c=2"
    assert root.find("a:entry", NS).get("{http://www.w3.org/XML/1998/namespace}lang") is None
    assert atom.story_entry_id(7) == atom.story_entry_id(7) != atom.story_entry_id(8)
    assert feedparser.parse(document).entries[0].summary == "]]> & <![CDATA["
