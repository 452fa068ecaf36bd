"""After a batch: read each source's run, decide its next poll and health, and save them.

The decisions are the pure functions of `polling` and `health`; this module only gathers
their inputs from the database and writes their results back, one source at a time.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from alerts.dispatch import Sender
from crawler.sources import Source, poll_interval
from crawler.storage import schedule
from crawler.storage.schedule import RunResult, Schedule
from newswatch.scheduling import health, polling
from newswatch.scheduling.notices import announce

log = logging.getLogger(__name__)
SUCCEEDED = frozenset({"ok", "not_modified", "partial"})
NO_RUN = "the crawl process ended before finishing the run"


@dataclass(frozen=True)
class Policies:
    """The settings bookkeeping needs (a slice of ServiceSettings)."""

    polling: polling.PollingPolicy
    health: health.HealthRules
    default_interval: float


FixedTimes = Callable[[datetime], datetime | None]


def settle_source(
    session: Session,
    source: Source,
    previous: Schedule,
    run: RunResult | None,
    policies: Policies,
    now: datetime,
    rng: random.Random,
    fixed_times: FixedTimes | None = None,
    polled_at: datetime | None = None,
) -> tuple[Schedule, health.Notice | None]:
    """The source's new schedule state after `run` (None: the crawl never finished it).

    The next poll counts from `polled_at`, when the crawl started: the interval is the time
    between two polls, however long crawling and bookkeeping took.
    """
    succeeded = run is not None and run.status in SUCCEEDED
    failures = 0 if succeeded else previous.failures_in_row + 1
    new = run.new if run is not None else 0
    dates = schedule.article_dates(session, previous.source_id)
    base = poll_interval(source, policies.default_interval)
    interval = polling.poll_interval(base, polling.publishing_rhythm(dates, now), policies.polling)
    held = previous.retry_after_until
    outcome = polling.Outcome(succeeded, new, held if held and held > now else None)
    start = min(polled_at or now, now)
    due = polling.next_due(start, interval, outcome, failures, policies.polling, rng, fixed_times)
    due = max(due, now)

    samples = schedule.article_samples(session, previous.source_id)
    window = policies.health.recent_articles
    recent, earlier = samples[:window], samples[window:]
    failed_pages = schedule.extraction_failures(
        session, previous.source_id, recent[-1].stored_at if recent else None
    )
    signals = health.Signals(
        failures_in_row=failures,
        last_error=(run.error if run is not None else NO_RUN),
        silence=(now - min(dates[0], now)).total_seconds() if dates else None,
        usual_gap=polling.usual_gap(dates, now),
        recent=health.FillRates.of(recent, failed_pages),
        baseline=health.FillRates.of(earlier) if earlier else None,
    )
    current = health.Health(
        previous.health, previous.health_since, previous.health_detail, previous.announced
    )
    state = health.advance(current, health.assess(signals, policies.health), now)
    updated = Schedule(
        source_id=previous.source_id,
        interval_seconds=interval,
        next_due_at=due,
        last_run_at=now,
        last_new_at=now if new else previous.last_new_at,
        failures_in_row=failures,
        retry_after_until=previous.retry_after_until,
        health=state.state,
        health_since=state.since,
        health_detail=state.detail,
        announced=state.announced,
        announced_at=previous.announced_at,
    )
    return updated, health.notice_due(source.name, state)


def settle_batch(
    sessions: sessionmaker[Session],
    sources: dict[str, tuple[Source, int]],
    after_run_id: int,
    policies: Policies,
    now: datetime,
    rng: random.Random,
    admin: Sender | None,
    fixed_times: Callable[[Source], FixedTimes | None],
    stopping: bool = False,
    polled_at: datetime | None = None,
) -> tuple[dict[str, Schedule], int]:
    """Save every batch source's new state, announce health changes; the states, new articles.

    While the service stops, a source whose run did not finish keeps its old state: it is
    simply due again on the next start, not counted as failed.
    """
    ids = [source_id for _, source_id in sources.values()]
    settled: dict[str, Schedule] = {}
    new = 0
    with sessions() as session:
        runs = schedule.batch_runs(session, ids, after_run_id)
        previous = schedule.load(session, ids)
    for name, (source, source_id) in sources.items():
        run = runs.get(source_id)
        if stopping and (run is None or run.status in ("running", "abandoned")):
            continue
        with sessions() as session:
            before = previous.get(source_id) or Schedule(source_id)
            state, notice = settle_source(
                session, source, before, run, policies, now, rng, fixed_times(source), polled_at
            )
            if notice is not None and announce(notice, admin, now):
                state = replace(state, announced=state.health, announced_at=now)
            schedule.save(session, state)
        settled[name] = state
        new += run.new if run is not None else 0
        log.debug(
            "%s: next poll at %s (interval %.0fs, %s)",
            name,
            f"{state.next_due_at:%H:%M:%S}",
            state.interval_seconds,
            state.health,
        )
    return settled, new
