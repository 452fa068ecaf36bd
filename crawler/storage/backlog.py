"""Queries on the link backlog: links waiting their turn, waiting for a retry, or given up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from crawler.storage import dialect
from crawler.storage.models import BacklogLink, Source

WAITING, RETRY, GAVE_UP = "waiting", "retry", "gave_up"
# Refused by policy (robots.txt, the private-address guard): kept for the record (coverage,
# `newswatch failures`), but not held: decided afresh whenever a feed lists the link again.
REFUSED = "refused"


@dataclass(frozen=True)
class Pending:
    """A link to request: its key, the address as published, and what the feed said."""

    key: str
    url: str
    hints: dict


def due(session: Session, source_id: int, now: datetime, limit: int) -> list[Pending]:
    """The source's links whose turn has come: the backlog first, then retries, oldest first."""
    rows = session.scalars(
        select(BacklogLink)
        .where(
            BacklogLink.source_id == source_id,
            BacklogLink.state.in_((WAITING, RETRY)),
            BacklogLink.next_attempt_at <= now,
        )
        .order_by(case((BacklogLink.state == WAITING, 0), else_=1), BacklogLink.found_at)
        .limit(limit)
    )
    return [Pending(row.key, row.url, row.hints) for row in rows]


def held(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of `keys` the backlog holds (so a feed listing them adds nothing): any state
    but refused."""
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # stay below SQL parameter limits
        chunk = wanted[start : start + 500]
        query = select(BacklogLink.key).where(
            BacklogLink.key.in_(chunk), BacklogLink.state != REFUSED
        )
        found.update(session.scalars(query))
    return found


def defer(session: Session, source_id: int, links: Sequence[Pending], now: datetime) -> None:
    """Keep links over a run's cap for the next run (a link held already stays as it is;
    no commit)."""
    if not links:
        return
    rows = [
        {
            "key": link.key,
            "source_id": source_id,
            "url": link.url,
            "hints": link.hints,
            "state": WAITING,
            "attempts": 0,
            "next_attempt_at": now,
            "found_at": now,
            "updated_at": now,
        }
        for link in links
    ]
    for start in range(0, len(rows), 500):  # stay below SQL parameter limits
        session.execute(
            dialect.insert_ignore(session, BacklogLink).values(rows[start : start + 500])
        )


def record_failure(
    session: Session,
    *,
    source_id: int,
    link: Pending,
    reason: str,
    detail: str,
    retry_at: datetime | None,
    now: datetime,
    refused: bool = False,
) -> int:
    """Note a failed attempt: a retry at `retry_at`, or given up when None (refused: by
    policy, see REFUSED). The attempts so far."""
    row = session.get(BacklogLink, link.key)
    if row is None:
        row = BacklogLink(
            key=link.key,
            source_id=source_id,
            url=link.url,
            hints=link.hints,
            attempts=0,
            found_at=now,
        )
        session.add(row)
    row.attempts += 1
    row.state = REFUSED if refused else RETRY if retry_at else GAVE_UP
    row.next_attempt_at = retry_at
    row.reason, row.detail, row.updated_at = reason, detail, now
    session.commit()
    return row.attempts


def attempts(session: Session, key: str) -> int:
    """How often the link was tried and failed so far (0 when the backlog does not hold it)."""
    return session.scalar(select(BacklogLink.attempts).where(BacklogLink.key == key)) or 0


def forget(session: Session, keys: Iterable[str]) -> None:
    """The article behind these keys is stored: nothing waits for them any more (no commit)."""
    session.execute(delete(BacklogLink).where(BacklogLink.key.in_(list(keys))))


def waiting_count(session: Session, source_id: int) -> int:
    """Links of the source still to be fetched: over a cap, or to be tried again."""
    return session.scalar(
        select(func.count())
        .select_from(BacklogLink)
        .where(BacklogLink.source_id == source_id, BacklogLink.state.in_((WAITING, RETRY)))
    )


def listing(
    session: Session, *, source: str | None = None, limit: int = 50
) -> Sequence[tuple[BacklogLink, str]]:
    """Links that failed and wait for a retry or were given up, soonest retry first."""
    query = (
        select(BacklogLink, Source.name)
        .join(Source, BacklogLink.source_id == Source.id)
        .where(BacklogLink.state.in_((RETRY, GAVE_UP, REFUSED)))
    )
    if source:
        query = query.where(Source.name == source)
    query = query.order_by(
        case((BacklogLink.state == RETRY, 0), else_=1),
        BacklogLink.next_attempt_at,
        BacklogLink.updated_at.desc(),
    )
    return session.execute(query.limit(limit)).all()
