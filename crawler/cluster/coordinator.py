"""The coordinator's side: start runs, queue their feeds, wait until workers settle them.

`crawl_in_cluster` is what `newswatch crawl --cluster` and each batch of `newswatch run
--cluster` call instead of crawling in their own process; it returns the same per-source
tallies, so scheduling and health work unchanged.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence

from redis import Redis
from scrapy_redis import picklecompat
from sqlalchemy.orm import Session, sessionmaker

from crawler.backlog import Backlog
from crawler.cluster.keys import ClusterKeys
from crawler.cluster.ledger import Ledger
from crawler.cluster.options import ClusterOptions
from crawler.cluster.queue import queue_score
from crawler.cluster.recorder import tally_from_hash
from crawler.cluster.spider import source_meta
from crawler.recorder import SourceTally, close_run
from crawler.sources import CrawlOptions, Source, article_cap
from crawler.spiders.requests import KEY, first_requests
from crawler.storage import fetch_state, runs

log = logging.getLogger("newswatch.cluster")
POLL_SECONDS = 0.2
PROGRESS_SECONDS = 10.0


class Coordinator:
    def __init__(
        self,
        redis: Redis,
        cluster: ClusterOptions,
        sessions: sessionmaker[Session],
        options: CrawlOptions,
    ):
        self.redis = redis
        self.cluster = cluster
        self.options = options
        self.keys = ClusterKeys(cluster.prefix)
        self.sessions = sessions
        self.ledger = Ledger(redis, self.keys, worker_id="coordinator")

    def enqueue(self, sources: dict[str, tuple[Source, int]]) -> dict[str, int]:
        """Start a run per source and queue its feeds; source name → run id."""
        started: dict[str, int] = {}
        with self.sessions() as session:
            for name, (_, source_id) in sources.items():
                started[name] = runs.start_run(session, source_id)
        backlog = Backlog(self.sessions, self.options.retry_schedule)
        for name, (source, source_id) in sources.items():
            run_id = started[name]
            cap = article_cap(source, self.options)
            with self.sessions() as session:
                requests, _ = first_requests(session, source, source_id, backlog, cap)
            for request in requests:
                request.meta.update(source_meta(source, source_id))
            self.ledger.admit([request.meta for request in requests], run_id)
            with self.redis.pipeline() as pipe:
                pipe.hset(
                    self.keys.run(run_id),
                    mapping={
                        "started": time.time(),
                        "source": name,
                        "source_id": source_id,
                    },
                )
                pipe.hset(self.keys.runs, name, run_id)
                for request in requests:
                    pipe.zadd(self.keys.queue, {_encode(request): queue_score(request.priority)})
                pipe.execute()
        return started

    def pending(self, run_id: int) -> int:
        """Requests of the run that are queued, being crawled, or waiting to be stored."""
        return int(self.redis.scard(self.keys.run_tokens(run_id)))

    def wait(
        self,
        started: dict[str, int],
        sources: dict[str, tuple[Source, int]],
        *,
        stop: threading.Event | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> list[SourceTally]:
        """Close each run once its requests are settled (or it times out); their tallies."""
        waiting = dict(started)
        done: list[SourceTally] = []
        deadline = time.monotonic() + self.cluster.run_timeout
        next_note = time.monotonic() + PROGRESS_SECONDS
        while waiting:
            with self.redis.pipeline(transaction=False) as pipe:
                for run_id in waiting.values():
                    pipe.scard(self.keys.run_tokens(run_id))
                pending = pipe.execute()
            for (name, run_id), left in zip(list(waiting.items()), pending, strict=True):
                if int(left) == 0:
                    done.append(self.finish(name, sources[name][1], run_id))
                    del waiting[name]
            if not waiting:
                break
            now = time.monotonic()
            if stop is not None and stop.is_set():
                break  # left open; closed as abandoned when the service starts again
            if now >= deadline:
                for name, run_id in waiting.items():
                    error = (
                        f"timeout: {self.pending(run_id)} requests still unsettled after "
                        f"{self.cluster.run_timeout:g}s (are workers running?)"
                    )
                    done.append(self.finish(name, sources[name][1], run_id, error=error))
                break
            if now >= next_note:
                next_note = now + PROGRESS_SECONDS
                self.ledger.requeue_dead()
                if progress:
                    progress(self.describe(waiting))
            time.sleep(POLL_SECONDS)
        return done

    def describe(self, waiting: dict[str, int]) -> str:
        left = sum(self.pending(run_id) for run_id in waiting.values())
        alive = len(live_workers(self.redis, self.keys))
        return (
            f"cluster: {len(waiting)} sources running, {left} requests unsettled, "
            f"{alive} workers alive"
        )

    def finish(
        self, name: str, source_id: int, run_id: int, *, error: str | None = None
    ) -> SourceTally:
        """Write the run's totals; save its feeds' validators if it completed."""
        tally = tally_from_hash(name, source_id, run_id, self.redis.hgetall(self.keys.run(run_id)))
        fetches = [
            json.loads(raw) for raw in self.redis.lrange(self.keys.run_fetches(run_id), 0, -1)
        ]
        if error:
            tally.failed += 1
            tally.first_error = tally.first_error or error
        with self.sessions() as session:
            if not error:  # a run cut short reads its feeds in full next time
                for fetch in fetches:
                    fetch_state.save_fetch(session, **fetch)
            close_run(session, tally)
        with self.redis.pipeline() as pipe:
            pipe.delete(
                self.keys.run(run_id), self.keys.run_tokens(run_id), self.keys.run_fetches(run_id)
            )
            pipe.execute()
        if int(self.redis.hget(self.keys.runs, name) or 0) == run_id:
            self.redis.hdel(self.keys.runs, name)
        return tally


def forget_stale_runs(redis: Redis, keys: ClusterKeys, sessions: sessionmaker[Session]) -> int:
    """Drop the Redis state of runs the database has closed (a coordinator stopped mid-run)."""
    listed = {name.decode(): int(run) for name, run in redis.hgetall(keys.runs).items()}
    if not listed:
        return 0
    with sessions() as session:
        closed = runs.closed_runs(session, list(listed.values()))
    for name, run_id in listed.items():
        if run_id in closed:
            redis.delete(keys.run(run_id), keys.run_tokens(run_id), keys.run_fetches(run_id))
            redis.hdel(keys.runs, name)
    return len(closed)


def crawl_in_cluster(
    sources: Sequence[Source],
    source_ids: dict[str, int],
    cluster: ClusterOptions,
    sessions: sessionmaker[Session],
    options: CrawlOptions,
    *,
    stop: threading.Event | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[SourceTally]:
    """Crawl `sources` once with the cluster's workers and return what happened to each."""
    redis = Redis.from_url(cluster.redis_url)
    try:
        redis.ping()
        coordinator = Coordinator(redis, cluster, sessions, options)
        if not live_workers(redis, coordinator.keys):
            log.warning(
                "cluster: no worker is alive: the sources wait in the queue until a "
                "`newswatch worker` starts (or for run_timeout)"
            )
        batch = {source.name: (source, source_ids[source.name]) for source in sources}
        started = coordinator.enqueue(batch)
        return coordinator.wait(started, batch, stop=stop, progress=progress)
    finally:
        redis.close()


def live_workers(redis: Redis, keys: ClusterKeys) -> dict[str, dict]:
    """Registered workers whose heartbeat has not expired, with what they last said."""
    workers = sorted(member.decode() for member in redis.smembers(keys.workers))
    if not workers:
        return {}
    beats = redis.mget([keys.heartbeat(worker) for worker in workers])
    return {worker: json.loads(beat) for worker, beat in zip(workers, beats, strict=True) if beat}


def _encode(request) -> bytes:
    """Serialize a request as a worker's queue would, naming the spider's callbacks."""
    data = request.to_dict()
    if KEY in request.meta:  # an article link
        data.update(callback="parse_article", errback="article_failed")
    else:  # a feed, sitemap, listing, search or homepage
        data.update(callback="parse_index", errback="index_failed")
    return picklecompat.dumps(data)
