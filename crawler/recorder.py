"""Per-source accounting of one crawl: counters, recorded failures, one log line per source."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from crawler.failures import SKIP_REASONS, retry_after_until
from crawler.placement import Outcome
from crawler.storage import backlog, runs, schedule
from crawler.storage.models.base import utcnow

log = logging.getLogger("newswatch.crawl")


@dataclass
class SourceTally:
    """What happened to one source during one crawl."""

    name: str
    source_id: int
    run_id: int
    started: float = field(default_factory=time.monotonic)
    last_activity: float = field(default_factory=time.monotonic)
    http_status: int | None = None
    index_fetches: int = 0
    index_failures: int = 0
    not_modified: int = 0
    links: int = 0
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    failed: int = 0
    skipped: int = 0
    first_error: str | None = None
    retry_after_until: datetime | None = None  # the server asked us to wait until then
    finished: runs.RunTotals | None = None

    def status(self) -> str:
        if self.index_fetches and self.index_failures == self.index_fetches:
            return "failed"
        if self.not_modified and self.not_modified == self.index_fetches:
            return "not_modified"
        return "partial" if self.failed or self.index_failures else "ok"


class Recorder(Protocol):
    """What the spider and pipelines report to: RunRecorder here, or a cluster's recorder."""

    def index_fetched(
        self, source: str, status: int | None, *, retry_after: str | None = None
    ) -> None: ...
    def links_found(self, source: str, count: int) -> None: ...
    def article_fetched(self, source: str) -> None: ...
    def stored(self, source: str, outcome: Outcome) -> None: ...
    def failed(
        self, source: str, url: str, reason: str, detail: str, *, index: bool = False
    ) -> None: ...


def failure_counter(source: str, url: str, reason: str, detail: str, *, index: bool) -> str:
    """Log a failure; the tally counter it adds to: skipped, index_failures or failed."""
    if reason in SKIP_REASONS and not index:
        log.info("%s: skipped %s: %s", source, url, detail)
        return "skipped"
    log.warning("%s: %s failed: %s (%s)", source, url, detail, reason)
    return "index_failures" if index else "failed"


class RunRecorder:
    """Counts per source, writes failures as they happen and closes each run at the end."""

    def __init__(self, sessions: sessionmaker[Session], source_ids: dict[str, int]):
        self._sessions = sessions
        self.tallies: dict[str, SourceTally] = {}
        with sessions() as session:
            started = runs.start_runs(session, source_ids.values())  # one transaction
        for name, source_id in source_ids.items():
            self.tallies[name] = SourceTally(name, source_id, started[source_id])

    def _tally(self, source: str) -> SourceTally:
        tally = self.tallies[source]
        tally.last_activity = time.monotonic()
        return tally

    def index_fetched(
        self, source: str, status: int | None, *, retry_after: str | None = None
    ) -> None:
        """A feed, sitemap or listing page was requested (status None: no response)."""
        tally = self._tally(source)
        until = retry_after_until(retry_after, utcnow())
        if until and (tally.retry_after_until is None or until > tally.retry_after_until):
            tally.retry_after_until = until
        tally.index_fetches += 1
        tally.http_status = status if status is not None else tally.http_status
        if status == 304:
            tally.not_modified += 1

    def links_found(self, source: str, count: int) -> None:
        self._tally(source).links += count

    def article_fetched(self, source: str) -> None:
        self._tally(source).fetched += 1

    def stored(self, source: str, outcome: Outcome) -> None:
        tally = self._tally(source)
        if outcome is Outcome.NEW:
            tally.new += 1
        else:
            tally.duplicates += 1

    def failed(
        self, source: str, url: str, reason: str, detail: str, *, index: bool = False
    ) -> None:
        """Record a failure with its cause; the crawl goes on."""
        tally = self._tally(source)
        counter = failure_counter(source, url, reason, detail, index=index)
        setattr(tally, counter, getattr(tally, counter) + 1)
        if counter != "skipped":
            tally.first_error = tally.first_error or f"{reason}: {detail}"
        with self._sessions() as session:
            runs.record_failure(
                session,
                source_id=tally.source_id,
                run_id=tally.run_id,
                url=url,
                reason=reason,
                detail=detail,
            )

    def finish(self) -> list[SourceTally]:
        """Close every run, in one transaction, and log one line per source."""
        with self._sessions() as session:
            for tally in self.tallies.values():
                _write_totals(session, tally)
            session.commit()
            for tally in self.tallies.values():
                _after_close(session, tally)
        return list(self.tallies.values())


def close_run(session: Session, tally: SourceTally) -> runs.RunTotals:
    """Write a run's totals (committed), note a server's Retry-After, and log the source's
    line."""
    totals = _write_totals(session, tally)
    session.commit()
    _after_close(session, tally)
    return totals


def _write_totals(session: Session, tally: SourceTally) -> runs.RunTotals:
    """Close the run in the session's transaction; the totals, kept on the tally too."""
    waiting = backlog.waiting_count(session, tally.source_id)
    totals = runs.RunTotals(
        status=tally.status(),
        http_status=tally.http_status,
        links=tally.links,
        fetched=tally.fetched,
        new=tally.new,
        duplicates=tally.duplicates,
        failed=tally.failed + tally.index_failures,
        skipped=tally.skipped,
        waiting=waiting,
        seconds=round(max(tally.last_activity - tally.started, 0.0), 3),
        error=tally.first_error,
    )
    runs.close_run(session, tally.run_id, totals)
    tally.finished = totals
    return totals


def _after_close(session: Session, tally: SourceTally) -> None:
    """Note a server's Retry-After (committed) and log the source's line."""
    totals = tally.finished
    assert totals is not None, f"run of {tally.name} not closed"
    if tally.retry_after_until:
        schedule.note_retry_after(session, tally.source_id, tally.retry_after_until)
    log.info(
        "%s: %s, %d links, %d fetched, %d new, %d duplicate, %d failed, %d skipped, "
        "%d left for later, %.1fs%s",
        tally.name,
        totals.status,
        totals.links,
        totals.fetched,
        totals.new,
        totals.duplicates,
        totals.failed,
        totals.skipped,
        totals.waiting,
        totals.seconds,
        f" (first error: {totals.error})" if totals.error else "",
    )
