"""Sources given as a homepage (`kind = "site"`): discover their feeds and sitemaps, once.

On a site's first run (or once all its remembered endpoints stopped working) the spider
reads its homepage, and crawler.discovery.site decides what to fetch next — robots.txt's
`Sitemap:` lines (from the robots.txt cache), each advertised feed, the parts of a sitemap
index, the usual paths where nothing else worked — exactly as `newswatch discover` does.
When it is done, the endpoints it chooses are remembered (crawler.storage.endpoints) and
read at once like any feed or sitemap, so the first run already stores the site's articles;
later runs read them directly.
"""

from __future__ import annotations

from collections.abc import Iterator

import scrapy
from scrapy.http import Response, TextResponse
from sqlalchemy.orm import Session, sessionmaker

from crawler.discovery.choice import choose
from crawler.discovery.homepage import Candidate
from crawler.discovery.site import ROBOTS, SiteDiscovery
from crawler.discovery.spider import candidate_request, stored_robots
from crawler.recorder import Recorder
from crawler.sources import Source
from crawler.spiders.requests import index_request
from crawler.storage import endpoints

CANDIDATE = "candidate"  # request meta: the Candidate a request fetches


class SiteSources:
    def __init__(
        self, sessions: sessionmaker[Session], source_ids: dict[str, int], recorder: Recorder
    ):
        self._sessions = sessions
        self._source_ids = source_ids
        self._recorder = recorder
        self._sites: dict[str, SiteDiscovery] = {}  # by source name, while discovering

    def homepage(self, source: Source, response: Response) -> Iterator[scrapy.Request]:
        """The homepage was read: what discovery fetches next (without callbacks)."""
        site = self._sites[source.name] = SiteDiscovery(source.urls[0])
        (first,) = site.start()
        yield from self._next(source, site.read(first, *_answer(response)))

    def answered(self, source: Source, response: Response) -> Iterator[scrapy.Request]:
        site = self._sites[source.name]
        yield from self._next(source, site.read(response.meta[CANDIDATE], *_answer(response)))

    def failed(
        self, source: Source, request: scrapy.Request, reason: str, detail: str
    ) -> Iterator[scrapy.Request]:
        site = self._sites[source.name]
        yield from self._next(source, site.failed(request.meta[CANDIDATE], reason, detail))

    def _next(self, source: Source, candidates: list[Candidate]) -> Iterator[scrapy.Request]:
        site = self._sites[source.name]
        while candidates:
            candidate, *candidates = candidates
            cached = (
                stored_robots(self._sessions, candidate.url) if (candidate.kind == ROBOTS) else None
            )
            if cached:  # the robots middleware has just read it for the homepage
                candidates += site.read(candidate, *cached, "text/plain", candidate.url)
                continue
            request = candidate_request(source, candidate)
            request.meta.update({"source": source.name, CANDIDATE: candidate})
            yield request
        if site.done:
            yield from self._chosen(source, self._sites.pop(source.name))

    def _chosen(self, source: Source, site: SiteDiscovery) -> Iterator[scrapy.Request]:
        report = site.report()
        chosen = choose(list(report.probes))
        if not chosen:
            problem = report.problem or "no feed or sitemap found"
            self._recorder.failed(
                source.name,
                source.urls[0],
                "discovery",
                f"{problem} at {source.urls[0]} (see `newswatch discover {source.urls[0]}`)",
                index=True,
            )
            return
        with self._sessions() as session:
            for found, why in chosen:
                how = f"{found.candidate.how}; {why}"
                endpoints.remember(
                    session, self._source_ids[source.name], found.url, found.kind or "feed", how
                )
            session.commit()  # all of a site's endpoints at once
        for found, _ in chosen:
            yield index_request(source, found.url, None, depth=0, read_as=found.kind)


def _answer(response: Response) -> tuple[int, bytes, str | None, str, str | None]:
    """What SiteDiscovery.read takes of a response after its candidate."""
    header = response.headers.get("Content-Type")
    text = response.text if isinstance(response, TextResponse) else None
    return (
        response.status,
        response.body,
        header.decode("latin-1") if header else None,
        response.url,
        text,
    )
