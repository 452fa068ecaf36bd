"""Queries on WebSub subscriptions: what feeds advertised, what is due, what a hub confirmed."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from crawler.storage.dialect import insert_ignore
from crawler.storage.models.base import utcnow
from crawler.storage.models.websub import WebSubSubscription

__all__ = ["WebSubSubscription"]

# States a hub may deliver to: the subscription was asked for or confirmed.
DELIVERABLE = ("requested", "active", "failed")


def advertised(
    session: Session, source_id: int, feed_url: str, topic_url: str, hubs: Collection[str]
) -> None:
    """Record the hubs a feed advertised, each once; the service subscribes (no commit).

    A row already there is left alone: reading the feed again changes nothing, and two
    crawls recording the same hub at once do not conflict.
    """
    now = utcnow()
    for hub in hubs:
        session.execute(
            insert_ignore(session, WebSubSubscription).values(
                source_id=source_id,
                feed_url=feed_url,
                topic_url=topic_url,
                hub_url=hub,
                state="new",
                due_at=now,
                failures=0,
                created_at=now,
                updated_at=now,
            )
        )


def advertised_writes(
    source_id: int, feed_url: str, topic_url: str | None, hubs: Collection[str]
) -> list[Callable[[Session], object]]:
    """The write recording a feed's hubs, for a crawl's batch of writes; none without hubs."""
    if not hubs:
        return []
    return [partial(_advertised, source_id, feed_url, topic_url or feed_url, tuple(hubs))]


def _advertised(
    source_id: int, feed_url: str, topic_url: str, hubs: tuple[str, ...], session: Session
) -> None:
    advertised(session, source_id, feed_url, topic_url, hubs)


def due(session: Session, now: datetime) -> Sequence[WebSubSubscription]:
    """Subscriptions the service must act on now (subscribe, renew, retry, unsubscribe)."""
    return session.scalars(
        select(WebSubSubscription)
        .where(WebSubSubscription.due_at <= now)
        .order_by(WebSubSubscription.due_at, WebSubSubscription.id)
    ).all()


def next_due(session: Session) -> datetime | None:
    return session.scalar(select(func.min(WebSubSubscription.due_at)))


def by_token(session: Session, token: str) -> WebSubSubscription | None:
    return session.scalar(select(WebSubSubscription).where(WebSubSubscription.token == token))


def for_source(session: Session, source_id: int) -> Sequence[WebSubSubscription]:
    return session.scalars(
        select(WebSubSubscription)
        .where(WebSubSubscription.source_id == source_id)
        .order_by(WebSubSubscription.id)
    ).all()


def listed(session: Session) -> Sequence[WebSubSubscription]:
    """Every subscription, by source (for status pages and tests)."""
    return session.scalars(
        select(WebSubSubscription).order_by(WebSubSubscription.source_id, WebSubSubscription.id)
    ).all()


def change(session: Session, subscription_id: int, **values: object) -> None:
    """Set columns of one subscription (no commit)."""
    session.execute(
        update(WebSubSubscription)
        .where(WebSubSubscription.id == subscription_id)
        .values(**values, updated_at=utcnow())
    )


def forget(session: Session, subscription_id: int) -> None:
    session.execute(delete(WebSubSubscription).where(WebSubSubscription.id == subscription_id))


def leave_removed(session: Session, configured: Collection[int], now: datetime) -> int:
    """Subscriptions of sources no longer configured: unsubscribe those a hub knows, forget
    the others; how many are to be unsubscribed (no commit)."""
    removed = WebSubSubscription.source_id.not_in(list(configured))
    never_held = WebSubSubscription.token.is_(None) | (WebSubSubscription.state == "denied")
    session.execute(delete(WebSubSubscription).where(removed, never_held))
    result = session.execute(
        update(WebSubSubscription)
        .where(removed, WebSubSubscription.state != "unsubscribing")
        .values(state="unsubscribing", due_at=now, failures=0, updated_at=now)
    )
    return result.rowcount or 0
