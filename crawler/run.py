"""Run crawls of some sources into a database, in this process, and report per source.

`crawl` runs one crawl and ends with its reactor, which cannot be restarted. `serve`
runs crawl after crawl in one reactor, so a long-lived process pays for its imports,
its reactor and its extraction fork server once instead of once per crawl.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.reactor import install_reactor
from sqlalchemy import Engine

from crawler.recorder import RunRecorder, SourceTally
from crawler.settings import scrapy_settings
from crawler.sources import CrawlOptions, Source
from crawler.spiders.news import CrawlContext, NewsSpider
from crawler.storage.engine import open_engine, sessions
from crawler.storage.sources import sync_sources

log = logging.getLogger(__name__)


class Progress(Protocol):
    """Something that shows a running crawl's totals (the command line's progress line)."""

    def start(self, recorder: RunRecorder) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class Batch:
    """One crawl for `serve`: these sources, with these options, into this database."""

    sources: tuple[Source, ...]
    options: CrawlOptions
    database_url: str


def _settings(options: CrawlOptions, extensions: dict[str, Any] | None = None) -> dict:
    settings = scrapy_settings(options)
    if extensions:
        settings["EXTENSIONS"] = {**settings.get("EXTENSIONS", {}), **extensions}
    # Logging is the application's to set up, not Scrapy's.
    return {**settings, "LOG_INSTALL_ROOT_HANDLER": False}


def _context(engine: Engine, sources: Sequence[Source], options: CrawlOptions) -> CrawlContext:
    session_factory = sessions(engine)
    with session_factory() as session:
        source_ids = sync_sources(session, sources)
    recorder = RunRecorder(session_factory, {s.name: source_ids[s.name] for s in sources})
    return CrawlContext(
        sources=tuple(sources),
        options=options,
        sessions=session_factory,
        source_ids=source_ids,
        recorder=recorder,
    )


def crawl(
    sources: Sequence[Source],
    options: CrawlOptions,
    database_url: str,
    *,
    extensions: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> list[SourceTally]:
    """Crawl `sources` once and return what happened to each.

    Starts Twisted's reactor, which cannot be restarted: call this once per process, or
    use `serve` for crawl after crawl.
    """
    engine = open_engine(database_url)
    try:
        context = _context(engine, sources, options)
        process = CrawlerProcess(_settings(options, extensions))
        process.crawl(NewsSpider, context=context)
        if progress:
            progress.start(context.recorder)
        try:
            process.start()
        finally:
            if progress:
                progress.stop()
        return context.recorder.finish()
    finally:
        engine.dispose()


def serve(
    next_batch: Callable[[], Batch | None],
    finished: Callable[[str | None], None],
    options: CrawlOptions,
) -> None:
    """Crawl batch after batch in this process, one reactor for them all.

    `next_batch` blocks until there is a batch and returns None to end; it is called from
    a thread of its own. `finished(error)` is called, from that thread too, after each
    batch: None when the crawl ran (what happened is in the database), else why it did
    not. SIGTERM or SIGINT stops the crawl in flight, as they stop a single crawl, and
    ends the loop. `options` set up the reactor (DNS cache, thread pool); each batch's
    own options apply to its crawl.
    """
    process = CrawlerProcess(_settings(options))
    # Each crawl builds its own Crawler, which does not install a reactor: install the
    # one they ask for, as the first crawl of a CrawlerProcess would.
    install_reactor(process.settings["TWISTED_REACTOR"], process.settings["ASYNCIO_EVENT_LOOP"])
    from twisted.internet import reactor

    engines: dict[str, Engine] = {}
    # The crawl in flight, whose runs are closed when it ends, or after the reactor when a
    # signal stopped the reactor first.
    unfinished: list[CrawlContext] = []

    def run_one(batch: Batch, done: threading.Event, outcome: list[str | None]) -> None:
        """In the reactor thread: start the crawl, and say when it is over."""
        try:
            if batch.database_url not in engines:
                engines[batch.database_url] = open_engine(batch.database_url)
            context = _context(engines[batch.database_url], batch.sources, batch.options)
            crawler = Crawler(NewsSpider, _settings(batch.options))
            running = process.crawl(crawler, context=context)
            unfinished.append(context)
        except Exception as error:  # the batch cannot start; the loop goes on
            log.exception("a crawl could not start")
            outcome.append(f"{error.__class__.__name__}: {error}")
            done.set()
            return

        def over(result: Any) -> None:
            error = getattr(result, "value", None)  # a Failure when the crawl raised
            if error is not None:
                log.error("the crawl ended with %s", error.__class__.__name__, exc_info=error)
            try:
                unfinished.remove(context)
                context.recorder.finish()
            except Exception as finishing:  # the summary only; every row is committed
                log.exception("closing the crawl's runs failed")
                error = error or finishing
            outcome.append(None if error is None else f"{error.__class__.__name__}: {error}")
            done.set()

        running.addBoth(over)

    def feed() -> None:
        """The batches' thread: hand each to the reactor and wait for it to be crawled."""
        while True:
            try:
                batch = next_batch()
            except (EOFError, OSError):  # whoever sent batches is gone
                batch = None
            if batch is None:
                reactor.callFromThread(reactor.stop)
                return
            done, outcome = threading.Event(), []
            reactor.callFromThread(run_one, batch, done, outcome)
            done.wait()
            try:
                finished(outcome[0])
            except OSError:  # whoever sent the batch is gone (it died; we were told so)
                reactor.callFromThread(reactor.stop)
                return

    reactor.callWhenRunning(threading.Thread(target=feed, name="batches", daemon=True).start)
    try:
        process.start(stop_after_crawl=False)
    finally:
        for context in unfinished:
            context.recorder.finish()
        for engine in engines.values():
            engine.dispose()
