"""The spider of a cluster worker: NewsSpider fed by the shared queue, settling what it does.

It has no start requests: every request comes from the Redis queue, and it stays open when
the queue is empty. Requests carry their Source, so a worker crawls whatever the coordinator
queued without reading the same list of sources.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.cluster.ledger import PARENT, RUN, TOKEN, Ledger
from crawler.cluster.options import ClusterOptions
from crawler.cluster.wake import WakeUp
from crawler.items import ArticlePage
from crawler.sources import Source, article_cap
from crawler.spiders.news import CrawlContext, NewsSpider

SOURCE_DEF = "nw_source_def"  # request meta: the Source itself
SOURCE_ID = "nw_source_id"  # request meta: its database id


def source_meta(source: Source, source_id: int) -> dict[str, Any]:
    return {SOURCE_DEF: source, SOURCE_ID: source_id}


class ClusterRun:
    """A worker's part of the cluster's runs (NewsSpider's RunState): a source comes with
    each request, the shared duplicate filter decides what was requested, and validators
    wait in Redis until the coordinator closes the run."""

    def __init__(self, context: CrawlContext, ledger: Ledger):
        self.context = context
        self.ledger = ledger

    def source(self, meta: dict[str, Any]) -> Source:
        source = meta[SOURCE_DEF]
        # the recorder and the pipelines find the source's id here
        self.context.source_ids.setdefault(source.name, meta[SOURCE_ID])
        return source

    def take_budget(self, source: Source, wanted: int) -> int:
        # A worker sees one feed of a run at a time, and outlives runs: the cap holds per
        # feed response, as it did before runs spread over workers.
        return min(wanted, article_cap(source, self.context.options))

    def not_requested(self, keys: list[str]) -> list[str]:
        return keys  # the shared duplicate filter decides, for the whole cluster

    def keep_validators(self, fetch: dict[str, Any], meta: dict[str, Any]) -> None:
        self.ledger.redis.rpush(self.ledger.keys.run_fetches(meta[RUN]), json.dumps(fetch))

    def finished(self, reason: str) -> None:
        """Nothing to save: each run's validators are saved by the coordinator."""


class ClusterSpider(NewsSpider):
    name = "news"

    def __init__(
        self, context: CrawlContext, ledger: Ledger, cluster: ClusterOptions, **kwargs: Any
    ):
        super().__init__(context, run_state=ClusterRun(context, ledger), **kwargs)
        self.ledger = ledger
        self.cluster = cluster
        self.wake_up: WakeUp | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ClusterSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        ledger = spider.ledger
        spider.wake_up = WakeUp(crawler, lambda: ledger.redis.zcard(ledger.keys.queue) > 0)
        connect = crawler.signals.connect
        connect(spider._keep_open, signal=signals.spider_idle)
        connect(spider._item_done, signal=signals.item_scraped)
        connect(spider._item_done, signal=signals.item_dropped)
        connect(spider._item_done, signal=signals.item_error)
        connect(spider._callback_failed, signal=signals.spider_error)
        connect(spider._dropped, signal=signals.request_dropped)
        connect(spider._opened, signal=signals.spider_opened)
        connect(spider._closing, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        return  # work comes from the shared queue only
        yield  # pragma: no cover - makes this an async generator

    # -- what a request is for -------------------------------------------------------------

    def parse_index(self, response: Response) -> Iterator[scrapy.Request]:
        source = self.run_state.source(response.meta)
        children = []
        for request in super().parse_index(response):
            if request.callback == self.parse_article:
                # Through the shared filter: two workers reading two feeds that link one
                # article fetch it once.
                request = request.replace(dont_filter=False)
            request.meta.update(source_meta(source, response.meta[SOURCE_ID]))
            children.append(request)
        meta = response.meta
        self.ledger.admit([child.meta for child in children], meta[RUN], parent=meta[TOKEN])
        self.ledger.expect_children(meta, len(children))
        yield from children

    def index_failed(self, failure: Failure) -> None:
        try:
            super().index_failed(failure)
        finally:
            self.ledger.settle(failure.request.meta)

    def parse_article(self, response: Response) -> Iterator[ArticlePage]:
        pages = list(super().parse_article(response))
        if not pages:  # not HTML: recorded as a failure, nothing goes down the pipelines
            self.ledger.settle(response.meta)
        yield from pages

    def article_failed(self, failure: Failure) -> None:
        try:
            super().article_failed(failure)
        finally:
            self.ledger.settle(failure.request.meta)

    # -- signals ---------------------------------------------------------------------------

    def _item_done(self, item: Any, response: Response, **_: Any) -> None:
        self.ledger.settle(response.meta)  # stored, or its failure recorded

    def _callback_failed(self, failure: Failure, response: Response, **_: Any) -> None:
        self.logger.error("%s: %s", response.url, failure.getErrorMessage())
        self.ledger.settle(response.meta)

    def _dropped(self, request: scrapy.Request, **_: Any) -> None:
        """The shared filter refused a request: another worker has it."""
        parent = request.meta.pop(PARENT, None)
        self.ledger.settle(request.meta)
        if parent:
            self.ledger.child_queued(parent)

    def _keep_open(self) -> None:
        raise DontCloseSpider("waiting for queued requests")

    def _opened(self, spider: scrapy.Spider) -> None:
        if self.wake_up is not None:
            self.wake_up.start()

    def _closing(self, spider: scrapy.Spider, reason: str) -> None:
        if self.wake_up is not None:
            self.wake_up.stop()
        returned = self.ledger.leave()
        self.logger.info(
            "worker %s stopped (%s); %d requests went back to the queue",
            self.ledger.worker_id,
            reason,
            returned,
        )
