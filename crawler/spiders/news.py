"""The spider: fetch each source's feeds, sitemaps or listing pages, then its new articles.

One spider crawls every source of a run, so all requests share Scrapy's downloader
and its per-domain slots: politeness holds even when two sources live on one site.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import scrapy
from scrapy.http import Response
from sqlalchemy.orm import Session, sessionmaker
from twisted.internet.interfaces import IDelayedCall
from twisted.python.failure import Failure

from crawler.backlog import Backlog
from crawler.failures import classify
from crawler.items import ArticlePage, FeedHints, Link
from crawler.middlewares.wire_coding import WIRE_CODING
from crawler.recorder import Recorder
from crawler.search import MalformedResults, read_results, wrapped
from crawler.sources import CrawlOptions, Source, article_cap
from crawler.spiders.feeds import MalformedFeed, read_feed
from crawler.spiders.listings import read_listing
from crawler.spiders.rechecks import Rechecks
from crawler.spiders.requests import (
    HINTS,
    KEY,
    LINK,
    READ_AS,
    article_request,
    first_requests,
    index_request,
    pending,
)
from crawler.spiders.sitemaps import MalformedSitemap, read_sitemap
from crawler.spiders.sites import CANDIDATE, SiteSources
from crawler.storage import articles, backlog, endpoints, fetch_state, sightings
from crawler.storage.backlog import Pending
from crawler.storage.models.base import utcnow
from crawler.storage.websub import advertised_writes
from crawler.urls import canonical_url, request_url

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_SITEMAP_DEPTH = 3
# A crawl in one process writes what its feeds said at most this long after reading them,
# with the feeds read meanwhile: a run reads its feeds in a burst as it starts.
WRITE_AFTER = 1.0  # seconds


@dataclass(frozen=True)
class CrawlContext:
    """What the spider and its pipelines share for one crawl (passed in, never global)."""

    sources: tuple[Source, ...]
    options: CrawlOptions
    sessions: sessionmaker[Session]
    source_ids: dict[str, int]
    recorder: Recorder


class RunState(Protocol):
    """What a crawl keeps track of while it runs: the spider asks, and never keeps it itself.

    A crawl in one process keeps it in memory (LocalRun, the default); a cluster worker in
    the cluster's shared ledger (crawler.cluster.spider.ClusterRun).
    """

    def source(self, meta: dict[str, Any]) -> Source:
        """The source a request was made for (from the request's meta)."""

    def take_budget(self, source: Source, wanted: int) -> int:
        """How many of `wanted` new article links the source may still request; taken."""

    def not_requested(self, keys: list[str]) -> list[str]:
        """The article keys this crawl has not handled yet; from now on, handled."""

    def keep_validators(self, fetch: dict[str, Any], meta: dict[str, Any]) -> None:
        """An index's new validators (fetch_state.save_fetch's arguments), to be saved once
        every link it listed is handled."""

    def finished(self, reason: str) -> None:
        """The crawl ended, for Scrapy's close `reason`."""


class FeedWrites:
    """What reading feeds writes: link sightings, links left in the backlog, an unchanged
    feed's fetch, a site endpoint's outcome. Each is a function of a session, run in one
    transaction with the others pending.

    Without a delay they are committed at once, before the feed's callback returns: a
    cluster worker's feed counts as handled when its callback is done, and the coordinator
    may save the run's validators then. With one, they wait that long for other feeds'
    (one transaction for a burst of feeds instead of one each): a crawl in one process
    saves validators only as it finishes, in the transaction that writes what still waits
    (LocalRun.finished), so a validator is never saved before the backlog rows of its
    feed; a crash before then loses only writes that the next crawl, reading the same
    feeds in full again, makes anew.
    """

    def __init__(self, sessions: sessionmaker[Session], delay: float | None):
        self._sessions = sessions
        self._delay = delay
        self._pending: list[Callable[[Session], object]] = []
        self._timer: IDelayedCall | None = None

    def add(self, *writes: Callable[[Session], object]) -> None:
        self._pending.extend(writes)
        if self._delay is None:
            self.flush()
        elif self._timer is None and self._pending:
            from twisted.internet import reactor

            self._timer = reactor.callLater(self._delay, self.flush)

    def flush(self, *more: Callable[[Session], object]) -> None:
        """Commit what waits, and `more` after it, in one transaction.

        When that fails, what waited waits on (the error goes up): it is tried again with
        the next flush, and whatever comes after it — validators — is not saved before it.
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        waiting, self._pending = self._pending, []
        if not waiting and not more:
            return
        try:
            with self._sessions() as session:
                for write in [*waiting, *more]:
                    write(session)
                session.commit()
        except BaseException:
            self._pending[:0] = waiting
            raise


class LocalRun:
    """A crawl of the context's sources in this process, kept in memory."""

    def __init__(self, context: CrawlContext):
        self.context = context
        self.writes = FeedWrites(context.sessions, WRITE_AFTER)
        self.by_name = {source.name: source for source in context.sources}
        # Keys of the article links handled in this run (requested, or left in the
        # backlog). Scrapy's duplicate filter is bypassed (dont_filter) because it would
        # silently drop a redirect back to a URL already seen — a redirect loop would
        # vanish instead of being reported.
        self.requested: set[str] = set()
        # Article requests each source may still make in this run (its cap).
        self.budget: dict[str, int] = {}
        self.fetched_indexes: list[dict[str, Any]] = []

    def source(self, meta: dict[str, Any]) -> Source:
        return self.by_name[meta["source"]]

    def take_budget(self, source: Source, wanted: int) -> int:
        left = self.budget.get(source.name, article_cap(source, self.context.options))
        taken = min(left, wanted)
        self.budget[source.name] = left - taken
        return taken

    def not_requested(self, keys: list[str]) -> list[str]:
        fresh = [key for key in keys if key not in self.requested]  # two feeds, one article
        self.requested.update(fresh)
        return fresh

    def keep_validators(self, fetch: dict[str, Any], meta: dict[str, Any]) -> None:
        # Saved when the crawl finishes: saved now, a crawl stopped before the new
        # articles are stored would get a 304 next time and miss them.
        self.fetched_indexes.append(fetch)

    def finished(self, reason: str) -> None:
        if reason != "finished":
            # stopped early: the next crawl reads these feeds in full again
            self.writes.flush()
            return
        # after the feeds' backlog rows, in their transaction
        self.writes.flush(*(partial(fetch_state.note_fetch, **f) for f in self.fetched_indexes))


class NewsSpider(scrapy.Spider):
    """Crawls the context's sources; `run_state` says where its bookkeeping lives (RunState)."""

    name = "news"

    def __init__(self, context: CrawlContext, run_state: RunState | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.context = context
        self.run_state = run_state if run_state is not None else LocalRun(context)
        # A run state of another kind (a cluster worker's) has each feed's writes committed
        # before its callback returns (see FeedWrites).
        self.writes = (
            self.run_state.writes
            if isinstance(self.run_state, LocalRun)
            else FeedWrites(context.sessions, None)
        )
        self.backlog = Backlog(context.sessions, context.options.retry_schedule)
        self.sites = SiteSources(context.sessions, context.source_ids, context.recorder)
        # matched articles fetched again, for their edits (a cluster worker makes none)
        self.rechecks = Rechecks(
            context.sessions, context.source_ids, context.options, self.run_state.source
        )

    def closed(self, reason: str) -> None:
        self.run_state.finished(reason)
        self.writes.flush()  # nothing left, unless a run state of another kind left it

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.context.sources:
            source_id = self.context.source_ids[source.name]
            cap = article_cap(source, self.context.options)
            with self.context.sessions() as session:
                requests, spent = first_requests(session, source, source_id, self.backlog, cap)
            self.run_state.take_budget(source, spent)  # the backlog's turn comes first
            for request in requests:
                if KEY in request.meta:
                    # handled: a feed that links it too does not request it again
                    self.run_state.not_requested([request.meta[KEY]])
                    yield self._article_request(request)
                else:
                    yield request.replace(callback=self.parse_index, errback=self.index_failed)
            for request in self.rechecks.requests(source):
                yield request

    # -- feeds, sitemaps and listing pages -------------------------------------------

    def _index_request(
        self,
        source: Source,
        url: str,
        validators: fetch_state.Validators | None,
        depth: int,
        read_as: str,
    ) -> scrapy.Request:
        return index_request(source, url, validators, depth, read_as).replace(
            callback=self.parse_index, errback=self.index_failed
        )

    def parse_index(self, response: Response) -> Iterator[scrapy.Request]:
        source = self.run_state.source(response.meta)
        recorder = self.context.recorder
        recorder.index_fetched(source.name, response.status)
        fetch = {
            "url": response.request.url,
            "source_id": self.context.source_ids[source.name],
            "status": response.status,
            "etag": _header(response, "ETag"),
            "last_modified": _header(response, "Last-Modified"),
        }
        self._endpoint_outcome(source, response, ok=True)
        if response.status == 304:
            self.writes.add(partial(fetch_state.note_fetch, **fetch))
            return
        read_as = response.meta[READ_AS]
        if read_as == "homepage":
            yield from map(self._discovery_request, self.sites.homepage(source, response))
            return
        self.run_state.keep_validators(fetch, response.meta)
        try:
            links, sitemaps = self._read_index(source, read_as, response)
        except (MalformedFeed, MalformedSitemap, MalformedResults) as error:
            self._index_failure(source, response.url, "malformed", str(error))
            return
        if response.meta["depth"] < MAX_SITEMAP_DEPTH:
            with self.context.sessions() as session:
                validators = fetch_state.validators_for(session, sitemaps)
            for url in sitemaps:
                yield self._index_request(
                    source, url, validators.get(url), response.meta["depth"] + 1, "sitemap"
                )
        yield from self._article_requests(source, links, way=read_as)

    def parse_candidate(self, response: Response) -> Iterator[scrapy.Request]:
        """An answer to what a site's discovery asked for (crawler.spiders.sites)."""
        source = self.run_state.source(response.meta)
        yield from map(self._discovery_request, self.sites.answered(source, response))

    def candidate_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request
        reason, detail = classify(failure.value)
        source = self.run_state.source(request.meta)
        yield from map(self._discovery_request, self.sites.failed(source, request, reason, detail))

    def _discovery_request(self, request: scrapy.Request) -> scrapy.Request:
        if CANDIDATE in request.meta:
            return request.replace(callback=self.parse_candidate, errback=self.candidate_failed)
        return request.replace(callback=self.parse_index, errback=self.index_failed)

    def _endpoint_outcome(self, source: Source, response: Response, *, ok: bool) -> None:
        """A site's remembered feed or sitemap worked or failed (forgotten after a few)."""
        if (
            source.kind != "site"
            or response.meta["depth"]
            or response.meta[READ_AS] not in ("feed", "sitemap")
        ):
            return
        source_id = self.context.source_ids[source.name]
        self.writes.add(partial(_endpoint_outcome, source_id, response.request.url, ok=ok))

    def _read_index(
        self, source: Source, read_as: str, response: Response
    ) -> tuple[list[Link], list[str]]:
        if read_as == "search":
            return read_results(source.provider or "", response.body, response.url), []
        if read_as == "feed":
            reading = read_feed(
                response.body, response.url, _header(response, "Content-Type"), _links(response)
            )
            if reading.warning:
                self.logger.warning("%s: %s: %s", source.name, response.url, reading.warning)
            # the WebSub hubs it advertises: the service subscribes to them
            source_id = self.context.source_ids[source.name]
            hubs = advertised_writes(source_id, response.url, reading.topic, reading.hubs)
            self.writes.add(*hubs)
            return reading.links, []
        if read_as == "sitemap":
            sitemap = read_sitemap(response.body, response.url)
            return _matching(sitemap.links, source.link_pattern), sitemap.sitemaps
        if not isinstance(response, scrapy.http.TextResponse):
            raise MalformedFeed(f"listing page is not text ({_header(response, 'Content-Type')})")
        links = read_listing(
            response.text,
            response.url,
            selector=source.link_selector,
            pattern=source.link_pattern,
        )
        return links, []

    def index_failed(self, failure: Failure) -> None:
        request = failure.request
        response = getattr(failure.value, "response", None)
        source = self.run_state.source(request.meta)
        status = response.status if response else None
        # A throttled or unavailable feed may say when to come back; the scheduler obeys.
        retry_after = _header(response, "Retry-After") if status in (429, 503) else None
        self.context.recorder.index_fetched(source.name, status, retry_after=retry_after)
        reason, detail = classify(failure.value)
        self._index_failure(source, request.url, reason, detail)
        if request.meta["depth"] == 0 and source.kind == "site":
            source_id = self.context.source_ids[source.name]
            self.writes.add(partial(_endpoint_outcome, source_id, request.url, ok=False))

    def _index_failure(self, source: Source, url: str, reason: str, detail: str) -> None:
        self.context.recorder.failed(source.name, url, reason, detail, index=True)

    # -- articles ----------------------------------------------------------------------

    def _article_requests(
        self, source: Source, links: list[Link], *, way: str
    ) -> Iterator[scrapy.Request]:
        published: dict[str, Pending] = {}
        for link in links:
            url = request_url(link.url)
            if url is None:
                continue
            try:
                key = canonical_url(url)
            except ValueError:  # a malformed port and the like: not a link to anything
                continue
            if key not in published:
                published[key] = Pending(key, url, link.hints.to_json())
        self.context.recorder.links_found(source.name, len(published))
        source_id = self.context.source_ids[source.name]
        with self.context.sessions() as session:
            known = articles.known_urls(session, published)
            known |= backlog.held(session, (key for key in published if key not in known))
        fresh = self.run_state.not_requested([key for key in published if key not in known])
        taken = self.run_state.take_budget(source, len(fresh))
        # The feed's sightings and the links over the cap, in one transaction (FeedWrites)
        later = [published[key] for key in fresh[taken:]]
        self.writes.add(
            partial(sightings.record, source_id=source_id, way=way, keys=list(published)),
            partial(backlog.defer, source_id=source_id, links=later, now=utcnow()),
        )
        for key in fresh[:taken]:
            yield self._article_request(article_request(source, published[key]))

    def _article_request(self, request: scrapy.Request) -> scrapy.Request:
        return request.replace(callback=self.parse_article, errback=self.article_failed)

    def parse_article(self, response: Response) -> Iterator[ArticlePage]:
        source = self.run_state.source(response.meta)
        content_type = _header(response, "Content-Type") or ""
        if content_type.split(";")[0].strip().lower() not in HTML_TYPES:
            detail = f"not an HTML page ({content_type or 'no Content-Type'})"
            self.context.recorder.failed(source.name, response.url, "content_type", detail)
            self.link_failed(source.name, pending(response.meta), "content_type", detail)
            return
        if source.kind == "search" and wrapped(source.provider or "", response.url, source.urls[0]):
            self._unresolved(source, response)
            return
        self.context.recorder.article_fetched(source.name)
        encoding = response.headers.get(b"Content-Type", b"").decode("latin-1")
        charset = re.search(r"charset=([\w.:-]+)", encoding, re.I)
        yield ArticlePage(
            source=source.name,
            link_url=response.meta[LINK],
            link_key=response.meta[KEY],
            final_url=response.url,
            body=response.body,
            declared_encoding=charset[1] if charset else None,
            hints=FeedHints.from_json(response.meta[HINTS]),
            language_hint=source.language,
            status=response.status,
            headers=_header_pairs(response),
            fetched_at=utcnow(),
        )

    def _unresolved(self, source: Source, response: Response) -> None:
        """A search result's link led to the provider's own page, not the outlet's: kept
        with the title and outlet the provider gave, so the hit is not silently lost."""
        hints = FeedHints.from_json(response.meta[HINTS])
        detail = (
            f"{source.provider} link did not lead to the outlet's page "
            f"(title: {hints.title or '?'}; outlet: {hints.site_name or '?'})"
        )
        self.context.recorder.failed(source.name, response.meta[LINK], "unresolved", detail)
        self.link_failed(source.name, pending(response.meta), "unresolved", detail)

    def article_failed(self, failure: Failure) -> None:
        request = failure.request
        source = self.run_state.source(request.meta)
        reason, detail = classify(failure.value)
        response = getattr(failure.value, "response", None)
        self.context.recorder.failed(source.name, request.url, reason, detail)
        status = response.status if response else None
        self.link_failed(source.name, pending(request.meta), reason, detail, status)

    def link_failed(
        self, source: str, link: Pending, reason: str, detail: str, status: int | None = None
    ) -> None:
        """Schedule another try of an article link, or give it up (crawler.backlog)."""
        self.backlog.failed(source, self.context.source_ids[source], link, reason, detail, status)


def _endpoint_outcome(source_id: int, url: str, session: Session, *, ok: bool) -> None:
    endpoints.outcome(session, source_id, url, ok=ok)


def _header_pairs(response: Response) -> tuple[tuple[str, str], ...]:
    """Every response header as received, as (name, value) pairs (a repeated header once
    per value), with the Content-Encoding that decoding the body removed (wire_coding)."""
    pairs = tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    )
    # Scrapy keeps the header only when it could not decode the body: then it is there.
    coding = () if b"Content-Encoding" in response.headers else response.meta.get(WIRE_CODING, ())
    return pairs + tuple(("Content-Encoding", value) for value in coding)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _links(response: Response) -> str | None:
    values = response.headers.getlist("Link")
    return ", ".join(value.decode("latin-1") for value in values) or None


def _matching(links: list[Link], pattern: str | None) -> list[Link]:
    if not pattern:
        return links
    wanted = re.compile(pattern)
    return [link for link in links if wanted.search(link.url)]
