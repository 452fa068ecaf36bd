"""Queries on the feeds and sitemaps discovered for `kind = "site"` sources."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crawler.storage.models import SiteEndpoint
from crawler.storage.models.base import utcnow

# After this many failed runs in a row an endpoint is forgotten; a site left with none is
# discovered again on its next run.
FORGET_AFTER = 3


def for_source(session: Session, source_id: int) -> Sequence[SiteEndpoint]:
    return session.scalars(
        select(SiteEndpoint).where(SiteEndpoint.source_id == source_id).order_by(SiteEndpoint.url)
    ).all()


def remember(session: Session, source_id: int, url: str, kind: str, how: str) -> None:
    """Keep a working endpoint (again, if known: its failures are forgiven; no commit)."""
    row = session.get(SiteEndpoint, (source_id, url))
    if row is None:
        session.add(
            SiteEndpoint(
                source_id=source_id,
                url=url,
                kind=kind,
                how=how,
                found_at=utcnow(),
                failures_in_row=0,
            )
        )
    else:
        row.kind, row.failures_in_row = kind, 0


def outcome(session: Session, source_id: int, url: str, *, ok: bool) -> None:
    """Count a run's fetch of an endpoint; forget it after FORGET_AFTER failures in a row
    (no commit)."""
    if ok:
        session.execute(
            update(SiteEndpoint)
            .where(SiteEndpoint.source_id == source_id, SiteEndpoint.url == url)
            .values(failures_in_row=0)
        )
    else:
        session.execute(
            update(SiteEndpoint)
            .where(SiteEndpoint.source_id == source_id, SiteEndpoint.url == url)
            .values(failures_in_row=SiteEndpoint.failures_in_row + 1)
        )
        session.execute(
            delete(SiteEndpoint).where(
                SiteEndpoint.source_id == source_id,
                SiteEndpoint.url == url,
                SiteEndpoint.failures_in_row >= FORGET_AFTER,
            )
        )
