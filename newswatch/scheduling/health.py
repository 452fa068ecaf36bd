"""Pure: a source's health (failing, degraded, quiet or ok) and when a change is announced.

    ok ──N failed runs in a row──► failing ──one good run──► ok (announced as recovered)
    ok ──dates, authors or body length of its latest articles fall well below its usual
         fill rates, or most of its latest pages yield no article──► degraded
    ok ──nothing new for much longer than its usual gap between articles──► quiet

The worst applies (failing, then degraded, then quiet). Every state change is announced
once: a state differing from the one last announced produces a Notice, and the caller
records it as announced once the admin channel accepted it. Recovery to ok is a change too.

This is the service's verdict, saved in source_schedule. What `status`, `sources` and the
web show is crawler.storage.sources.source_health, which reads it together with the stored
runs: there a source whose latest runs failed, fewer than `failing_after` in a row, is
"flaky" (the service, which announces nothing for it, keeps it "ok"), and a `newswatch
crawl` counts as a poll.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from crawler.storage.schedule import ArticleSample
from crawler.storage.sources import FAILING_AFTER

STATES = ("ok", "quiet", "degraded", "failing")


@dataclass(frozen=True)
class HealthRules:
    failing_after: int = FAILING_AFTER  # failed runs in a row: one flaky fetch pages nobody
    quiet_factor: float = 6.0  # quiet after this many usual gaps without an article...
    quiet_after: float = 24 * 3600.0  # ...and never before this much silence
    recent_articles: int = 10  # the window compared against the articles before it
    min_baseline: int = 10  # articles before the window needed to know what is usual
    drop: float = 0.5  # a fill rate under this share of its usual level has dropped


@dataclass(frozen=True)
class FillRates:
    """How completely extraction filled a set of articles."""

    articles: int
    dated: float  # share with a publication date
    authored: float  # share with an author
    body_chars: float  # median body length
    extraction_failures: int = 0  # fetched pages that yielded no article, in the same span

    @classmethod
    def of(cls, samples: Sequence[ArticleSample], extraction_failures: int = 0) -> FillRates:
        if not samples:
            return cls(0, 0.0, 0.0, 0.0, extraction_failures)
        count = len(samples)
        return cls(
            count,
            sum(s.dated for s in samples) / count,
            sum(s.authored for s in samples) / count,
            statistics.median(s.body_chars for s in samples),
            extraction_failures,
        )


@dataclass(frozen=True)
class Signals:
    """What is known about a source after a run."""

    failures_in_row: int
    last_error: str | None = None
    silence: float | None = None  # seconds since its newest article
    usual_gap: float | None = None  # usual seconds between its articles
    recent: FillRates | None = None
    baseline: FillRates | None = None


@dataclass(frozen=True)
class Assessment:
    state: str  # one of STATES
    detail: str = ""


@dataclass(frozen=True)
class Health:
    """The persisted part: the state, since when, why, and what was last announced."""

    state: str = "ok"
    since: datetime | None = None
    detail: str | None = None
    announced: str = "ok"


@dataclass(frozen=True)
class Notice:
    """A state change to announce on the admin channel."""

    source: str
    state: str
    previous: str
    since: datetime
    detail: str

    @property
    def recovered(self) -> bool:
        return self.state == "ok"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.0f} s"


def dropped_fill_rates(
    recent: FillRates | None, baseline: FillRates | None, rules: HealthRules
) -> list[str]:
    """Which fill rates of the recent articles fell well below the usual ones."""
    if recent is None:
        return []
    found = []
    if recent.extraction_failures >= 3 and recent.extraction_failures > recent.articles:
        found.append(
            f"{recent.extraction_failures} pages yielded no article "
            f"against {recent.articles} extracted"
        )
    if baseline is None or baseline.articles < rules.min_baseline or not recent.articles:
        return found
    for name, label in (("dated", "dates"), ("authored", "authors")):
        usual, now = getattr(baseline, name), getattr(recent, name)
        if usual >= 0.5 and now < usual * rules.drop:
            found.append(f"{label} {usual:.0%} → {now:.0%}")
    if baseline.body_chars and recent.body_chars < baseline.body_chars * rules.drop:
        found.append(f"median body {baseline.body_chars:.0f} → {recent.body_chars:.0f} characters")
    return found


def assess(signals: Signals, rules: HealthRules) -> Assessment:
    """The source's state now: the worst that applies."""
    if signals.failures_in_row >= rules.failing_after:
        error = f": {signals.last_error}" if signals.last_error else ""
        return Assessment("failing", f"{signals.failures_in_row} failed runs in a row{error}")
    dropped = dropped_fill_rates(signals.recent, signals.baseline, rules)
    if dropped:
        return Assessment("degraded", "; ".join(dropped))
    if signals.silence is not None and signals.usual_gap is not None:
        limit = max(rules.quiet_factor * signals.usual_gap, rules.quiet_after)
        if signals.silence > limit:
            return Assessment(
                "quiet",
                f"nothing new for {_duration(signals.silence)} "
                f"(usually one article every {_duration(signals.usual_gap)})",
            )
    return Assessment("ok")


def advance(current: Health, found: Assessment, now: datetime) -> Health:
    """The new persisted health; `since` moves only when the state changes."""
    if found.state == current.state and current.since is not None:
        return Health(current.state, current.since, found.detail or None, current.announced)
    return Health(found.state, now, found.detail or None, current.announced)


def notice_due(source: str, health: Health) -> Notice | None:
    """A Notice when the state differs from the one last announced, else None."""
    if health.state == health.announced or health.since is None:
        return None
    return Notice(source, health.state, health.announced, health.since, health.detail or "")
