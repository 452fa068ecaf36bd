"""Pure: how often to poll a source, and when next — from its rhythm, errors and Retry-After.

A source's interval follows how often it publishes: the span of its latest article dates
(up to now) divided by their number, kept between the policy's minimum and maximum. So a
wire that publishes every few minutes is polled at the minimum, a weekly column near the
maximum, and a source that falls silent slows down gently (silence weighs as one gap among
twenty). A failed run backs off exponentially from the interval, capped so that polling
never stops for good; a server's Retry-After is honoured, up to a day.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_RETRY_AFTER = 24 * 3600.0  # a Retry-After further away than this is cut to it


@dataclass(frozen=True)
class PollingPolicy:
    min_interval: float = 5 * 60.0
    max_interval: float = 6 * 3600.0
    adaptive: bool = True
    jitter: float = 0.1  # each wait is stretched or shrunk by up to this share, at random


@dataclass(frozen=True)
class Outcome:
    """What one run of a source came to, as the schedule sees it."""

    succeeded: bool  # the source's feed, sitemap or listing could be read
    new: int = 0
    retry_after_until: datetime | None = None


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def publishing_rhythm(dates: Sequence[datetime], now: datetime) -> float | None:
    """Seconds per article over the latest `dates`, counting the silence up to `now`.

    None with fewer than two dates: not enough to tell a rhythm.
    """
    if len(dates) < 2:
        return None
    oldest = min(min(dates), now)
    return max((now - oldest).total_seconds(), 1.0) / len(dates)


def usual_gap(dates: Sequence[datetime], now: datetime) -> float | None:
    """Mean seconds between consecutive `dates`, silence not counted (for quiet detection)."""
    dated = sorted(min(moment, now) for moment in dates)
    if len(dated) < 2:
        return None
    return max((dated[-1] - dated[0]).total_seconds(), 1.0) / (len(dated) - 1)


def poll_interval(base: float, rhythm: float | None, policy: PollingPolicy) -> float:
    """The interval for a source configured with `base` seconds, given its rhythm."""
    if not policy.adaptive:
        return base
    return clamp(rhythm if rhythm is not None else base, policy.min_interval, policy.max_interval)


def error_backoff(interval: float, failures_in_row: int, policy: PollingPolicy) -> float:
    """Seconds to wait after the `failures_in_row`-th failure in a row: doubling, capped."""
    cap = max(policy.max_interval, interval)
    exponent = min(max(failures_in_row - 1, 0), 32)  # 2**32 intervals is past any cap
    return min(cap, interval * 2**exponent)


def jittered(seconds: float, jitter: float, rng: random.Random) -> float:
    """`seconds` stretched or shrunk by up to `jitter` of itself: sources drift apart."""
    return seconds * (1 + rng.uniform(-jitter, jitter))


def next_due(
    now: datetime,
    interval: float,
    outcome: Outcome,
    failures_in_row: int,
    policy: PollingPolicy,
    rng: random.Random,
    fixed_times: Callable[[datetime], datetime | None] | None = None,
) -> datetime:
    """When to poll next.

    `fixed_times(t)` is the first cron time after `t` for a source polled at set times;
    errors and Retry-After then only hold it back to a later cron time.
    """
    wait = interval if outcome.succeeded else error_backoff(interval, failures_in_row, policy)
    hold = now + timedelta(seconds=jittered(wait, policy.jitter, rng))
    if outcome.retry_after_until is not None:
        limit = now + timedelta(seconds=MAX_RETRY_AFTER)
        hold = max(hold, min(outcome.retry_after_until, limit))
    if fixed_times is None:
        return hold
    throttled = outcome.retry_after_until is not None and outcome.retry_after_until > now
    earliest = hold if not outcome.succeeded or throttled else now
    return fixed_times(earliest) or hold
