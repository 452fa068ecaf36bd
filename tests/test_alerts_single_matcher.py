"""Two alert matchers on one PostgreSQL database: the state-row lock lets one write at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from alerts.engine import MatchReport, match_new_articles
from crawler.storage import matches
from crawler.storage.engine import open_engine, sessions
from crawler.storage.models.alerts import AlertDelivery, AlertGap, AlertMatch, AlertState
from tests.alerts_fixtures import T0, add_article, settings
from tests.databases import fresh_postgres, postgres_unreachable, skip_without_postgres

ARTICLES = 60
RULES = {
    "alerts": {"backfill_hours": 1_000_000},
    "channels": {"desk": {"kind": "console"}},
    "rules": [{"name": "dgst", "query": "DGST", "channels": ["console", "desk"]}],
}


@pytest.fixture
def postgres() -> Iterator[str]:
    skip_without_postgres(postgres_unreachable())
    with fresh_postgres() as url:
        yield url


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `count` threads at once; re-raise the first failure."""
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = work(index)
        except BaseException as error:  # reported to the test below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a matcher hangs"
    if errors:
        raise errors[0]
    return results


def test_two_concurrent_matchers_match_each_article_exactly_once(postgres):
    setup = open_engine(postgres)
    for n in range(ARTICLES):
        add_article(setup, f"Bericht {n}", f"De DGST, bericht nummer {n}.", source=f"s{n % 3}")
    config = settings(RULES)
    start = threading.Barrier(2)
    engines = [open_engine(postgres, migrate_schema=False) for _ in range(2)]

    def matcher(index: int) -> MatchReport:
        start.wait(timeout=30)
        # Small batches: many transactions each, so the two matchers interleave.
        return match_new_articles(engines[index], config, now=T0, batch_size=5)

    reports = in_threads(2, matcher)
    # Articles *read*, not only matches stored: the unique (rule, story) constraint
    # alone would also keep matches single, but both matchers would then read and
    # match the same batches. Serialised, each batch is read by exactly one of them.
    assert sum(r.articles for r in reports) == ARTICLES
    assert sum(r.matches for r in reports) == ARTICLES
    assert sum(r.deliveries for r in reports) == 2 * ARTICLES
    with sessions(setup)() as session:
        assert session.scalar(select(func.count()).select_from(AlertMatch)) == ARTICLES
        stories = select(func.count(func.distinct(AlertMatch.story_id)))
        assert session.scalar(stories) == ARTICLES
        assert session.scalar(select(func.count()).select_from(AlertDelivery)) == 2 * ARTICLES
        assert session.scalar(select(func.count()).select_from(AlertGap)) == 0
        assert session.get(AlertState, 1).last_article_id == ARTICLES
    for engine in (*engines, setup):
        engine.dispose()


def test_a_second_matcher_cannot_take_the_lock_while_the_first_holds_it(postgres):
    engine = open_engine(postgres)
    add_article(engine, "Bericht", "De DGST.")
    # the steady state: the state row exists, each round locks it by updating it
    assert match_new_articles(engine, settings(RULES), now=T0).matches == 1
    since = T0 - timedelta(days=1)
    make_session = sessions(engine)
    with make_session() as first, first.begin():
        matches.lock_watermark(first, T0, since)
        with make_session() as second, second.begin():
            # Fails at once instead of waiting: proof that the row is held, without a sleep.
            second.execute(text("SET LOCAL lock_timeout = '50ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                matches.lock_watermark(second, T0, since)
    # released with the first transaction: the next matcher proceeds
    with make_session() as third, third.begin():
        assert matches.lock_watermark(third, T0, since).last_article_id == 1
    engine.dispose()
