"""Queries on sources: keep their rows in step with the config, and summarise their health."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session, aliased

from crawler import sources as config
from crawler.storage.models import Article, CrawlRun, Source
from crawler.storage.models.schedule import SourceSchedule

# A source is reported failing only after this many failed runs in a row ([service]
# failing_after): one flaky fetch should not alarm anyone.
FAILING_AFTER = 3


def sync_sources(session: Session, wanted: Iterable[config.Source]) -> dict[str, int]:
    """Insert or update a row per configured source; returns their ids by name."""
    wanted = list(wanted)
    rows = {
        row.name: row
        for row in session.scalars(select(Source).where(Source.name.in_([s.name for s in wanted])))
    }
    for source in wanted:
        row = rows.get(source.name)
        if row is None:
            row = Source(name=source.name)
            session.add(row)
            rows[source.name] = row
        row.kind = source.kind
        row.url = source.urls[0]
        row.language = source.language
        row.tags = list(source.tags)
    session.commit()
    return {name: row.id for name, row in rows.items()}


# Every health a source can have, mildest first. "flaky": its latest run failed, but fewer
# than `failing_after` runs in a row have (one flaky fetch pages nobody). "quiet" and
# "degraded" are the service's verdicts (newswatch.scheduling.health); the rest is read
# from the stored runs, whoever crawled: the service, `newswatch crawl` or a worker.
HEALTH = ("never run", "ok", "flaky", "quiet", "degraded", "failing")
SUCCEEDED = ("ok", "not_modified", "partial")  # a partial run fetched its feed: not a failure


@dataclass(frozen=True)
class SourceHealth:
    """One source's health, its reason and its last run: what `status`, `sources` and the
    web's sources page all show."""

    name: str
    kind: str
    url: str
    health: str  # one of HEALTH
    reason: str  # why, in words; "" when ok or never run
    since: datetime | None  # when this health began, where known
    articles: int
    last_run_at: datetime | None
    last_status: str | None
    last_new: int | None
    last_failed: int | None
    last_error: str | None
    consecutive_failures: int
    # the service's schedule: None until the service has polled the source
    interval_seconds: float | None = None
    next_due_at: datetime | None = None
    last_new_at: datetime | None = None
    retry_after_until: datetime | None = None


@dataclass(frozen=True)
class RunFacts:
    """What a source's stored runs say about it."""

    last_run_at: datetime | None = None  # the newest finished run
    last_status: str | None = None
    last_new: int | None = None
    failed_in_row: int = 0  # failed runs since the last one that succeeded
    failed_since: datetime | None = None  # when the first of those ended
    last_failure: str | None = None  # the error of the newest failed run
    good_since: datetime | None = None  # when the first run after the last failure ended


@dataclass(frozen=True)
class ServiceVerdict:
    """What the service last assessed (source_schedule), and when."""

    assessed_at: datetime | None
    failures_in_row: int
    health: str
    since: datetime | None
    detail: str | None


def judge(
    runs: RunFacts, service: ServiceVerdict | None, failing_after: int
) -> tuple[str, str, datetime | None]:
    """Pure: a source's (health, reason, since) from its runs and the service's verdict.

    The service's verdict holds unless a run it has not seen came after it (a
    `newswatch crawl`): failures in a row are counted on the runs, whoever ran them.
    """
    assessed = service is not None and service.assessed_at is not None
    if runs.last_run_at is None and not assessed:
        return "never run", "", None
    current = assessed and (runs.last_run_at is None or service.assessed_at >= runs.last_run_at)
    failures = runs.failed_in_row
    if current:  # the service also counts a crawl process that died before its run ended
        failures = max(failures, service.failures_in_row)
    failed = _failed_runs(failures, runs.last_failure) if failures else ""
    if current and service.health == "failing":
        return "failing", service.detail or failed, service.since
    if failures >= failing_after:
        return "failing", failed, runs.failed_since
    # a later run that stored something new ends "quiet" before the service says so
    quiet = assessed and service.health == "quiet" and (current or not runs.last_new)
    if quiet or (assessed and service.health == "degraded"):
        return service.health, "; ".join(filter(None, [service.detail, failed])), service.since
    if failures:
        return "flaky", failed, runs.failed_since
    known = [runs.good_since, service.since if current and service.health == "ok" else None]
    return "ok", "", max(filter(None, known), default=None)


def _failed_runs(count: int, error: str | None) -> str:
    # the words of the service's "failing" (newswatch.scheduling.health.assess)
    said = "last run failed" if count == 1 else f"{count} failed runs in a row"
    return f"{said}: {error}" if error else said


def latest_runs() -> Subquery:
    """(source_id, run_id) of each source's newest finished run."""
    return (
        select(CrawlRun.source_id, func.max(CrawlRun.id).label("run_id"))
        .where(CrawlRun.finished_at.is_not(None))
        .group_by(CrawlRun.source_id)
        .subquery()
    )


def article_counts() -> Subquery:
    """(source_id, n): how many articles each source has stored."""
    return (
        select(Article.source_id, func.count(Article.id).label("n"))
        .group_by(Article.source_id)
        .subquery()
    )


def source_health(
    session: Session,
    configured: Sequence[config.Source] | None,
    failing_after: int = FAILING_AFTER,
) -> list[SourceHealth]:
    """The health of every configured source, by name, those never run included, from its
    runs and the service's schedule (see `judge`). With none configured (None, or a file
    kept only to read an archive, as `newswatch demo --keep` writes): every stored source."""
    configured = configured or None
    latest, counts = latest_runs(), article_counts()
    streak, recovery, failed = _failure_streaks(), _recoveries(), aliased(CrawlRun)
    query = (
        select(
            Source,
            CrawlRun,
            SourceSchedule,
            counts.c.n,
            streak.c.n,
            streak.c.since,
            recovery.c.since,
            failed.error,
        )
        .outerjoin(latest, latest.c.source_id == Source.id)
        .outerjoin(CrawlRun, CrawlRun.id == latest.c.run_id)
        .outerjoin(SourceSchedule, SourceSchedule.source_id == Source.id)
        .outerjoin(counts, counts.c.source_id == Source.id)
        .outerjoin(streak, streak.c.source_id == Source.id)
        .outerjoin(recovery, recovery.c.source_id == Source.id)
        .outerjoin(failed, failed.id == streak.c.last_id)
    )
    if configured is not None:
        query = query.where(Source.name.in_([source.name for source in configured]))
    stored = {row[0].name: row for row in session.execute(query)}
    wanted = (
        {source.name: (source.kind, source.urls[0]) for source in configured}
        if configured is not None
        else {name: (row[0].kind, row[0].url) for name, row in stored.items()}
    )
    return [
        _health(name, kind, url, stored.get(name), failing_after)
        for name, (kind, url) in sorted(wanted.items())
    ]


def _health(name: str, kind: str, url: str, row, failing_after: int) -> SourceHealth:
    _source, run, plan, articles, failures, failed_since, good_since, failure = row or (None,) * 8
    runs = RunFacts(
        last_run_at=run.finished_at if run else None,
        last_status=run.status if run else None,
        last_new=run.new if run else None,
        failed_in_row=failures or 0,
        failed_since=failed_since,
        last_failure=failure,
        good_since=good_since,
    )
    service = plan and ServiceVerdict(
        plan.last_run_at, plan.failures_in_row, plan.health, plan.health_since, plan.health_detail
    )
    health, reason, since = judge(runs, service, failing_after)
    polled = plan is not None and plan.last_run_at is not None
    return SourceHealth(
        name=name,
        kind=kind,
        url=url,
        health=health,
        reason=reason,
        since=since,
        articles=articles or 0,
        last_run_at=runs.last_run_at or (plan.last_run_at if polled else None),
        last_status=runs.last_status,
        last_new=runs.last_new,
        last_failed=run.failed if run else None,
        last_error=run.error if run else None,
        consecutive_failures=failures or 0,
        interval_seconds=plan.interval_seconds if polled else None,
        next_due_at=plan.next_due_at if polled else None,
        last_new_at=plan.last_new_at if polled else None,
        retry_after_until=plan.retry_after_until if plan else None,
    )


def _failure_streaks() -> Subquery:
    """(source_id, n, since, last_id): each source's failed runs since its last good one."""
    good = _newest(SUCCEEDED)
    return (
        select(
            CrawlRun.source_id,
            func.count(CrawlRun.id).label("n"),
            func.min(CrawlRun.finished_at).label("since"),
            func.max(CrawlRun.id).label("last_id"),
        )
        .outerjoin(good, good.c.source_id == CrawlRun.source_id)
        .where(
            CrawlRun.status == "failed",
            CrawlRun.finished_at.is_not(None),
            CrawlRun.id > func.coalesce(good.c.run_id, 0),
        )
        .group_by(CrawlRun.source_id)
        .subquery()
    )


def _recoveries() -> Subquery:
    """(source_id, since): when each source's first good run after its last failed one ended."""
    bad = _newest(("failed",))
    return (
        select(CrawlRun.source_id, func.min(CrawlRun.finished_at).label("since"))
        .outerjoin(bad, bad.c.source_id == CrawlRun.source_id)
        .where(
            CrawlRun.status.in_(SUCCEEDED),
            CrawlRun.finished_at.is_not(None),
            CrawlRun.id > func.coalesce(bad.c.run_id, 0),
        )
        .group_by(CrawlRun.source_id)
        .subquery()
    )


def _newest(statuses: Sequence[str]) -> Subquery:
    """(source_id, run_id) of each source's newest finished run with one of `statuses`."""
    runs = aliased(CrawlRun)
    return (
        select(runs.source_id, func.max(runs.id).label("run_id"))
        .where(runs.status.in_(statuses), runs.finished_at.is_not(None))
        .group_by(runs.source_id)
        .subquery()
    )
