"""Per-site delay and concurrency shared by every worker, through Redis.

Scrapy's own per-domain slots count only one process's requests; with four workers a site
would see four times the configured rate. This downloader middleware asks Redis for a turn
before each download: at most `per_domain_concurrency` requests to a host at once across
the cluster, and starts at least `delay` seconds apart. Times come from the Redis server's
clock, so workers on machines with skewed clocks agree. The turns a worker holds are
listed under its id, so reaping a dead worker frees them too (ledger.py); the download
timeout bounds any turn that escapes both.
"""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import scrapy
from redis import Redis
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.cluster.keys import ClusterKeys

TURN = "nw_turn"  # request meta: (host, member) of the turn it holds

# KEYS: holders (sorted set member → lease end), next start, the worker's turns (hash
# member → host); ARGV: delay ms, limit, lease ms, member, host. Returns 0 when the turn is
# taken, or how many ms to wait before asking again.
ACQUIRE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 20 end
local next_start = tonumber(redis.call('GET', KEYS[2]) or '0')
if next_start > now then return next_start - now end
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[2], now + delay, 'PX', delay + 60000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
return 0
"""


class SharedPoliteness:
    def __init__(
        self, redis: Redis, keys: ClusterKeys, worker: str, delay: float, limit: int, lease: float
    ):
        self.redis = redis
        self.keys = keys
        self.turns = keys.turns(worker)
        self.delay_ms = int(delay * 1000)
        self.limit = limit
        self.lease_ms = int(lease * 1000)
        self._acquire = redis.register_script(ACQUIRE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPoliteness:
        settings = crawler.settings
        return cls(
            Redis.from_url(settings.get("REDIS_URL")),
            ClusterKeys(settings.get("NEWSWATCH_CLUSTER_PREFIX")),
            worker=crawler.spider.ledger.worker_id,
            delay=settings.getfloat("NEWSWATCH_SHARED_DELAY"),
            limit=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            # Held past the timeout only by a worker that died mid-download.
            lease=settings.getfloat("DOWNLOAD_TIMEOUT") + 30.0,
        )

    async def process_request(self, request: scrapy.Request) -> None:
        host = urlsplit(request.url).hostname or ""
        member = uuid.uuid4().hex
        keys = [self.keys.domain_holders(host), self.keys.domain_next(host), self.turns]
        args = [self.delay_ms, self.limit, self.lease_ms, member, host]
        while (wait_ms := int(self._acquire(keys=keys, args=args))) > 0:
            await asyncio.sleep(wait_ms / 1000)
        request.meta[TURN] = (host, member)

    def process_response(self, request: scrapy.Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: scrapy.Request, exception: Exception) -> None:
        self._release(request)

    def _release(self, request: scrapy.Request) -> None:
        turn = request.meta.pop(TURN, None)
        if turn is not None:
            host, member = turn
            with self.redis.pipeline() as pipe:
                pipe.zrem(self.keys.domain_holders(host), member)
                pipe.hdel(self.turns, member)
                pipe.execute()
