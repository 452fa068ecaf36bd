"""`newswatch crawl`'s exit status, from real crawls of loopback servers: 0 every source read,
1 some failed, 2 configuration error, 3 every source failed."""

from __future__ import annotations

import contextlib
import socket
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from newswatch.cli import cli
from newswatch.demo.server import Request, Response, conditional, serve, text
from tests.crawl_helpers import newswatch, rows, write_config

PARAGRAPH = (
    "<p>Belgian federal police and Morocco's DGST have exchanged investigation data on "
    "cocaine shipments through the port of Antwerp since the spring. Both sides speak of "
    "a breakthrough in their cooperation against the Mocro-Maffia.</p>"
)
PUBLISHED = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)


def article(title: str) -> Response:
    return text(
        200,
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><article><h1>{title}</h1>{PARAGRAPH * 4}</article></body></html>",
    )


@contextlib.contextmanager
def news_site():
    """A feed listing one article that is there and one that is gone (404)."""

    def respond(request: Request) -> Response:
        if request.path == "/feed.xml":
            items = "".join(
                f"<item><title>{path}</title><link>{request.base_url}{path}</link></item>"
                for path in ("/news/extradition.html", "/news/gone.html")
            )
            body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>{items}"
            body += "</channel></rss>"
            return conditional(request, body.encode(), "application/rss+xml", PUBLISHED)
        if request.path == "/news/extradition.html":
            return article("Extradition to Morocco approved")
        return text(404, "not found")

    server, thread = serve("127.0.0.1", 0, respond)
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable_sources() -> list[dict[str, str]]:
    return [
        {"name": "closed", "kind": "feed", "url": f"http://127.0.0.1:{closed_port()}/feed.xml"},
        {"name": "nowhere", "kind": "feed", "url": "http://nothing.invalid/feed.xml"},
    ]


def test_every_source_read_exits_0_even_with_failed_articles(tmp_path, sqlite_url):
    with news_site() as base:
        config = write_config(
            tmp_path / "n.toml", [{"name": "wire", "kind": "feed", "url": f"{base}/feed.xml"}]
        )
        first = newswatch(config, sqlite_url, "crawl")
        second = newswatch(config, sqlite_url, "crawl")

    # an article that failed (here a 404) leaves the source "partial": not a failed source
    assert "wire: partial" in first.stderr, first.stderr
    assert first.returncode == 0, first.stderr
    # the feed has not changed: "not_modified" is a success too
    assert "wire: not_modified" in second.stderr, second.stderr
    assert second.returncode == 0, second.stderr


def test_some_sources_failed_exits_1_and_names_them(tmp_path, sqlite_url):
    with news_site() as base:
        sources = [
            {"name": "wire", "kind": "feed", "url": f"{base}/feed.xml"},
            *unreachable_sources(),
        ]
        result = newswatch(write_config(tmp_path / "n.toml", sources), sqlite_url, "crawl")

    assert result.returncode == 1, result.stderr
    assert "2 of 3 sources failed: closed, nowhere" in result.stderr
    # the crawl still went on and stored what it could
    assert rows(sqlite_url, "SELECT count(*) FROM articles") == [(1,)]


def test_every_source_failed_exits_3(tmp_path, sqlite_url):
    config = write_config(tmp_path / "n.toml", unreachable_sources())
    result = newswatch(config, sqlite_url, "crawl")

    assert result.returncode == 3, result.stderr
    assert "every source failed" in result.stderr
    # each source's failure is still recorded with its cause
    failed = rows(sqlite_url, "SELECT s.name FROM failures f JOIN sources s ON s.id = f.source_id")
    assert sorted(failed) == [("closed",), ("nowhere",)]


def test_a_configuration_error_exits_2_before_crawling(tmp_path, sqlite_url):
    bad = [{"name": "wire", "kind": "rss", "url": "http://127.0.0.1:9/feed.xml"}]
    result = newswatch(write_config(tmp_path / "n.toml", bad), sqlite_url, "crawl")
    assert result.returncode == 2, result.stderr
    assert "config error" in result.stderr and "kind" in result.stderr


@pytest.mark.parametrize("status", ["0", "1", "2", "3"])
def test_crawl_help_documents_each_exit_status(status):
    shown = CliRunner().invoke(cli, ["crawl", "--help"]).output
    assert "Exit status:" in shown
    assert any(line.strip().startswith(f"{status}  ") for line in shown.splitlines()), shown
