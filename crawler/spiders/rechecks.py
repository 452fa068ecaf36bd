"""Re-checks: matched articles fetched again on a schedule, so their edits become versions.

They run inside the crawl of the article's source, as ordinary requests of the one
spider: robots.txt, per-site politeness, the private-address guard, size and time limits
and Scrapy's retries all apply. Each asks with the validators of the previous re-fetch
(conditional GET) at the address the article was fetched from. A page goes through the
same extraction as a new article, then to crawler.pipelines.versions instead of storage;
a 304 changes nothing; a 404 or 410 is a removal; a transient failure is tried again after
`[crawl] retry_schedule`, like an article link's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from sqlalchemy.orm import Session, sessionmaker
from twisted.python.failure import Failure

from crawler.failures import classify, is_transient, next_attempt
from crawler.items import ArticlePage, FeedHints, Recheck
from crawler.middlewares.private_addresses import guard_meta
from crawler.sources import CrawlOptions, Source, article_cap
from crawler.storage import versions
from crawler.storage.models.base import utcnow
from crawler.urls import canonical_url
from crawler.versions import REDIRECTED, REMOVED, Snapshot

log = logging.getLogger("newswatch.crawl")

RECHECK = "newswatch_recheck"  # request meta: the article's id, key and hints (JSON)
GONE = (404, 410)
HTML_TYPES = ("text/html", "application/xhtml+xml")


class Rechecks:
    """Makes a source's due re-check requests and settles their answers."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source_ids: dict[str, int],
        options: CrawlOptions,
        source_of: Callable[[dict[str, Any]], Source],
    ):
        self._sessions = sessions
        self._source_ids = source_ids
        self._options = options
        self._source_of = source_of

    @property
    def after(self) -> tuple[float, ...]:
        return self._options.recheck_after

    def requests(self, source: Source) -> list[scrapy.Request]:
        """The source's due re-checks (watching newly matched articles first); at most the
        source's article cap per run, the rest stay due for the next."""
        if not self.after:
            return []
        source_id = self._source_ids[source.name]
        now = utcnow()
        with self._sessions() as session:
            if versions.watch_matched(session, source_id, self.after, now):
                session.commit()  # only then: a run with nothing new writes nothing more
            due = versions.due(session, source_id, now, article_cap(source, self._options))
        return [self._request(source, article) for article in due]

    def _request(self, source: Source, article: versions.Due) -> scrapy.Request:
        headers = {}
        if article.etag:
            headers["If-None-Match"] = article.etag
        if article.last_modified:
            headers["If-Modified-Since"] = article.last_modified
        hints = FeedHints(
            title=article.title, author=article.author, published_at=article.published_at
        )
        return scrapy.Request(
            article.url,
            headers=headers,
            dont_filter=True,
            priority=-10,  # after the run's new articles: those are what alerts wait for
            callback=self.parse,
            errback=self.failed,
            meta={
                "source": source.name,
                RECHECK: {
                    "article": article.article_id,
                    "key": article.key,
                    "hints": hints.to_json(),
                },
                "handle_httpstatus_list": [304, *GONE],
                **guard_meta(source),
            },
        )

    def parse(self, response: Response) -> Iterator[ArticlePage]:
        source = self._source_of(response.meta)
        recheck = response.meta[RECHECK]
        article_id, status = recheck["article"], response.status
        if status == 304:
            self._settle(article_id, status)
            return
        if status in GONE:
            self._settle(article_id, status, removed_at=response.url)
            return
        content_type = _header(response, "Content-Type") or ""
        if content_type.split(";")[0].strip().lower() not in HTML_TYPES:
            self._settle(article_id, status, error=f"not an HTML page ({content_type or '?'})")
            return
        charset = re.search(r"charset=([\w.:-]+)", content_type, re.I)
        # the address asked for: a redirect's response carries the last request
        requested = response.meta.get("redirect_urls", [response.request.url])[0]
        moved = _moved(requested, recheck["key"], response.url)
        yield ArticlePage(
            source=source.name,
            link_url=requested,
            link_key=recheck["key"],
            final_url=response.url,
            body=response.body,
            declared_encoding=charset[1] if charset else None,
            # what the article said, for what the page does not say: an unchanged field
            # the page never carried (a date only the feed gave) is no edit
            hints=FeedHints.from_json(recheck["hints"]),
            language_hint=source.language,
            recheck=Recheck(
                article_id,
                status,
                moved,
                _header(response, "ETag"),
                _header(response, "Last-Modified"),
            ),
        )

    def not_extracted(self, page: ArticlePage, detail: str) -> None:
        """A re-fetched page gave no article text: moved elsewhere, that is a version of its
        own (the redirect); otherwise no version, and the schedule goes on."""
        recheck = page.recheck
        assert recheck is not None
        now = utcnow()
        with self._sessions() as session:
            if recheck.moved:
                seen = Snapshot(None, None, None, None, page.final_url)
                versions.observe(session, recheck.article_id, seen, REDIRECTED, recheck.status, now)
            versions.checked(
                session, recheck.article_id, self.after, now, status=recheck.status, error=detail
            )
            session.commit()

    def failed(self, failure: Failure) -> None:
        """No answer to read: tried again later when the cause may pass, else given up."""
        request = failure.request
        article_id = request.meta[RECHECK]["article"]
        reason, detail = classify(failure.value)
        response = getattr(failure.value, "response", None)
        status = response.status if response is not None else None
        now = utcnow()
        with self._sessions() as session:
            tries = versions.attempts(session, article_id) + 1
            when = next_attempt(
                tries, is_transient(reason, status), now, self._options.retry_schedule
            )
            if when is None:
                versions.checked(session, article_id, self.after, now, status=status, error=detail)
            else:
                versions.retry_at(session, article_id, when, now, detail, status)
            session.commit()
        log.info("re-check of article #%d (%s): %s", article_id, request.url, detail)

    def _settle(
        self,
        article_id: int,
        status: int,
        *,
        removed_at: str | None = None,
        error: str | None = None,
    ) -> None:
        now = utcnow()
        with self._sessions() as session:
            if removed_at is not None:
                gone = Snapshot(None, None, None, None, removed_at)
                versions.observe(session, article_id, gone, REMOVED, status, now)
            versions.checked(session, article_id, self.after, now, status=status, error=error)
            session.commit()


def _moved(requested: str, key: str, final: str) -> bool:
    """Whether a redirect led to a page other than the article (its canonical URL differs)."""
    if final == requested:
        return False
    try:
        return canonical_url(final) not in (key, canonical_url(requested))
    except ValueError:
        return True


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
