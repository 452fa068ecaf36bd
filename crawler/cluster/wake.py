"""Wake an idle worker's engine as soon as the shared queue has work for it.

Scrapy's engine pulls from its scheduler when a request ends, when a request is crawled,
and otherwise on a 5-second heartbeat: an idle worker would leave newly queued work
waiting up to 5 seconds. Scrapy has no public "look at the scheduler now" call, but
crawling a request is one: `engine.crawl()` always ends by scheduling the engine's next
pass. So the wake-up crawls a request that its own `request_scheduled` handler drops
(IgnoreRequest, documented for that signal) before it reaches the scheduler, the
duplicate filter or the downloader: only the engine's pass over the shared queue remains.
tests/test_cluster.py (an idle worker takes newly queued work at once) fails if a Scrapy
release stops honouring this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from twisted.internet.task import LoopingCall

log = logging.getLogger("newswatch.cluster")
WAKE_SECONDS = 0.2  # how often an idle worker looks for queued work


class WakeUp:
    """Every `every` seconds, have the engine pull queued work if there is some it can take."""

    def __init__(self, crawler: Crawler, has_work: Callable[[], bool], every: float = WAKE_SECONDS):
        self.crawler = crawler
        self.has_work = has_work
        self.every = every
        # Never downloaded, nor even scheduled: dropped by _drop_nudge.
        self.nudge = scrapy.Request("data:,", dont_filter=True)
        self._loop: LoopingCall | None = None
        crawler.signals.connect(self._drop_nudge, signal=signals.request_scheduled)

    def start(self) -> None:
        """Start looking (once the spider is open: a LoopingCall made earlier would install
        Twisted's default reactor before Scrapy installs the one it is configured with)."""
        self._loop = LoopingCall(self.look)
        self._loop.start(self.every, now=False).addErrback(
            lambda failure: log.error("cluster: wake-up loop failed: %s", failure.value)
        )

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def look(self) -> None:
        """Have the engine pull from the shared queue now, if it can take work and there is
        some."""
        engine = self.crawler.engine
        if engine is None or engine.needs_backout():
            return
        try:
            waiting = self.has_work()
        except Exception:  # Redis away for a moment: the heartbeat reports it
            return
        if waiting:
            engine.crawl(self.nudge)

    def _drop_nudge(self, request: scrapy.Request, **_: Any) -> None:
        if request is self.nudge:
            raise IgnoreRequest("wake-up only")
