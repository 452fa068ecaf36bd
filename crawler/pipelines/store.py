"""Store each article once, in its story, and commit before it counts as done."""

from __future__ import annotations

from scrapy.crawler import Crawler

from crawler import items, placement


class StorePipeline:
    def __init__(self, crawler: Crawler):
        context = crawler.spider.context
        self.sessions = context.sessions
        self.source_ids = context.source_ids
        self.recorder = context.recorder

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, article: items.Article) -> items.Article:
        if article.recheck is not None:  # a stored article fetched again: VersionPipeline's
            return article
        with self.sessions() as session:
            stored = placement.add_article(session, self.source_ids[article.source], article)
        # Counted only after the commit inside add_article: a crash before it loses
        # nothing that was reported stored.
        self.recorder.stored(article.source, stored.outcome)
        return article
