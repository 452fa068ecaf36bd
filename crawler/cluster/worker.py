"""Run one cluster worker in this process until it is asked to stop (SIGTERM, Ctrl-C)."""

from __future__ import annotations

import contextlib
import logging

from redis import Redis
from redis.exceptions import RedisError
from scrapy.crawler import CrawlerProcess

from crawler.cluster.keys import ClusterKeys
from crawler.cluster.ledger import Heartbeat, Ledger
from crawler.cluster.options import ClusterOptions
from crawler.cluster.recorder import ClusterRecorder
from crawler.cluster.spider import ClusterSpider
from crawler.settings import scrapy_settings
from crawler.sources import CrawlOptions
from crawler.spiders.news import CrawlContext
from crawler.storage.engine import open_engine, sessions
from crawler.urls import without_password

log = logging.getLogger("newswatch.cluster")

# After robots.txt (100), whose own request needs a turn too, and last before the download,
# so the turn is taken just before the request goes out. Just: a worker whose event loop is
# busy (extraction in-process, extraction_workers = 0) may send it a little later.
POLITENESS_ORDER = 950


def cluster_scrapy_settings(options: CrawlOptions, cluster: ClusterOptions) -> dict:
    """A worker's Scrapy settings: the crawl's own, on scrapy-redis's scheduler."""
    keys = ClusterKeys(cluster.prefix)
    settings = scrapy_settings(options)
    settings.update(
        SCHEDULER="scrapy_redis.scheduler.Scheduler",
        SCHEDULER_QUEUE_CLASS="crawler.cluster.queue.ReliableQueue",
        SCHEDULER_QUEUE_KEY=keys.queue,
        DUPEFILTER_CLASS="crawler.cluster.queue.ExpiringDupeFilter",
        SCHEDULER_DUPEFILTER_KEY=keys.seen,
        SCHEDULER_PERSIST=True,  # the queue belongs to the cluster, not to this worker
        REDIS_URL=cluster.redis_url,
        NEWSWATCH_CLUSTER_PREFIX=cluster.prefix,
        NEWSWATCH_DEDUPE_WINDOW=cluster.dedupe_window,
        # The per-site delay is the cluster's (politeness.py). Scrapy's own delay and
        # AutoThrottle would wait again after the shared turn was taken and released
        # early, letting another worker start sooner than the delay.
        NEWSWATCH_SHARED_DELAY=options.download_delay,
        DOWNLOAD_DELAY=0,
        AUTOTHROTTLE_ENABLED=False,
        DOWNLOADER_MIDDLEWARES={
            **settings["DOWNLOADER_MIDDLEWARES"],
            "crawler.cluster.politeness.SharedPoliteness": POLITENESS_ORDER,
        },
    )
    return settings


def run_worker(
    options: CrawlOptions,
    cluster: ClusterOptions,
    database_url: str,
    *,
    worker_id: str | None = None,
) -> None:
    """Crawl from the shared queue until stopped. Starts Twisted's reactor: once a process."""
    engine = open_engine(database_url)
    redis = Redis.from_url(cluster.redis_url)
    try:
        redis.ping()  # unreachable: one clear error now, not a Scrapy traceback later
        session_factory = sessions(engine)
        ledger = Ledger(redis, ClusterKeys(cluster.prefix), worker_id)
        source_ids: dict[str, int] = {}
        context = CrawlContext(
            sources=(),
            options=options,
            sessions=session_factory,
            source_ids=source_ids,
            recorder=ClusterRecorder(redis, ledger.keys, session_factory, source_ids),
        )
        settings = cluster_scrapy_settings(options, cluster)
        process = CrawlerProcess({**settings, "LOG_INSTALL_ROOT_HANDLER": False})
        process.crawl(ClusterSpider, context=context, ledger=ledger, cluster=cluster)
        log.info(
            "worker %s: crawling from %s (queue %s)",
            ledger.worker_id,
            without_password(cluster.redis_url),
            ledger.keys.queue,
        )
        heartbeat = Heartbeat(ledger, cluster.heartbeat_seconds, cluster.worker_timeout)
        heartbeat.start()
        try:
            process.start()
        finally:
            heartbeat.stop()
            # A forced stop (a second SIGTERM) skips the spider's own clean-up: put back
            # what we still hold now rather than after worker_timeout.
            with contextlib.suppress(RedisError):
                ledger.leave()
    finally:
        redis.close()
        engine.dispose()
