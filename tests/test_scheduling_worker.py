"""Long-lived crawl workers: batch after batch in one process, replaced when worn or dead.

Real worker processes crawl a loopback site whose feed lists one more article before
each batch, into SQLite and PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

from newswatch.demo.server import Request, Response, text
from newswatch.scheduling.worker import BatchJob, WorkerProcesses
from newswatch.settings import load_settings
from tests.crawl_helpers import rows, serving, write_config

WAIT = 60  # seconds: only reached when the behaviour under test is broken

PARAGRAPH = (
    "<p>De federale politie en de Marokkaanse veiligheidsdiensten wisselen sinds het "
    "voorjaar gegevens uit over cocaïnezendingen via de haven van Antwerpen. Beide "
    "partijen spreken van een doorbraak in de samenwerking.</p>"
)


class Site:
    """A feed that lists `published` articles, each with a page of its own."""

    def __init__(self) -> None:
        self.published = 0

    def __call__(self, request: Request) -> Response:
        if request.path == "/feed.xml":
            items = "".join(
                f"<item><title>n{n}</title><link>{request.base_url}/news/{n}.html</link></item>"
                for n in range(1, self.published + 1)
            )
            body = f"<?xml version='1.0'?><rss version='2.0'><channel>{items}</channel></rss>"
            return text(200, body, "application/rss+xml")
        if request.path.startswith("/news/"):
            number = request.path.rsplit("/", 1)[1].split(".")[0]
            return text(
                200,
                f"<html lang='nl'><head><title>Bericht {number}</title></head><body><article>"
                f"<h1>Bericht {number}</h1>{PARAGRAPH * 3}<p>Nummer {number}.</p>"
                "</article></body></html>",
            )
        return text(404, "not found")


def crawl_workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name.startswith("newswatch-crawl")]


def job(tmp_path: Path, base_url: str, database_url: str) -> BatchJob:
    source = {"name": "haven", "kind": "feed", "url": f"{base_url}/feed.xml"}
    # extraction in the worker: the pool's fork server is not what these tests are about
    config = write_config(tmp_path / "newswatch.toml", [source], extraction_workers=0)
    settings = load_settings(config)
    return BatchJob(settings.sources, settings.crawl, database_url, parent_pid=os.getpid())


def stored(database_url: str) -> int:
    return rows(database_url, "SELECT count(*) FROM articles")[0][0]


def test_one_worker_crawls_batch_after_batch(tmp_path, database_url):
    site, workers = Site(), WorkerProcesses(crawls_per_worker=100)
    with serving(site) as base_url:
        batch = job(tmp_path, base_url, database_url)
        try:
            site.published = 1
            assert workers.run(batch) == (True, 0)
            assert stored(database_url) == 1
            [first] = crawl_workers()  # still alive, waiting for the next batch
            site.published = 2
            assert workers.run(batch) == (True, 0)
            assert stored(database_url) == 2
            assert [p.pid for p in crawl_workers()] == [first.pid]
        finally:
            workers.stop_all(WAIT)
    assert crawl_workers() == []


def test_a_worker_is_replaced_after_crawls_per_worker(tmp_path, sqlite_url):
    site, workers = Site(), WorkerProcesses(crawls_per_worker=1)
    with serving(site) as base_url:
        batch = job(tmp_path, base_url, sqlite_url)
        for published in (1, 2):
            site.published = published
            assert workers.run(batch) == (True, 0)
            assert crawl_workers() == []  # asked to end once its one crawl was done
        assert stored(sqlite_url) == 2


def test_a_worker_that_died_while_idle_is_replaced(tmp_path, sqlite_url):
    site, workers = Site(), WorkerProcesses()
    with serving(site) as base_url:
        batch = job(tmp_path, base_url, sqlite_url)
        try:
            site.published = 1
            assert workers.run(batch) == (True, 0)
            [first] = crawl_workers()
            os.kill(first.pid, signal.SIGKILL)
            first.join(WAIT)  # gone for good: every thread of it has ended
            assert first.exitcode == -signal.SIGKILL
            site.published = 2
            assert workers.run(batch) == (True, 0)
            assert stored(sqlite_url) == 2
            [second] = crawl_workers()
            assert second.pid != first.pid
        finally:
            workers.stop_all(WAIT)


def test_a_batch_that_cannot_start_leaves_the_worker_serving(tmp_path, sqlite_url):
    site, workers = Site(), WorkerProcesses()
    with serving(site) as base_url:
        good = job(tmp_path, base_url, sqlite_url)
        nobody = "postgresql://postgres@127.0.0.1:1/newswatch"  # nothing listens on port 1
        bad = BatchJob(good.sources, good.options, nobody, parent_pid=os.getpid())
        try:
            site.published = 1
            assert workers.run(bad) == (True, 1)
            [first] = crawl_workers()
            assert workers.run(good) == (True, 0)
            assert stored(sqlite_url) == 1
            assert [p.pid for p in crawl_workers()] == [first.pid]
        finally:
            workers.stop_all(WAIT)


def test_stop_all_ends_an_idle_worker(tmp_path, sqlite_url):
    site, workers = Site(), WorkerProcesses()
    with serving(site) as base_url:
        site.published = 1
        assert workers.run(job(tmp_path, base_url, sqlite_url)) == (True, 0)
        assert len(crawl_workers()) == 1
        workers.stop_all(WAIT)
        assert crawl_workers() == []
        assert workers.run(job(tmp_path, base_url, sqlite_url)) == (False, None)
