"""CPU per stage of a crawl, measured in this process on the crawl's own pages: extraction,
fingerprints, and storage into a fresh database through crawler.placement.

The stages are the crawler's public functions, called as the pipelines call them; each is
timed in process CPU, and the functions inside it worth naming are timed by wrapping
them here, for the run only (the crawler's code is not changed). Fetching and Scrapy
have no such entry point: bench/crawl.py derives them from the whole crawl's CPU.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy.orm

import crawler.extract
import crawler.fingerprints
import crawler.placement
import crawler.storage.articles
import crawler.storage.backlog
import crawler.storage.stories
from bench.crawl_db import BenchDatabase
from bench.proctree import cpu_seconds
from crawler import items, placement
from crawler.extract import (
    ExtractionError,
    ExtractOptions,
    decode_html,
    extract_article,
    extract_document,
)
from crawler.fingerprints import fingerprint, page_links
from crawler.pipelines.extract import article_from
from crawler.sources import Source
from crawler.storage.engine import sessions
from crawler.storage.sources import sync_sources
from crawler.urls import canonical_url

# (module, function, label): timed inside the stage that calls them
_EXTRACTION_PARTS = (
    (crawler.extract, "load_html", "trafilatura load_html (parse)"),
    (crawler.extract, "bare_extraction", "trafilatura bare_extraction"),
    (crawler.extract, "page_authors", "bylines (crawler.bylines)"),
    (crawler.extract, "_language", "language (py3langid)"),
    (crawler.extract, "_published_at", "publication time"),
    (crawler.extract, "_declared_canonical", "declared canonical"),
)
_FINGERPRINT_PARTS = (
    (crawler.fingerprints, "text_band_keys", "MinHash band keys"),
    (crawler.fingerprints, "evidence", "evidence keys"),
)
_STORAGE_PARTS = (
    (crawler.storage.articles, "by_url", "known URL? (by_url)"),
    (crawler.placement, "same_text", "same text? (content hash)"),
    (crawler.placement, "place", "place: near-duplicate, then related story"),
    (crawler.storage.stories, "new_story", "new story row"),
    (crawler.storage.articles, "insert", "insert article (ORM flush)"),
    (crawler.storage.stories, "index", "index bands + evidence + counts"),
    (crawler.storage.backlog, "forget", "backlog.forget"),
    (sqlalchemy.orm.Session, "commit", "commit"),
)


@dataclass
class StageCosts:
    pages: int = 0
    articles: int = 0  # extracted and stored
    cpu: Counter[str] = field(default_factory=Counter)  # stage -> CPU s
    parts: Counter[str] = field(default_factory=Counter)  # named function -> CPU s
    database_server_cpu: float | None = None  # PostgreSQL backend CPU s during storage


@contextlib.contextmanager
def timed(parts: Counter[str], targets) -> Iterator[None]:
    """Wrap each (owner, name) so its CPU adds to parts[label]; unwrapped on leaving."""
    saved = []
    for owner, name, label in targets:
        original = getattr(owner, name)
        saved.append((owner, name, original))
        setattr(owner, name, _timer(original, parts, label))
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def _timer(function, parts: Counter[str], label: str):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            parts[label] += time.process_time() - start

    return wrapper


def page_of(path: Path, site: Path, base: str) -> items.ArticlePage:
    url = f"{base}/{path.relative_to(site).as_posix()}"
    return items.ArticlePage(
        source=path.parent.name,
        link_url=url,
        link_key=canonical_url(url),
        final_url=url,
        body=path.read_bytes(),
        declared_encoding=None,
    )


def measure(files: list[Path], site: Path, base: str, database: BenchDatabase) -> StageCosts:
    """Every page through extraction and fingerprints, then every article into `database`."""
    costs = StageCosts(pages=len(files))
    options = ExtractOptions()
    pages = [page_of(path, site, base) for path in files]
    with contextlib.suppress(ExtractionError):  # lazy loading, counted in start-up instead
        extract_article(decode_html(pages[0].body, None), pages[0].final_url, options=options)

    ready: list[items.Article] = []
    with timed(costs.parts, _EXTRACTION_PARTS + _FINGERPRINT_PARTS):
        for page in pages:
            article = _extract(page, options, costs.cpu)
            if article is not None:
                ready.append(article)
    costs.articles = len(ready)
    _store(ready, database, costs)
    return costs


def _extract(page: items.ArticlePage, options: ExtractOptions, cpu: Counter[str]):
    """As crawler.fingerprints.extract_and_fingerprint and the extract pipeline do it."""
    clock = time.process_time
    t0 = clock()
    html = decode_html(page.body, page.declared_encoding)
    t1 = clock()
    cpu["decode"] += t1 - t0
    try:
        extracted, tree = extract_document(html, page.final_url, page.hints, options=options)
    except ExtractionError:
        cpu["extraction"] += clock() - t1
        return None
    t2 = clock()
    links = page_links(html, tree, page.final_url)
    del tree  # freed inside a timed stage, as extract_article frees its own
    t3 = clock()
    prints = fingerprint(extracted.text, links)
    t4 = clock()
    article = article_from(page, extracted, prints)
    t5 = clock()
    cpu["extraction"] += t2 - t1
    cpu["outbound links"] += t3 - t2
    cpu["fingerprint"] += t4 - t3
    cpu["article item (canonical URL, hash)"] += t5 - t4
    return article


def _store(ready: list[items.Article], database: BenchDatabase, costs: StageCosts) -> None:
    engine = database.engine()
    try:
        factory = sessions(engine)
        names = sorted({article.source for article in ready})
        with factory() as session:
            ids = sync_sources(session, [Source(n, "feed", (f"http://bench/{n}",)) for n in names])
        backends = database.backends()
        server_before = sum(cpu_seconds(pid) for pid in backends)
        start = time.process_time()
        with timed(costs.parts, _STORAGE_PARTS):
            for article in ready:
                with factory() as session:
                    placement.add_article(session, ids[article.source], article)
        costs.cpu["storage"] = time.process_time() - start
        if database.kind == "postgresql":
            server = sum(cpu_seconds(pid) for pid in database.backends())
            costs.database_server_cpu = server - server_before
    finally:
        engine.dispose()
