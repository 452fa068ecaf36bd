"""The discovery spider: fetch what each site's SiteDiscovery asks for, through the crawl's
own middlewares (the private-address guard with the homepage's source, robots.txt, size
limits, politeness).

robots.txt is not fetched twice: the robots middleware has just read it for the homepage
and keeps it in the database (crawler.storage.robots), so its `Sitemap:` lines are taken
from there; only when no fresh copy is stored (robots.txt not obeyed) is it requested.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from sqlalchemy.orm import Session, sessionmaker
from twisted.python.failure import Failure

from crawler.discovery.homepage import Candidate
from crawler.discovery.site import ROBOTS, SiteDiscovery, SiteReport
from crawler.failures import classify
from crawler.middlewares.private_addresses import guard_meta
from crawler.middlewares.robots import origin_of
from crawler.sources import Source
from crawler.storage import robots
from crawler.storage.models.base import utcnow
from crawler.urls import host_of

# Answers a probe judges itself (Scrapy would drop them); redirects are still followed.
ERROR_STATUSES = list(range(400, 600))
SITE, CANDIDATE = "discovery_site", "discovery_candidate"  # request meta keys


@dataclass(frozen=True)
class DiscoveryContext:
    """What the spider needs (passed in, never global); it fills `reports`."""

    homepages: tuple[str, ...]
    sessions: sessionmaker[Session]  # the robots.txt cache (crawler.middlewares.robots)
    reports: dict[str, SiteReport] = field(default_factory=dict)


def site_source(homepage: str) -> Source:
    """The source a homepage's requests are made for: the guard exempts its host only."""
    return Source(name=host_of(homepage) or homepage, kind="site", urls=(homepage,))


def candidate_request(source: Source, candidate: Candidate) -> scrapy.Request:
    """A candidate's request, without callbacks: error answers reach the callback too."""
    meta: dict[str, Any] = {"handle_httpstatus_list": ERROR_STATUSES, **guard_meta(source)}
    if candidate.kind == ROBOTS:
        meta["dont_obey_robotstxt"] = True
    return scrapy.Request(candidate.url, dont_filter=True, meta=meta)


def stored_robots(sessions: sessionmaker[Session], url: str) -> tuple[int, bytes] | None:
    """(status, body) of the robots.txt at `url` from the crawl's cache, when fresh there."""
    with sessions() as session:
        stored = robots.read(session, origin_of(scrapy.Request(url)))
    if stored is None or not stored.status or not stored.expires_at:
        return None
    if stored.expires_at <= utcnow():
        return None
    return stored.status, stored.body or b""


class DiscoverySpider(scrapy.Spider):
    name = "discovery"

    def __init__(self, context: DiscoveryContext, **kwargs: Any):
        super().__init__(**kwargs)
        self.context = context
        self.sites = {page: SiteDiscovery(page) for page in context.homepages}
        self.sources = {page: site_source(page) for page in context.homepages}

    def closed(self, reason: str) -> None:
        for page, site in self.sites.items():
            self.context.reports[page] = site.report()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for page, site in self.sites.items():
            for request in self._fetch(page, site.start()):
                yield request

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        page, candidate = response.meta[SITE], response.meta[CANDIDATE]
        header = response.headers.get("Content-Type")
        text = response.text if isinstance(response, TextResponse) else None
        following = self.sites[page].read(
            candidate,
            response.status,
            response.body,
            header.decode("latin-1") if header else None,
            response.url,
            text,
        )
        yield from self._fetch(page, following)

    def failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        page, candidate = failure.request.meta[SITE], failure.request.meta[CANDIDATE]
        reason, detail = classify(failure.value)
        if reason == "robots_unreachable":  # the middleware's sentence; its cause will do
            cached = self._robots_error(failure.request.url)
            detail = f"{cached} (reading robots.txt)" if cached else detail
        yield from self._fetch(page, self.sites[page].failed(candidate, reason, detail))

    def _fetch(self, page: str, candidates: list[Candidate]) -> Iterator[scrapy.Request]:
        site = self.sites[page]
        while candidates:
            candidate, *candidates = candidates
            cached = (
                stored_robots(self.context.sessions, candidate.url)
                if (candidate.kind == ROBOTS)
                else None
            )
            if cached:
                status, body = cached
                candidates += site.read(candidate, status, body, "text/plain", candidate.url)
                continue
            request = candidate_request(self.sources[page], candidate)
            yield request.replace(
                callback=self.parse,
                errback=self.failed,
                meta={**request.meta, SITE: page, CANDIDATE: candidate},
            )

    def _robots_error(self, url: str) -> str | None:
        with self.context.sessions() as session:
            stored = robots.read(session, origin_of(scrapy.Request(url)))
        return stored.error.rstrip(".") if stored and stored.error else None
