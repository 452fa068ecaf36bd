"""robots.txt read once per site for every crawl process sharing the database (RFC 9309).

Scrapy's RobotsTxtMiddleware fetches robots.txt again in every process. Here the answer
is kept in the database (crawler.storage.robots) until it expires, and one process at a
time fetches it: the others wait for its answer. What an answer means follows RFC 9309:
a 2xx is parsed; a 4xx means no rules; a 5xx or a network error means robots.txt is
unreachable, and the last readable answer stands in if it is under 30 days old, else
everything is disallowed and refused with RobotsUnreachable.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from sqlalchemy.orm import Session, sessionmaker
from twisted.internet.defer import Deferred

from crawler.middlewares.private_addresses import GUARD_KEYS
from crawler.storage import robots
from crawler.storage.models.base import utcnow

logger = logging.getLogger(__name__)

MAX_AGE = timedelta(hours=24)  # RFC 9309 2.4: a cached copy SHOULD NOT serve longer
MIN_AGE = timedelta(minutes=1)  # max-age=0 would mean one robots.txt request per article
UNREACHABLE_AGE = timedelta(minutes=10)  # an unreachable robots.txt is tried again soon
LAST_READABLE = timedelta(days=30)  # how long the last readable answer stands in for it
POLL_SECONDS = 0.1  # how often a process waiting for another's answer looks for it
CLAIM_MARGIN = 15.0  # seconds a claim outlasts the download (queueing, storing)

_MAX_AGE = re.compile(rb"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.I)


class RobotsUnreachable(IgnoreRequest):
    """robots.txt of the request's origin could not be read: everything is disallowed."""


@dataclass(frozen=True)
class Unreachable:
    """The rules of an origin whose robots.txt could not be read: complete disallow."""

    origin: str
    cause: str

    def message(self) -> str:
        return (
            f"robots.txt of {self.origin} unreachable ({self.cause}): "
            "assuming complete disallow (RFC 9309)"
        )


Rules = RobotParser | Unreachable | None  # None: no rules, everything allowed


@dataclass(frozen=True)
class _Known:
    rules: Rules
    expires_at: datetime


class CachedRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        settings = crawler.settings
        attempts = 1 + (settings.getint("RETRY_TIMES") if settings.getbool("RETRY_ENABLED") else 0)
        self._claim_for = timedelta(
            seconds=settings.getfloat("DOWNLOAD_TIMEOUT") * attempts + CLAIM_MARGIN
        )
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[-80:]
        # Per process, as Scrapy does, but only until the stored answer expires: a
        # long-lived worker reads robots.txt again when the rest of the cluster does.
        # While one request reads an origin, the others of this process wait in its list.
        self._known: dict[str, _Known | list[Deferred[_Known]]] = {}

    def _sessions(self) -> sessionmaker[Session]:
        # The spider does not exist yet when from_crawler runs.
        return self.crawler.spider.context.sessions

    def process_request_2(self, rp: Rules, request: Request) -> None:
        if isinstance(rp, Unreachable):
            self._stats.inc_value("robotstxt/unreachable")
            raise RobotsUnreachable(rp.message())
        super().process_request_2(rp, request)

    async def robot_parser(self, request: Request) -> Rules:
        origin = origin_of(request)
        known = self._known.get(origin)
        if isinstance(known, list):  # another request of this process is reading it
            # One Deferred per waiter: awaiting a Deferred consumes its result.
            mine: Deferred[_Known] = Deferred()
            known.append(mine)
            return (await maybe_deferred_to_future(mine)).rules
        if known is not None and known.expires_at > utcnow():
            return known.rules
        waiters: list[Deferred[_Known]] = []
        self._known[origin] = waiters
        try:
            known = await self._load(origin, request)
        except BaseException as error:
            # The requests waiting for this origin fail the same way; the next one retries.
            del self._known[origin]
            for waiter in waiters:
                waiter.errback(error)
                waiter.addErrback(lambda _: None)
            raise
        self._known[origin] = known
        for waiter in waiters:
            waiter.callback(known)
        return known.rules

    async def _load(self, origin: str, request: Request) -> _Known:
        sessions = self._sessions()
        waited_for = None
        while True:
            now = utcnow()
            with sessions() as session:
                stored = robots.read(session, origin)
            if stored and stored.expires_at and stored.expires_at > now:
                if waited_for is None:
                    self._stats.inc_value("robotstxt/shared_cache_hit")
                return await self._known_from(stored, now, request)
            with sessions() as session:
                if robots.claim(session, origin, self._owner, now, now + self._claim_for):
                    break
            if waited_for is None:
                waited_for = stored.claimed_by if stored else "another process"
                logger.debug("robots.txt of %s: waiting for %s to read it", origin, waited_for)
            await sleep(POLL_SECONDS)
        try:
            stored = await self._fetch(origin, request)
        except BaseException:
            with sessions() as session:
                robots.release(session, origin, self._owner)
            raise
        return await self._known_from(stored, utcnow(), request)

    async def _fetch(self, origin: str, request: Request) -> robots.StoredRobots:
        """Download robots.txt, store what it says, and release the claim."""
        # The guard checks the robots.txt request (and its redirects) like the article's.
        meta = {key: request.meta[key] for key in GUARD_KEYS if key in request.meta}
        robots_request = Request(
            f"{origin}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True, **meta},
            callback=NO_CALLBACK,
        )
        self._stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(robots_request)
        except Exception as error:
            self._stats.inc_value(f"robotstxt/exception_count/{type(error)}")
            logger.debug("robots.txt of %s: download failed", origin, exc_info=error)
            return self._unreachable(origin, _first_line(error))
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        status = response.status
        # RFC 9309 names 5xx; a 429 is a server asking us to slow down, not "no rules".
        if status >= 500 or status == 429:
            return self._unreachable(origin, f"HTTP {status}")
        now = utcnow()
        with self._sessions()() as session:
            return robots.store_answer(
                session,
                origin,
                status=status,
                body=response.body if 200 <= status < 300 else None,
                read_at=now,
                expires_at=now + max_age(response),
            )

    def _unreachable(self, origin: str, cause: str) -> robots.StoredRobots:
        logger.warning("robots.txt of %s unreachable: %s", origin, cause)
        with self._sessions()() as session:
            return robots.store_unreachable(
                session, origin, error=cause, expires_at=utcnow() + UNREACHABLE_AGE
            )

    async def _known_from(
        self, stored: robots.StoredRobots, now: datetime, request: Request
    ) -> _Known:
        expires_at = stored.expires_at or now
        status, read_at = stored.status, stored.read_at
        readable = status is not None and read_at is not None
        if not readable or (stored.error and now - read_at > LAST_READABLE):
            return _Known(Unreachable(stored.origin, stored.error or "no answer"), expires_at)
        if not 200 <= status < 300:
            return _Known(None, expires_at)  # RFC 9309 2.3.1.3: unavailable, no rules
        parser = build_from_crawler(self._parserimpl, self.crawler, stored.body or b"")
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request
        )
        return _Known(parser, expires_at)


def origin_of(request: Request) -> str:
    """scheme://host[:port] of a request, the port only when it is not the default."""
    parts = urlparse_cached(request)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == {"http": 80, "https": 443}.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def max_age(response: Response) -> timedelta:
    """How long an answer is good for: its Cache-Control max-age, within 1 min and 24 h."""
    header = response.headers.get(b"Cache-Control") or b""
    found = _MAX_AGE.search(header)
    if found is None:
        return MAX_AGE
    seconds = min(int(found[1]), MAX_AGE.total_seconds())  # no overflow on absurd values
    return max(timedelta(seconds=seconds), MIN_AGE)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else error.__class__.__name__
