"""One alerts round, as the scheduler and `newswatch alerts run` do it: match, then deliver."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from alerts.config import AlertSettings
from alerts.dispatch import CLAIM_BATCH, DispatchReport, Sender, dispatch_due
from alerts.engine import MatchReport, match_new_articles
from alerts.matching import Matcher


def run_once(
    engine: Engine,
    settings: AlertSettings,
    *,
    now: datetime | None = None,
    matcher: Matcher | None = None,
    channels: dict[str, Sender] | None = None,
    limit: int = CLAIM_BATCH,
) -> tuple[MatchReport, DispatchReport]:
    """Match what was stored since the last round, then send every delivery that is due.

    Without `now`, each step reads the clock when it starts: the claim lease then counts
    from the claim itself, not from before a long matching step. `limit` caps the deliveries
    one round claims, so that several dispatchers share a burst.
    """
    found = match_new_articles(engine, settings, now=now, matcher=matcher)
    sent = dispatch_due(engine, settings, now=now, channels=channels, limit=limit)
    return found, sent
