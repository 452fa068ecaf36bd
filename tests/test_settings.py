"""Loading newswatch.toml: the default config is valid; every problem is named at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newswatch.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_is_valid_and_follows_the_topic():
    settings = load_settings(ROOT / "config" / "newswatch.toml", env={})
    languages = {source.language for source in settings.sources}
    assert {"fr", "nl", "de", "en", "ar"} <= languages
    assert {"feed", "sitemap", "listing"} <= {source.kind for source in settings.sources}
    assert settings.topics[0].name == "be-ma-security"
    assert settings.database_url == "sqlite:///newswatch.db"
    assert settings.crawl.extraction_workers >= 1


def test_environment_overrides_the_database(tmp_path):
    path = write(tmp_path, '[storage]\ndatabase_url = "sqlite:///a.db"\n')
    settings = load_settings(path, env={"NEWSWATCH_DATABASE_URL": "sqlite:///b.db"})
    assert settings.database_url == "sqlite:///b.db"


def test_every_problem_is_reported_with_its_key(tmp_path):
    path = write(
        tmp_path,
        """
[crawl]
timeout = "soon"
concurency = 4

[[sources]]
name = "a"
kind = "rss"
url = "ftp://example.org/feed"

[[sources]]
kind = "listing"
url = "https://example.org/"
link_pattern = "(["

[[sources]]
name = "a"
kind = "feed"
url = "https://example.org/other"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    lines = caught.value.lines()
    text = "\n".join(lines)
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert "crawl.timeout: must be a duration" in text
    assert "crawl.concurency: unknown key (did you mean 'concurrency'?)" in text
    assert "sources[0].kind: must be one of feed, sitemap, listing (got 'rss')" in text
    assert "sources[0].urls[0]: must be an http(s) address" in text
    assert "sources[1].name: is required" in text
    assert "sources[1].link_pattern: not a valid regular expression" in text
    assert "sources: the name 'a' is used twice" in text


def test_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, '[crawl]\ntimeout = "20s\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert "(syntax): not valid TOML" in str(caught.value)
    assert "line 2" in str(caught.value)


def test_command_line_prints_config_errors_without_a_traceback(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "x"\nkind = "feed"\n')
    result = subprocess.run(
        [sys.executable, "-m", "newswatch", "--config", str(path), "crawl"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"config error: {path}: sources[0].urls: give the source's" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.toml", env={})
    assert "(file): no such file" in str(caught.value)


def test_example_alerts_config_is_valid():
    env = {"NEWSWATCH_WEBHOOK_SECRET": "s", "NEWSWATCH_SMTP_USER": "u",
           "NEWSWATCH_SMTP_PASSWORD": "p"}  # fmt: skip
    settings = load_settings(ROOT / "config" / "examples" / "alerts.toml", env=env)
    assert {rule.name for rule in settings.alerts.rules} >= {"mocro-maffia", "aktionsplan"}


def test_unsupported_database_is_a_config_error(tmp_path):
    path = write(tmp_path, '[storage]\ndatabase_url = "oracle://scott@db/x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert "storage.database_url: unsupported database 'oracle'" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "newswatch.toml", env={"NEWSWATCH_DATABASE_URL": "nonsense"})
    assert "$NEWSWATCH_DATABASE_URL" in str(caught.value)


def test_web_names_and_base_url_are_read_and_checked(tmp_path):
    path = write(
        tmp_path,
        '[web]\nallowed_hosts = ["News.Example.org", "*.example.net", "[2001:db8::1]"]\n'
        'base_url = "https://news.example.org/"\n',
    )
    web = load_settings(path, env={}).web
    assert web.allowed_hosts == ("news.example.org", "*.example.net", "[2001:db8::1]")
    assert web.base_url == "https://news.example.org"
    assert load_settings(write(tmp_path, ""), env={}).web.base_url is None

    path = write(
        tmp_path,
        '[web]\nallowed_hosts = ["*", "news.example.org:8080", "https://x.example", "a.*.org"]\n'
        'base_url = "https://news.example.org/newswatch?x=1"\nbase = "x"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    text = str(caught.value)
    assert "web.allowed_hosts[0]: '*' would accept any Host header" in text
    for index in (1, 2, 3):
        assert f"web.allowed_hosts[{index}]: must be a host name such as" in text
    assert "web.base_url: must be the http(s) address clients use" in text
    assert "web.base: unknown key (did you mean 'base_url'?)" in text
    for bad in ["ftp://news.example.org", "https://user:pw@news.example.org", "news.example.org",
                "https://news.example.org:port"]:  # fmt: skip
        with pytest.raises(ConfigError, match=r"web\.base_url: must be"):
            load_settings(write(tmp_path, f'[web]\nbase_url = "{bad}"\n'), env={})


def test_example_web_config_is_valid():
    web = load_settings(ROOT / "config" / "examples" / "web.toml", env={}).web
    assert web.allowed_hosts == ("news.example.org",)
    assert web.base_url == "https://news.example.org"
