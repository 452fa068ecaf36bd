"""Alert history for review: deliveries with what they were about, matches per rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.storage.deliveries import DeliveryRow, delivery_row
from crawler.storage.feed import FeedItem, item
from crawler.storage.models import Article, Source
from crawler.storage.models.alerts import AlertDelivery, AlertMatch


@dataclass(frozen=True)
class LogEntry:
    """A delivery and the article its match was about."""

    delivery: DeliveryRow
    story_id: int
    article_id: int
    title: str | None
    url: str


@dataclass(frozen=True)
class LogPage:
    entries: tuple[LogEntry, ...]
    next_before: int | None  # the `before` id of the next (older) page; None: last page


@dataclass(frozen=True)
class RuleSummary:
    name: str
    matches: int
    last_matched_at: datetime | None


@dataclass(frozen=True)
class MatchEntry:
    """A rule's match: the story's article it matched and why."""

    match_id: int
    rule: str
    matched_at: datetime
    terms: tuple[str, ...]
    snippets: tuple[dict, ...]
    article: FeedItem


def delivery_page(
    session: Session,
    *,
    state: str | None = None,
    rule: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> LogPage:
    """Deliveries newest first, in keyset pages by id."""
    query = (
        select(
            AlertDelivery, AlertMatch.story_id, AlertMatch.article_id, Article.title, Article.url
        )
        .join(AlertMatch, AlertMatch.id == AlertDelivery.match_id)
        .join(Article, Article.id == AlertMatch.article_id)
        .order_by(AlertDelivery.id.desc())
        .limit(limit + 1)
    )
    if state:
        query = query.where(AlertDelivery.state == state)
    if rule:
        query = query.where(AlertDelivery.rule == rule)
    if before is not None:
        query = query.where(AlertDelivery.id < before)
    rows = session.execute(query).all()
    entries = tuple(LogEntry(delivery_row(row[0]), *row[1:]) for row in rows[:limit])
    more = len(rows) > limit
    return LogPage(entries, entries[-1].delivery.id if more and entries else None)


def get_delivery(session: Session, delivery_id: int) -> DeliveryRow | None:
    row = session.get(AlertDelivery, delivery_id)
    return delivery_row(row) if row else None


def delivery_states(session: Session) -> dict[str, int]:
    query = select(AlertDelivery.state, func.count()).group_by(AlertDelivery.state)
    return dict(session.execute(query).all())


def rule_summaries(session: Session) -> list[RuleSummary]:
    """Every rule that matched something, with its count of matches (= stories)."""
    query = (
        select(AlertMatch.rule, func.count(), func.max(AlertMatch.matched_at))
        .group_by(AlertMatch.rule)
        .order_by(AlertMatch.rule)
    )
    return [RuleSummary(*row) for row in session.execute(query)]


def rule_matches(session: Session, rule: str, limit: int = 50) -> list[MatchEntry]:
    """A rule's newest matches (one per story by construction), with their articles."""
    query = (
        select(AlertMatch, Article, Source.name)
        .join(Article, Article.id == AlertMatch.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(AlertMatch.rule == rule)
        .order_by(AlertMatch.id.desc())
        .limit(limit)
    )
    return [
        MatchEntry(
            match.id,
            match.rule,
            match.matched_at,
            tuple(match.terms or ()),
            tuple(match.snippets or ()),
            item(article, source),
        )
        for match, article, source in session.execute(query)
    ]
