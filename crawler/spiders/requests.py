"""The requests of a run: which documents list a source's links, and its backlog's turn.

Built without callbacks, so the single-process spider and the cluster's coordinator (which
queues them for workers) make exactly the same requests; each adds its own callbacks.
"""

from __future__ import annotations

from typing import Any

import scrapy
from sqlalchemy.orm import Session

from crawler.backlog import Backlog
from crawler.middlewares.private_addresses import guard_meta
from crawler.sources import Source
from crawler.storage import endpoints, fetch_state
from crawler.storage.backlog import Pending

# Request meta: how a response is read. feed | sitemap | listing | search: documents that
# list article links; homepage: a site's front page, whose feeds and sitemaps are found.
READ_AS = "read_as"
# Request meta of an article link: its canonical key, the address as published (kept
# across redirects) and what the feed said of it (FeedHints as JSON).
KEY, LINK, HINTS = "canonical", "link", "hints"


def first_requests(
    session: Session, source: Source, source_id: int, backlog: Backlog, budget: int
) -> tuple[list[scrapy.Request], int]:
    """A run's first requests for `source`, and how many article requests they spend.

    Its feeds, sitemaps or pages (a site's remembered endpoints, or its homepage when none
    works yet), then the links an earlier run left for later: those come first, whether
    or not a feed changed.
    """
    documents = _documents(session, source, source_id)
    validators = fetch_state.validators_for(session, [url for url, _ in documents])
    requests = [
        index_request(source, url, validators.get(url), depth=0, read_as=read_as)
        for url, read_as in documents
    ]
    due = backlog.due(session, source_id, budget)
    requests += [article_request(source, link) for link in due]
    return requests, len(due)


def _documents(session: Session, source: Source, source_id: int) -> list[tuple[str, str]]:
    if source.kind != "site":
        return [(url, source.kind) for url in source.urls]
    known = endpoints.for_source(session, source_id)
    if known:
        return [(endpoint.url, endpoint.kind) for endpoint in known]
    return [(url, "homepage") for url in source.urls]


def index_request(
    source: Source,
    url: str,
    validators: fetch_state.Validators | None,
    depth: int,
    read_as: str | None = None,
) -> scrapy.Request:
    """A feed, sitemap, listing, search or homepage request, without callbacks."""
    headers = {}
    # Conditional GET: an unchanged feed costs a 304 and no parsing.
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return scrapy.Request(
        url,
        headers=headers,
        dont_filter=True,
        priority=10,  # links before articles, so a run sees all its sources early
        meta={
            "source": source.name,
            "depth": depth,
            READ_AS: read_as or source.kind,
            "handle_httpstatus_list": [304],
            **guard_meta(source),
        },
    )


def article_request(source: Source, link: Pending) -> scrapy.Request:
    """An article request, without callbacks: to the link as published, keyed canonically."""
    return scrapy.Request(
        link.url,
        dont_filter=True,
        meta={
            "source": source.name,
            KEY: link.key,
            LINK: link.url,
            HINTS: link.hints,
            **guard_meta(source),
        },
    )


def pending(meta: dict[str, Any]) -> Pending:
    """The article link a request was made for."""
    return Pending(meta[KEY], meta[LINK], meta[HINTS])
