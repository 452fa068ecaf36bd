"""WebSub's parts: signatures, hub discovery, options, the subscriptions table, the subscriber.

The subscriber runs here in this process against the loopback hub (tests/websub_hub.py);
the whole service, with crawls and pushes, is in test_websub_service.py.
"""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest

from crawler.sources import CrawlOptions, Source
from crawler.spiders.feeds import read_feed
from crawler.storage import websub as store
from crawler.storage.engine import sessions
from crawler.storage.models.base import utcnow
from crawler.storage.sources import sync_sources
from crawler.websub import WebSubOptions, link_header, sign, signature_valid
from newswatch.scheduling.websub import Subscriber
from newswatch.settings import ConfigError, parse_settings
from tests.test_websub_service import free_port
from tests.websub_hub import Hub

BODY = b"<feed>new entries</feed>"
SOURCE = {"name": "a", "kind": "feed", "url": "https://example.org/feed.xml"}


def test_a_signature_counts_with_sha256_sha384_or_sha512_only():
    for method in ("sha256", "sha384", "sha512"):
        assert signature_valid("s3cret", BODY, sign("s3cret", BODY, method))
        name, _, digest = sign("s3cret", BODY, method).partition("=")
        assert signature_valid("s3cret", BODY, f"{name.upper()}={digest.upper()}")
    good = sign("s3cret", BODY)
    assert not signature_valid("other", BODY, good)  # another secret
    assert not signature_valid("s3cret", BODY + b" ", good)  # another body
    assert not signature_valid("s3cret", BODY, None)
    assert not signature_valid("s3cret", BODY, "")
    assert not signature_valid("s3cret", BODY, "sha256=")
    sha1 = "sha1=" + hmac.new(b"s3cret", BODY, "sha1").hexdigest()
    assert not signature_valid("s3cret", BODY, sha1)  # sha1 is refused even when right


def test_link_header_gives_urls_by_relation_resolved_against_the_feed():
    header = (
        '<https://hub.example/>; rel="hub", </feed.xml>; rel=self, '
        '<https://b/>; rel="alternate hub"'
    )
    assert link_header(header, "https://example.org/news/rss") == {
        "hub": ["https://hub.example/", "https://b/"],
        "self": ["https://example.org/feed.xml"],
        "alternate": ["https://b/"],
    }
    assert link_header(None, "https://example.org/") == {}


RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><title>t</title><atom:link rel="hub" href="https://hub.example/"/>
<atom:link rel="self" href="https://example.org/feed"/>
<item><link>https://example.org/a</link></item></channel></rss>"""
ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<link rel="hub" href="https://hub.example/"/><link rel="self" href="/atom"/>
<entry><title>a</title><link href="https://example.org/a"/><id>a</id></entry></feed>"""


def test_a_feed_advertises_its_hub_in_the_feed_or_in_the_link_header():
    rss = read_feed(RSS, "https://example.org/rss")
    assert (rss.hubs, rss.topic) == (("https://hub.example/",), "https://example.org/feed")
    atom = read_feed(ATOM, "https://example.org/feed.atom")
    assert (atom.hubs, atom.topic) == (("https://hub.example/",), "https://example.org/atom")
    header = '<https://push.example/>; rel="hub", <https://example.org/self>; rel="self"'
    both = read_feed(RSS, "https://example.org/rss", None, header)
    # the header counts first (as the recommendation's discovery order has it)
    assert both.hubs == ("https://push.example/", "https://hub.example/")
    assert both.topic == "https://example.org/self"
    plain = RSS.replace(b'rel="hub"', b'rel="alternate"')
    assert read_feed(plain, "https://example.org/rss").hubs == ()


def test_websub_options_default_to_off_and_bad_values_name_their_keys():
    default = parse_settings({"sources": [SOURCE]}, Path("n.toml"), {}).service.websub
    assert default == WebSubOptions() and not default.enabled
    on = parse_settings(
        {"service": {"websub": {"callback_url": "https://m.example/hooks"}}, "sources": [SOURCE]},
        Path("n.toml"),
        {},
    ).service.websub
    assert on.callback_url == "https://m.example/hooks/" and on.listen_address == (
        "127.0.0.1",
        8091,
    )
    bad = {"callback_url": "ftp://x/", "listen": "8091", "lease": "soon", "secret": "x"}
    with pytest.raises(ConfigError) as raised:
        parse_settings({"service": {"websub": bad}, "sources": [SOURCE]}, Path("n.toml"), {})
    keys = sorted(key for key, _ in raised.value.problems)
    assert keys == [
        "service.websub.callback_url",
        "service.websub.lease",
        "service.websub.listen",
        "service.websub.secret",
    ]
    assert "n.toml: service.websub.callback_url: must be an absolute http(s) URL" in str(
        raised.value
    )


def configured(engine, *names: str, **extra) -> tuple[dict[str, Source], dict[str, int]]:
    sources = {
        name: Source(name, "feed", (f"http://127.0.0.1:1/{name}.xml",), **extra) for name in names
    }
    with sessions(engine)() as session:
        ids = sync_sources(session, sources.values())
        session.commit()
    return sources, ids


def test_a_hub_advertised_twice_is_recorded_once_and_removed_sources_leave(engine):
    _, ids = configured(engine, "kept", "gone", "never")
    with sessions(engine)() as session:
        for _ in range(2):  # every crawl reads the feed again
            for name in ids:
                for write in store.advertised_writes(
                    ids[name], f"http://f/{name}", None, ["http://hub/"]
                ):
                    write(session)
        session.commit()
        rows = {row.feed_url: row for row in store.listed(session)}
        assert len(rows) == 3 and all(
            r.state == "new" and r.topic_url == r.feed_url for r in rows.values()
        )
        held = rows["http://f/gone"].id
        store.change(session, held, token="t", secret="s", state="active")
        leaving = store.leave_removed(session, [ids["kept"]], utcnow())
        session.commit()
        assert leaving == 1  # "never" was never asked for: forgotten without a request
        states = {row.feed_url: row.state for row in store.listed(session)}
    assert states == {"http://f/kept": "new", "http://f/gone": "unsubscribing"}


def test_a_denied_subscription_stays_denied(engine):
    sources, ids = configured(engine, "a", allow_private_links=True)
    with Hub() as hub:
        topic = "http://127.0.0.1:1/a.xml"
        hub.denied_topics.add(topic)
        with sessions(engine)() as session:
            store.advertised(session, ids["a"], topic, topic, [hub.url])
            session.commit()
        port = free_port()
        options = WebSubOptions(f"http://127.0.0.1:{port}/cb/", f"127.0.0.1:{port}")
        subscriber = Subscriber(options, CrawlOptions(), sessions(engine), lambda _: True)
        assert subscriber.start(sources, ids)
        try:
            hub.wait_for(lambda events: any(e.mode == "denied" for e in events))
            with sessions(engine)() as session:
                (row,) = store.listed(session)
            assert (row.state, row.due_at, row.last_error) == ("denied", None, "not here")
            assert subscriber.maintain() > 0 and hub.events[0].answer == 200
            assert len([e for e in hub.events if e.mode == "subscribe"]) == 1  # not asked again
        finally:
            subscriber.stop()
