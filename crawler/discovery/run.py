"""Run one discovery crawl of some homepages in this process, as crawler.run runs a crawl."""

from __future__ import annotations

from collections.abc import Sequence

from scrapy.crawler import CrawlerProcess

from crawler.discovery.site import SiteReport
from crawler.discovery.spider import DiscoveryContext, DiscoverySpider
from crawler.settings import scrapy_settings
from crawler.sources import CrawlOptions
from crawler.storage.engine import open_engine, sessions


def discover(
    homepages: Sequence[str], options: CrawlOptions, database_url: str
) -> list[SiteReport]:
    """Find, fetch and probe each homepage's feeds and sitemaps; one report per homepage.

    The crawl's own settings apply (robots.txt, politeness, size limits, the private-address
    guard); the database holds the shared robots.txt cache. Starts Twisted's reactor, which
    cannot be restarted: call this once per process.
    """
    pages = tuple(dict.fromkeys(homepages))
    engine = open_engine(database_url)
    try:
        context = DiscoveryContext(homepages=pages, sessions=sessions(engine))
        settings = {
            **scrapy_settings(options),
            "ITEM_PIPELINES": {},  # discovery stores no articles
            "LOG_INSTALL_ROOT_HANDLER": False,  # logging is the application's to set up
        }
        process = CrawlerProcess(settings)
        process.crawl(DiscoverySpider, context=context)
        process.start()
        return [context.reports[page] for page in pages]
    finally:
        engine.dispose()
