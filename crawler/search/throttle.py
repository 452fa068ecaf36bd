"""AutoThrottle that never lets a host go faster than its DOWNLOAD_SLOTS delay.

Scrapy's AutoThrottle moves every slot's delay toward the server's latency, down to
DOWNLOAD_DELAY, whatever delay DOWNLOAD_SLOTS gave that slot: after a few fast answers a
provider with a rate limit (GDELT: one request per 5 s) would be asked far more often than
it allows, and answer 429. Here a slot's configured delay is its floor.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class RateLimitedAutoThrottle(AutoThrottle):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        slots: dict[str, dict[str, Any]] = crawler.settings.getdict("DOWNLOAD_SLOTS")
        self.floors = {key: float(slot["delay"]) for key, slot in slots.items() if "delay" in slot}

    def _response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        super()._response_downloaded(response, request, spider)
        key, slot = self._get_slot(request, spider)
        floor = self.floors.get(key or "")
        if slot is not None and floor is not None and slot.delay < floor:
            slot.delay = floor
