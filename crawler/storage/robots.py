"""Queries on the shared robots.txt cache: read, claim for fetching, store the answer, release."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from crawler.storage import dialect
from crawler.storage.models import RobotsFile


@dataclass(frozen=True)
class StoredRobots:
    """An origin's row: the last readable answer, when to read again, and who reads it now."""

    origin: str
    status: int | None
    body: bytes | None
    read_at: datetime | None
    expires_at: datetime | None
    error: str | None
    claimed_until: datetime | None
    claimed_by: str | None


def read(session: Session, origin: str) -> StoredRobots | None:
    row = session.get(RobotsFile, origin, populate_existing=True)
    if row is None:
        return None
    return StoredRobots(
        row.origin,
        row.status,
        row.body,
        row.read_at,
        row.expires_at,
        row.error,
        row.claimed_until,
        row.claimed_by,
    )


def claim(session: Session, origin: str, owner: str, now: datetime, until: datetime) -> bool:
    """Whether `owner` may fetch the origin's robots.txt now; only one process wins.

    It wins when the origin has no row yet, or when its answer has expired and nobody
    holds a claim that is still running. Each step is one statement, atomic on both
    backends; the inserted row, then the updated row count, say who won.
    """
    inserted = session.scalar(
        dialect.insert(session, RobotsFile)
        .values(origin=origin, claimed_until=until, claimed_by=owner)
        .on_conflict_do_nothing(index_elements=["origin"])
        .returning(RobotsFile.origin)  # the row count of an INSERT is not reliable everywhere
    )
    if inserted is not None:
        session.commit()
        return True
    # An answer stored since the caller read the row is not claimed again: the caller
    # reads it on its next look instead of fetching robots.txt a second time.
    updated = session.execute(
        update(RobotsFile)
        .where(
            RobotsFile.origin == origin,
            or_(RobotsFile.claimed_until.is_(None), RobotsFile.claimed_until < now),
            or_(RobotsFile.expires_at.is_(None), RobotsFile.expires_at <= now),
        )
        .values(claimed_until=until, claimed_by=owner)
    )
    session.commit()
    return updated.rowcount == 1


def store_answer(
    session: Session,
    origin: str,
    *,
    status: int,
    body: bytes | None,
    read_at: datetime,
    expires_at: datetime,
) -> StoredRobots:
    """Keep a readable answer (2xx with its body, 4xx without) and release the claim."""
    session.execute(
        update(RobotsFile)
        .where(RobotsFile.origin == origin)
        .values(
            status=status,
            body=body,
            read_at=read_at,
            expires_at=expires_at,
            error=None,
            claimed_until=None,
            claimed_by=None,
        )
    )
    session.commit()
    stored = read(session, origin)
    assert stored is not None, f"robots.txt row of {origin} vanished"
    return stored


def store_unreachable(
    session: Session, origin: str, *, error: str, expires_at: datetime
) -> StoredRobots:
    """Record why robots.txt could not be read, keep the last readable answer, release."""
    session.execute(
        update(RobotsFile)
        .where(RobotsFile.origin == origin)
        .values(error=error, expires_at=expires_at, claimed_until=None, claimed_by=None)
    )
    session.commit()
    stored = read(session, origin)
    assert stored is not None, f"robots.txt row of {origin} vanished"
    return stored


def release(session: Session, origin: str, owner: str) -> None:
    """Give up a claim without an answer, so another process need not wait for it to run out."""
    session.execute(
        update(RobotsFile)
        .where(RobotsFile.origin == origin, RobotsFile.claimed_by == owner)
        .values(claimed_until=None, claimed_by=None)
    )
    session.commit()
