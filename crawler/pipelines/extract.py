"""Turn a fetched page into an article: extraction and fingerprint (in a process pool), key."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from typing import NoReturn

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler import items
from crawler.capture import capture_from
from crawler.dedupe import content_hash
from crawler.extract import Extracted, ExtractionError, ExtractOptions
from crawler.fingerprints import extract_and_fingerprint
from crawler.processes import call_and_release, die_with_fork_server, fork_server
from crawler.storage.backlog import Pending
from crawler.storage.models.base import utcnow
from crawler.urls import article_key


class ExtractPipeline:
    """ArticlePage → Article. A page with no usable text is recorded as a failure."""

    def __init__(self, crawler: Crawler):
        self.spider = crawler.spider
        context = crawler.spider.context
        self.recorder = context.recorder
        self.options = ExtractOptions(min_text_chars=context.options.min_text_chars)
        self.workers = context.options.extraction_workers
        self.capture = context.options.capture_pages
        self.pool: Executor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.workers > 0:
            # Scrapy runs on one core; extraction is the CPU-heavy part, so it gets its
            # own processes. Forked, but not from the crawl (forking a running reactor is
            # unsafe): from a fork server that has imported and warmed up extraction, so
            # they share its modules and models instead of each loading its own. The
            # server and each process die with the crawl, even a SIGKILLed one (SIGKILL:
            # they hold nothing worth saving). The pool starts them from the reactor (main)
            # thread, which lives as long as the crawl does.
            self.pool = ProcessPoolExecutor(
                self.workers,
                mp_context=fork_server(["crawler.extraction_server"]),
                initializer=die_with_fork_server,
            )

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _failed(self, page: items.ArticlePage, detail: str) -> NoReturn:
        """Record why a page gave no article; the page will not be fetched again for it."""
        if page.recheck is not None:  # a stored article fetched again: its schedule says
            self.spider.rechecks.not_extracted(page, detail)
            raise DropItem(f"{page.final_url}: {detail}")
        self.recorder.failed(page.source, page.final_url, "extraction", detail)
        link = Pending(page.link_key, page.link_url, page.hints.to_json())
        self.spider.link_failed(page.source, link, "extraction", detail)
        raise DropItem(f"{page.final_url}: {detail}")

    async def process_item(self, page: items.ArticlePage) -> items.Article:
        try:
            if self.pool is None:
                extracted, prints = extract_and_fingerprint(page, self.options)
            else:
                loop = asyncio.get_running_loop()
                # The headers stay here: only the capture needs them (article_from).
                work = replace(page, headers=())
                extracted, prints = await loop.run_in_executor(
                    self.pool, call_and_release, extract_and_fingerprint, work, self.options
                )
        except ExtractionError as error:
            self._failed(page, str(error))
        except Exception as error:  # a bug or a pathological page: keep crawling the rest
            self._failed(page, f"extraction crashed: {error.__class__.__name__}: {error}")
        return article_from(page, extracted, prints, capture=self.capture)


def article_from(
    page: items.ArticlePage,
    extracted: Extracted,
    prints: items.Fingerprint,
    *,
    capture: bool = True,
) -> items.Article:
    """The article to store from a fetched page, what extraction found and its fingerprint;
    with the page as served (its capture) unless `capture` is off."""
    fetched_at = page.fetched_at or utcnow()
    return items.Article(
        source=page.source,
        url=article_key(page.link_key, page.link_url, page.final_url, extracted.declared_canonical),
        link_key=page.link_key,
        link_url=page.link_url,
        final_url=page.final_url,
        title=extracted.title,
        author=extracted.author,
        published_at=extracted.published_at,
        language=extracted.language,
        text=extracted.text,
        lead=extracted.lead,
        site_name=extracted.site_name,
        image_url=extracted.image_url,
        content_hash=content_hash(extracted.text),
        fetched_at=fetched_at,
        fingerprint=prints,
        capture=capture_from(page, fetched_at) if capture else None,
        recheck=page.recheck,
    )
