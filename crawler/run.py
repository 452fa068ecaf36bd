"""Run one crawl of some sources into a database, in this process, and report per source."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from scrapy.crawler import CrawlerProcess

from crawler.recorder import RunRecorder, SourceTally
from crawler.settings import scrapy_settings
from crawler.sources import CrawlOptions, Source
from crawler.spiders.news import CrawlContext, NewsSpider
from crawler.storage.engine import open_engine, sessions
from crawler.storage.sources import sync_sources


class Progress(Protocol):
    """Something that shows a running crawl's totals (the command line's progress line)."""

    def start(self, recorder: RunRecorder) -> None: ...
    def stop(self) -> None: ...


def crawl(
    sources: Sequence[Source],
    options: CrawlOptions,
    database_url: str,
    *,
    extensions: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> list[SourceTally]:
    """Crawl `sources` once and return what happened to each.

    Starts Twisted's reactor, which cannot be restarted: call this once per process
    (the scheduler runs each crawl in a worker process for that reason).
    """
    engine = open_engine(database_url)
    try:
        session_factory = sessions(engine)
        with session_factory() as session:
            source_ids = sync_sources(session, sources)
        recorder = RunRecorder(session_factory, {s.name: source_ids[s.name] for s in sources})
        context = CrawlContext(
            sources=tuple(sources),
            options=options,
            sessions=session_factory,
            source_ids=source_ids,
            recorder=recorder,
        )
        settings = scrapy_settings(options)
        if extensions:
            settings["EXTENSIONS"] = {**settings.get("EXTENSIONS", {}), **extensions}
        # Logging is the application's to set up, not Scrapy's.
        process = CrawlerProcess({**settings, "LOG_INSTALL_ROOT_HANDLER": False})
        process.crawl(NewsSpider, context=context)
        if progress:
            progress.start(recorder)
        try:
            process.start()
        finally:
            if progress:
                progress.stop()
        return recorder.finish()
    finally:
        engine.dispose()
