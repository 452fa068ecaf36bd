"""Queries on crawl runs and recorded failures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.storage.models import CrawlRun, Failure, Source
from crawler.storage.models.base import utcnow


@dataclass(frozen=True)
class RunTotals:
    status: str  # ok | not_modified | partial | failed
    http_status: int | None
    links: int
    fetched: int
    new: int
    duplicates: int
    failed: int
    skipped: int
    seconds: float
    error: str | None
    waiting: int = 0  # links left for a later run: over the cap, or to retry


def start_run(session: Session, source_id: int) -> int:
    return start_runs(session, [source_id])[source_id]


def start_runs(session: Session, source_ids: Iterable[int]) -> dict[int, int]:
    """A run for each source, all in one transaction; source id → run id."""
    started = {source_id: CrawlRun(source_id=source_id) for source_id in source_ids}
    session.add_all(started.values())
    session.commit()
    return {source_id: run.id for source_id, run in started.items()}


def record_failure(
    session: Session, *, source_id: int, run_id: int | None, url: str, reason: str, detail: str
) -> None:
    session.add(Failure(source_id=source_id, run_id=run_id, url=url, reason=reason, detail=detail))
    session.commit()


def finish_run(session: Session, run_id: int, totals: RunTotals) -> None:
    """Close a run (close_run) and commit."""
    close_run(session, run_id, totals)
    session.commit()


def close_run(session: Session, run_id: int, totals: RunTotals) -> None:
    """Close a run and keep the source's count of consecutive failed runs (no commit)."""
    run = session.get_one(CrawlRun, run_id)
    run.finished_at = utcnow()
    for name, value in vars(totals).items():
        setattr(run, name, value)
    source = session.get_one(Source, run.source_id)
    source.consecutive_failures = (
        source.consecutive_failures + 1 if totals.status == "failed" else 0
    )


def closed_runs(session: Session, run_ids: list[int]) -> set[int]:
    """Those of `run_ids` that are finished (or were closed as abandoned)."""
    query = select(CrawlRun.id).where(CrawlRun.id.in_(run_ids), CrawlRun.finished_at.is_not(None))
    return set(session.scalars(query))


def recent_failures(
    session: Session, *, source: str | None = None, limit: int = 50
) -> Sequence[tuple[Failure, str]]:
    query = select(Failure, Source.name).join(Source, Failure.source_id == Source.id)
    if source:
        query = query.where(Source.name == source)
    return session.execute(query.order_by(Failure.id.desc()).limit(limit)).all()
