"""Many small RSS sources on loopback, with conditional GET, publishing on demand, a request log."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from newswatch.demo.server import Request, Response, conditional, serve, text

WORDS = (
    "police justice minister court port customs cocaine container harbour suspect trial "
    "extradition embassy officer federal prosecutor investigation network money laundering "
    "border agreement cooperation parliament judge appeal hearing witness evidence warrant "
    "arrest raid seizure tonne shipment vessel terminal Antwerp Rabat Tangier Brussels "
    "Casablanca Rotterdam delegation visit plan action report budget unit team liaison "
    "intelligence service threat security terrorism radicalisation prison sentence year month "
    "week statement spokesman lawyer defence family victim community mayor council region"
).split()


@dataclass
class Feed:
    name: str
    items: list[tuple[str, str, datetime]] = field(default_factory=list)  # path, title, when
    version: int = 0  # bumped on every publication
    changed: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Served:
    at: float  # time.time()
    path: str
    status: int
    feed_unchanged: bool  # a feed request when the feed had not changed since its last one


class FeedSite:
    """`count` RSS sources s00…, each on its own loopback address like separate sites.

    publish() adds an article to one of them.
    """

    def __init__(self, count: int, initial: int = 3, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.feeds = {f"s{n:02d}": Feed(f"s{n:02d}") for n in range(count)}
        self.pages: dict[str, tuple[str, str, datetime]] = {}  # path → title, body, when
        self.log: list[Served] = []
        self._served_version: dict[str, int] = {}
        self._number = 0
        for feed in self.feeds:
            for _ in range(initial):
                self.publish(feed)
        # 127.0.0.0/8 is all loopback on Linux: one address per source, one site each
        self.servers = {
            name: serve(f"127.0.0.{number + 2}", 0, self.respond)[0]
            for number, name in enumerate(self.feeds)
        }

    def close(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()

    def url(self, path: str) -> str:
        return self.servers[path.split("/")[1]].base_url + path

    def sources(self) -> list[dict]:
        return [
            {"name": name, "kind": "feed", "url": self.url(f"/{name}/rss.xml")}
            for name in self.feeds
        ]

    def publish(self, feed: str, word: str = "") -> str:
        """A new article at the top of `feed`; returns its path. `word` goes in its text."""
        with self.lock:
            self._number += 1
            number = self._number
            when = datetime.now(UTC).replace(microsecond=0)
            title = " ".join(self.rng.choice(WORDS) for _ in range(6)).capitalize()
            paragraphs = [
                " ".join(self.rng.choice(WORDS) for _ in range(45)).capitalize() + "."
                for _ in range(4)
            ]
            if word:
                paragraphs[1] += f" The {word} file was mentioned again."
            path = f"/{feed}/{number:06d}.html"
            self.pages[path] = (title, "\n".join(f"<p>{p}</p>" for p in paragraphs), when)
            target = self.feeds[feed]
            target.items.insert(0, (path, title, when))
            del target.items[20:]
            target.version += 1
            target.changed = when
            return path

    def respond(self, request: Request) -> Response:
        path = request.path
        feed = path.split("/")[1] if path.endswith("/rss.xml") else None
        with self.lock:
            if feed in self.feeds:
                response = conditional(
                    request,
                    self._rss(self.feeds[feed], request.base_url).encode(),
                    "application/rss+xml",
                    self.feeds[feed].changed,
                )
                unchanged = self._served_version.get(feed) == self.feeds[feed].version
                self._served_version[feed] = self.feeds[feed].version
            elif path in self.pages:
                response, unchanged = text(200, self._page(path)), False
            else:
                response, unchanged = text(404, "<h1>Not found</h1>"), False
            self.log.append(Served(time.time(), path, response.status, unchanged))
        return response

    def _rss(self, feed: Feed, base: str) -> str:
        items = "".join(
            f"<item><title>{escape(title)}</title><link>{base}{path}</link>"
            f"<guid>{base}{path}</guid><pubDate>{format_datetime(when)}</pubDate></item>"
            for path, title, when in feed.items
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{feed.name}</title><link>{base}/{feed.name}/</link>{items}</channel></rss>"
        )

    def _page(self, path: str) -> str:
        title, body, when = self.pages[path]
        return (
            f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
            f'<meta property="article:published_time" content="{when.isoformat()}">'
            f'<meta name="author" content="Bench Reporter"></head><body><article>'
            f"<h1>{title}</h1>{body}</article></body></html>"
        )


def service_config(interval: float, workers: int) -> list[str]:
    """The [crawl] and [service] lines of a benchmark of `newswatch run` on these feeds:
    every source polled at exactly `interval`, as fast as loopback allows."""
    return [
        "[crawl]",
        f'interval = "{interval:g}s"',
        "delay = 0",
        "autothrottle = false",
        'timeout = "10s"',
        "retries = 1",
        "extraction_workers = 1",
        "",
        "[service]",
        f"workers = {workers}",
        f'min_interval = "{interval:g}s"',
        f'max_interval = "{interval:g}s"',
        "adaptive = false",
        'alerts_interval = "60s"',
    ]
