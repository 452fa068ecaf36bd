"""Adaptive polling, backoff and Retry-After: pure functions, time injected, no sleeping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from newswatch.scheduling.polling import (
    MAX_RETRY_AFTER,
    Outcome,
    PollingPolicy,
    error_backoff,
    next_due,
    poll_interval,
    publishing_rhythm,
    usual_gap,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
POLICY = PollingPolicy(min_interval=300, max_interval=6 * 3600, jitter=0.0)
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


def every(seconds: float, count: int, ending: datetime = NOW) -> list[datetime]:
    return [ending - timedelta(seconds=seconds * i) for i in range(count)]


def test_the_interval_follows_how_often_a_source_publishes():
    wire = publishing_rhythm(every(2 * MINUTE, 20), NOW)
    daily = publishing_rhythm(every(1.5 * HOUR, 20), NOW)
    weekly = publishing_rhythm(every(7 * DAY, 20), NOW)
    assert poll_interval(1800, wire, POLICY) == POLICY.min_interval
    assert 1 * HOUR < poll_interval(1800, daily, POLICY) < 2 * HOUR
    assert poll_interval(1800, weekly, POLICY) == POLICY.max_interval


def test_silence_slows_polling_gently_not_at_once():
    dates = every(30 * MINUTE, 20, ending=NOW - timedelta(hours=8))
    before = publishing_rhythm(every(30 * MINUTE, 20), NOW)
    after = publishing_rhythm(dates, NOW)
    assert before < after < 2 * before  # eight silent hours against twenty articles
    assert usual_gap(dates, NOW) == pytest.approx(30 * MINUTE)  # silence not counted


def test_too_few_dates_and_future_dates():
    assert publishing_rhythm([NOW], NOW) is None
    assert usual_gap([], NOW) is None
    assert poll_interval(1800, None, POLICY) == 1800  # the configured interval, clamped
    assert poll_interval(10, None, POLICY) == POLICY.min_interval
    # a feed dating its items in the future counts them as published now
    assert publishing_rhythm([NOW + timedelta(days=3), NOW - timedelta(hours=1)], NOW) == 1800


def test_without_adaptation_the_configured_interval_stays():
    fixed = PollingPolicy(min_interval=300, max_interval=3600, adaptive=False)
    assert poll_interval(900, 5.0, fixed) == 900


def test_errors_back_off_exponentially_but_polling_never_stops():
    waits = [error_backoff(600, failures, POLICY) for failures in range(1, 8)]
    assert waits[:5] == [600, 1200, 2400, 4800, 9600]
    assert waits[-1] == POLICY.max_interval
    assert error_backoff(600, 10_000, POLICY) == POLICY.max_interval
    due = next_due(NOW, 600, Outcome(False), 10_000, POLICY, random.Random(1))
    assert due == NOW + timedelta(seconds=POLICY.max_interval)


def test_success_polls_after_one_interval_with_jitter_within_bounds():
    policy = PollingPolicy(min_interval=60, max_interval=3600, jitter=0.1)
    rng = random.Random(7)
    waits = {
        (next_due(NOW, 600, Outcome(True, 2), 0, policy, rng) - NOW).total_seconds()
        for _ in range(200)
    }
    assert min(waits) >= 540 and max(waits) <= 660
    assert len(waits) > 100  # sources due together drift apart


def test_retry_after_is_honoured_and_capped_at_a_day():
    later = NOW + timedelta(hours=2)
    assert next_due(NOW, 600, Outcome(False, 0, later), 1, POLICY, random.Random()) == later
    # even on a successful run (e.g. a 503 on one of two feeds)
    assert next_due(NOW, 600, Outcome(True, 0, later), 0, POLICY, random.Random()) == later
    absurd = NOW + timedelta(days=365)
    due = next_due(NOW, 600, Outcome(False, 0, absurd), 1, POLICY, random.Random())
    assert due == NOW + timedelta(seconds=MAX_RETRY_AFTER)
    # a Retry-After sooner than the backoff does not make us come back earlier
    soon = NOW + timedelta(seconds=5)
    due = next_due(NOW, 600, Outcome(False, 0, soon), 3, POLICY, random.Random())
    assert due == NOW + timedelta(seconds=2400)


def test_cron_sources_keep_their_times_and_errors_skip_to_a_later_one():
    trigger = CronTrigger.from_crontab("0 * * * *", timezone=UTC)  # on the hour

    def fixed(after):
        return trigger.get_next_fire_time(None, after)

    at = NOW + timedelta(minutes=10)
    assert next_due(
        at, 600, Outcome(True, 1), 0, POLICY, random.Random(), fixed
    ) == NOW + timedelta(hours=1)
    # the fourth failure in a row backs off 80 minutes: the 13:00 poll is skipped
    due = next_due(at, 600, Outcome(False), 4, POLICY, random.Random(), fixed)
    assert due == NOW + timedelta(hours=2)
