"""Scrapy settings for a crawl, built from CrawlOptions; the component order lives here."""

from __future__ import annotations

from typing import Any

from crawler.search import RATE_LIMITS
from crawler.sources import CrawlOptions

PIPELINES = {
    "crawler.pipelines.extract.ExtractPipeline": 100,
    "crawler.pipelines.versions.VersionPipeline": 150,
    "crawler.pipelines.store.StorePipeline": 200,
}
DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt, so nothing at all is requested from a refused private host.
    "crawler.middlewares.private_addresses.PrivateAddressGuard": 50,
    # robots.txt read once per site for every crawl process sharing the database.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.CachedRobotsTxtMiddleware": 100,
    # The same redirect, without decoding every whole page to find it (memory).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.meta_refresh.HeadMetaRefreshMiddleware": 580,
    # The Content-Encoding a page was sent with, kept with its capture (crawler.capture).
    "crawler.middlewares.wire_coding.WireCodingMiddleware": 595,
}
EXTENSIONS = {
    # Keeps the news-search providers' rate limits (DOWNLOAD_SLOTS) as AutoThrottle's floor.
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.search.throttle.RateLimitedAutoThrottle": 0,
    # An HTTP server on localhost that runs Python code sent to it, on by default since
    # Scrapy 2.19: not in a crawler that may run on a shared machine (and it imports aiohttp).
    "scrapy.extensions.remote_control.RemoteControl": None,
}


def provider_slots() -> dict[str, dict[str, Any]]:
    """One download slot per news-search provider host: one request at a time, at least its
    rate limit apart, with no random jitter that could bring two requests closer."""
    return {
        host: {"delay": delay, "concurrency": 1, "jitter": 0.0}
        for host, delay in RATE_LIMITS.items()
    }


def scrapy_settings(options: CrawlOptions) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "BOT_NAME": "newswatch",
        "USER_AGENT": options.user_agent,
        "ROBOTSTXT_OBEY": options.obey_robots,
        "CONCURRENT_REQUESTS": options.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": options.per_domain_concurrency,
        "DOWNLOAD_DELAY": options.download_delay,
        "AUTOTHROTTLE_ENABLED": options.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(options.download_delay, 0.01),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(options.per_domain_concurrency),
        "DOWNLOAD_TIMEOUT": options.download_timeout,
        # Also bounds decompressed bodies (compression bombs, CVE-2025-6176).
        "DOWNLOAD_MAXSIZE": options.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": options.retries > 0,
        "RETRY_TIMES": options.retries,
        "REDIRECT_MAX_TIMES": 10,
        # Scrapy starts this many asyncio tasks per response to work through its output;
        # an article page yields one item, so the default 100 is pure overhead.
        "CONCURRENT_ITEMS": 8,
        # Scrapy stops downloading while the pages waiting for the pipelines add up to
        # more than this; at the default 5 MB a few real news pages in the extraction
        # pool already stall the downloader.
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": max(50_000_000, 10 * options.max_page_bytes),
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOGSTATS_INTERVAL": 0,
        "ITEM_PIPELINES": PIPELINES,
        "DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES,
        "EXTENSIONS": EXTENSIONS,
        "DOWNLOAD_SLOTS": provider_slots(),
        "LOG_LEVEL": options.log_level,
    }
    extra = dict(options.extra_scrapy_settings)
    # Extra slots are added to the providers' (or replace one of them), not instead of them.
    slots = extra.pop("DOWNLOAD_SLOTS", None)
    settings.update(extra)
    if slots is not None:
        settings["DOWNLOAD_SLOTS"] = {**settings["DOWNLOAD_SLOTS"], **slots}
    return settings
