"""The project's own sample news site on loopback: outlets, feeds, sitemaps and optional faults."""

from __future__ import annotations

import logging
import threading
from functools import partial
from types import TracebackType
from typing import Any

from newswatch.demo.catalog import FAULTY, LISTING_SELECTOR, OUTLETS, Outlet
from newswatch.demo.content import Content
from newswatch.demo.faults import BROKEN_FEED, CP1252_FEED, ERROR_FEED, FEED, Faults
from newswatch.demo.newsroom import Newsroom
from newswatch.demo.server import QuietServer, Request, Response, Route, serve, text

logger = logging.getLogger(__name__)
RequestRecord = tuple[str, str, dict[str, str]]  # (method, path with query, headers)


class NewsSite:
    """Six sample outlets (RSS 2.0, Atom, RSS 1.0, news sitemap, listing page, Arabic RSS).

    Use as a context manager, or call start() and stop(). With faults=True the site also
    serves /faulty/ (see fault_sources() and newswatch.demo.faults); never in the demo.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        faults: bool = False,
        slow_seconds: float = 5.0,
    ) -> None:
        self.host = host
        self.port = port
        self.faults = faults
        self.slow_seconds = slow_seconds  # how long /faulty/2026/11/slow.html keeps a client
        self._outlets = OUTLETS + ((FAULTY,) if faults else ())
        self._newsroom = Newsroom(self._outlets)
        self._content = Content(self._newsroom)
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._log_grew = threading.Condition(self._log_lock)
        self._stopping = threading.Event()
        self._routes: dict[str, Route] = {}
        self._server: QuietServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> NewsSite:
        if self._server is not None:
            return self
        self._stopping = threading.Event()
        self._routes = self._route_table()
        self._server, self._thread = serve(self.host, self.port, self._respond)
        return self

    def stop(self) -> None:
        """Stop serving; returns at once, even with a slow request in flight."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()  # releases handlers waiting in the slow fault
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> NewsSite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """http://host:port of the running site."""
        if self._server is None:
            raise RuntimeError("the demo site is not running; call start() first")
        return self._server.base_url

    # -- what a test or the demo asks ---------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request served so far, in arrival order (a copy)."""
        with self._log_lock:
            return list(self._log)

    def hits(self, path_prefix: str) -> int:
        """How many requests asked for a path (with query) starting with `path_prefix`."""
        with self._log_lock:
            return self._count(path_prefix)

    def wait_for_hits(self, path_prefix: str, count: int = 1, timeout: float = 10.0) -> bool:
        """Block until `count` requests for `path_prefix` arrived; False on timeout."""
        with self._log_grew:
            return self._log_grew.wait_for(lambda: self._count(path_prefix) >= count, timeout)

    def _count(self, path_prefix: str) -> int:
        return sum(1 for _, target, _ in self._log if target.startswith(path_prefix))

    def publish(
        self,
        outlet: str,
        *,
        title: str,
        body: str,
        language: str | None = None,
        author: str | None = None,
    ) -> str:
        """Add an article at the top of the outlet's feed; returns its canonical URL."""
        article = self._newsroom.publish(
            outlet, title=title, body=body, language=language, author=author
        )
        return self.base_url + article.path

    def sources(self) -> list[dict[str, Any]]:
        """The outlets as newswatch config sources (the shape of a [[sources]] TOML table)."""
        return [self._source(outlet.name, outlet, outlet.source_path) for outlet in OUTLETS]

    def fault_sources(self) -> list[dict[str, Any]]:
        """The fault sources: the faulty feed and three feeds that fail as a whole."""
        if not self.faults:
            raise RuntimeError("faults are off; create the site with NewsSite(faults=True)")
        return [
            self._source("faulty", FAULTY, FEED),
            self._source("faulty-broken", FAULTY, BROKEN_FEED),
            {**self._source("faulty-cp1252", FAULTY, CP1252_FEED), "language": "de"},
            self._source("faulty-500", FAULTY, ERROR_FEED),
        ]

    def _source(self, name: str, outlet: Outlet, path: str) -> dict[str, Any]:
        source: dict[str, Any] = {
            "name": name,
            "kind": outlet.kind,
            "urls": [self.base_url + path],
            "language": outlet.language,
            "tags": list(outlet.tags),
        }
        if outlet.kind == "listing":
            source["link_selector"] = LISTING_SELECTOR
        return source

    # -- serving ------------------------------------------------------------------------------

    def _route_table(self) -> dict[str, Route]:
        """Exact paths; anything else is looked up as an article, then 404."""
        routes: dict[str, Route] = {
            "/robots.txt": self._content.robots,
            "/sitemap-index.xml": partial(self._content.sitemap_index, OUTLETS),
        }
        for outlet in OUTLETS:
            routes[outlet.feed_path] = partial(self._content.outlet_document, outlet)
        if self.faults:
            slow = lambda: self.slow_seconds  # noqa: E731  read per request: tests may change it
            routes.update(Faults(self._newsroom, self._content, self._stopping, slow).routes())
        return routes

    def _respond(self, request: Request) -> Response | None:
        with self._log_grew:
            self._log.append((request.method, request.target, dict(request.headers)))
            self._log_grew.notify_all()
        route = self._routes.get(request.path)
        try:
            if route is not None:
                return route(request)
            return self._content.article(request) or self._content.not_found(request)
        except Exception:
            # A bug in the demo site itself: say so loudly, answer like a broken server would.
            logger.exception("demo site failed on %s %s", request.method, request.target)
            return text(500, "<!DOCTYPE html><title>500</title><h1>Internal Server Error</h1>")
