"""Captures without a crawl: the WARC's records, [evidence] settings, pruning, the web page."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from warcio.archiveiterator import ArchiveIterator

from crawler import items, placement
from crawler.capture import Retention, capture_from, prune, warc_bytes
from crawler.sources import Source
from crawler.storage import captures
from crawler.storage.engine import sessions
from crawler.storage.models.alerts import AlertGap, AlertMatch, AlertState
from crawler.storage.models.articles import Article
from crawler.storage.models.captures import PageCapture
from crawler.storage.sources import sync_sources
from newswatch.scheduling.alerts_round import AlertsRound
from newswatch.settings import ConfigError, load_settings, parse_settings
from newswatch.web import WebOptions, create_app
from tests.test_storage_stories import make
from tests.web_fixtures import PUBLIC, TOKEN

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
BODY = "<html><body><p>Coopération policière</p></body></html>".encode("cp1252")
HEADERS = (
    ("Content-Type", "text/html; charset=windows-1252"),
    ("Set-Cookie", "a=1"),
    ("Set-Cookie", "b=2"),
    ("Content-Encoding", "br"),
    ("Transfer-Encoding", "chunked"),
    ("Content-Length", "17"),
)


def capture(url: str, body: bytes = BODY, when: datetime = NOW, status: int = 200):
    page = items.ArticlePage(
        "wire", url, url, url + "?final", body, None, status=status, headers=HEADERS
    )
    return capture_from(page, when)


def letters(number: int) -> str:
    """A word of its own for each number, without digits (numbers are story evidence)."""
    word = ""
    while number or not word:
        number, digit = divmod(number, 26)
        word += "abcdefghijklmnopqrstuvwxyz"[digit]
    return "w" + word


def stored(engine, *urls: str, when: datetime = NOW) -> list[int]:
    """Articles of different stories (no words in common), each with its capture."""
    factory = sessions(engine)
    with factory() as session:
        source = sync_sources(session, [Source("wire", "feed", ("https://w.example/rss",))])
        ids = []
        for number, url in enumerate(urls):
            words = " ".join(letters(number * 1000 + i) for i in range(120))
            article = replace(make(url, words, when=when), capture=capture(url, when=when))
            ids.append(placement.add_article(session, source["wire"], article).article_id)
    return ids


def test_the_warc_response_describes_the_stored_body_and_keeps_the_wire_headers():
    record = capture("https://a.example/1", status=410)
    evidence = captures.Evidence(
        1, "wire", "https://a.example/1", "t", None, None, "fr", 1, "x", NOW, record, ()
    )
    records = ArchiveIterator(io.BytesIO(warc_bytes(evidence)), check_digests=True)
    found = {record.rec_type: (record, record.content_stream().read()) for record in records}
    assert list(found) == ["warcinfo", "response", "metadata"]
    response, content = found["response"]
    assert content == BODY
    http = response.http_headers
    assert http.protocol == "HTTP/1.1" and http.get_statuscode() == "410"
    assert http.get_header("Content-Length") == str(len(BODY))
    assert http.get_header("Content-Encoding") is None
    assert http.get_header("Transfer-Encoding") is None
    assert http.get_header("X-Archive-Orig-Content-Encoding") == "br"
    assert http.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert http.get_header("X-Archive-Orig-Content-Length") == "17"
    assert [v for k, v in http.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.rec_headers.get_header("WARC-Date").startswith("2026-12-05T09:00:00")
    assert response.rec_headers.get_header("WARC-Target-URI") == "https://a.example/1?final"


def test_the_default_config_keeps_the_code_defaults_and_bad_values_are_named(tmp_path):
    default = load_settings(ROOT / "config" / "newswatch.toml", env={})
    assert default.evidence == parse_settings({}, Path("e.toml"), {}).evidence == Retention()
    assert default.crawl.capture_pages
    never = parse_settings({"evidence": {"keep": "none", "retention": "forever"}}, Path("e"), {})
    assert never.evidence == Retention("none", None) and not never.crawl.capture_pages

    path = tmp_path / "newswatch.toml"
    path.write_text('[evidence]\nkeep = "some"\nretention = "2y"\nkept = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    lines = error.value.lines()
    assert any(f"{path}: evidence.keep: must be one of matched, all, none" in s for s in lines)
    assert any(line.startswith(f"{path}: evidence.retention: ") for line in lines)
    assert any(line.startswith(f"{path}: evidence.kept") for line in lines)


def test_prune_spares_gaps_and_matched_stories_and_unwatched_archives(engine):
    old, matched, unmatched, gap, fresh = stored(
        engine, *(f"https://a.example/{n}" for n in range(5))
    )
    factory = sessions(engine)
    keep = Retention("matched", 30 * 86400.0)
    # no alerts round ever ran: nothing is known to be unmatched
    assert prune(factory, keep, NOW).total == 0
    with factory() as session:
        story = session.get(Article, matched).story_id
        session.add(AlertState(id=1, last_article_id=gap))  # the engine passed 1..gap
        session.add(AlertMatch(rule="r", story_id=story, article_id=matched, query="q"))
        session.add(AlertGap(article_id=gap, noticed_at=NOW))  # not yet seen
        session.commit()
    pruned = prune(factory, keep, NOW + timedelta(days=1))
    assert (pruned.expired, pruned.unmatched) == (0, 2)  # old and unmatched
    with factory() as session:
        left = {i for i in (old, matched, unmatched, gap, fresh) if captures.get(session, i)}
    assert left == {matched, gap, fresh}
    assert pruned.settled == gap - 1  # the next prune looks again from the gap on

    # the gap is matched (no rule matched it) and the watermark moves past the fresh one
    with factory() as session:
        session.delete(session.get(AlertGap, gap))
        session.get(AlertState, 1).last_article_id = fresh
        session.commit()
    again = prune(factory, keep, NOW + timedelta(days=1), above=pruned.settled)
    assert (again.unmatched, again.settled) == (2, fresh)
    # past the retention period even a matched story's page goes
    assert prune(factory, keep, NOW + timedelta(days=31), above=again.settled).expired == 1


def responses(warc: bytes) -> list[bytes]:
    """The payload of each response record of a WARC file (read while iterating)."""
    records = ArchiveIterator(io.BytesIO(warc), check_digests=True)
    return [r.content_stream().read() for r in records if r.rec_type == "response"]


def test_the_article_page_links_the_warc_which_is_read_like_any_other_page(engine):
    (article_id, bare_id) = stored(engine, "https://a.example/p", "https://a.example/q")
    with sessions(engine)() as session:
        session.delete(session.scalar(select(PageCapture).filter_by(article_id=bare_id)))
        session.commit()
    settings = parse_settings({}, Path("web-test.toml"), {})
    local = TestClient(create_app(engine, settings, WebOptions()), base_url="http://localhost")
    page = local.get(f"/articles/{article_id}")
    assert page.status_code == 200
    assert hashlib.sha256(BODY).hexdigest() in page.text
    assert f'href="/articles/{article_id}/page.warc.gz"' in page.text
    assert "not kept" in local.get(f"/articles/{bare_id}").text

    warc = local.get(f"/articles/{article_id}/page.warc.gz")
    assert warc.status_code == 200
    assert warc.headers["content-type"] == "application/warc"
    assert f"article-{article_id}.warc.gz" in warc.headers["content-disposition"]
    assert responses(warc.content) == [BODY]
    assert local.get(f"/articles/{bare_id}/page.warc.gz").status_code == 404
    assert local.get("/articles/999999/page.warc.gz").status_code == 404

    exposed = create_app(engine, settings, WebOptions(**PUBLIC))
    base = "https://news.example.org"
    with TestClient(exposed, base_url=base, follow_redirects=False) as stranger:
        refused = stranger.get(f"/articles/{article_id}/page.warc.gz")
        assert refused.status_code == 303 and BODY not in refused.content
        bearer = {"authorization": f"Bearer {TOKEN}"}
        allowed = stranger.get(f"/articles/{article_id}/page.warc.gz", headers=bearer)
        assert allowed.status_code == 200
        assert responses(allowed.content) == [BODY]


def test_the_service_alerts_round_applies_the_retention(engine):
    kept, dropped = stored(engine, "https://a.example/m", "https://a.example/u")
    settings = parse_settings(
        {"rules": [{"name": "m", "query": letters(0)}]}, Path("e.toml"), {}
    )  # the first article's first word: it matches, the second does not
    clock = lambda: datetime.now(UTC)  # noqa: E731  the articles were stored just now
    AlertsRound(engine, settings.alerts, {}, clock, settings.evidence).run()
    with sessions(engine)() as session:
        assert captures.get(session, kept) is not None
        assert captures.get(session, dropped) is None
