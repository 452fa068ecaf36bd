"""After a batch: next poll and health saved per source, each change announced once."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from alerts.errors import TransientError
from crawler.sources import Source
from crawler.storage import runs, schedule
from crawler.storage.engine import sessions
from newswatch.scheduling.bookkeeping import Policies, settle_batch
from newswatch.scheduling.health import HealthRules
from newswatch.scheduling.polling import PollingPolicy
from tests.test_storage_schedule import T0, add_articles, make_sources

POLICIES = Policies(PollingPolicy(300, 6 * 3600, jitter=0), HealthRules(), 1800.0)
OK = runs.RunTotals("ok", 200, 3, 1, 1, 0, 0, 0, 1.0, None)
FAILED = runs.RunTotals("failed", 500, 0, 0, 0, 0, 1, 0, 0.2, "http: HTTP 500")


class AdminChannel:
    """Records health notices; can be told to be down."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.down = False

    def send(self, message, now) -> str:
        if self.down:
            raise TransientError("admin channel unreachable")
        self.sent.append(message.payload)
        return "ok"


@pytest.fixture
def hln(engine):
    ids = make_sources(engine, "hln")
    return Source("hln", "feed", ("https://hln.example/feed",)), ids["hln"]


def crawl_once(engine, source, totals, now, admin=None, stopping=False):
    """What a batch leaves behind (one finished run), then the bookkeeping for it."""
    make = sessions(engine)
    with make() as session:
        mark = schedule.last_run_id(session)
        if totals is not None:
            runs.finish_run(session, runs.start_run(session, source[1]), totals)
    settled, _new = settle_batch(
        make,
        {"hln": source},
        mark,
        POLICIES,
        now,
        random.Random(1),
        admin,
        lambda _source: None,
        stopping=stopping,
    )
    return settled.get("hln")


def test_a_busy_source_is_polled_often_a_failing_one_less(engine, hln):
    add_articles(engine, hln[1], 20, start=T0 - timedelta(minutes=40), step=120)  # every 2 min
    state = crawl_once(engine, hln, OK, T0)
    assert state.interval_seconds == 300  # the minimum
    assert state.next_due_at == T0 + timedelta(seconds=300)
    assert state.last_new_at == T0 and state.health == "ok"
    waits = []
    for attempt in range(1, 5):
        now = T0 + timedelta(seconds=10 * attempt)  # soon enough to keep the same rhythm
        state = crawl_once(engine, hln, FAILED, now)
        waits.append((state.next_due_at - now).total_seconds())
    assert waits == [300, 600, 1200, 2400]
    assert state.failures_in_row == 4 and state.last_new_at == T0


def test_failing_is_announced_once_and_recovery_once(engine, hln):
    admin = AdminChannel()
    states = [crawl_once(engine, hln, FAILED, T0 + timedelta(hours=h), admin) for h in range(5)]
    assert [s.health for s in states] == ["ok", "ok", "failing", "failing", "failing"]
    assert [(n["state"], n["previous"]) for n in admin.sent] == [("failing", "ok")]
    assert "HTTP 500" in admin.sent[0]["detail"]
    recovered = crawl_once(engine, hln, OK, T0 + timedelta(hours=6), admin)
    crawl_once(engine, hln, OK, T0 + timedelta(hours=7), admin)
    assert recovered.health == "ok" and recovered.announced == "ok"
    assert [(n["state"], n["recovered"]) for n in admin.sent] == [
        ("failing", False),
        ("ok", True),
    ]


def test_a_notice_the_admin_channel_refused_is_sent_on_the_next_run(engine, hln):
    admin = AdminChannel()
    admin.down = True
    for hour in range(3):
        state = crawl_once(engine, hln, FAILED, T0 + timedelta(hours=hour), admin)
    assert state.health == "failing" and state.announced == "ok" and admin.sent == []
    admin.down = False
    state = crawl_once(engine, hln, FAILED, T0 + timedelta(hours=3), admin)
    assert state.announced == "failing" and len(admin.sent) == 1


def test_a_crawl_that_never_finished_counts_as_failed_unless_the_service_stops(engine, hln):
    state = crawl_once(engine, hln, None, T0)
    assert state.failures_in_row == 1
    assert crawl_once(engine, hln, None, T0 + timedelta(hours=1), stopping=True) is None
    with sessions(engine)() as session:
        assert schedule.load(session)[hln[1]].failures_in_row == 1  # left as it was


def test_retry_after_from_the_crawl_holds_the_next_poll(engine, hln):
    with sessions(engine)() as session:
        schedule.note_retry_after(session, hln[1], T0 + timedelta(hours=3))
    throttled = runs.RunTotals("failed", 429, 0, 0, 0, 0, 1, 0, 0.1, "http: HTTP 429")
    state = crawl_once(engine, hln, throttled, T0)
    assert state.next_due_at == T0 + timedelta(hours=3)


def test_degraded_when_the_latest_articles_lose_their_dates_and_authors(engine, hln):
    admin = AdminChannel()
    add_articles(engine, hln[1], 40, start=T0 - timedelta(hours=40), step=3600)
    assert crawl_once(engine, hln, OK, T0, admin).health == "ok"
    add_articles(engine, hln[1], 10, start=T0, step=60, dated=False, author=None, chars=2000)
    state = crawl_once(engine, hln, OK, T0 + timedelta(hours=1), admin)
    assert state.health == "degraded"
    assert state.health_detail == "dates 100% → 0%; authors 100% → 0%"
    assert [n["state"] for n in admin.sent] == ["degraded"]


def test_quiet_when_nothing_new_for_much_longer_than_usual(engine, hln):
    add_articles(engine, hln[1], 20, start=T0 - timedelta(hours=20), step=3600)  # hourly
    assert crawl_once(engine, hln, OK, T0).health == "ok"
    state = crawl_once(engine, hln, OK, T0 + timedelta(days=2))
    assert state.health == "quiet"
    assert state.health_detail.endswith("(usually one article every 1 h)"), state.health_detail
