"""A feed answering 429 with Retry-After: the crawl records when the source may be polled again."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from crawler.failures import retry_after_until
from newswatch.cli import cli
from tests.crawl_helpers import newswatch, rows, write_config

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", NOW + timedelta(seconds=120)),
        ("Sun, 29 Nov 2026 10:30:00 GMT", NOW + timedelta(minutes=90)),
        ("Sun, 29 Nov 2026 08:00:00 GMT", NOW),  # already past: come back now
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(header, expected):
    assert retry_after_until(header, NOW) == expected


@pytest.fixture
def throttling_site():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/robots.txt":
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            self.send_response(429)
            self.send_header("Retry-After", "3600")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_throttled_feed_sets_retry_after_for_the_scheduler(throttling_site, tmp_path):
    source = {"name": "busy", "kind": "feed", "url": f"{throttling_site}/feed.xml"}
    config = write_config(tmp_path / "newswatch.toml", [source], retries=0)
    url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    before = datetime.now(UTC)
    result = newswatch(config, url, "crawl")
    assert "HTTP 429" in result.stderr, result.stderr
    [(status, http_status)] = rows(url, "SELECT status, http_status FROM crawl_runs")
    assert (status, http_status) == ("failed", 429)
    [(until,)] = rows(url, "SELECT retry_after_until FROM source_schedule")
    until = datetime.fromisoformat(str(until)).replace(tzinfo=UTC)
    assert before + timedelta(seconds=3590) < until < datetime.now(UTC) + timedelta(seconds=3610)
    shown = CliRunner().invoke(cli, ["--config", str(config), "--database", url, "status"])
    assert "server asked to wait until" in shown.output, shown.output
