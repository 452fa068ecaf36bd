"""scrapy-redis's shared priority queue and duplicate filter, made safe to kill a worker.

scrapy-redis pops a request out of Redis for good: a worker killed with it loses it. Here
a pop moves the request into the worker's in-flight hash instead (see ledger.py), and the
filter's fingerprints expire, so a link whose fetch failed is tried again on a later poll.
"""

from __future__ import annotations

import logging
import random

import scrapy
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue

from crawler.cluster.ledger import PARENT, TOKEN, Ledger

log = logging.getLogger("newswatch.cluster")


def queue_score(priority: int) -> float:
    """A request's place in the shared queue: by priority, and at random among equals.

    Equal scores would come out in byte order of the serialized requests, which begin with
    the URL: every article of one site in a row, each waiting for that site's politeness
    turn while other sites idle. A random fraction interleaves the sites instead.
    """
    return -priority + random.random() * 0.999


class ReliableQueue(PriorityQueue):
    """The queue every worker pushes to and pops from; set as SCHEDULER_QUEUE_CLASS."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.ledger: Ledger = spider.ledger

    def push(self, request: scrapy.Request) -> None:
        parent = request.meta.pop(PARENT, None)  # counted once, not again by a retry
        data = self._encode_request(request)
        with self.server.pipeline() as pipe:
            pipe.zadd(self.key, {data: queue_score(request.priority)})
            self.ledger.superseded(request.meta, pipe)
            pipe.execute()
        if parent:
            self.ledger.child_queued(parent)

    def pop(self, timeout: int = 0) -> scrapy.Request | None:
        data = self.ledger.take(self.key)
        if data is None:
            return None
        try:
            request = self._decode_request(data)
        except Exception as error:  # written by an incompatible version: unusable anywhere
            log.error("cluster: dropped a queued request that cannot be read: %s", error)
            self.ledger.forget(data)
            return None
        if TOKEN in request.meta:
            self.ledger.hold(request.meta[TOKEN], data)
        return request


class ExpiringDupeFilter(RFPDupeFilter):
    """scrapy-redis's shared filter, with fingerprints that expire after the dedupe window."""

    def __init__(self, server, key, debug=False, window: float = 3600.0):
        super().__init__(server, key, debug)
        self.window_ms = max(int(window * 1000), 1)

    @classmethod
    def from_spider(cls, spider):
        settings = spider.settings
        return cls(
            get_redis_from_settings(settings),
            key=settings.get("SCHEDULER_DUPEFILTER_KEY"),
            debug=settings.getbool("DUPEFILTER_DEBUG"),
            window=settings.getfloat("NEWSWATCH_DEDUPE_WINDOW", 3600.0),
        )

    def request_seen(self, request: scrapy.Request) -> bool:
        # A retry or redirect continues a request that passed the filter already; a
        # redirect loop must reach the redirect limit and be reported, not vanish here.
        if request.meta.get("retry_times") or request.meta.get("redirect_times"):
            return False
        fingerprint = self.request_fingerprint(request)
        added = self.server.set(f"{self.key}:{fingerprint}", 1, nx=True, px=self.window_ms)
        return not added

    def clear(self) -> None:
        """Nothing to clear: fingerprints expire, and other workers still rely on them."""
