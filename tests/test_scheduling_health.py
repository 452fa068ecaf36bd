"""Source health: failing, degraded, quiet, ok — and each change announced exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from newswatch.scheduling.health import (
    Assessment,
    FillRates,
    Health,
    HealthRules,
    Signals,
    advance,
    assess,
    dropped_fill_rates,
    notice_due,
)
from newswatch.scheduling.notices import render_notice

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
RULES = HealthRules()
USUAL = FillRates(50, dated=0.96, authored=0.9, body_chars=2400)
HOUR = 3600.0


def test_one_flaky_fetch_pages_nobody_three_in_a_row_do():
    assert assess(Signals(failures_in_row=1), RULES).state == "ok"
    assert assess(Signals(failures_in_row=2), RULES).state == "ok"
    failing = assess(Signals(failures_in_row=3, last_error="http: HTTP 500"), RULES)
    assert failing == Assessment("failing", "3 failed runs in a row: http: HTTP 500")
    assert assess(Signals(failures_in_row=5), HealthRules(failing_after=6)).state == "ok"


def test_quiet_after_much_longer_than_the_usual_gap_and_never_too_soon():
    hourly = Signals(0, silence=30 * HOUR, usual_gap=HOUR)
    found = assess(hourly, RULES)
    assert found.state == "quiet"
    assert found.detail == "nothing new for 1.25 d (usually one article every 1 h)"
    # six usual gaps have passed, but a news site can be silent for a night
    assert assess(Signals(0, silence=8 * HOUR, usual_gap=HOUR), RULES).state == "ok"
    weekly = Signals(0, silence=20 * 24 * HOUR, usual_gap=7 * 24 * HOUR)
    assert assess(weekly, RULES).state == "ok"
    assert assess(Signals(0, silence=30 * HOUR, usual_gap=None), RULES).state == "ok"


def test_degraded_when_fill_rates_drop_against_the_usual():
    no_dates = FillRates(10, dated=0.1, authored=0.9, body_chars=2300)
    assert dropped_fill_rates(no_dates, USUAL, RULES) == ["dates 96% → 10%"]
    stubs = FillRates(10, dated=1.0, authored=0.0, body_chars=300)
    assert dropped_fill_rates(stubs, USUAL, RULES) == [
        "authors 90% → 0%",
        "median body 2400 → 300 characters",
    ]
    found = assess(Signals(0, recent=no_dates, baseline=USUAL), RULES)
    assert found == Assessment("degraded", "dates 96% → 10%")


def test_not_degraded_without_a_usual_level_or_when_it_never_had_authors():
    recent = FillRates(10, dated=0.0, authored=0.0, body_chars=100)
    assert dropped_fill_rates(recent, None, RULES) == []
    assert dropped_fill_rates(recent, FillRates(5, 1.0, 1.0, 2000), RULES) == []  # too few
    no_bylines = FillRates(50, dated=0.95, authored=0.1, body_chars=2000)
    assert dropped_fill_rates(FillRates(10, 0.9, 0.0, 1900), no_bylines, RULES) == []


def test_degraded_when_most_pages_yield_no_article():
    broken = FillRates(2, 1.0, 1.0, 2000, extraction_failures=9)
    assert dropped_fill_rates(broken, USUAL, RULES) == [
        "9 pages yielded no article against 2 extracted"
    ]
    assert dropped_fill_rates(FillRates(10, 1.0, 1.0, 2000, 2), USUAL, RULES) == []


def test_failing_outranks_degraded_outranks_quiet():
    broken = FillRates(10, dated=0, authored=0, body_chars=10)
    signals = Signals(3, silence=40 * HOUR, usual_gap=HOUR, recent=broken, baseline=USUAL)
    assert assess(signals, RULES).state == "failing"
    assert assess(replace(signals, failures_in_row=0), RULES).state == "degraded"
    assert assess(replace(signals, failures_in_row=0, recent=None), RULES).state == "quiet"


def test_each_change_is_announced_once_and_recovery_once():
    state, sent = Health(), []
    runs = [0, 1, 2, 3, 4, 5, 0, 0, 1]  # failures in a row after each run
    for hour, failures in enumerate(runs):
        now = NOW + timedelta(hours=hour)
        state = advance(state, assess(Signals(failures, "timeout"), RULES), now)
        notice = notice_due("hln", state)
        if notice:
            sent.append((hour, notice.state, notice.previous, notice.recovered))
            state = Health(state.state, state.since, state.detail, announced=state.state)
    assert sent == [(3, "failing", "ok", False), (6, "ok", "failing", True)]
    assert state.since == NOW + timedelta(hours=6)


def test_an_undelivered_notice_is_due_again():
    state = advance(Health(), Assessment("failing", "3 failed runs in a row"), NOW)
    first = notice_due("hln", state)
    # not marked announced (the admin channel was down): the next assessment offers it again
    state = advance(
        state, Assessment("failing", "4 failed runs in a row"), NOW + timedelta(hours=1)
    )
    again = notice_due("hln", state)
    assert first and again and again.since == first.since == NOW
    assert render_notice(first).message_id == render_notice(again).message_id


def test_a_notice_renders_for_people_and_for_machines():
    notice = notice_due("hln", advance(Health(), Assessment("quiet", "nothing new for 3 d"), NOW))
    rendered = render_notice(notice)
    assert rendered.subject == "[newswatch] source hln is quiet"
    assert "nothing new for 3 d" in rendered.text
    assert rendered.payload["type"] == "source_health"
    assert (rendered.payload["state"], rendered.payload["previous"]) == ("quiet", "ok")
    recovered = render_notice(
        notice_due("hln", advance(Health("quiet", NOW, None, "quiet"), Assessment("ok"), NOW))
    )
    assert recovered.subject == "[newswatch] source hln recovered (was quiet)"
    assert recovered.payload["recovered"] is True
