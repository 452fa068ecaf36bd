"""Dispatch: the retry state machine, backoff, horizon, leases, digests and the commands."""

from __future__ import annotations

import io
import random
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from alerts.config import RetryPolicy
from alerts.dispatch import backoff, build_channels, dispatch_due
from alerts.engine import match_new_articles
from crawler.storage import deliveries
from crawler.storage.engine import sessions
from crawler.storage.models.alerts import AlertAttempt, AlertDelivery
from newswatch.commands.alerts import alerts, retry_dead, show_log, try_query
from tests.alerts_fixtures import T0, add_article, settings

NOBODY = "http://127.0.0.1:9/hook"  # the discard port: connection refused


def config(**alerts_options):
    return settings(
        {
            "alerts": {"backfill_hours": 1_000_000, **alerts_options},
            "channels": {"ops": {"kind": "webhook", "url": NOBODY, "secret_env": "S"}},
            "rules": [
                {"name": "hook", "query": "DGST", "channels": ["ops"]},
                {"name": "now", "query": "Mocro*"},
                {"name": "daily", "query": "Aktionsplan*", "delivery": "daily", "digest_hour": 8},
            ],
        },
        {"S": "secret"},
    )


def states(engine) -> list[tuple[str, str, int]]:
    with sessions(engine)() as session:
        rows = session.scalars(select(AlertDelivery).order_by(AlertDelivery.id))
        return [(row.rule, row.state, row.attempts) for row in rows]


def test_backoff_doubles_with_jitter_and_honours_retry_after():
    policy = RetryPolicy(base_seconds=30, max_seconds=3600, horizon_seconds=86400)
    rng = random.Random(1)
    for attempt, full in [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)]:
        delays = [backoff(attempt, policy, rng, None) for _ in range(50)]
        assert all(full / 2 <= delay <= full for delay in delays), (attempt, delays)
        assert len(set(delays)) > 1  # jittered
    assert backoff(1, policy, rng, 900.0) == 900.0


def test_transient_failures_back_off_until_the_horizon_then_die(engine):
    settings_ = config(retry_base=60, retry_max=600, retry_horizon=1800)
    add_article(engine, "DGST", "De DGST.")
    match_new_articles(engine, settings_, now=T0)
    now, seen = T0, []
    for _ in range(20):
        report = dispatch_due(engine, settings_, now=now, rng=random.Random(3))
        seen.append((report.retried, report.dead))
        with sessions(engine)() as session:
            [row] = deliveries.log(session, None, "hook", 1)
        if row.state == "dead":
            break
        assert row.next_attempt_at > now
        now = row.next_attempt_at
    assert row.state == "dead" and row.last_error.startswith(f"gave up after {row.attempts}")
    assert seen[-1] == (0, 1) and all(s == (1, 0) for s in seen[:-1])
    assert now - T0 <= timedelta(seconds=1800)
    with sessions(engine)() as session:
        logged = session.scalars(select(AlertAttempt.outcome).order_by(AlertAttempt.id)).all()
    assert logged == ["retry"] * (len(seen) - 1) + ["dead"]


class Broken:
    """A channel with a bug: it raises what no channel should (no real channel does now)."""

    def send(self, message, now):
        raise RuntimeError("a bug in the channel")


def test_an_unexpected_error_is_retried_only_until_the_horizon(engine):
    settings_ = config(retry_base=60, retry_max=600, retry_horizon=1800)
    add_article(engine, "DGST", "De DGST.")
    match_new_articles(engine, settings_, now=T0)
    now, rounds = T0, 0
    while rounds < 50:  # far more rounds than the horizon allows attempts
        rounds += 1
        dispatch_due(engine, settings_, now=now, channels={"ops": Broken()})
        with sessions(engine)() as session:
            [row] = deliveries.log(session, None, "hook", 1)
        if row.state == "dead":
            break
        assert row.next_attempt_at <= T0 + timedelta(seconds=1800), "retried past the horizon"
        now = row.next_attempt_at
    assert row.state == "dead", f"still {row.state} after {rounds} rounds: retried for ever"
    assert row.last_error == (
        f"gave up after {row.attempts} attempts: unexpected RuntimeError: a bug in the channel"
    )


def test_dead_letters_are_listed_and_retried_from_the_command(engine):
    settings_ = config(retry_horizon=0)
    add_article(engine, "DGST", "De DGST.")
    match_new_articles(engine, settings_, now=T0)
    assert dispatch_due(engine, settings_, now=T0).dead == 1
    out = io.StringIO()
    show_log(engine, out, state="dead", attempts=True)
    assert "dead" in out.getvalue() and "gave up after 1 attempts" in out.getvalue()
    assert retry_dead(engine, io.StringIO()) == 1
    assert states(engine) == [("hook", "pending", 1)]
    # the channel is fixed (console now): the re-queued delivery goes out
    fixed = settings(
        {
            "rules": [{"name": "hook", "query": "DGST", "channels": ["ops"]}],
            "channels": {"ops": {"kind": "console"}},
        }
    )
    sent = io.StringIO()
    later = T0 + timedelta(days=30)
    report = dispatch_due(engine, fixed, now=later, channels=build_channels(fixed, sent))
    assert report.sent == 1 and "[newswatch] hook: DGST" in sent.getvalue()


def test_a_claim_held_by_a_crashed_dispatcher_runs_out(engine):
    settings_ = config()
    add_article(engine, "Mocro", "Mocros overal.")
    match_new_articles(engine, settings_, now=T0)
    with sessions(engine)() as session, session.begin():
        assert len(deliveries.claim_due(session, T0, T0 + timedelta(minutes=10), 10)) == 1
    out = io.StringIO()
    channels = build_channels(settings_, out)
    assert dispatch_due(engine, settings_, now=T0, channels=channels).sent == 0
    later = T0 + timedelta(minutes=11)
    assert dispatch_due(engine, settings_, now=later, channels=channels).sent == 1
    assert out.getvalue().count("===") == 1


def test_daily_digest_groups_the_rules_matches_into_one_message(engine):
    settings_ = config()
    add_article(engine, "Aktionsplan eins", "Der Aktionsplan.")
    add_article(engine, "Aktionsplans zwei", "Des Aktionsplans.")
    add_article(engine, "Mocro", "Mocromaffia.")
    match_new_articles(engine, settings_, now=T0)
    out = io.StringIO()
    channels = build_channels(settings_, out)
    assert dispatch_due(engine, settings_, now=T0, channels=channels).sent == 1  # instant only
    next_morning = T0.replace(hour=8) + timedelta(days=1)
    assert dispatch_due(engine, settings_, now=next_morning, channels=channels).sent == 1
    text = out.getvalue()
    assert text.count("=== ") == 2
    assert "[newswatch] daily: 2 new articles until 2026-11-30 08:00" in text
    assert text.index(" eins") < text.index(" zwei")
    assert [state for _, state, _ in states(engine)] == ["sent"] * 3


def test_a_channel_removed_from_the_config_is_a_permanent_failure(engine):
    settings_ = config()
    add_article(engine, "DGST", "De DGST.")
    match_new_articles(engine, settings_, now=T0)
    without = settings({"rules": [{"name": "hook", "query": "DGST"}]})
    assert dispatch_due(engine, without, now=T0).dead == 1
    assert states(engine) == [("hook", "dead", 1)]


def test_query_test_command_shows_counts_hits_and_why(engine):
    add_article(engine, "De Mocro-Maffia slaat toe", "Een tekst. De mocromaffia in Antwerpen.")
    add_article(engine, "Niets", "Niets te zien.")
    out = io.StringIO()
    hits = try_query(config(), engine, '"Mocro Maffia"', out, now=T0)
    text = out.getvalue()
    assert hits == 1
    assert '"Mocro Maffia": 1 article (1 story) of 2 searched' in text
    assert "2026-11-29     1" in text
    assert 'why: "mocro maffia" in title and text' in text


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for name in ("test", "run", "log", "retry"):
        result = runner.invoke(alerts, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert "newswatch alerts " + name in result.output, result.output
