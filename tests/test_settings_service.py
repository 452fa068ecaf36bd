"""The [service] section and source schedules (interval or cron): defaults and named problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.settings import ConfigError, ServiceSettings, cores, parse_settings

SOURCE = {"name": "a", "kind": "feed", "url": "https://a.example/feed"}


def parse(document: dict):
    return parse_settings(document, Path("test.toml"), {})


def test_defaults_hold_the_crawl_interval_inside_the_band():
    default = parse({"sources": [SOURCE]}).service
    assert (default.polling.min_interval, default.polling.max_interval) == (300, 6 * 3600)
    assert default.admin_channel is None and default.workers >= 1
    short = parse({"crawl": {"interval": "2s"}, "sources": [SOURCE]}).service
    assert short.polling.min_interval == 2  # sub-minute intervals are allowed
    long = parse({"crawl": {"interval": "1d"}, "sources": [SOURCE]}).service
    assert long.polling.max_interval == 86400


def test_service_keys_are_read():
    settings = parse(
        {
            "service": {
                "workers": 3,
                "min_interval": "1m",
                "max_interval": "2h",
                "adaptive": False,
                "jitter": 0.2,
                "alerts_interval": "30s",
                "admin_channel": "console",
                "failing_after": 5,
                "quiet_factor": 10,
                "quiet_after": "2d",
                "stop_timeout": "10s",
                "timezone": "Europe/Brussels",
            },
            "sources": [{**SOURCE, "cron": "*/15 6-22 * * *"}],
        }
    )
    service = settings.service
    assert (service.workers, service.alerts_interval, service.stop_timeout) == (3, 30, 10)
    assert (service.polling.min_interval, service.polling.max_interval) == (60, 7200)
    assert not service.polling.adaptive and service.polling.jitter == 0.2
    assert (service.health.failing_after, service.health.quiet_after) == (5, 2 * 86400)
    assert service.admin_channel == "console" and service.timezone == "Europe/Brussels"
    assert settings.sources[0].cron == "*/15 6-22 * * *"


def test_every_service_problem_is_named_with_its_key():
    with pytest.raises(ConfigError) as raised:
        parse(
            {
                "service": {
                    "min_interval": "2h",
                    "max_interval": "1h",
                    "jitter": 0.9,
                    "admin_channel": "pager",
                    "workers": 0,
                    "timezone": "Mars/Olympus",
                    "poll": 1,
                },
                "sources": [
                    {**SOURCE, "cron": "every monday"},
                    {**SOURCE, "name": "b", "cron": "0 * * * *", "interval": "5m"},
                ],
            }
        )
    keys = [problem.key for problem in raised.value.problems]
    assert sorted(keys) == sorted(
        [
            "service.poll",
            "service.max_interval",
            "service.jitter",
            "service.admin_channel",
            "service.workers",
            "service.timezone",
            "sources[0].cron",
            "sources[1].cron",
        ]
    )
    text = "\n".join(raised.value.lines())
    assert "no channel named 'pager' (known: console)" in text
    assert "give interval or cron, not both" in text


def test_workers_are_one_per_core_unless_a_number_is_given():
    assert ServiceSettings().workers == cores() >= 1  # the code's default is the file's "auto"
    for written, workers in (({}, cores()), ({"workers": "auto"}, cores()), ({"workers": 3}, 3)):
        assert parse({"service": written, "sources": [SOURCE]}).service.workers == workers
    with pytest.raises(ConfigError) as raised:
        parse({"service": {"workers": "many"}, "crawl": {"extraction_workers": "Auto"}})
    assert raised.value.problems == [
        ("crawl.extraction_workers", "must be \"auto\" or a whole number (got 'Auto')"),
        ("service.workers", "must be \"auto\" or a whole number (got 'many')"),
    ]
