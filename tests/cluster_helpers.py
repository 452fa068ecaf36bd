"""Helpers for cluster tests: a real Redis, `newswatch worker` processes and a loopback site.

Nothing here is mocked: workers are `newswatch worker` processes, the coordinator is
`newswatch crawl`, Redis and PostgreSQL are the real servers, and the site is a real HTTP
server that records, on its side, when each request started and ended. Each test gets its
own Redis key prefix and deletes its keys afterwards, so tests (and other users of the same
Redis) never see each other's queues.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from scrapy_redis import picklecompat

from crawler.cluster.coordinator import live_workers
from crawler.cluster.keys import ClusterKeys
from tests.crawl_helpers import write_config

REDIS_URL = os.environ.get("NEWSWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")
TIMEOUT = 30.0  # seconds: the longest any awaited condition may take, on a slow machine
# Fast, predictable crawls: no extraction processes, no adaptive delays, short timeouts.
CRAWL = {"delay": 0, "timeout": "10s", "retries": 0, "extraction_workers": 0, "autothrottle": False}


# -- Redis ------------------------------------------------------------------------------------


def redis_unreachable() -> str | None:
    """None when Redis answers, else why not (used as the skip reason)."""
    try:
        client = Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:  # any failure means: no Redis for this run
        return f"Redis not reachable at {REDIS_URL}: {error.__class__.__name__}: {error}"
    return None


def skip_without_redis(reason: str | None) -> None:
    """Skip, or fail where the servers are required (NEWSWATCH_REQUIRE_POSTGRES, as CI sets)."""
    if reason:
        if os.environ.get("NEWSWATCH_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)


def delete_keys(redis: Redis, prefix: str) -> int:
    """Delete every key of one cluster prefix (SCAN, never KEYS); how many."""
    deleted = 0
    batch: list[bytes] = []
    for key in redis.scan_iter(match=f"{prefix}:*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += redis.delete(*batch)
            batch.clear()
    if batch:
        deleted += redis.delete(*batch)
    return deleted


def held_urls(redis: Redis, keys: ClusterKeys, worker: str) -> list[str]:
    """The URLs of the requests a worker holds (its in-flight hash), decoded."""
    return sorted(picklecompat.loads(data)["url"] for data in redis.hkeys(keys.inflight(worker)))


def wait_until(
    condition: Callable[[], Any], what: str, timeout: float = TIMEOUT, every: float = 0.05
) -> Any:
    """Poll `condition` until it returns something true; its value. Fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting until {what}")
        time.sleep(every)  # polling interval, not synchronisation: the condition decides


# -- the site ---------------------------------------------------------------------------------

WORDS = """
harbour council budget minister railway strike river flood election court verdict museum
festival bridge tunnel airport energy grid wind solar farmer harvest school teacher hospital
nurse doctor police mayor village city region border customs port ship cargo market price
inflation bank loan tax reform parliament vote coalition party leader union worker factory
steel chemical pipeline water drought storm forecast weather summer winter spring autumn
library archive painting concert theatre football cycling tennis marathon record season coach
referee stadium ticket fan traffic highway bicycle tram metro station platform delay timetable
""".split()


@dataclass
class Hit:
    """One request as the site saw it: times are time.monotonic() on the site's side."""

    path: str
    user_agent: str
    start: float
    end: float | None = None  # when the answer was about to be sent
    # time.time() at the start: comparable with times other processes wrote down
    wall: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Story:
    path: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime


class ClusterSite:
    """A loopback news site: `feeds` RSS feeds of `per_feed` articles each, plus `shared`
    articles that two neighbouring feeds both link (so only the shared duplicate filter keeps
    them from being fetched twice).

    `gate` (set by default) holds every article response while it is clear, so a test can
    make workers hold requests for as long as it needs. The site logs every request with its
    start and end time, taken server-side.
    """

    def __init__(self, feeds: int = 6, per_feed: int = 10, shared: int = 0, seed: int = 1):
        rng = random.Random(seed)
        start = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
        self.stories: dict[str, Story] = {}
        self.feed_paths = [f"/feeds/desk-{n}.xml" for n in range(feeds)]
        self.feed_links: dict[str, list[str]] = {path: [] for path in self.feed_paths}

        def story(slug: str) -> str:
            path = f"/news/2026/11/{slug}.html"
            words = [rng.choice(WORDS) for _ in range(6)]
            paragraphs = tuple(
                " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "." for _ in range(4)
            )
            published = start + timedelta(minutes=len(self.stories) * 7)
            title = f"{' '.join(words).capitalize()} ({slug})"
            self.stories[path] = Story(path, title, paragraphs, published)
            return path

        for n, feed in enumerate(self.feed_paths):
            self.feed_links[feed] += [story(f"desk-{n}-story-{i}") for i in range(per_feed)]
        for i in range(shared):  # linked from feed i and feed i + 1
            path = story(f"shared-story-{i}")
            self.feed_links[self.feed_paths[i % feeds]].append(path)
            self.feed_links[self.feed_paths[(i + 1) % feeds]].append(path)

        self.gate = threading.Event()
        self.gate.set()
        self.hits: list[Hit] = []
        self.changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # -- what a test asks ---------------------------------------------------------------------

    @property
    def article_paths(self) -> set[str]:
        return set(self.stories)

    def sources(self) -> list[dict[str, Any]]:
        return [
            {"name": f"desk-{n}", "kind": "feed", "urls": [self.base_url + path], "language": "en"}
            for n, path in enumerate(self.feed_paths)
        ]

    def source_articles(self) -> dict[str, set[str]]:
        """Source name → the paths of the articles its feed links."""
        return {f"desk-{n}": set(self.feed_links[feed]) for n, feed in enumerate(self.feed_paths)}

    def log(self) -> list[Hit]:
        with self.changed:
            return list(self.hits)

    def article_hits(self) -> Counter[str]:
        """How often each article path was requested (feeds and robots.txt left out)."""
        return Counter(hit.path for hit in self.log() if hit.path in self.stories)

    # -- serving ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the site first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ClusterSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60  # a connection a killed worker left open does not pin a thread

            def do_GET(self) -> None:
                hit = Hit(self.path, self.headers.get("User-Agent", ""), time.monotonic())
                site._record(hit)
                status, content_type, body = site._answer(self.path)
                with site.changed:  # taken before the answer goes out: a client cannot
                    hit.end = time.monotonic()  # have it (and start another) earlier
                    site.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a killed worker's connection breaks mid-answer: expected here

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.gate.set()  # never leave a handler waiting
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _record(self, hit: Hit) -> None:
        with self.changed:
            self.hits.append(hit)
            self.changed.notify_all()

    def _answer(self, path: str) -> tuple[int, str, bytes]:
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nDisallow: /private/\n"
        if path in self.feed_links:
            return 200, "application/rss+xml; charset=utf-8", self._feed(path).encode()
        story = self.stories.get(path)
        if story is None:
            return 404, "text/html; charset=utf-8", b"<!DOCTYPE html><title>404</title>"
        self.gate.wait(TIMEOUT)
        return 200, "text/html; charset=utf-8", self._page(story).encode()

    def _feed(self, path: str) -> str:
        items = "".join(
            f"<item><title>{escape(story.title)}</title>"
            f"<link>{self.base_url}{story.path}</link><guid>{self.base_url}{story.path}</guid>"
            f"<pubDate>{format_datetime(story.published, usegmt=True)}</pubDate>"
            f"<description>{escape(story.paragraphs[0][:120])}</description></item>"
            for story in (self.stories[link] for link in self.feed_links[path])
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{path}</title><link>{self.base_url}/</link>"
            f"<description>Cluster test feed</description><language>en</language>"
            f"{items}</channel></rss>"
        )

    def _page(self, story: Story) -> str:
        published = story.published.isoformat(timespec="seconds")
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(story.title)}</title>"
            f'<link rel="canonical" href="{self.base_url}{story.path}">'
            f'<meta property="article:published_time" content="{published}"></head>'
            f'<body><header><a href="/">Cluster Gazette</a></header><main><article>'
            f"<h1>{escape(story.title)}</h1>{paragraphs}</article></main></body></html>"
        )


def intervals_overlapping(hits: list[Hit]) -> list[tuple[Hit, Hit]]:
    """Pairs of consecutive requests where the later started before the earlier ended."""
    ordered = sorted(hits, key=lambda hit: hit.start)
    return [
        (earlier, later)
        for earlier, later in pairwise(ordered)
        if earlier.end is None or later.start < earlier.end
    ]


# -- processes --------------------------------------------------------------------------------


def cli_environment() -> dict[str, str]:
    """This environment, without the variables that would override a test's config file."""
    env = dict(os.environ)
    for name in ("NEWSWATCH_REDIS_URL", "NEWSWATCH_DATABASE_URL", "NEWSWATCH_CONFIG"):
        env.pop(name, None)
    return env


def newswatch_command(config: Path, database_url: str, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "newswatch",
        "--config",
        str(config),
        "--database",
        database_url,
        *args,
    ]


def start_newswatch(config: Path, database_url: str, *args: str) -> subprocess.Popen[str]:
    """`newswatch <args>` started in the background, its output captured; see finished()."""
    return subprocess.Popen(
        newswatch_command(config, database_url, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_environment(),
    )


def finished(process: subprocess.Popen[str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Wait for a process from start_newswatch (killed after `timeout`); what it did."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"{process.args} still running after {timeout:g}s:\n{stderr}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


class Cluster:
    """One test's cluster: its key prefix, config file, worker processes and coordinator.

    close() kills every process it started, prints their logs (pytest shows them for a failed
    test only) and deletes the prefix's Redis keys.
    """

    def __init__(self, folder: Path, database_url: str):
        self.folder = folder
        self.database_url = database_url
        self.prefix = f"test-{uuid.uuid4().hex[:12]}"
        self.keys = ClusterKeys(self.prefix)
        self.redis = Redis.from_url(REDIS_URL)
        self.config = folder / "newswatch.toml"
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.expected_exits: set[str] = set()  # stopped by the test: exiting is no failure

    def configure(
        self,
        sources: list[dict[str, Any]],
        crawl: dict[str, Any] | None = None,
        **cluster: Any,
    ) -> Path:
        """Write the config: these sources, [crawl] (over CRAWL) and [cluster] settings."""
        write_config(self.config, sources, **{**CRAWL, **(crawl or {})})
        settings = {"redis_url": REDIS_URL, "prefix": self.prefix, **cluster}
        lines = ["", "[cluster]", *(f"{key} = {json.dumps(v)}" for key, v in settings.items())]
        with self.config.open("a", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        return self.config

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """Start `newswatch <args>` in the background; stdout and stderr go to name.log."""
        assert name not in self.processes, f"{name} was started already"  # or it would leak
        log = self.folder / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                newswatch_command(self.config, self.database_url, *args),
                stdout=output,
                stderr=subprocess.STDOUT,
                env=cli_environment(),
            )
        self.processes[name] = process
        self.logs[name] = log
        return process

    def start_workers(self, *names: str, verbose: tuple[str, ...] = ()) -> None:
        """Start workers with these ids and wait until each one's heartbeat is in Redis.

        Those named in `verbose` log with -vv (Scrapy's own log too)."""
        for name in names:
            options = ("-vv",) if name in verbose else ()
            self.start(name, *options, "worker", "--id", name)
        self.wait_until(
            lambda: set(names) <= set(self.live_workers()), f"workers {', '.join(names)} are alive"
        )

    def live_workers(self) -> dict[str, dict]:
        return live_workers(self.redis, self.keys)

    def held_urls(self, worker: str) -> list[str]:
        return held_urls(self.redis, self.keys, worker)

    def wait_until(self, condition: Callable[[], Any], what: str, timeout: float = TIMEOUT):
        """wait_until, failing early (with the logs) when a process died unexpectedly."""

        def checked():
            for name, process in self.processes.items():
                if process.poll() not in (None, 0) and name not in self.expected_exits:
                    pytest.fail(f"{name} exited with {process.returncode}:\n{self.log(name)}")
            return condition()

        return wait_until(checked, what, timeout)

    def finish(self, name: str, timeout: float = TIMEOUT * 2) -> tuple[int, str]:
        """Wait for a process started with start(); its exit status and output."""
        try:
            status = self.processes[name].wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} still running after {timeout:g}s:\n{self.log(name)}")
        return status, self.log(name)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(encoding="utf-8", errors="replace")

    def signal(self, name: str, signum: int) -> None:
        self.expected_exits.add(name)
        self.processes[name].send_signal(signum)

    def close(self) -> None:
        try:
            # Killed, not stopped: quicker, and a killed process writes no key after the
            # prefix's keys are deleted (a stopping worker puts its requests back).
            for process in self.processes.values():
                if process.poll() is None:
                    process.kill()
            for process in self.processes.values():
                process.wait(TIMEOUT)
            for name in self.logs:
                lines = self.log(name).splitlines()
                print(f"----- {name} (exit {self.processes[name].returncode}), last lines -----")
                print("\n".join(lines[-80:]))
        finally:
            try:
                delete_keys(self.redis, self.prefix)
            finally:
                self.redis.close()
