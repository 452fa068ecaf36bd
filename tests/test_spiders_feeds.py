"""Feed reading: RSS 0.9x/1.0/2.0 and Atom into links with hints."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crawler.spiders.feeds import MalformedFeed, read_feed

RSS2 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>De Standaard</title><language>nl-BE</language>
<item><title>Samenwerking met Marokko tegen de Mocro-maffia</title>
<link>https://example.be/a/1?utm_source=rss</link>
<author>redactie@example.be (Jan Peeters)</author>
<description>&lt;p&gt;De &lt;b&gt;ministers&lt;/b&gt; tekenden een akkoord.&lt;/p&gt;</description>
<pubDate>Tue, 24 Nov 2026 08:30:00 +0100</pubDate>
<media:content url="https://example.be/img/1.jpg" medium="image"/></item>
<item><title>Zonder link</title><guid isPermaLink="true">https://example.be/a/2</guid></item>
<item><title>Relatief</title><link>/a/3</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr"><title>Le Soir</title>
<id>urn:x</id><updated>2026-11-24T10:00:00Z</updated>
<entry><title>Coopération sécuritaire: la Sûreté de l'État et la DGST</title>
<link rel="alternate" href="https://example.be/fr/coop"/><id>urn:1</id>
<updated>2026-11-24T10:00:00+01:00</updated><author><name>Claire Dubois</name></author>
<summary>Un accord renforcé.</summary></entry></feed>"""

RDF = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.be/"><title>HLN</title><link>https://example.be/</link>
<description>x</description></channel>
<item rdf:about="https://example.be/nl/1"><title>Drugsbende opgerold</title>
<link>https://example.be/nl/1</link><dc:date>2026-11-23T07:00:00Z</dc:date>
<dc:creator>Els Maes</dc:creator></item></rdf:RDF>"""


def test_rss2_items_become_links_with_their_metadata():
    reading = read_feed(RSS2.encode(), "https://example.be/rss.xml")
    first, guid_only, relative = reading.links
    assert first.url == "https://example.be/a/1?utm_source=rss"
    assert first.hints.title == "Samenwerking met Marokko tegen de Mocro-maffia"
    assert first.hints.published_at == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    assert first.hints.summary == "De ministers tekenden een akkoord."
    assert first.hints.language == "nl"
    assert first.hints.image_url == "https://example.be/img/1.jpg"
    assert "Jan Peeters" in first.hints.author
    assert guid_only.url == "https://example.be/a/2"
    assert relative.url == "https://example.be/a/3"


def test_atom_entry_with_accents_and_offset_date():
    (entry,) = read_feed(ATOM.encode(), "https://example.be/atom.xml").links
    assert entry.url == "https://example.be/fr/coop"
    assert entry.hints.title == "Coopération sécuritaire: la Sûreté de l'État et la DGST"
    assert entry.hints.author == "Claire Dubois"
    assert entry.hints.published_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_rss1_rdf_feed():
    (item,) = read_feed(RDF.encode(), "https://example.be/rss.rdf").links
    assert item.url == "https://example.be/nl/1"
    assert item.hints.author == "Els Maes"
    assert item.hints.published_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_feed_declared_utf8_but_sent_as_windows_1252_keeps_its_umlauts():
    body = RSS2.replace("Samenwerking met Marokko", "Grenzüberschreitende Maßnahmen").encode(
        "windows-1252", errors="replace"
    )
    reading = read_feed(body, "https://example.be/rss.xml", "application/rss+xml; charset=utf-8")
    assert reading.links[0].hints.title.startswith("Grenzüberschreitende Maßnahmen")
    assert reading.warning  # the wrong declaration is worth a log line


@pytest.mark.parametrize(
    "body",
    [
        b"<rss version='2.0'><channel><item><title>cut off",
        b"<html><body>Not found</body></html>",
        b"",
        b"\x00\x01garbage",
    ],
)
def test_malformed_feed_raises_with_a_reason(body):
    with pytest.raises(MalformedFeed) as caught:
        read_feed(body, "https://example.be/broken.xml")
    assert str(caught.value)


def test_a_json_feed_is_read_like_any_feed():
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Het nieuws",
            "language": "nl-BE",
            "items": [
                {
                    "id": "1",
                    "url": "/a",
                    "title": "  Politie  en  DGST ",
                    "date_published": "2026-12-01T09:00:00+01:00",
                    "authors": [{"name": "An Peeters"}],
                },
                {"id": "2", "external_url": "https://elders.be/b", "summary": "Kort"},
                {"id": "3", "content_text": "no address: not a link"},
            ],
        }
    ).encode()
    reading = read_feed(body, "https://nieuws.be/feed.json", "application/feed+json")
    assert [link.url for link in reading.links] == ["https://nieuws.be/a", "https://elders.be/b"]
    first = reading.links[0].hints
    assert (first.title, first.author, first.language) == ("Politie en DGST", "An Peeters", "nl")
    assert first.published_at == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert reading.links[1].hints.summary == "Kort"


def test_json_that_is_not_a_json_feed_is_malformed():
    with pytest.raises(MalformedFeed, match=r"jsonfeed\.org"):
        read_feed(b'{"items": []}', "https://x.be/feed.json")
    with pytest.raises(MalformedFeed, match="JSON Feed"):
        read_feed(b"{broken", "https://x.be/feed.json")
