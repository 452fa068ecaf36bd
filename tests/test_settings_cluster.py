"""The [cluster] section: defaults, environment, and problems named by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.cluster.options import ClusterOptions
from crawler.urls import without_password
from newswatch.settings import ConfigError, parse_settings, with_cluster

SOURCE = {"name": "a", "kind": "feed", "url": "https://a.example/feed"}
POSTGRES = {"database_url": "postgresql://newswatch@db.example/newswatch"}


def parse(document: dict, env: dict[str, str] | None = None):
    return parse_settings({"sources": [SOURCE], **document}, Path("test.toml"), env or {})


def problems(document: dict, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        with_cluster(parse(document, env), requested=False, env=env or {})
    return caught.value.lines()


def test_without_the_section_nothing_changes():
    settings = parse({})
    assert settings.cluster is None
    assert with_cluster(settings, requested=False) is settings  # SQLite, one process


def test_the_section_is_read_and_env_overrides_the_redis_url():
    settings = parse(
        {
            "storage": POSTGRES,
            "cluster": {
                "redis_url": "redis://queue.example:6380/2",
                "prefix": "desk-1",
                "heartbeat": "1s",
                "worker_timeout": "5s",
                "dedupe_window": "2h",
                "run_timeout": "10m",
            },
        }
    )
    assert settings.cluster == ClusterOptions(
        "redis://queue.example:6380/2", "desk-1", 1.0, 5.0, 7200.0, 600.0
    )
    env = {"NEWSWATCH_REDIS_URL": "redis://other.example:6379/0"}
    assert (
        parse({"storage": POSTGRES, "cluster": {}}, env).cluster.redis_url
        == env["NEWSWATCH_REDIS_URL"]
    )


def test_cluster_flag_without_a_section_takes_the_defaults():
    settings = with_cluster(parse({"storage": POSTGRES}), requested=True, env={})
    assert settings.cluster == ClusterOptions()


def test_problems_name_their_keys():
    found = problems(
        {
            "storage": POSTGRES,
            "cluster": {
                "redis_url": "http://queue.example",
                "heartbeat": "2s",
                "worker_timeout": "3s",
                "prefix": "a b",
                "extra": 1,
            },
        }
    )
    text = "\n".join(found)
    assert "test.toml: cluster.redis_url: must be a redis://host:port/db address" in text
    assert "cluster.worker_timeout: must be at least twice the heartbeat (2s)" in text
    assert "cluster.prefix: letters, digits" in text
    assert "cluster.extra: unknown key" in text


def test_a_cluster_on_sqlite_is_refused_with_the_way_out():
    assert problems({"cluster": {}}) == [
        "test.toml: storage.database_url: a cluster needs PostgreSQL, which every worker "
        "reaches (got sqlite); move the data with `newswatch copy-db --to postgresql://...`"
    ]


def test_addresses_in_logs_hide_the_password():
    assert without_password("redis://:s3cret@queue:6379/0") == "redis://:***@queue:6379/0"
    assert without_password("redis://queue:6379/0") == "redis://queue:6379/0"


def test_a_site_source_in_a_cluster_is_refused_with_the_way_out():
    site = {"name": "soir", "kind": "site", "url": "https://www.lesoir.be/"}
    settings = parse_settings(
        {"sources": [SOURCE, site], "storage": POSTGRES}, Path("test.toml"), {}
    )
    assert with_cluster(settings, requested=False, env={}) is settings  # one process: fine
    with pytest.raises(ConfigError) as caught:
        with_cluster(settings, requested=True, env={})
    (line,) = caught.value.lines()
    assert "sources[1].kind" in line and "newswatch discover --write" in line
