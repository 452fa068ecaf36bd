"""Queries on conditional-GET validators of feeds and sitemaps."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.storage.models import FetchState
from crawler.storage.models.base import utcnow


@dataclass(frozen=True)
class Validators:
    etag: str | None
    last_modified: str | None


def validators_for(session: Session, urls: list[str]) -> dict[str, Validators]:
    rows = session.scalars(select(FetchState).where(FetchState.url.in_(urls)))
    return {row.url: Validators(row.etag, row.last_modified) for row in rows}


def save_fetch(
    session: Session,
    *,
    url: str,
    source_id: int,
    status: int,
    etag: str | None,
    last_modified: str | None,
) -> None:
    """Remember a feed fetch (note_fetch) and commit."""
    note_fetch(
        session,
        url=url,
        source_id=source_id,
        status=status,
        etag=etag,
        last_modified=last_modified,
    )
    session.commit()


def note_fetch(
    session: Session,
    *,
    url: str,
    source_id: int,
    status: int,
    etag: str | None,
    last_modified: str | None,
) -> None:
    """Remember a feed fetch, in the caller's transaction; a 304 keeps the validators it
    confirmed."""
    row = session.get(FetchState, url)
    now = utcnow()
    if row is None:
        row = FetchState(url=url, source_id=source_id)
        session.add(row)
    row.last_status = status
    row.last_fetched_at = now
    if status != 304:
        row.etag = etag
        row.last_modified = last_modified
        row.last_changed_at = now
