"""The backlog and the retry schedule: which links a run requests, what a failure leads to.

Links over a run's cap wait in the backlog and are requested first on the next run; an
article that failed transiently is tried again after each delay of `retry_schedule`, then
given up with its cause kept; a permanent failure is given up at once. Either way the link
is handled, so a feed's validators never hide it, and it is never silently dropped.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from crawler.failures import SKIP_REASONS, is_transient, next_attempt
from crawler.storage import backlog
from crawler.storage.backlog import Pending
from crawler.storage.models.base import utcnow

log = logging.getLogger("newswatch.crawl")


class Backlog:
    def __init__(self, sessions: sessionmaker[Session], schedule: tuple[float, ...]):
        self._sessions = sessions
        self._schedule = schedule

    def due(self, session: Session, source_id: int, limit: int) -> list[Pending]:
        """The source's links to request first this run (read in the caller's session)."""
        return backlog.due(session, source_id, utcnow(), limit)

    def failed(
        self,
        source: str,
        source_id: int,
        link: Pending,
        reason: str,
        detail: str,
        status: int | None = None,
    ) -> None:
        """Schedule the link's next try, or give it up."""
        now = utcnow()
        # Refused by policy, not failed: kept on record, never tried again or given up.
        refused = reason in SKIP_REASONS
        with self._sessions() as session:
            attempts = backlog.attempts(session, link.key) + 1
            transient = is_transient(reason, status)
            retry_at = None if refused else next_attempt(attempts, transient, now, self._schedule)
            backlog.record_failure(
                session,
                source_id=source_id,
                link=link,
                reason=reason,
                detail=detail,
                retry_at=retry_at,
                now=now,
                refused=refused,
            )
        if refused:
            return
        if retry_at:
            log.debug(
                "%s: %s: attempt %d failed, next try at %s",
                source,
                link.url,
                attempts,
                retry_at.isoformat(timespec="seconds"),
            )
        else:
            log.debug("%s: %s: given up after %d attempts", source, link.url, attempts)
