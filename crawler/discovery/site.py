"""Pure: one site's discovery step by step — what to fetch next, given what was fetched.

The homepage first: the feeds it advertises and its language; robots.txt for `Sitemap:`
lines; each candidate probed, and a sitemap index's parts (news sitemaps first). Only when
nothing is left in flight and a kind (feed, sitemap) still has no usable candidate are its
usual paths asked for, so a site that says where its feeds are is asked for nothing more.

The caller does the fetching (crawler.discovery.spider; the news spider for `kind = "site"`
sources): every method returns the candidates to fetch next, and each of them must come
back through `read` or `failed` (a robots.txt may come from a cache instead of a fetch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from crawler.discovery.choice import is_comments
from crawler.discovery.homepage import (
    Candidate,
    advertised,
    page_language,
    robots_sitemaps,
    usual_paths,
)
from crawler.discovery.probe import Probe, failed, probe

HOMEPAGE, ROBOTS = "homepage", "robots"  # Candidate kinds of the two fixed steps
# A homepage failing like this (crawler.failures reasons) means nothing else on the site
# can be fetched either.
UNREACHABLE = frozenset({"dns", "connection", "timeout", "robots_unreachable", "private_address"})
MAX_PARTS = 4  # parts of a sitemap index probed (news sitemaps first)
MAX_INDEX_DEPTH = 2
_NEWSY = re.compile(r"news", re.I)


@dataclass(frozen=True)
class SiteReport:
    """What discovery found for one homepage."""

    homepage: str  # as given
    final_url: str | None  # the homepage after redirects; None when it could not be read
    language: str | None  # the homepage's
    problem: str | None  # the homepage's ("connection refused", "HTTP 500"), None when read
    reachable: bool  # False: the site could not be reached at all, nothing was probed
    probes: tuple[Probe, ...]


class SiteDiscovery:
    def __init__(self, homepage: str):
        self.homepage = homepage
        self.final_url: str | None = None
        self.language: str | None = None
        self.problem: str | None = None
        self.reachable = True
        self.probes: list[Probe] = []
        self._asked: dict[str, int] = {}  # URL → order asked, so the report keeps that order
        self._depth: dict[str, int] = {}  # of sitemap index parts
        self._pending = 0
        self._tried_usual: set[str] = set()

    @property
    def done(self) -> bool:
        return self._pending == 0

    def start(self) -> list[Candidate]:
        return self._ask([Candidate(self.homepage, HOMEPAGE, "given")])

    def read(
        self,
        candidate: Candidate,
        status: int,
        body: bytes,
        content_type: str | None,
        final_url: str,
        text: str | None = None,  # the body decoded as the fetcher saw fit (a homepage's)
    ) -> list[Candidate]:
        """An answer to a candidate that was asked for (any status)."""
        self._pending -= 1
        if candidate.kind == HOMEPAGE:
            return self._homepage(status, body, content_type, final_url, text) + self._settle()
        if candidate.kind == ROBOTS:
            found = body.decode("utf-8", "replace") if 200 <= status < 300 else ""
            return self._ask(robots_sitemaps(found, final_url)) + self._settle()
        result = probe(candidate, status, body, content_type, final_url)
        self.probes.append(result)
        depth = self._depth.get(candidate.url, 0)
        parts: list[Candidate] = []
        if result.children and result.problem is None and depth < MAX_INDEX_DEPTH:
            how = f"a part of the sitemap index {result.url}"
            ordered = sorted(result.children, key=lambda url: not _NEWSY.search(url))
            parts = [Candidate(url, "sitemap", how, via=result.url) for url in ordered]
            parts = self._ask(parts[:MAX_PARTS])
            self._depth.update((part.url, depth + 1) for part in parts)
        return parts + self._settle()

    def failed(self, candidate: Candidate, reason: str, detail: str) -> list[Candidate]:
        """A candidate that got no answer: `reason` and `detail` as crawler.failures.classify."""
        self._pending -= 1
        if candidate.kind == HOMEPAGE:
            self.problem = detail
            if reason in UNREACHABLE:
                self.reachable = False
                return []
            # Refused by robots.txt, say: its Sitemap: lines and the usual paths may still do.
            return self._ask([self._robots(self.homepage)]) + self._settle()
        if candidate.kind != ROBOTS:
            self.probes.append(failed(candidate, detail))
        return self._settle()

    def report(self) -> SiteReport:
        probes = sorted(self.probes, key=lambda p: self._asked.get(p.candidate.url, 0))
        problem = self.problem
        if not self.done and self.reachable and problem is None:
            problem = "discovery stopped before it was done"
        return SiteReport(
            self.homepage, self.final_url, self.language, problem, self.reachable, tuple(probes)
        )

    def _homepage(
        self, status: int, body: bytes, content_type: str | None, final_url: str, text: str | None
    ) -> list[Candidate]:
        self.final_url = final_url
        media = (content_type or "text/html").split(";")[0].strip().lower()
        candidates: list[Candidate] = []
        if status >= 400:
            self.problem = f"HTTP {status}"
        elif media not in ("text/html", "application/xhtml+xml"):
            self.problem = f"not an HTML page ({media})"
        else:
            html = text if text is not None else body.decode("utf-8", "replace")
            candidates = advertised(html, final_url)
            self.language = page_language(html)
        return self._ask([*candidates, self._robots(final_url)])

    def _robots(self, page: str) -> Candidate:
        return Candidate(urljoin(page, "/robots.txt"), ROBOTS, "robots.txt")

    def _settle(self) -> list[Candidate]:
        """Once nothing is in flight: the usual paths of a kind still without a usable one."""
        if self._pending or not self.reachable:
            return []
        page = self.final_url or self.homepage
        asked: list[Candidate] = []
        for kind in ("feed", "sitemap"):
            if kind in self._tried_usual or any(_usable(p, kind) for p in self.probes):
                continue
            self._tried_usual.add(kind)
            asked += self._ask(usual_paths(page, feeds=kind == "feed", sitemaps=kind == "sitemap"))
        return asked

    def _ask(self, candidates: list[Candidate]) -> list[Candidate]:
        fresh = []
        for candidate in candidates:
            if candidate.url not in self._asked:
                self._asked[candidate.url] = len(self._asked)
                fresh.append(candidate)
        self._pending += len(fresh)
        return fresh


def _usable(found: Probe, kind: str) -> bool:
    return found.kind == kind and found.problem is None and not is_comments(found)
