"""A provider's rate limit holds under AutoThrottle: its slot delay is a floor, not a start."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

DELAY = 0.4
REQUESTS = 5
# One process per crawl: Twisted's reactor cannot be restarted.
CRAWL = """
import sys
import scrapy
from scrapy.crawler import CrawlerProcess
from crawler.settings import EXTENSIONS

class Pages(scrapy.Spider):
    name = "pages"
    async def start(self):
        for index in range({requests}):
            yield scrapy.Request(f"{{sys.argv[1]}}/{{index}}", dont_filter=True)
    def parse(self, response):
        pass

process = CrawlerProcess({{
    "EXTENSIONS": EXTENSIONS,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.01,
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_SLOTS": {{"127.0.0.1": {{"delay": {delay}, "concurrency": 1, "jitter": 0}}}},
    "ROBOTSTXT_OBEY": False,
    "LOG_LEVEL": "ERROR",
}})
process.crawl(Pages)
process.start()
"""


@pytest.fixture
def server() -> Iterator[tuple[str, list[float]]]:
    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            arrivals.append(time.monotonic())
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", arrivals
    httpd.shutdown()
    httpd.server_close()


def test_fast_answers_do_not_shorten_a_rate_limited_slot(server):
    url, arrivals = server
    script = CRAWL.format(requests=REQUESTS, delay=DELAY)
    result = subprocess.run(
        [sys.executable, "-c", script, url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert len(arrivals) == REQUESTS
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # Scrapy's own AutoThrottle would halve the delay toward the ~1 ms latency each time.
    assert min(gaps) >= DELAY * 0.9, f"requests came closer than the slot's delay: {gaps}"
