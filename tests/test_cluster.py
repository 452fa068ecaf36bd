"""Crawling with `newswatch worker` processes sharing a Redis queue, end to end.

Real processes (`newswatch worker`, `newswatch crawl`), the real Redis and PostgreSQL servers
and a real loopback news site that records every request on its side (tests/cluster_helpers).
Synchronisation is by polling a condition with a deadline (a worker's heartbeat in Redis, its
in-flight hash, the site's request log), never by sleeping. The site's `gate` holds article
responses, so a test decides how long workers hold their requests: e.g. until every worker
holds some, which shows the work really is shared.

Every test runs with a 2-second worker_timeout: a worker's heartbeat comes from its own
thread, so a reactor busy with a first in-process extraction (which loads trafilatura's
models for a second or more) does not get a live worker taken for dead and its requests
crawled twice; these tests would catch that as a page requested twice.
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.cluster_helpers import (
    TIMEOUT,
    Cluster,
    ClusterSite,
    finished,
    intervals_overlapping,
    redis_unreachable,
    skip_without_redis,
    start_newswatch,
)
from tests.crawl_helpers import newswatch, rows, write_config
from tests.test_alerts_webhook import SECRET, verify
from tests.webhook_receiver import Receiver

WORKERS = ("w1", "w2", "w3")
FAST = {"heartbeat": "0.5s", "worker_timeout": "2s"}  # a killed worker is noticed in ~2 s


@pytest.fixture(scope="session")
def redis_skip_reason() -> str | None:
    return redis_unreachable()


@pytest.fixture
def cluster(redis_skip_reason, tmp_path, request) -> Iterator[Cluster]:
    """A cluster of this test's own: Redis key prefix, PostgreSQL database, processes."""
    skip_without_redis(redis_skip_reason)
    # Empty, not even migrated: the workers, started together, create the schema (under
    # PostgreSQL's advisory lock, crawler/storage/migrations/env.py).
    cluster = Cluster(tmp_path, request.getfixturevalue("postgres_url"))
    try:
        yield cluster
    finally:
        cluster.close()


def stored(cluster: Cluster) -> list[tuple[str, str]]:
    """(url, source name) of every stored article."""
    return rows(
        cluster.database_url,
        "SELECT a.url, s.name FROM articles a JOIN sources s ON s.id = a.source_id",
    )


def runs(cluster: Cluster) -> dict[str, dict]:
    """Source name → its (only) crawl run, as a dict of columns."""
    columns = (
        "status",
        "finished_at",
        "links",
        "fetched",
        "new",
        "duplicates",
        "failed",
        "skipped",
        "error",
    )
    found = rows(
        cluster.database_url,
        f"SELECT s.name, {', '.join('r.' + c for c in columns)} "
        "FROM crawl_runs r JOIN sources s ON s.id = r.source_id",
    )
    names = [name for name, *_ in found]
    assert len(names) == len(set(names)), f"more than one run for a source: {names}"
    return {name: dict(zip(columns, values, strict=True)) for name, *values in found}


def assert_every_article_stored_once(cluster: Cluster, site: ClusterSite) -> None:
    urls = [url for url, _ in stored(cluster)]
    assert len(urls) == len(set(urls)), "an article was stored twice"
    assert {urlsplit(url).path for url in urls} == site.article_paths


def assert_runs_ok(cluster: Cluster, articles: int) -> dict[str, dict]:
    """Every run finished ok, without failures, and together they stored `articles`."""
    found = runs(cluster)
    for name, run in found.items():
        assert run["status"] == "ok" and run["finished_at"] is not None, (name, run)
        assert (run["failed"], run["skipped"], run["error"]) == (0, 0, None), (name, run)
    assert sum(run["new"] for run in found.values()) == articles, found
    return found


def holds_articles(cluster: Cluster, site: ClusterSite, worker: str) -> list[str]:
    """The article URLs a worker holds in its in-flight hash."""
    return [url for url in cluster.held_urls(worker) if urlsplit(url).path in site.article_paths]


def wait_until_every_worker_holds_articles(cluster: Cluster, site: ClusterSite) -> None:
    cluster.wait_until(
        lambda: all(holds_articles(cluster, site, worker) for worker in WORKERS),
        "every worker holds article requests",
    )


def wait_until_holding_on_the_wire(cluster: Cluster, site: ClusterSite, worker: str) -> list[str]:
    """Wait until `worker` holds article requests only (no feed whose links it is still
    queueing), every one of them received by the (gated) site; them."""

    def holding() -> list[str]:
        held = cluster.held_urls(worker)
        arrived = {hit.path for hit in site.log() if hit.path in site.article_paths}
        return held if held and all(urlsplit(url).path in arrived for url in held) else []

    return cluster.wait_until(holding, f"{worker} holds article requests the site received")


def test_three_workers_crawl_every_article_exactly_once(cluster):
    # 6 feeds of 10 articles, plus 6 articles each linked from two feeds: 66 articles.
    with ClusterSite(feeds=6, per_feed=10, shared=6) as site:
        # Each worker takes at most 4 requests at a time: 66 articles need all three.
        cluster.configure(site.sources(), {"concurrency": 4, "per_domain_concurrency": 8}, **FAST)
        cluster.start_workers(*WORKERS)
        site.gate.clear()  # article pages wait until every worker holds some
        cluster.start("crawl", "crawl")
        wait_until_every_worker_holds_articles(cluster, site)
        # mid-crawl, `status` shows the cluster: every worker, what is in flight per source
        shown = newswatch(cluster.config, cluster.database_url, "status")
        site.gate.set()
        status, output = cluster.finish("crawl")
        assert status == 0, output
        # every worker settled requests (its heartbeat says so a beat later)
        cluster.wait_until(
            lambda: all(
                cluster.live_workers().get(worker, {}).get("settled", 0) > 0 for worker in WORKERS
            ),
            "every worker's heartbeat reports settled requests",
        )
        hits = site.article_hits()
        feeds = Counter(hit.path for hit in site.log() if hit.path in site.feed_paths)

    assert "Traceback" not in output
    assert shown.returncode == 0, shown.stderr
    assert "3 workers alive" in shown.stdout, shown.stdout
    assert all(re.search(rf"^{worker}\s", shown.stdout, re.M) for worker in WORKERS), shown.stdout
    # every source's run is open, with requests held at the gate: a count in "in queue"
    assert "in queue" in shown.stdout, shown.stdout
    for name in site.source_articles():
        state = r"(never run|not polled yet|\w+)"
        assert re.search(rf"^{name}\s+{state}\s+[1-9]\d*\s", shown.stdout, re.M), shown.stdout
    assert len(site.article_paths) == 66
    assert_every_article_stored_once(cluster, site)
    # the shared duplicate filter: each article was requested from the site exactly once,
    # the six linked from two feeds included
    assert set(hits) == site.article_paths
    assert {path: count for path, count in hits.items() if count != 1} == {}
    assert feeds == dict.fromkeys(site.feed_paths, 1)

    # each source's run is closed with its own counts
    found = assert_runs_ok(cluster, 66)
    stored_for = Counter(name for _, name in stored(cluster))
    linked = site.source_articles()
    assert set(found) == set(linked)
    for name, run in found.items():
        assert run["links"] == len(linked[name]) == 12, (name, run)
        # an article two feeds link is fetched, and counted, for one of them only
        assert run["fetched"] == run["new"] == stored_for[name], (name, run)
        assert run["duplicates"] == 0, (name, run)
        assert f"INFO    {name}: ok, 12 links, {run['fetched']} fetched" in output, output

    # nothing is left behind in Redis: no queued or held request, no open run
    redis, keys = cluster.redis, cluster.keys
    assert redis.zcard(keys.queue) == 0
    assert {worker: redis.hlen(keys.inflight(worker)) for worker in WORKERS} == dict.fromkeys(
        WORKERS, 0
    )
    assert redis.hlen(keys.runs) == 0
    assert redis.zcard(keys.domain_holders("127.0.0.1")) == 0  # every per-site turn returned
    assert [worker for worker in WORKERS if redis.exists(keys.turns(worker))] == []


def test_a_killed_worker_loses_nothing(cluster):
    with ClusterSite(feeds=3, per_feed=8) as site:  # 24 articles
        # At most 4 requests per worker, and all of them on the wire at once.
        cluster.configure(site.sources(), {"concurrency": 4, "per_domain_concurrency": 32}, **FAST)
        cluster.start_workers(*WORKERS)
        site.gate.clear()  # article pages hang: whatever a worker took, it holds
        cluster.start("crawl", "crawl")
        wait_until_holding_on_the_wire(cluster, site, "w1")
        cluster.signal("w1", signal.SIGKILL)
        cluster.processes["w1"].wait(TIMEOUT)
        held = holds_articles(cluster, site, "w1")  # frozen: nobody settles them now
        assert held, "w1 held nothing when it was killed"
        site.gate.set()
        status, output = cluster.finish("crawl")
        hits = site.article_hits()

    assert status == 0, output
    assert "Traceback" not in output
    # once its heartbeat expired, what w1 held went back to the queue and w1 was forgotten
    assert not cluster.redis.exists(cluster.keys.inflight("w1"))
    assert not cluster.redis.sismember(cluster.keys.workers, "w1")
    assert "w1" not in cluster.live_workers()
    # ... and its per-site turns were freed with it (after the crawl nobody holds any)
    assert not cluster.redis.exists(cluster.keys.turns("w1"))
    assert cluster.redis.zcard(cluster.keys.domain_holders("127.0.0.1")) == 0
    others = "".join(cluster.log(name) for name in ("w2", "w3", "crawl"))
    assert "requests of a dead worker went back to the queue" in others
    # ... and the others crawled it: each requested a second time, stored once
    assert {url: hits[urlsplit(url).path] for url in held if hits[urlsplit(url).path] < 2} == {}
    assert_every_article_stored_once(cluster, site)
    found = assert_runs_ok(cluster, 24)
    assert {name: run["links"] for name, run in found.items()} == dict.fromkeys(found, 8)


def test_a_worker_stopped_with_sigterm_finishes_what_it_holds_and_leaves(cluster):
    with ClusterSite(feeds=3, per_feed=8) as site:  # 24 articles
        # A long worker_timeout: what becomes of w1's requests is w1's own doing, not the
        # others reaping a worker whose heartbeat expired.
        cluster.configure(
            site.sources(),
            {"concurrency": 4, "per_domain_concurrency": 32},
            heartbeat="0.5s",
            worker_timeout="30s",
        )
        cluster.start_workers(*WORKERS)
        site.gate.clear()
        cluster.start("crawl", "crawl")
        held = wait_until_holding_on_the_wire(cluster, site, "w1")
        cluster.signal("w1", signal.SIGTERM)
        site.gate.set()
        # While it drains, w1 takes nothing new from the queue: the others crawl the rest.
        # (Sampled: it can miss a violation, never report a false one.)
        seen = set(held)
        while cluster.processes["w1"].poll() is None:
            seen.update(cluster.held_urls("w1"))
            time.sleep(0.02)  # sampling interval; the loop ends when w1 exits
        status, output = cluster.finish("w1")
        # checked at once, long before its 30-second heartbeat could have expired
        assert not cluster.redis.exists(cluster.keys.inflight("w1"))
        assert not cluster.redis.exists(cluster.keys.heartbeat("w1"))
        assert not cluster.redis.sismember(cluster.keys.workers, "w1")
        assert "w1" not in cluster.live_workers()
        crawl_status, crawl_output = cluster.finish("crawl")
        hits = site.article_hits()

    assert status == 0, output
    assert "Traceback" not in output
    assert "worker w1 stopped (shutdown)" in output
    assert seen == set(held), f"w1 took new work after SIGTERM: {sorted(seen - set(held))}"
    assert crawl_status == 0, crawl_output
    # nothing lost, nothing fetched twice: w1 finished its own requests before leaving
    assert_every_article_stored_once(cluster, site)
    assert set(hits) == site.article_paths
    assert {path: count for path, count in hits.items() if count != 1} == {}
    assert_runs_ok(cluster, 24)


def test_a_worker_stopped_hard_puts_back_what_it_holds_at_once(cluster):
    with ClusterSite(feeds=3, per_feed=8) as site:  # 24 articles
        cluster.configure(
            site.sources(),
            {"concurrency": 4, "per_domain_concurrency": 32},
            heartbeat="0.5s",
            worker_timeout="30s",
        )
        # w1 logs Scrapy's own lines too: they say when its first SIGTERM was handled
        cluster.start_workers(*WORKERS, verbose=("w1",))
        site.gate.clear()
        cluster.start("crawl", "crawl")
        held = wait_until_holding_on_the_wire(cluster, site, "w1")
        cluster.signal("w1", signal.SIGTERM)  # a graceful stop, stuck on the gated pages ...
        cluster.wait_until(
            lambda: "Received SIGTERM, shutting down gracefully" in cluster.log("w1"),
            "w1 handled the first SIGTERM",
        )
        cluster.signal("w1", signal.SIGTERM)  # ... cut short: Scrapy stops at once
        cluster.finish("w1")
        # at once, long before its 30-second heartbeat expires: what it held is back
        redis, keys = cluster.redis, cluster.keys
        assert (redis.exists(keys.inflight("w1")), redis.exists(keys.turns("w1"))) == (0, 0)
        assert not redis.exists(keys.heartbeat("w1"))
        assert not redis.sismember(keys.workers, "w1")
        site.gate.set()
        status, output = cluster.finish("crawl")
        hits = site.article_hits()

    assert status == 0, output
    assert_every_article_stored_once(cluster, site)
    # crawled by the others: each requested a second time
    assert {url: hits[urlsplit(url).path] for url in held if hits[urlsplit(url).path] < 2} == {}
    assert_runs_ok(cluster, 24)


POLITE_DELAY = 0.25
JITTER = 0.1  # seconds: scheduling noise between a turn being taken and the site seeing it


def test_politeness_limits_hold_across_workers(cluster):
    with ClusterSite(feeds=2, per_feed=4) as site:
        # Each worker may take 2 requests, so the three compete for the site's one host;
        # only the shared limit keeps them to one request at a time, POLITE_DELAY apart.
        cluster.configure(
            site.sources(),
            {"concurrency": 2, "per_domain_concurrency": 1, "delay": POLITE_DELAY},
            **FAST,
        )
        cluster.start_workers(*WORKERS)
        site.gate.clear()
        cluster.start("crawl", "crawl")
        wait_until_every_worker_holds_articles(cluster, site)  # all three are competing
        site.gate.set()
        status, output = cluster.finish("crawl")
        log = sorted(site.log(), key=lambda hit: hit.start)

    assert status == 0, output
    assert_every_article_stored_once(cluster, site)
    described = "\n".join(
        f"{hit.start - log[0].start:7.3f} .. {(hit.end or 0) - log[0].start:7.3f} {hit.path}"
        for hit in log
    )
    # robots.txt (once for the whole cluster: the workers share the database's copy), the
    # feeds and the articles: every request counts
    assert len(log) == 1 + 2 + 8, described
    assert intervals_overlapping(log) == [], f"two requests in flight at once:\n{described}"
    gaps = [later.start - earlier.start for earlier, later in pairwise(log)]
    assert min(gaps) >= POLITE_DELAY - JITTER, f"started too close together:\n{described}"


ROUNDS = 5


def test_an_idle_worker_takes_newly_queued_work_at_once(cluster):
    """Idle, Scrapy's engine looks at its scheduler on a 5-second heartbeat only: queued work
    would wait 2.5 s on average. The worker's wake-up (crawler/cluster/wake.py) has it look
    within a fraction of a second; this fails if Scrapy stops honouring that wake-up."""
    with ClusterSite(feeds=1, per_feed=1) as site:
        cluster.configure(site.sources(), **FAST)
        cluster.start_workers("w1")
        for number in range(ROUNDS):  # each `newswatch crawl` queues the feed once
            cluster.start(f"crawl-{number}", "crawl")
            status, output = cluster.finish(f"crawl-{number}")
            assert status == 0, output
        hits = sorted(site.log(), key=lambda hit: hit.wall)

    started = [
        when.timestamp()
        for (when,) in rows(cluster.database_url, "SELECT started_at FROM crawl_runs ORDER BY id")
    ]
    assert len(started) == ROUNDS
    waits = [min(hit.wall for hit in hits if hit.wall >= queued) - queued for queued in started]
    described = ", ".join(f"{wait:.2f} s" for wait in waits)
    assert sum(waits) / ROUNDS < 1.0, f"queued work waited for the worker: {described}"


# -- configuration and connection errors ----------------------------------------------------

SOURCE = {"name": "desk", "kind": "feed", "urls": ["http://127.0.0.1:9/feed.xml"]}


def cluster_config(path: Path, **cluster: str) -> Path:
    config = write_config(path, [SOURCE], extraction_workers=0)
    lines = ["", "[cluster]", *(f'{key} = "{value}"' for key, value in cluster.items())]
    with config.open("a", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
    return config


def test_a_cluster_on_sqlite_or_a_non_redis_url_is_a_config_error(tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'newswatch.db'}"
    postgres = "postgresql://nobody@127.0.0.1:1/never-connected"  # checked, not reached
    config = cluster_config(tmp_path / "newswatch.toml", prefix="test-config")
    plain = write_config(tmp_path / "plain.toml", [SOURCE], extraction_workers=0)
    http = cluster_config(tmp_path / "http.toml", redis_url="http://x")
    cases = [
        (config, sqlite, ["crawl"], "storage.database_url"),
        (config, sqlite, ["worker"], "storage.database_url"),
        (plain, sqlite, ["crawl", "--cluster"], "storage.database_url"),
        (http, postgres, ["crawl"], "cluster.redis_url"),
        (http, postgres, ["worker"], "cluster.redis_url"),
    ]
    started = [
        (start_newswatch(path, database_url, *command), path, command, setting)
        for path, database_url, command, setting in cases
    ]  # all at once: each is a new Python process, slow to start
    for process, path, command, setting in started:
        result = finished(process)
        where = f"{path.name} {' '.join(command)}: {result.stderr}"
        assert result.returncode == 2, where
        assert "Traceback" not in result.stderr, where
        assert str(path) in result.stderr and setting in result.stderr, where
        if setting == "storage.database_url":
            assert "PostgreSQL" in result.stderr, where
        else:
            assert "http://x" in result.stderr, where


def test_a_worker_without_redis_says_where_it_looked(tmp_path, postgres_url):
    config = cluster_config(
        tmp_path / "newswatch.toml", redis_url="redis://127.0.0.1:1/0", prefix="test-noredis"
    )
    commands = (["worker", "--id", "lonely"], ["crawl"])
    started = [(start_newswatch(config, postgres_url, *command), command) for command in commands]
    for process, command in started:
        result = finished(process)
        where = f"{' '.join(command)}: {result.stderr}"
        assert result.returncode not in (0, None), where
        assert "Traceback" not in result.stderr, where
        errors = [line for line in result.stderr.splitlines() if "127.0.0.1:1" in line]
        assert len(errors) == 1 and "redis" in errors[0].lower(), where
        assert result.stderr.strip().splitlines()[-1] == errors[0], where


# -- the whole cluster: workers, a coordinator, dispatchers and a webhook receiver ----------

ALERTS = """
[alerts]
backfill_hours = 1000000  # the site's articles are dated early in the month

[channels.hook]
kind = "webhook"
url = {url}
secret_env = "HOOK_SECRET"

[[rules]]
name = "every-story"
query = "title:story"
channels = ["hook"]
"""


def test_workers_and_dispatchers_store_each_article_and_deliver_each_alert_once(
    cluster, monkeypatch
):
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    receiver = Receiver()
    try:
        with ClusterSite(feeds=4, per_feed=8, shared=4) as site:  # 36 articles
            config = cluster.configure(
                site.sources(), {"concurrency": 4, "per_domain_concurrency": 8}, **FAST
            )
            with config.open("a", encoding="utf-8") as file:
                file.write(ALERTS.format(url=json.dumps(receiver.base + "/hook")))
            cluster.start_workers(*WORKERS)
            for name in ("d1", "d2"):
                cluster.start(name, "dispatcher", "--interval", "0.2s")
            cluster.start("crawl", "crawl")
            status, output = cluster.finish("crawl")
            assert status == 0, output
            stories = rows(cluster.database_url, "SELECT COUNT(DISTINCT story_id) FROM articles")
            receiver.wait_for_acks(stories[0][0], timeout=TIMEOUT)
            for name in ("d1", "d2"):
                cluster.signal(name, signal.SIGTERM)
                assert cluster.finish(name)[0] == 0, cluster.log(name)
    finally:
        receiver.close()

    assert_every_article_stored_once(cluster, site)
    assert stories[0][0] == len(site.article_paths) == 36  # one story each: one alert each
    # each alert acknowledged once, signed, under its own webhook-id; nothing sent twice
    ids = receiver.acked_ids()
    assert len(ids) == 36 and set(ids.values()) == {1}, ids
    assert len(receiver.requests) == 36
    assert all(verify(SECRET, headers, body) for _, headers, body in receiver.acked)
    titles = {json.loads(body)["matches"][0]["article"]["title"] for _, _, body in receiver.acked}
    assert titles == {story.title for story in site.stories.values()}
    # matched once each (one matcher at a time), delivered once each
    matches = rows(
        cluster.database_url, "SELECT article_id, COUNT(*) FROM alert_matches GROUP BY 1"
    )
    assert len(matches) == 36 and {count for _, count in matches} == {1}
    states = rows(
        cluster.database_url, "SELECT state, attempts, COUNT(*) FROM alert_deliveries GROUP BY 1, 2"
    )
    assert states == [("sent", 1, 36)]
