"""Queries for alert deliveries: claim what is due, its matches, each attempt, re-queueing."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from crawler.storage import stories
from crawler.storage.edits import ArticleEdit
from crawler.storage.models import Article, Source
from crawler.storage.models.alerts import AlertAttempt, AlertDelivery, AlertMatch


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    match_id: int
    rule: str
    channel: str
    mode: str
    state: str
    due_at: datetime
    next_attempt_at: datetime
    attempts: int
    message_id: str
    queued_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    version_id: int | None = None  # an edit of the matched article (crawler.storage.edits)


_DELIVERY_FIELDS = [field.name for field in fields(DeliveryRow)]


@dataclass(frozen=True)
class AlertItem:
    """One match as a message shows it: the match, its article, its story when sent; or an
    edit of that article, with the match it came from.

    The one record of a match on its way out: read here, rendered by alerts.render as is.
    """

    match_id: int
    story_id: int
    article_id: int
    url: str
    title: str | None
    source: str
    site_name: str | None
    language: str | None
    published_at: datetime | None
    matched_at: datetime
    terms: tuple[str, ...]
    snippets: tuple[dict, ...]  # as stored: alerts.snippets.Snippet.as_json()
    title_highlights: tuple[tuple[int, int], ...] = ()
    # the story when the message is sent: it may have grown since the match
    story_articles: int = 1
    story_outlets: int = 1
    story_languages: tuple[str, ...] = ()
    query: str = ""  # the rule's query when it matched
    # set when the message tells of a later version of the matched article, not the match
    edit: ArticleEdit | None = None


def delivery_row(row: AlertDelivery) -> DeliveryRow:
    return DeliveryRow(**{name: getattr(row, name) for name in _DELIVERY_FIELDS})


def claim_due(
    session: Session, now: datetime, lease_until: datetime, limit: int, owner: str | None = None
) -> list[DeliveryRow]:
    """Pending deliveries whose time has come, claimed by `owner` until `lease_until`.

    SKIP LOCKED lets several dispatchers share the table on PostgreSQL; SQLite has one
    writer at a time and ignores it.
    """
    query = (
        select(AlertDelivery)
        .where(
            AlertDelivery.state == "pending",
            AlertDelivery.next_attempt_at <= now,
            or_(AlertDelivery.claimed_until.is_(None), AlertDelivery.claimed_until < now),
        )
        .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.scalars(query).all()
    for row in rows:
        row.claimed_until, row.claimed_by = lease_until, owner
    session.flush()
    return [delivery_row(row) for row in rows]


def matches(session: Session, ids: list[int]) -> dict[int, AlertItem]:
    """These matches by id, with their articles and their stories' sizes at this moment."""
    query = (
        select(
            AlertMatch,
            Article.url,
            Article.title,
            Source.name,
            Article.site_name,
            Article.language,
            Article.published_at,
        )
        .join(Article, Article.id == AlertMatch.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(AlertMatch.id.in_(ids))
    )
    rows = session.execute(query).all()
    sizes = stories.summaries(session, [match.story_id for match, *_ in rows])
    found = {}
    for match, url, title, source, site_name, language, published_at in rows:
        story = sizes.get(match.story_id)
        found[match.id] = AlertItem(
            match_id=match.id,
            story_id=match.story_id,
            article_id=match.article_id,
            url=url,
            title=title,
            source=source,
            site_name=site_name,
            language=language,
            published_at=published_at,
            matched_at=match.matched_at,
            terms=tuple(match.terms or ()),
            snippets=tuple(match.snippets or ()),
            title_highlights=tuple(tuple(span) for span in match.title_highlights or ()),
            story_articles=story.articles if story else 1,
            story_outlets=story.outlets if story else 1,
            story_languages=story.languages if story else (),
            query=match.query,
        )
    return found


def record_attempt(
    session: Session,
    ids: list[int],
    now: datetime,
    outcome: str,
    detail: str,
    next_attempt_at: datetime | None = None,
) -> None:
    """Log one attempt for each delivery and move it on: sent, retry (pending later) or dead."""
    values: dict = {
        "claimed_until": None,
        "claimed_by": None,
        "attempts": AlertDelivery.attempts + 1,
    }
    if outcome == "sent":
        values.update(state="sent", sent_at=now, last_error=None)
    elif outcome == "retry":
        values.update(state="pending", next_attempt_at=next_attempt_at, last_error=detail)
    else:
        values.update(state="dead", last_error=detail)
    session.execute(update(AlertDelivery).where(AlertDelivery.id.in_(ids)).values(**values))
    rows = [
        {"delivery_id": i, "attempted_at": now, "outcome": outcome, "detail": detail} for i in ids
    ]
    session.execute(insert(AlertAttempt), rows)


def log(session: Session, state: str | None, rule: str | None, limit: int) -> list[DeliveryRow]:
    query = select(AlertDelivery).order_by(AlertDelivery.id.desc()).limit(limit)
    if state:
        query = query.where(AlertDelivery.state == state)
    if rule:
        query = query.where(AlertDelivery.rule == rule)
    return [delivery_row(row) for row in session.scalars(query)]


def attempts(session: Session, delivery_id: int) -> list[tuple[datetime, str, str]]:
    query = (
        select(AlertAttempt.attempted_at, AlertAttempt.outcome, AlertAttempt.detail)
        .where(AlertAttempt.delivery_id == delivery_id)
        .order_by(AlertAttempt.id)
    )
    return [tuple(row) for row in session.execute(query)]


def requeue_dead(session: Session, now: datetime, ids: list[int] | None = None) -> int:
    """Dead deliveries (all, or those in `ids`) back to pending, due now, with a fresh horizon."""
    statement = update(AlertDelivery).where(AlertDelivery.state == "dead")
    if ids:
        statement = statement.where(AlertDelivery.id.in_(ids))
    values = {
        "state": "pending",
        "next_attempt_at": now,
        "queued_at": now,
        "claimed_until": None,
        "claimed_by": None,
    }
    return session.execute(statement.values(**values)).rowcount


def claim_holders(session: Session, now: datetime) -> list[str]:
    """The owners of claims still running at `now` (claims without an owner left out)."""
    query = (
        select(AlertDelivery.claimed_by)
        .where(
            AlertDelivery.state == "pending",
            AlertDelivery.claimed_until >= now,
            AlertDelivery.claimed_by.is_not(None),
        )
        .distinct()
    )
    return list(session.scalars(query))


def release_claims(session: Session, owner: str) -> int:
    """Give up every pending claim of `owner`: the deliveries are claimable again at once."""
    statement = (
        update(AlertDelivery)
        .where(AlertDelivery.state == "pending", AlertDelivery.claimed_by == owner)
        .values(claimed_until=None, claimed_by=None)
    )
    return session.execute(statement).rowcount


def claims_in_flight(session: Session, now: datetime) -> int:
    """Pending deliveries a dispatcher has claimed and whose lease has not run out."""
    return (
        session.scalar(
            select(func.count())
            .select_from(AlertDelivery)
            .where(AlertDelivery.state == "pending", AlertDelivery.claimed_until >= now)
        )
        or 0
    )
