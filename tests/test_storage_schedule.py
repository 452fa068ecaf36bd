"""Schedule state storage on SQLite and PostgreSQL: round trip, batch runs, health inputs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from crawler.sources import Source
from crawler.storage import runs, schedule
from crawler.storage.engine import sessions
from crawler.storage.models import Article, CrawlRun, Story
from crawler.storage.schedule import Schedule
from crawler.storage.sources import sync_sources

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def make_sources(engine, *names: str) -> dict[str, int]:
    wanted = [Source(name, "feed", (f"https://{name}.example/feed",)) for name in names]
    with sessions(engine)() as session:
        return sync_sources(session, wanted)


def add_articles(
    engine,
    source_id: int,
    count: int,
    *,
    start: datetime = T0,
    step=3600,
    dated=True,
    author="A. Writer",
    chars=2000,
) -> None:
    """`count` articles, one every `step` seconds from `start`."""
    with sessions(engine)() as session, session.begin():
        for number in range(count):
            when = start + timedelta(seconds=step * number)
            story = Story(created_at=when)
            session.add(story)
            session.flush()
            url = f"https://s{source_id}.example/{when.timestamp():.0f}-{number}-{chars}"
            session.add(
                Article(
                    source_id=source_id,
                    url=url,
                    link_key=url,
                    title=f"t{number}",
                    text="x" * chars,
                    author=author,
                    published_at=when if dated else None,
                    content_hash=hashlib.sha256(url.encode()).hexdigest(),
                    story_id=story.id,
                    stored_at=when,
                    fetched_at=when,
                )
            )


def test_state_round_trips_and_the_crawls_retry_after_survives_a_save(engine):
    ids = make_sources(engine, "hln")
    make = sessions(engine)
    with make() as session:
        schedule.note_retry_after(session, ids["hln"], T0 + timedelta(hours=1))
        state = Schedule(
            ids["hln"], 600.0, T0, T0, None, 2, None, "failing", T0, "3 failed runs", "ok", None
        )
        schedule.save(session, state)
    with make() as session:
        loaded = schedule.load(session)[ids["hln"]]
    assert loaded.retry_after_until == T0 + timedelta(hours=1)
    assert loaded == Schedule(**{**vars(state), "retry_after_until": T0 + timedelta(hours=1)})


def test_batch_runs_are_the_latest_per_source_after_the_watermark(engine):
    ids = make_sources(engine, "a", "b", "c")
    make = sessions(engine)
    with make() as session:
        old = runs.start_run(session, ids["a"])
        mark = schedule.last_run_id(session)
        first = runs.start_run(session, ids["a"])
        latest = runs.start_run(session, ids["a"])
        other = runs.start_run(session, ids["b"])
        totals = runs.RunTotals("ok", 200, 5, 2, 2, 0, 0, 0, 1.0, None)
        for run_id in (old, first, latest):
            runs.finish_run(session, run_id, totals)
        found = schedule.batch_runs(session, [ids["a"], ids["b"], ids["c"]], mark)
    assert set(found) == {ids["a"], ids["b"]}
    assert found[ids["a"]].new == 2 and found[ids["a"]].status == "ok"
    assert found[ids["b"]].status == "running"  # never finished
    assert first and latest and other


def test_runs_left_open_by_a_killed_crawl_are_closed(engine):
    ids = make_sources(engine, "a")
    with sessions(engine)() as session:
        runs.start_run(session, ids["a"])
        assert schedule.abandon_unfinished_runs(session, T0) == 1
        assert schedule.abandon_unfinished_runs(session, T0) == 0
        run = session.query(CrawlRun).one()
    assert (run.status, run.finished_at) == ("abandoned", T0)


def test_article_dates_samples_and_extraction_failures(engine):
    ids = make_sources(engine, "a")
    add_articles(engine, ids["a"], 3, step=3600)
    add_articles(
        engine, ids["a"], 2, start=T0 + timedelta(days=1), dated=False, author=None, chars=100
    )
    with sessions(engine)() as session:
        runs.record_failure(
            session, source_id=ids["a"], run_id=None, url="u", reason="extraction", detail="no text"
        )
        dates = schedule.article_dates(session, ids["a"])
        samples = schedule.article_samples(session, ids["a"])
        failures = schedule.extraction_failures(session, ids["a"], None)
        none_since = schedule.extraction_failures(
            session, ids["a"], datetime.now(UTC) + timedelta(days=1)
        )
    # undated articles count by when they were stored
    assert dates[0] == T0 + timedelta(days=1, hours=1) and dates[-1] == T0
    assert all(moment.tzinfo is not None for moment in dates)
    assert [(s.dated, s.authored, s.body_chars) for s in samples[:2]] == [(False, False, 100)] * 2
    assert [(s.dated, s.authored, s.body_chars) for s in samples[2:]] == [(True, True, 2000)] * 3
    assert (failures, none_since) == (1, 0)
