"""The cluster's bookkeeping in Redis, one piece at a time: tokens, in-flight requests, the
shared duplicate filter. End to end, with processes, in test_cluster.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import scrapy
from redis import Redis

from crawler.cluster.keys import ClusterKeys
from crawler.cluster.ledger import RUN, TOKEN, Ledger
from crawler.cluster.queue import ExpiringDupeFilter
from tests.cluster_helpers import (
    REDIS_URL,
    delete_keys,
    redis_unreachable,
    skip_without_redis,
    wait_until,
)


@pytest.fixture
def redis() -> Iterator[Redis]:
    skip_without_redis(redis_unreachable())
    client = Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def keys(redis: Redis) -> Iterator[ClusterKeys]:
    keys = ClusterKeys(f"test-{uuid.uuid4().hex[:12]}")
    yield keys
    delete_keys(redis, keys.prefix)


def test_a_run_waits_for_each_token_until_it_is_settled_once(redis, keys):
    ledger = Ledger(redis, keys, "w1")
    feed, articles = {}, [{}, {}]
    ledger.admit([feed], run_id=7)
    ledger.admit(articles, run_id=7, parent=feed[TOKEN])
    assert redis.scard(keys.run_tokens(7)) == 3
    ledger.expect_children(feed, 2)  # the feed is settled once both articles are queued
    ledger.child_queued(feed[TOKEN])
    assert redis.sismember(keys.run_tokens(7), feed[TOKEN])
    ledger.child_queued(feed[TOKEN])
    assert not redis.sismember(keys.run_tokens(7), feed[TOKEN])
    for meta in articles + articles:  # settling twice (a requeued copy) counts once
        ledger.settle(meta)
    assert redis.scard(keys.run_tokens(7)) == 0
    assert {meta[RUN] for meta in articles} == {7}


def test_a_dead_workers_requests_go_back_with_their_scores_and_its_turns_are_freed(redis, keys):
    redis.zadd(keys.queue, {b"first": -10, b"second": 0})
    dead = Ledger(redis, keys, "dead")
    dead.heartbeat(timeout=0.2, info={})
    assert dead.take(keys.queue) == b"first"
    assert redis.hgetall(keys.inflight("dead")) == {b"first": b"-10"}
    redis.zadd(keys.domain_holders("site.example"), {"turn-1": 9e12})
    redis.hset(keys.turns("dead"), "turn-1", "site.example")
    alive = Ledger(redis, keys, "alive")
    alive.heartbeat(timeout=30, info={})
    assert alive.requeue_dead() == 0  # its heartbeat has not expired yet
    wait_until(lambda: not redis.exists(keys.heartbeat("dead")), "the heartbeat expires")
    assert alive.requeue_dead() == 1
    assert redis.zrange(keys.queue, 0, -1, withscores=True) == [(b"first", -10), (b"second", 0)]
    assert not redis.exists(keys.inflight("dead"), keys.turns("dead"))
    assert redis.zcard(keys.domain_holders("site.example")) == 0
    assert redis.smembers(keys.workers) == {b"alive"}
    assert alive.requeue_dead() == 0  # once only


def test_the_shared_filter_lets_retries_and_redirects_through_and_forgets(redis, keys):
    seen = ExpiringDupeFilter(redis, keys.seen, window=0.3)
    article = scrapy.Request("https://news.example/a.html")
    assert not seen.request_seen(article)
    assert seen.request_seen(article)  # another worker, another feed: filtered
    assert not seen.request_seen(article.replace(meta={"redirect_times": 1}))
    assert not seen.request_seen(article.replace(meta={"retry_times": 1}))
    # after the window, a link still without an article (its fetch failed) is tried again
    wait_until(lambda: not seen.request_seen(article), "the fingerprint expires", timeout=5)
