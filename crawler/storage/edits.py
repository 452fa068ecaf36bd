"""Queries for edit alerts: the versions watermark, edits of matched articles, what changed.

An edit alert is a delivery whose `version_id` names a later version of the article its
match is about (crawler.storage.models.versions). Only the article a rule matched is
watched, not the other copies of its story.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from crawler.storage.dialect import insert_ignore
from crawler.storage.models import Article
from crawler.storage.models.alerts import AlertDelivery, AlertMatch, AlertState
from crawler.storage.models.versions import ArticleVersion


@dataclass(frozen=True)
class EditToAlert:
    """A later version of the article `match_id` is about, for that match's rule."""

    version_id: int
    match_id: int
    rule: str


@dataclass(frozen=True)
class ArticleEdit:
    """One later version of an article beside the one before it (the article row is 1)."""

    version_id: int
    number: int
    change: str  # edited | removed | redirected
    changed: tuple[str, ...]  # of "title", "text", "published_at", "author"
    seen_at: datetime
    status: int | None
    final_url: str | None
    title: str | None
    previous_title: str | None
    text: str | None  # None when removed
    previous_text: str | None
    published_at: datetime | None
    previous_published_at: datetime | None
    author: str | None
    previous_author: str | None


def version_watermark(session: Session, backfill_since: datetime) -> int:
    """The highest version id looked at; the first time, the last one before the backfill.

    Call it under the engine's lock (crawler.storage.matches.lock_watermark): the state
    row exists then, and no other run moves it meanwhile.
    """
    last = session.scalar(select(AlertState.last_version_id).where(AlertState.id == 1))
    if last is None:
        last = session.scalar(
            select(func.coalesce(func.max(ArticleVersion.id), 0)).where(
                ArticleVersion.seen_at < backfill_since
            )
        )
        advance_version_watermark(session, last)
    return last


def version_ids_after(session: Session, last_id: int, limit: int) -> list[int]:
    query = (
        select(ArticleVersion.id)
        .where(ArticleVersion.id > last_id)
        .order_by(ArticleVersion.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def edits_to_alert(
    session: Session, rules: Iterable[str], last_id: int, new_last: int, recent_since: datetime
) -> list[EditToAlert]:
    """Versions in (last_id, new_last] of articles these rules matched, and the recent ones
    below `last_id` not alerted yet.

    The second part is for PostgreSQL, where ids are handed out before commit: a version
    committed late below the watermark is still found while it is recent.
    """
    rules = list(rules)
    if not rules:
        return []
    alerted = exists().where(
        AlertDelivery.version_id == ArticleVersion.id, AlertDelivery.match_id == AlertMatch.id
    )
    query = (
        select(ArticleVersion.id, AlertMatch.id, AlertMatch.rule)
        .join(AlertMatch, AlertMatch.article_id == ArticleVersion.article_id)
        .where(
            AlertMatch.rule.in_(rules),
            or_(
                and_(ArticleVersion.id > last_id, ArticleVersion.id <= new_last),
                and_(
                    ArticleVersion.id <= last_id,
                    ArticleVersion.seen_at >= recent_since,
                    ~alerted,
                ),
            ),
        )
        .order_by(ArticleVersion.id, AlertMatch.id)
    )
    return [EditToAlert(*row) for row in session.execute(query)]


def insert_edit_deliveries(session: Session, rows: list[dict]) -> int:
    """Queue these deliveries, skipping any already queued; returns how many were new."""
    conflict = ["version_id", "match_id", "channel"]
    added = 0
    for row in rows:
        statement = insert_ignore(session, AlertDelivery, conflict).values(**row)
        added += session.scalar(statement.returning(AlertDelivery.id)) is not None
    return added


def advance_version_watermark(session: Session, new_last: int) -> None:
    session.execute(update(AlertState).where(AlertState.id == 1).values(last_version_id=new_last))


def changes(session: Session, version_ids: Iterable[int]) -> dict[int, ArticleEdit]:
    """These versions by id, each beside the version before it (or the article row)."""
    ids = list(version_ids)
    if not ids:
        return {}
    wanted = session.scalars(select(ArticleVersion).where(ArticleVersion.id.in_(ids))).all()
    article_ids = {version.article_id for version in wanted}
    every = session.scalars(
        select(ArticleVersion).where(ArticleVersion.article_id.in_(article_ids))
    ).all()
    by_number = {(version.article_id, version.number): version for version in every}
    articles = {
        article.id: article
        for article in session.scalars(select(Article).where(Article.id.in_(article_ids)))
    }
    found = {}
    for version in wanted:
        before = by_number.get((version.article_id, version.number - 1))
        before = before or articles[version.article_id]
        found[version.id] = ArticleEdit(
            version_id=version.id,
            number=version.number,
            change=version.change,
            changed=tuple(name for name in (version.changed or "").split(",") if name),
            seen_at=version.seen_at,
            status=version.status,
            final_url=version.final_url,
            title=version.title,
            previous_title=before.title,
            text=version.text,
            previous_text=before.text,
            published_at=version.published_at,
            previous_published_at=before.published_at,
            author=version.author,
            previous_author=before.author,
        )
    return found
