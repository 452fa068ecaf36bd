"""Queries on the poll schedule: per-source state, the runs of a batch, the signals of health."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crawler.storage.models import Article, CrawlRun, Failure
from crawler.storage.models.schedule import SourceSchedule


@dataclass(frozen=True)
class Schedule:
    """A source's schedule state as a plain value (what the pure scheduling functions take)."""

    source_id: int
    interval_seconds: float | None = None
    next_due_at: datetime | None = None
    last_run_at: datetime | None = None
    last_new_at: datetime | None = None
    failures_in_row: int = 0
    retry_after_until: datetime | None = None
    health: str = "ok"
    health_since: datetime | None = None
    health_detail: str | None = None
    announced: str = "ok"
    announced_at: datetime | None = None


_COLUMNS = tuple(f.name for f in fields(Schedule))


@dataclass(frozen=True)
class RunResult:
    """What the latest run of a source in a batch reported."""

    source_id: int
    status: str  # ok | not_modified | partial | failed | running (the crawl never finished)
    http_status: int | None
    new: int
    error: str | None


@dataclass(frozen=True)
class ArticleSample:
    """One stored article, reduced to what extraction health looks at."""

    stored_at: datetime
    dated: bool
    authored: bool
    body_chars: int


def _value(row: SourceSchedule) -> Schedule:
    return Schedule(**{name: getattr(row, name) for name in _COLUMNS})


def load(session: Session, source_ids: Iterable[int] | None = None) -> dict[int, Schedule]:
    query = select(SourceSchedule)
    if source_ids is not None:
        query = query.where(SourceSchedule.source_id.in_(list(source_ids)))
    return {row.source_id: _value(row) for row in session.scalars(query)}


def save(session: Session, schedule: Schedule) -> None:
    """Insert or replace a source's state, except `retry_after_until`: that is the crawl's."""
    row = session.get(SourceSchedule, schedule.source_id)
    if row is None:
        row = SourceSchedule(source_id=schedule.source_id)
        session.add(row)
    for name in _COLUMNS:
        if name != "retry_after_until":
            setattr(row, name, getattr(schedule, name))
    session.commit()


def note_retry_after(session: Session, source_id: int, until: datetime) -> None:
    """A server asked us to wait (429/503 with Retry-After): no poll before `until`."""
    row = session.get(SourceSchedule, source_id)
    if row is None:
        row = SourceSchedule(source_id=source_id)
        session.add(row)
    row.retry_after_until = until
    session.commit()


def last_run_id(session: Session) -> int:
    """The newest run id: the runs a batch started afterwards have greater ones."""
    return session.scalar(select(func.max(CrawlRun.id))) or 0


def batch_runs(
    session: Session, source_ids: Sequence[int], after_run_id: int
) -> dict[int, RunResult]:
    """The latest run of each source with an id above `after_run_id` (one batch's runs)."""
    latest = (
        select(func.max(CrawlRun.id))
        .where(CrawlRun.source_id.in_(list(source_ids)), CrawlRun.id > after_run_id)
        .group_by(CrawlRun.source_id)
    )
    runs = session.scalars(select(CrawlRun).where(CrawlRun.id.in_(latest)))
    return {
        run.source_id: RunResult(run.source_id, run.status, run.http_status, run.new, run.error)
        for run in runs
    }


def abandon_unfinished_runs(session: Session, now: datetime) -> int:
    """Close runs a killed crawl left open, so they stop showing as running."""
    result = session.execute(
        update(CrawlRun)
        .where(CrawlRun.finished_at.is_(None))
        .values(finished_at=now, status="abandoned", error="the crawl process ended mid-run")
    )
    session.commit()
    return result.rowcount or 0


def article_dates(session: Session, source_id: int, limit: int = 20) -> list[datetime]:
    """When the source's latest stored articles appeared (published, else stored), newest first."""
    moments = session.scalars(
        select(func.coalesce(Article.published_at, Article.stored_at))
        .where(Article.source_id == source_id)
        .order_by(Article.id.desc())
        .limit(limit)
    )
    return sorted(moments, reverse=True)


def article_samples(session: Session, source_id: int, limit: int = 60) -> list[ArticleSample]:
    """The source's latest stored articles, newest first, for extraction fill rates."""
    rows = session.execute(
        select(
            Article.stored_at,
            Article.published_at.is_not(None),
            Article.author.is_not(None),
            func.length(Article.text),
        )
        .where(Article.source_id == source_id)
        .order_by(Article.id.desc())
        .limit(limit)
    )
    return [
        ArticleSample(stored, bool(dated), bool(authored), length or 0)
        for stored, dated, authored, length in rows
    ]


def extraction_failures(session: Session, source_id: int, since: datetime | None) -> int:
    """Pages of the source that were fetched but yielded no article, since `since`."""
    query = select(func.count(Failure.id)).where(
        Failure.source_id == source_id, Failure.reason == "extraction"
    )
    if since is not None:
        query = query.where(Failure.occurred_at >= since)
    return session.scalar(query) or 0
