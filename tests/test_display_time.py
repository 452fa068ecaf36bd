"""One display time zone: every command, page and export shows the same clock, labelled."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from alerts.render import AlertItem, AlertMessage, local_time, render
from crawler.storage.engine import open_engine
from newswatch.cli import cli
from newswatch.settings import ConfigError, machine_timezone, parse_settings
from newswatch.web import WebOptions, create_app
from tests import web_fixtures
from tests.web_fixtures import T0

# The fixture's "mocro" article: published an hour after T0 (09:00 UTC), 19:00 in Tokyo.
MOCRO_TOKYO = "2026-11-29 19:00 JST"
CONFIG = """\
[alerts]
timezone = "Europe/Brussels"   # digests are cut in Brussels; times are shown in Tokyo

[[rules]]
name = "mocro-maffia"
query = "Mocro*"
"""
# Any time printed unlabelled, or labelled with another zone, is a second clock.
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?(?! JST)")


def settings(document: dict, env: dict[str, str] | None = None):
    return parse_settings(document, Path("t.toml"), env or {})


# --- the setting ------------------------------------------------------------------------


def test_display_timezone_is_read_and_does_not_change_the_alerts_zone():
    found = settings(
        {"display": {"timezone": "Asia/Tokyo"}, "alerts": {"timezone": "Europe/Brussels"}}
    )
    assert found.display.timezone == "Asia/Tokyo" and found.display.zone.key == "Asia/Tokyo"
    assert found.alerts.timezone == "Europe/Brussels"  # digests are still cut in Brussels
    assert found.service.timezone == "Europe/Brussels"  # and cron still runs there


@pytest.mark.parametrize("tz", ["Asia/Tokyo", ":Asia/Tokyo", "/usr/share/zoneinfo/Asia/Tokyo"])
def test_by_default_the_display_zone_is_the_machines_from_tz(tz):
    assert settings({}, {"TZ": tz}).display.timezone == "Asia/Tokyo"


def test_the_file_wins_over_the_machines_zone():
    found = settings({"display": {"timezone": "America/Lima"}}, {"TZ": "Asia/Tokyo"})
    assert found.display.timezone == "America/Lima"


def test_without_tz_the_zone_is_the_one_etc_localtime_links_to(tmp_path):
    localtime = tmp_path / "localtime"
    localtime.symlink_to("/usr/share/zoneinfo/America/Lima")
    assert machine_timezone({}, localtime) == "America/Lima"
    (tmp_path / "timezone").write_text("Asia/Tokyo\n")
    copied = tmp_path / "copied"
    copied.write_bytes(b"TZif")  # a copied zone file names nothing: /etc/timezone does
    assert machine_timezone({}, copied) == "Asia/Tokyo"
    assert machine_timezone({}, tmp_path / "missing-dir" / "localtime") == "UTC"


def test_unknown_zones_are_config_errors_naming_where_they_came_from():
    with pytest.raises(ConfigError) as raised:
        settings({"display": {"timezone": "Mars/Olympus", "zone": "x"}})
    text = str(raised.value)
    assert "display.timezone: unknown time zone 'Mars/Olympus'" in text
    assert "display.zone: unknown key" in text
    with pytest.raises(ConfigError) as raised:
        settings({}, {"TZ": "Mars/Olympus"})
    assert "display.timezone ($TZ): unknown time zone 'Mars/Olympus'" in str(raised.value)


def test_a_time_is_labelled_with_its_zone_summer_and_winter():
    winter, summer = datetime(2026, 12, 5, 15, 20, tzinfo=UTC), datetime(2026, 7, 5, 14, 20)
    assert local_time(winter, "Europe/Brussels") == "2026-12-05 16:20 CET"
    assert local_time(summer.replace(tzinfo=UTC), "Europe/Brussels") == "2026-07-05 16:20 CEST"
    assert local_time(winter, "UTC", seconds=True) == "2026-12-05 15:20:00 UTC"
    assert local_time(None, "UTC") == "—"


# --- the command line -------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """The web tests' feed (articles, stories, alert deliveries) in SQLite, and a config."""
    folder = tmp_path_factory.mktemp("display")
    url = f"sqlite:///{folder / 'newswatch.db'}"
    engine = open_engine(url)
    try:
        ids = web_fixtures.populate(engine)
    finally:
        engine.dispose()
    config = folder / "newswatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return config, url, ids


def newswatch(stored, *args: str, tz: str = "Asia/Tokyo") -> str:
    config, url, _ids = stored
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "--database", url, *args],
        env={"TZ": tz, "NEWSWATCH_CONFIG": None},
    )
    assert result.exit_code == 0, result.output
    return result.stdout  # not the log lines on stderr: exports are parsed


def commands(ids: dict[str, int]) -> list[tuple[str, ...]]:
    return [
        ("articles",),
        ("show", str(ids["mocro"])),
        ("stories",),
        ("story", str(ids["story_mocro"])),
        ("alerts", "test", "Mocro*"),
        ("alerts", "log", "--attempts"),
    ]


def test_every_command_prints_the_display_zone_labelled(stored):
    for args in commands(stored[2]):
        output = newswatch(stored, *args)
        assert "JST" in output, f"`newswatch {' '.join(args)}` shows no zone:\n{output}"
        assert not TIME.findall(output), (
            f"`newswatch {' '.join(args)}` prints a time not in Asia/Tokyo:\n{output}"
        )
    assert MOCRO_TOKYO in newswatch(stored, "show", str(stored[2]["mocro"]))
    assert MOCRO_TOKYO in newswatch(stored, "articles")
    assert "per day (Asia/Tokyo):\n  2026-11-29" in newswatch(stored, "alerts", "test", "Mocro*")


def test_another_machine_zone_moves_every_command(stored):
    output = newswatch(stored, "show", str(stored[2]["mocro"]), tz="America/Lima")
    assert "2026-11-29 05:00 -05" in output  # Lima has no abbreviation: its offset labels it


def export_times(records) -> list[str]:
    return [r[name] for r in records for name in ("published_at", "fetched_at") if r[name]]


def assert_tokyo_offsets(times: list[str]) -> None:
    assert times
    for text in times:
        moment = datetime.fromisoformat(text)
        assert moment.utcoffset() == timedelta(hours=9), f"{text} is not in Asia/Tokyo"
    assert "2026-11-29T19:00:00+09:00" in times  # the mocro article, 10:00 UTC


def test_cli_exports_carry_the_display_zones_offset(stored):
    lines = newswatch(stored, "export", "--format", "jsonl").splitlines()
    assert_tokyo_offsets(export_times(json.loads(line) for line in lines))
    table = csv.DictReader(io.StringIO(newswatch(stored, "export", "--format", "csv")))
    assert_tokyo_offsets(export_times(table))


# --- the web ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(stored):
    _config, url, _ids = stored
    engine = open_engine(url)
    found = settings({**web_fixtures.SETTINGS, "display": {"timezone": "Asia/Tokyo"}})
    with TestClient(create_app(engine, found, WebOptions()), base_url="http://localhost") as c:
        yield c
    engine.dispose()


def test_every_page_labels_the_display_zone(client, stored):
    ids = stored[2]
    for path in (
        "/",
        f"/articles/{ids['mocro']}",
        f"/stories/{ids['story_mocro']}",
        "/alerts",
        "/sources",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        text = web_fixtures.parse_html(response.text).text
        assert "Times in Asia/Tokyo" in text, f"{path} does not name the zone"
        assert not TIME.findall(text), f"{path} shows a time not in Asia/Tokyo"
    assert MOCRO_TOKYO in client.get(f"/articles/{ids['mocro']}").text
    assert "JST" in client.get("/alerts").text


def test_web_exports_carry_the_display_zones_offset(client):
    lines = client.get("/export.jsonl").text.splitlines()
    assert_tokyo_offsets(export_times(json.loads(line) for line in lines))
    assert_tokyo_offsets(export_times(csv.DictReader(io.StringIO(client.get("/export.csv").text))))


def test_without_settings_the_web_shows_the_machines_zone(stored, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    engine = open_engine(stored[1])
    try:
        with TestClient(create_app(engine), base_url="http://localhost") as bare:
            assert "Times in Asia/Tokyo" in bare.get("/").text
    finally:
        engine.dispose()


# --- alert messages ---------------------------------------------------------------------


def test_alert_messages_label_the_alerts_zone_their_digest_is_cut_in():
    item = AlertItem(
        1,
        1,
        1,
        "https://hln.example/1",
        "Mocro",
        "hln",
        "HLN",
        "nl",
        T0 + timedelta(hours=1),
        T0,
        ("mocro",),
        (),
    )
    end = datetime(2026, 11, 30, 7, tzinfo=UTC)
    message = AlertMessage(
        "m", "r", "Mocro*", "daily", (item,), (end - timedelta(days=1), end), "Europe/Brussels"
    )
    rendered = render(message)
    assert rendered.subject.endswith("until 2026-11-30 08:00 CET")
    assert "HLN · 2026-11-29 11:00 CET" in rendered.text
    assert "2026-11-29 11:00 CET" in rendered.html
    assert rendered.payload["matches"][0]["article"]["published_at"].endswith("+00:00")
