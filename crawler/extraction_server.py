"""What the extraction pool's fork server loads before it forks extraction processes.

Imported in that server only (`crawler.pipelines.extract` names it as the server's
preload). It imports extraction (trafilatura, lxml, py3langid), extracts one small page so
their lazy state is built (py3langid's model, about 100 MiB once decompressed; trafilatura's
tables), then freezes the garbage collector's view of it all. Each extraction process is
forked from here and shares those pages copy-on-write, where a spawned process would build
its own copy and pay the CPU for it. The server dies with the crawl that started it.
"""

from __future__ import annotations

import contextlib
import gc
from datetime import datetime

import lxml.html

from crawler.extract import ExtractOptions
from crawler.fingerprints import extract_and_fingerprint
from crawler.items import ArticlePage
from crawler.processes import become_fork_server

_PARAGRAPH = (
    "<p>The port authority said on Tuesday that container traffic rose for the third "
    "month in a row, as shipping lines returned to routes they had left during the storms. "
    'Officials <a href="https://example.org/report">published the figures</a> together '
    "with a forecast for the rest of the year.</p>"
)
_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Port traffic</title>"
    "<meta name='author' content='A. Reporter'>"
    "<meta property='article:published_time' content='2024-03-05T10:00:00Z'></head>"
    f"<body><article><h1>Port traffic rises</h1>{_PARAGRAPH * 4}</article></body></html>"
).encode()


def warm_up() -> None:
    """Extract one page, so what extraction loads on first use is loaded here.

    Only a head start: whatever fails here fails (and is reported) on real pages too.
    """
    with contextlib.suppress(Exception):
        # Loaded on first use only by pages the main extractor gives up on: the words of
        # justext's stoplists of every language, as one set (tens of MiB).
        from trafilatura.external import try_justext

        try_justext(lxml.html.fromstring(_PAGE), None, None)
    datetime.strptime("2024-03-05", "%Y-%m-%d")  # the date parser's tables
    url = "https://news.example.com/2024/03/port-traffic"
    page = ArticlePage("warm-up", url, url, url, _PAGE, "utf-8")
    with contextlib.suppress(Exception):
        extract_and_fingerprint(page, ExtractOptions(min_text_chars=1))


become_fork_server()
warm_up()
# Objects the collector never visits keep their pages shared with the forked processes.
gc.collect()
gc.freeze()
