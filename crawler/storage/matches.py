"""Queries for alert matching: the watermark and its gaps, articles to match, match rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from crawler.storage.dialect import insert_ignore
from crawler.storage.models import Article, Source
from crawler.storage.models.alerts import AlertDelivery, AlertGap, AlertMatch, AlertState


@dataclass(frozen=True)
class ArticleRow:
    """An article with what matching and alerts need of its source."""

    id: int
    story_id: int
    url: str
    title: str | None
    lead: str | None
    text: str
    language: str | None
    published_at: datetime | None
    stored_at: datetime
    site_name: str | None
    source: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Watermark:
    last_article_id: int
    gaps: tuple[int, ...]


def _article_query():
    return select(Article, Source.name, Source.tags).join(Source, Source.id == Article.source_id)


def _row(article: Article, source: str, tags: list[str] | None) -> ArticleRow:
    return ArticleRow(
        article.id,
        article.story_id,
        article.url,
        article.title,
        article.lead,
        article.text,
        article.language,
        article.published_at,
        article.stored_at,
        article.site_name,
        source,
        tuple(tags or ()),
    )


def lock_watermark(session: Session, now: datetime, backfill_since: datetime) -> Watermark:
    """Take the engine's lock (a write to the state row) and read the watermark.

    Writing first serialises concurrent engine runs on both backends: PostgreSQL locks the
    row, SQLite takes its write lock. The first run starts from `backfill_since`.
    """
    if session.get(AlertState, 1) is None:
        start = session.scalar(
            select(func.coalesce(func.max(Article.id), 0)).where(Article.stored_at < backfill_since)
        )
        session.execute(insert_ignore(session, AlertState).values(id=1, last_article_id=start))
    session.execute(update(AlertState).where(AlertState.id == 1).values(updated_at=now))
    last = session.scalar(select(AlertState.last_article_id).where(AlertState.id == 1))
    gaps = session.scalars(select(AlertGap.article_id).order_by(AlertGap.article_id)).all()
    return Watermark(last or 0, tuple(gaps))


def articles_after(session: Session, last_id: int, limit: int) -> list[ArticleRow]:
    query = _article_query().where(Article.id > last_id).order_by(Article.id).limit(limit)
    return [_row(*row) for row in session.execute(query)]


def articles_by_id(session: Session, ids: Iterable[int]) -> list[ArticleRow]:
    ids = list(ids)
    if not ids:
        return []
    query = _article_query().where(Article.id.in_(ids)).order_by(Article.id)
    return [_row(*row) for row in session.execute(query)]


def archive(session: Session, since: datetime | None, batch: int = 500) -> Iterator[ArticleRow]:
    """Every stored article (stored since `since`), oldest first, read in batches."""
    last = 0
    while True:
        query = _article_query().where(Article.id > last).order_by(Article.id).limit(batch)
        if since is not None:
            query = query.where(Article.stored_at >= since)
        rows = [_row(*row) for row in session.execute(query)]
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def advance_watermark(
    session: Session,
    mark: Watermark,
    new_last: int,
    seen: set[int],
    now: datetime,
    gap_ttl: timedelta,
) -> None:
    """Move the watermark to `new_last`, remember ids skipped on the way, forget old gaps."""
    found = [gap for gap in mark.gaps if gap in seen]
    if found:
        session.execute(delete(AlertGap).where(AlertGap.article_id.in_(found)))
    skipped = [i for i in range(mark.last_article_id + 1, new_last) if i not in seen]
    if skipped:
        rows = [{"article_id": i, "noticed_at": now} for i in skipped]
        session.execute(insert_ignore(session, AlertGap), rows)
    session.execute(delete(AlertGap).where(AlertGap.noticed_at < now - gap_ttl))
    session.execute(update(AlertState).where(AlertState.id == 1).values(last_article_id=new_last))


def insert_match(session: Session, values: dict) -> int | None:
    """The new match's id, or None when this rule already matched this story."""
    statement = insert_ignore(session, AlertMatch, ["rule", "story_id"]).values(**values)
    return session.scalar(statement.returning(AlertMatch.id))


def insert_deliveries(session: Session, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(AlertDelivery), rows)
