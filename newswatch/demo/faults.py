"""Fault endpoints under /faulty/: the failures a crawler meets in the wild, served on purpose."""

from __future__ import annotations

import threading
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial

from newswatch.demo import pages, render
from newswatch.demo.catalog import FAULTY, Article, load_labels
from newswatch.demo.content import CONTENT_TYPES, Content, channel, entry, newest
from newswatch.demo.newsroom import Newsroom
from newswatch.demo.server import HTML, Request, Response, Route, conditional, text

FEED = "/faulty/rss.xml"
BROKEN_FEED = "/faulty/broken.xml"
CP1252_FEED = "/faulty/cp1252.xml"
ERROR_FEED = "/faulty/500.xml"

GOOD = "/faulty/2026/11/good.html"
MISSING = "/faulty/2026/11/missing.html"
FLAKY = "/faulty/2026/11/flaky.html"  # 500 on the first request, the article afterwards
SLOW = "/faulty/2026/11/slow.html"  # the article after NewsSite.slow_seconds
HUGE = "/faulty/2026/11/huge.html"  # a valid article page of HUGE_BYTES
LOOP_A = "/faulty/loop-a"
LOOP_B = "/faulty/loop-b"
PDF = "/faulty/2026/11/aktionsplan.html"  # an .html URL: only Content-Type tells it is a PDF
BOMB = "/faulty/2026/11/bomb.html"  # gzip body inflating to BOMB_BYTES

HUGE_BYTES = 3 * 1024 * 1024
BOMB_BYTES = 200 * 1024 * 1024
PDF_BODY = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)

# The faulty feed's items that are not ordinary articles.
ODD_ITEMS: tuple[tuple[str, str, str], ...] = (
    (MISSING, "Removed: exchange of police officers postponed", "2026-11-19T07:00:00+01:00"),
    (HUGE, "Full text: the Belgium–Morocco action plan, annotated", "2026-11-19T07:10:00+01:00"),
    (LOOP_A, "Live: ministers meet in Rabat", "2026-11-19T07:20:00+01:00"),
    (PDF, "Aktionsplan Belgien–Marokko (Dokument)", "2026-11-19T07:30:00+01:00"),
    (BOMB, "Leaked: the liaison officers' roster", "2026-11-19T07:40:00+01:00"),
)

# The articles the cp1252 feed links to; the faulty feed links to the other faulty articles.
CP1252_ARTICLES = (
    "/faulty/2026/11/grenzueberschreitende-zusammenarbeit-fahndungsdaten.html",
    "/faulty/2026/11/surete-de-l-etat-nouvel-accord-avec-rabat.html",
    "/faulty/2026/11/massnahmen-gegen-geldwaesche.html",
)

# Well-formedness breaks at the bare "&", and the file stops before any item closes.
BROKEN_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n<channel>\n'
    b"<title>Faulty Gazette & friends</title>\n<link>http://127.0.0.1/faulty/</link>\n<ite"
)


class _Once:
    """A payload built on first use, once, even when several handler threads ask together."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: bytes | None = None

    def get(self, build: Callable[[], bytes]) -> bytes:
        with self._lock:
            if self._value is None:
                self._value = build()
            return self._value


def build_bomb(size: int = BOMB_BYTES) -> bytes:
    """Gzip of an HTML start followed by spaces; compressed ~1000 times smaller than `size`."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: gzip framing
    head = b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Roster</title></head><body><p>'
    chunk = b" " * (1 << 20)
    parts = [compressor.compress(head)]
    remaining = size - len(head)
    while remaining > 0:
        parts.append(compressor.compress(chunk[:remaining]))
        remaining -= len(chunk)
    parts.append(compressor.flush())
    return b"".join(parts)


def build_huge(template: Article, base_url: str, size: int = HUGE_BYTES) -> bytes:
    """A valid article page just over `size` bytes: the template's paragraphs, repeated."""
    paragraphs: list[str] = []
    length = 0
    while length < size:
        for paragraph in template.paragraphs:
            numbered = f"Article {len(paragraphs) + 1}. {paragraph}"
            paragraphs.append(numbered)
            length += len(numbered.encode("utf-8")) + 8
    article = replace(
        template,
        path=HUGE,
        title="Full text: the Belgium–Morocco action plan, annotated",
        paragraphs=tuple(paragraphs),
    )
    labels = load_labels()["en"]
    return pages.article_page(FAULTY, article, base_url, [], labels).encode("utf-8")


class Faults:
    """One method per fault; per-site state: visit counts and lazily built payloads."""

    def __init__(
        self,
        newsroom: Newsroom,
        content: Content,
        stopping: threading.Event,
        slow_seconds: Callable[[], float],
    ) -> None:
        self._newsroom = newsroom
        self._content = content
        self._stopping = stopping
        self._slow_seconds = slow_seconds
        self._visits: Counter[str] = Counter()
        self._visits_lock = threading.Lock()
        self._bomb = _Once()
        self._huge = _Once()

    def routes(self) -> dict[str, Route]:
        return {
            FEED: self.feed,
            BROKEN_FEED: self.broken_feed,
            CP1252_FEED: self.cp1252_feed,
            ERROR_FEED: self.server_error,
            MISSING: self._content.not_found,
            FLAKY: self.flaky,
            SLOW: self.slow,
            HUGE: self.huge,
            LOOP_A: partial(self.redirect, LOOP_B),
            LOOP_B: partial(self.redirect, LOOP_A),
            PDF: self.pdf,
            BOMB: self.bomb,
        }

    def feed(self, request: Request) -> Response:
        base_url = request.base_url
        articles = [
            a for a in self._newsroom.articles(FAULTY.name) if a.path not in CP1252_ARTICLES
        ]
        entries = [entry(FAULTY, a, base_url) for a in articles]
        for path, title, published in ODD_ITEMS:
            url = base_url + path
            odd = render.Entry(
                title=title,
                link=f"{url}?{FAULTY.tracking}",
                guid=url,
                published=datetime.fromisoformat(published),
                author="Demo Desk",
                summary=title,
            )
            entries.append(odd)
        entries.sort(key=lambda e: e.published, reverse=True)
        body = render.document(render.rss2(channel(FAULTY, base_url), entries)).encode("utf-8")
        return conditional(request, body, CONTENT_TYPES["rss2"], newest(articles))

    def broken_feed(self, request: Request) -> Response:
        return Response(200, BROKEN_BODY, {"Content-Type": CONTENT_TYPES["rss2"]})

    def cp1252_feed(self, request: Request) -> Response:
        """Declared UTF-8 (XML declaration and header), encoded windows-1252."""
        articles = [a for a in self._newsroom.articles(FAULTY.name) if a.path in CP1252_ARTICLES]
        entries = [entry(FAULTY, a, request.base_url) for a in articles]
        feed_channel = replace(
            channel(FAULTY, request.base_url, language="de"),
            self_url=request.base_url + CP1252_FEED,
        )
        body = render.document(render.rss2(feed_channel, entries)).encode("cp1252")
        return conditional(request, body, CONTENT_TYPES["rss2"], newest(articles))

    def server_error(self, request: Request) -> Response:
        return text(500, "<!DOCTYPE html><title>500</title><h1>Internal Server Error</h1>")

    def flaky(self, request: Request) -> Response:
        with self._visits_lock:
            self._visits[request.path] += 1
            visit = self._visits[request.path]
        if visit == 1:
            return self.server_error(request)
        return self._article(request)

    def slow(self, request: Request) -> Response | None:
        # Waiting on the stop event, not sleeping, lets stop() end the wait at once.
        if self._stopping.wait(self._slow_seconds()):
            return None
        return self._article(request)

    def huge(self, request: Request) -> Response:
        template = self._newsroom.find(GOOD)
        assert template is not None, "the faulty outlet's data lacks its good article"
        body = self._huge.get(lambda: build_huge(template, request.base_url))
        return Response(200, body, {"Content-Type": HTML})

    def redirect(self, target: str, request: Request) -> Response:
        location = request.base_url + target
        return Response(302, b"", {"Location": location, "Content-Type": HTML})

    def pdf(self, request: Request) -> Response:
        return Response(200, PDF_BODY, {"Content-Type": "application/pdf"})

    def bomb(self, request: Request) -> Response:
        body = self._bomb.get(build_bomb)
        return Response(200, body, {"Content-Type": HTML, "Content-Encoding": "gzip"})

    def _article(self, request: Request) -> Response:
        found = self._content.article(request)
        assert found is not None, f"no faulty article at {request.path}"
        return found
