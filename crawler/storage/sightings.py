"""Queries on link sightings: which way of finding articles listed which link, first when."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from crawler.storage import dialect
from crawler.storage.models import LinkSighting
from crawler.storage.models.base import utcnow


def record(session: Session, source_id: int, way: str, keys: Iterable[str]) -> None:
    """Note that `way` (feed, sitemap, listing, search) listed these keys (no commit).

    Only the first sighting per key and way is kept: one row per article and way at most.
    """
    now = utcnow()
    rows = [
        {"key": key, "way": way, "source_id": source_id, "first_seen_at": now}
        for key in dict.fromkeys(keys)
    ]
    if not rows:
        return
    insert = dialect.insert_ignore(session, LinkSighting)
    for start in range(0, len(rows), 500):  # stay below SQL parameter limits
        session.execute(insert.values(rows[start : start + 500]))
