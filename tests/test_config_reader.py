"""Typed reads of a TOML table: durations and sizes that make sense, or a reason why not."""

from __future__ import annotations

import pytest

from crawler.config_reader import Problem, TableReader

UNITS = "units: B, KB, MB, GB, KiB, MiB, GiB"


def read(method: str, value, **kwargs) -> tuple[object, list[Problem]]:
    problems: list[Problem] = []
    found = getattr(TableReader({"key": value}, "crawl", problems), method)(
        "key", "default", **kwargs
    )
    return found, problems


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        (0.5, 0.5),
        ("90s", 90.0),
        ("15m", 900.0),
        ("2h", 7200.0),
        ("1.5d", 129600.0),
        (" 10 min ", 600.0),
        ("366d", 366 * 86400.0),
    ],
)
def test_durations_in_every_unit(value, seconds):
    assert read("duration", value) == (seconds, [])


@pytest.mark.parametrize("value", [0, -5, "0s", "-5m", "-1h", "0.0d", -0.5])
def test_a_duration_of_zero_or_less_must_be_positive(value):
    found, problems = read("duration", value)
    assert found == "default"
    assert [p.key for p in problems] == ["crawl.key"]
    assert problems[0].message.startswith("must be positive"), problems[0].message
    assert repr(value) in problems[0].message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("soon", 'must be a duration like "90s"'),
        ("1w", "'w' is not a unit"),
        ("400d", "must be at most 366d"),
        (10**12, "must be at most 366d"),
        (float("inf"), "must be a duration like"),
        (float("nan"), "must be a duration like"),
        (True, "not a boolean"),
        (["1m"], "not a list"),
    ],
)
def test_a_bad_duration_says_why_and_names_the_units(value, reason):
    found, problems = read("duration", value)
    assert found == "default"
    assert len(problems) == 1 and reason in problems[0].message, problems
    assert "units: s, m, h, d" in problems[0].message or "at most" in problems[0].message


def test_each_bad_duration_of_a_list_is_named_by_its_place():
    problems: list[Problem] = []
    reader = TableReader({"retry": ["10m", "-1h", "x"]}, "crawl", problems)
    assert reader.durations("retry", (1.0,)) == (1.0,)
    assert [(p.key, p.message.split(" (")[0]) for p in problems] == [
        ("crawl.retry[1]", 'must be positive, a duration like "90s", "15m" or "2h"'),
        ("crawl.retry[2]", 'must be a duration like "90s", "15m" or "2h"'),
    ]
    assert reader.durations("missing", (1.0,)) == (1.0,)
    assert TableReader({"r": ["10m", "1h"]}, "", []).durations("r", ()) == (600.0, 3600.0)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (1, 1),
        (5000, 5000),
        ("5MB", 5_000_000),
        ("5 mb", 5_000_000),
        ("512KiB", 524_288),
        ("1.5MiB", 1_572_864),
        ("1KB", 1000),
        ("1GB", 10**9),
        ("1GiB", 2**30),
        ("10B", 10),
    ],
)
def test_sizes_in_every_unit(value, size):
    assert read("size", value) == (size, [])


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("9999999999999999999999MB", "must be at most 1GiB"),
        (2**40, "must be at most 1GiB"),
        ("2GB", "must be at most 1GiB"),
        ("1TB", "'TB' is not a unit (got '1TB')"),
        ("5 megabytes", "'megabytes' is not a unit"),
        ("0MB", "must be positive"),
        ("-5MB", "must be positive"),
        (0, "must be positive"),
        ("0.1B", "must be positive"),
        (5.5, "must be a size like"),
        ("big", "must be a size like"),
        ("inf MB", "must be a size like"),
        (False, "not a boolean"),
    ],
)
def test_a_size_out_of_bounds_or_in_unknown_units_says_why(value, reason):
    found, problems = read("size", value)
    assert found == "default"
    assert len(problems) == 1 and reason in problems[0].message, problems
    assert problems[0].key == "crawl.key"
    if "at most" not in reason:
        assert UNITS in problems[0].message, problems[0].message


def test_a_size_can_have_a_smaller_maximum():
    assert read("size", "64KiB", maximum=2**16) == (2**16, [])
    _found, problems = read("size", "65KiB", maximum=2**16)
    assert "must be at most 64KiB (got '65KiB')" in problems[0].message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        (3, "must be a non-empty string, not a number"),
    ],
)
def test_an_empty_string_is_told_apart_from_another_type(value, reason):
    assert read("text", value) == ("default", [Problem("crawl.key", reason)])


def test_a_missing_required_string_is_required():
    problems: list[Problem] = []
    assert TableReader({}, "rules[0]", problems).text("name", required=True) is None
    assert problems == [("rules[0].name", "is required")]


def test_a_problem_is_a_key_and_a_message():
    key, message = Problem("crawl.key", "is required")
    assert (key, message) == ("crawl.key", "is required") == Problem(key, message)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (70000, "must be at most 65535 (got 70000)"),
        (0, "must be at least 1 (got 0)"),
        (float("inf"), "must be a number"),
        (float("nan"), "must be a number"),
    ],
)
def test_a_number_within_bounds_and_finite(value, reason):
    assert read("number", value, minimum=1, maximum=65535) == (
        "default",
        [Problem("crawl.key", reason)],
    )
    assert read("number", 443, minimum=1, maximum=65535) == (443, [])


def test_a_duration_may_be_zero_where_that_means_something():
    assert read("duration", 0, zero=True) == (0.0, [])
    assert read("duration", "0s", zero=True) == (0.0, [])
    _found, problems = read("duration", -1, zero=True)
    assert problems[0].message.startswith("must be zero or more"), problems
