"""The shared robots.txt cache: real crawls of loopback sites, one database, several processes."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from crawler.storage import robots
from crawler.storage.engine import open_engine, sessions
from crawler.storage.models import RobotsFile
from crawler.storage.models.base import utcnow
from newswatch.demo.server import Request, Response, serve, text
from tests.crawl_helpers import newswatch, rows, write_config

RULES = "User-agent: *\nDisallow: /private/\n"
PARAGRAPH = (
    "<p>Le port d'Anvers a saisi cette année plus de cocaïne que jamais, et les douanes "
    "belges renforcent leurs contrôles des conteneurs venus d'Amérique latine. Les enquêteurs "
    "décrivent des réseaux qui corrompent dockers, transporteurs et agents portuaires.</p>"
)


def article(title: str) -> Response:
    return text(
        200,
        f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><article><h1>{title}</h1>{PARAGRAPH * 4}</article></body></html>",
    )


def rss(links: list[str]) -> Response:
    items = "".join(f"<item><title>t</title><link>{link}</link></item>" for link in links)
    body = (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>{items}</channel></rss>"
    )
    return text(200, body, "application/rss+xml")


@dataclass
class Site:
    """A loopback site: answers `routes` (path → Response, or a function of the request)."""

    url: str
    routes: dict[str, Response | Callable[[Request], Response]]
    paths: list[str] = field(default_factory=list)

    def hits(self, path: str) -> int:
        return self.paths.count(path)

    @property
    def origin(self) -> str:
        return self.url


@contextlib.contextmanager
def site(host: str = "127.0.0.1") -> Iterator[Site]:
    lock = threading.Lock()
    routes: dict[str, Response | Callable[[Request], Response]] = {}
    served = Site("", routes)

    def respond(request: Request) -> Response:
        with lock:
            served.paths.append(request.path)
        route = routes.get(request.path)
        if callable(route):
            return route(request)
        return route or text(404, "not found")

    server, thread = serve(host, 0, respond)
    served.url = server.base_url
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def news_site(served: Site, name: str) -> None:
    """A feed /<name>.xml listing two articles robots.txt allows and one it forbids."""
    paths = [f"/news/{name}-1.html", f"/news/{name}-2.html", f"/private/{name}.html"]
    for path in paths:
        served.routes[path] = article(f"Saisie record à Anvers ({path})")
    served.routes[f"/{name}.xml"] = rss([served.url + path for path in paths])


def source(served: Site, name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "kind": "feed", "url": f"{served.url}/{name}.xml", **extra}


def start_crawl(config: Path, database_url: str, *options: str) -> subprocess.Popen[str]:
    """`newswatch crawl` started in its own process, not waited for."""
    command = [sys.executable, "-m", "newswatch", *options, "--config", str(config)]
    return subprocess.Popen(
        [*command, "--database", database_url, "crawl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stored_robots(database_url: str, origin: str) -> robots.StoredRobots | None:
    engine = open_engine(database_url, migrate_schema=False)
    try:
        with sessions(engine)() as session:
            return robots.read(session, origin)
    finally:
        engine.dispose()


def change_robots(database_url: str, origin: str, **values: object) -> None:
    engine = open_engine(database_url, migrate_schema=False)
    try:
        with sessions(engine)() as session:
            session.execute(update(RobotsFile).where(RobotsFile.origin == origin).values(**values))
            session.commit()
    finally:
        engine.dispose()


def closed_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.3", 0))
        return probe.getsockname()[1]


def stored_paths(database_url: str) -> set[str]:
    return {urlsplit(url).path for (url,) in rows(database_url, "SELECT url FROM articles")}


def failures(database_url: str) -> dict[str, tuple[str, str]]:
    return {
        urlsplit(url).path: (reason, detail)
        for url, reason, detail in rows(database_url, "SELECT url, reason, detail FROM failures")
    }


def test_two_crawls_started_together_read_robots_txt_once(tmp_path, database_url):
    open_engine(database_url).dispose()  # migrated once, not by both processes at once
    with site() as served:
        served.routes["/robots.txt"] = text(200, RULES, "text/plain")
        news_site(served, "one")
        news_site(served, "two")
        configs = [
            write_config(tmp_path / f"{name}.toml", [source(served, name)])
            for name in ("one", "two")
        ]
        crawls = [start_crawl(config, database_url) for config in configs]
        outputs = [crawl.communicate(timeout=120) for crawl in crawls]

    for crawl, (_, stderr) in zip(crawls, outputs, strict=True):
        assert crawl.returncode == 0, stderr
    assert served.hits("/robots.txt") == 1, f"robots.txt requested {served.paths}"
    assert not [path for path in served.paths if path.startswith("/private/")]
    assert stored_paths(database_url) == {
        "/news/one-1.html",
        "/news/one-2.html",
        "/news/two-1.html",
        "/news/two-2.html",
    }
    refused = failures(database_url)
    assert refused["/private/one.html"][0] == "robots"
    assert refused["/private/two.html"][0] == "robots"
    row = stored_robots(database_url, served.origin)
    assert row is not None and row.status == 200 and row.body == RULES.encode()
    assert row.claimed_by is None and row.claimed_until is None, "the claim was not released"
    assert row.expires_at - row.read_at == timedelta(hours=24)


def test_the_stored_answer_serves_until_it_expires(tmp_path, sqlite_url):
    with site() as served:
        served.routes["/robots.txt"] = text(200, RULES, "text/plain")
        news_site(served, "one")
        config = write_config(tmp_path / "newswatch.toml", [source(served, "one")])

        first = newswatch(config, sqlite_url, "crawl")
        assert first.returncode == 0, first.stderr
        assert served.hits("/robots.txt") == 1
        feed_reads = served.hits("/one.xml")

        second = newswatch(config, sqlite_url, "crawl")
        assert second.returncode == 0, second.stderr
        assert served.hits("/one.xml") == feed_reads + 1, "the second crawl did not run"
        assert served.hits("/robots.txt") == 1, "robots.txt read again before it expired"

        change_robots(sqlite_url, served.origin, expires_at=utcnow() - timedelta(seconds=1))
        third = newswatch(config, sqlite_url, "crawl")
        assert third.returncode == 0, third.stderr
        assert served.hits("/robots.txt") == 2, "an expired robots.txt was not read again"

    assert not [path for path in served.paths if path.startswith("/private/")]
    assert stored_paths(sqlite_url) == {"/news/one-1.html", "/news/one-2.html"}


def test_cache_control_max_age_sets_the_expiry(tmp_path, sqlite_url):
    with site() as served:
        served.routes["/robots.txt"] = Response(
            200,
            RULES.encode(),
            {"Content-Type": "text/plain", "Cache-Control": "public, max-age=60"},
        )
        news_site(served, "one")
        config = write_config(tmp_path / "newswatch.toml", [source(served, "one")])
        result = newswatch(config, sqlite_url, "crawl")

    assert result.returncode == 0, result.stderr
    row = stored_robots(sqlite_url, served.origin)
    assert row is not None and row.status == 200
    assert row.expires_at - row.read_at == timedelta(seconds=60)


def test_unreachable_robots_txt_disallows_everything_and_404_allows_everything(
    tmp_path, sqlite_url
):
    with site("127.0.0.1") as feeds, site("127.0.0.2") as down:
        # A 4xx means "no robots.txt" (RFC 9309), whatever its body says.
        feeds.routes["/robots.txt"] = text(404, "User-agent: *\nDisallow: /\n", "text/plain")
        down.routes["/robots.txt"] = text(503, "", "text/plain")
        down.routes["/news/down.html"] = article("Indisponible")
        feeds.routes["/news/up.html"] = article("Disponible")
        closed = f"http://127.0.0.3:{closed_port()}"
        feeds.routes["/mixed.xml"] = rss(
            [f"{feeds.url}/news/up.html", f"{down.url}/news/down.html", f"{closed}/news/gone.html"]
        )
        config = write_config(
            tmp_path / "newswatch.toml",
            [
                {
                    "name": "mixed",
                    "kind": "feed",
                    "url": f"{feeds.url}/mixed.xml",
                    "allow_private_links": True,
                }
            ],
        )
        before = utcnow()
        result = newswatch(config, sqlite_url, "crawl")
        after = utcnow()

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # the robots.txt request passed the private-address guard as the article's would
    assert down.paths and set(down.paths) == {"/robots.txt"}, down.paths
    assert stored_paths(sqlite_url) == {"/news/up.html"}
    reason, detail = failures(sqlite_url)["/news/down.html"]
    assert reason == "robots_unreachable"
    assert detail == (
        f"robots.txt of {down.origin} unreachable (HTTP 503): assuming complete disallow (RFC 9309)"
    )
    assert f"robots.txt of {down.origin} unreachable: HTTP 503" in result.stderr
    reason, detail = failures(sqlite_url)["/news/gone.html"]
    assert reason == "robots_unreachable"
    assert detail.startswith(f"robots.txt of {closed} unreachable (") and "refused" in detail
    # one warning naming the origin and the cause (the refused article logs its own line)
    said = f"robots.txt of {closed} unreachable: Connection was refused"
    warnings = [line for line in result.stderr.splitlines() if said in line]
    assert len(warnings) == 1 and " WARNING " in warnings[0], result.stderr

    row = stored_robots(sqlite_url, down.origin)
    assert row is not None and row.error == "HTTP 503" and row.status is None
    # read again soon, not in a day
    assert before + timedelta(minutes=10) <= row.expires_at <= after + timedelta(minutes=10)
    row = stored_robots(sqlite_url, feeds.origin)
    assert row is not None and row.status == 404 and row.error is None


def test_the_last_readable_answer_stands_in_for_30_days(tmp_path, sqlite_url):
    with site() as served:
        served.routes["/robots.txt"] = text(200, RULES, "text/plain")
        news_site(served, "one")
        config = write_config(tmp_path / "newswatch.toml", [source(served, "one")])
        assert newswatch(config, sqlite_url, "crawl").returncode == 0

        served.routes["/robots.txt"] = text(500, "", "text/plain")
        news_site(served, "two")
        change_robots(sqlite_url, served.origin, expires_at=utcnow() - timedelta(seconds=1))
        config = write_config(tmp_path / "newswatch.toml", [source(served, "two")])
        recent = newswatch(config, sqlite_url, "crawl")
        assert recent.returncode == 0, recent.stderr
        row = stored_robots(sqlite_url, served.origin)
        assert row is not None and row.error == "HTTP 500" and row.status == 200

        news_site(served, "three")
        long_ago = utcnow() - timedelta(days=31)
        change_robots(sqlite_url, served.origin, read_at=long_ago, expires_at=long_ago)
        config = write_config(tmp_path / "newswatch.toml", [source(served, "three")])
        stale = newswatch(config, sqlite_url, "crawl")
        assert stale.returncode == 3, stale.stderr  # its only source failed

    # within 30 days: the old rules hold, so /news/ is fetched and /private/ is not
    assert {"/news/two-1.html", "/news/two-2.html"} <= stored_paths(sqlite_url)
    assert failures(sqlite_url)["/private/two.html"][0] == "robots"
    # after 30 days: complete disallow, even the feed is refused
    assert "/three.xml" not in served.paths
    assert failures(sqlite_url)["/three.xml"][0] == "robots_unreachable"
    assert not [path for path in served.paths if path.startswith("/private/")]


def test_a_crawl_waits_for_the_process_that_claimed_robots_txt(tmp_path, sqlite_url):
    """Another process is reading robots.txt: this one waits for its answer, asks nothing."""
    with site() as served:
        served.routes["/robots.txt"] = text(200, "User-agent: *\nDisallow: /\n", "text/plain")
        news_site(served, "one")
        engine = open_engine(sqlite_url)
        with sessions(engine)() as session:
            now = utcnow()
            assert robots.claim(
                session, served.origin, "elsewhere:1", now, now + timedelta(hours=1)
            )
        config = write_config(tmp_path / "newswatch.toml", [source(served, "one")])
        crawl = start_crawl(config, sqlite_url, "-vv")  # -vv: debug lines of crawler.*
        seen = []
        assert crawl.stderr is not None
        for line in crawl.stderr:
            seen.append(line)
            if f"robots.txt of {served.origin}: waiting for elsewhere:1" in line:
                break
        else:
            pytest.fail("the crawl did not wait for the claim:\n" + "".join(seen[-30:]))
        # the other process answers
        with sessions(engine)() as session:
            now = utcnow()
            robots.store_answer(
                session,
                served.origin,
                status=200,
                body=RULES.encode(),
                read_at=now,
                expires_at=now + timedelta(hours=1),
            )
        engine.dispose()
        _, rest = crawl.communicate(timeout=120)

    assert crawl.returncode == 0, "".join(seen) + rest
    assert served.hits("/robots.txt") == 0, "robots.txt was read although another process had it"
    assert not [path for path in served.paths if path.startswith("/private/")]
    assert stored_paths(sqlite_url) == {"/news/one-1.html", "/news/one-2.html"}


def test_only_one_claimant_wins(engine):
    origin = "https://news.example"
    now = utcnow()
    minute = timedelta(minutes=1)
    with sessions(engine)() as session:
        assert robots.claim(session, origin, "a", now, now + minute)
        assert not robots.claim(session, origin, "b", now, now + minute), "two processes hold it"
        # a claim that ran out is taken over
        assert robots.claim(session, origin, "b", now + 2 * minute, now + 3 * minute)
        robots.store_answer(
            session, origin, status=200, body=b"", read_at=now, expires_at=now + 60 * minute
        )
        # released with an answer: nobody fetches again until the answer expires
        assert not robots.claim(session, origin, "c", now + 2 * minute, now + 3 * minute)
        later = now + 120 * minute
        assert robots.claim(session, origin, "c", later, later + minute)
        robots.release(session, origin, "someone else")
        assert not robots.claim(session, origin, "d", later, later + minute)
        robots.release(session, origin, "c")
        assert robots.claim(session, origin, "d", later, later + minute)
        row = robots.read(session, origin)
        assert row is not None and row.claimed_by == "d" and row.status == 200
