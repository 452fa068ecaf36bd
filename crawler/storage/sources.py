"""Queries on sources: keep their rows in step with the config, and summarise their health."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from crawler import sources as config
from crawler.storage.models import Article, CrawlRun, Source

# A source is reported failing only after this many failed runs in a row:
# one flaky fetch should not alarm anyone.
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


@dataclass(frozen=True)
class SourceHealth:
    name: str
    kind: str
    url: str
    articles: int
    last_run_at: datetime | None
    last_status: str | None
    last_new: int | None
    last_failed: int | None
    last_error: str | None
    consecutive_failures: int

    @property
    def health(self) -> str:
        if self.last_run_at is None:
            return "never run"
        if self.consecutive_failures >= FAILING_AFTER:
            return "failing"
        if self.consecutive_failures:
            return "flaky"
        return "ok"


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


def source_health(session: Session) -> Sequence[SourceHealth]:
    latest, counts = latest_runs(), article_counts()
    query = (
        select(Source, CrawlRun, counts.c.n)
        .outerjoin(latest, latest.c.source_id == Source.id)
        .outerjoin(CrawlRun, CrawlRun.id == latest.c.run_id)
        .outerjoin(counts, counts.c.source_id == Source.id)
        .order_by(Source.name)
    )
    result = []
    for source, run, n in session.execute(query):
        result.append(
            SourceHealth(
                name=source.name,
                kind=source.kind,
                url=source.url,
                articles=n or 0,
                last_run_at=run.finished_at if run else None,
                last_status=run.status if run else None,
                last_new=run.new if run else None,
                last_failed=run.failed if run else None,
                last_error=run.error if run else None,
                consecutive_failures=source.consecutive_failures,
            )
        )
    return result
