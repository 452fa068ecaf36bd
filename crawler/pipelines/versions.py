"""A re-fetched article, extracted, becomes its next version when it changed."""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler

from crawler import items
from crawler.storage import versions
from crawler.storage.models.base import utcnow
from crawler.versions import EDITED, REDIRECTED, Snapshot

log = logging.getLogger("newswatch.crawl")


class VersionPipeline:
    """Articles of re-checks (items.Recheck) are compared here; other articles pass on."""

    def __init__(self, crawler: Crawler):
        context = crawler.spider.context
        self.sessions = context.sessions
        self.after = context.options.recheck_after

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> VersionPipeline:
        return cls(crawler)

    def process_item(self, article: items.Article) -> items.Article:
        recheck = article.recheck
        if recheck is None:
            return article
        seen = Snapshot(
            article.title, article.author, article.published_at, article.text, article.final_url
        )
        now = utcnow()
        # The version and the validators in one transaction: validators saved without the
        # version would turn the next re-fetch into a 304 and lose the edit.
        with self.sessions() as session:
            number = versions.observe(
                session,
                recheck.article_id,
                seen,
                REDIRECTED if recheck.moved else EDITED,
                recheck.status,
                now,
            )
            versions.checked(
                session,
                recheck.article_id,
                self.after,
                now,
                status=recheck.status,
                etag=recheck.etag,
                last_modified=recheck.last_modified,
            )
            session.commit()
        if number:
            log.info(
                "%s: article #%d changed: version %d", article.source, recheck.article_id, number
            )
        return article
