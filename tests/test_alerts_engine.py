"""The engine: watermark, one alert per rule and story, late commits, crash safety."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from alerts.engine import match_new_articles
from crawler.storage.engine import sessions
from crawler.storage.models.alerts import AlertAttempt, AlertDelivery, AlertGap, AlertMatch
from tests.alerts_fixtures import T0, add_article, settings

ROOT = Path(__file__).resolve().parents[1]
RULES = {
    "alerts": {"backfill_hours": 1_000_000},
    "channels": {"desk": {"kind": "console"}},
    "rules": [
        {"name": "mm", "query": '"Mocro-Maffia"', "channels": ["console", "desk"]},
        {"name": "dgst", "query": "DGST", "delivery": "daily"},
    ],
}


def count(engine, model, *where) -> int:
    with sessions(engine)() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_one_alert_per_rule_and_story_with_a_delivery_per_channel(engine):
    config = settings(RULES)
    first = add_article(engine, "Mocro Maffia", "De mocro-maffia en de DGST.")
    add_article(engine, "Kopie", "De mocro-maffia en de DGST.", story_of=first, source="vrt")
    report = match_new_articles(engine, config, now=T0)
    assert (report.articles, report.matches, report.deliveries) == (2, 2, 3)
    # a third copy arriving later joins the story: no new alert
    add_article(engine, "Nog een kopie", "De Mocro Maffia en de DGST.", story_of=first, source="x")
    again = match_new_articles(engine, config, now=T0 + timedelta(minutes=5))
    assert (again.articles, again.matches) == (1, 0)
    assert count(engine, AlertMatch) == 2
    assert count(engine, AlertDelivery, AlertDelivery.rule == "mm") == 2


def test_watermark_skips_what_was_matched_and_digests_wait_for_their_hour(engine):
    config = settings(RULES)
    add_article(engine, "DGST", "De DGST.")
    assert match_new_articles(engine, config, now=T0).matches == 1
    assert match_new_articles(engine, config, now=T0).articles == 0
    with sessions(engine)() as session:
        delivery = session.scalars(select(AlertDelivery)).one()
    # daily at 08:00 Europe/... default UTC: the next 08:00 after 09:00 is tomorrow
    assert delivery.mode == "daily"
    assert delivery.next_attempt_at == T0.replace(hour=8) + timedelta(days=1)


def test_first_run_only_backfills_recent_articles(engine):
    config = settings({**RULES, "alerts": {"backfill_hours": 24}})
    add_article(engine, "old", "DGST", stored_at=T0 - timedelta(days=3))
    add_article(engine, "new", "DGST", stored_at=T0 - timedelta(hours=1))
    report = match_new_articles(engine, config, now=T0)
    assert (report.articles, report.matches) == (1, 1)


def test_an_article_committed_late_below_the_watermark_is_still_matched(engine):
    # On PostgreSQL id 2 can commit after id 3 was matched: the engine remembers the gap.
    config = settings(RULES)
    add_article(engine, "one", "DGST een", article_id=1)
    add_article(engine, "three", "DGST drie", article_id=3)
    assert match_new_articles(engine, config, now=T0).matches == 2
    assert count(engine, AlertGap) == 1
    add_article(engine, "two", "DGST twee", article_id=2)
    assert match_new_articles(engine, config, now=T0).matches == 1
    assert count(engine, AlertGap) == 0


def test_gaps_expire(engine):
    config = settings(RULES)
    add_article(engine, "one", "DGST", article_id=1)
    add_article(engine, "three", "DGST drie", article_id=3)
    match_new_articles(engine, config, now=T0)
    match_new_articles(engine, config, now=T0 + timedelta(hours=2))
    assert count(engine, AlertGap) == 0


def test_batches_commit_one_by_one(engine):
    config = settings(RULES)
    for number in range(5):
        add_article(engine, f"a{number}", f"DGST {number}")
    batches = []
    report = match_new_articles(engine, config, now=T0, batch_size=2, after_batch=batches.append)
    assert [batch.articles for batch in batches] == [2, 2, 1]
    assert report.matches == 5


SCRIPT = textwrap.dedent(
    """
    import sys
    from alerts.config import parse_alert_settings
    from alerts.dispatch import dispatch_due
    from alerts.engine import match_new_articles
    from crawler.storage.engine import open_engine

    url, mode = sys.argv[1], sys.argv[2]
    config, problems = parse_alert_settings(
        {"alerts": {"backfill_hours": 1000000}, "rules": [{"name": "r", "query": "DGST"}]}, {}
    )
    engine = open_engine(url)

    def wait(batch=None):
        print("checkpoint", flush=True)
        sys.stdin.readline()  # the test kills us here

    if mode == "kill-between-batches":
        match_new_articles(engine, config, batch_size=1, after_batch=wait)
    elif mode == "kill-after-match":
        match_new_articles(engine, config)
        wait()
    match_new_articles(engine, config)
    dispatch_due(engine, config)
    print("done", flush=True)
    """
)


def run_until_checkpoint_then_kill(tmp_path, url: str, mode: str) -> None:
    script = tmp_path / "alerts_round.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script), url, mode],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    try:
        assert process.stdout.readline().strip() == "checkpoint"
    finally:
        process.kill()  # SIGKILL: no cleanup, no commit of anything in flight
        process.wait(timeout=30)
    assert process.returncode == -9


def restart(tmp_path, url: str) -> str:
    script = tmp_path / "alerts_round.py"
    done = subprocess.run(
        [sys.executable, str(script), url, "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_killed_between_match_and_delivery_delivers_once_after_restart(engine, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    for number in range(3):
        add_article(engine, f"DGST {number}", f"De DGST, deel {number}.")
    run_until_checkpoint_then_kill(tmp_path, url, "kill-after-match")
    assert count(engine, AlertDelivery, AlertDelivery.state == "pending") == 3
    output = restart(tmp_path, url)
    assert output.count("=== [newswatch] r:") == 3
    assert count(engine, AlertDelivery, AlertDelivery.state == "sent") == 3
    assert count(engine, AlertAttempt) == 3
    assert restart(tmp_path, url).count("===") == 0  # and never again


def test_killed_in_the_middle_of_matching_loses_and_repeats_nothing(engine, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    for number in range(4):
        add_article(engine, f"DGST {number}", f"De DGST, deel {number}.")
    run_until_checkpoint_then_kill(tmp_path, url, "kill-between-batches")
    assert count(engine, AlertMatch) == 1  # the first batch committed, the rest did not run
    output = restart(tmp_path, url)
    assert output.count("=== [newswatch] r:") == 4
    assert count(engine, AlertMatch) == 4
    assert count(engine, AlertDelivery) == 4
