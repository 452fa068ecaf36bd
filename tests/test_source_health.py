"""One health model: `status`, `sources` and the web's sources page say the same of each source.

The model (crawler.storage.sources.source_health) reads the stored runs, whoever crawled,
and the service's verdict; these tests crawl for real (`newswatch crawl`, `newswatch run`
as processes, against the sample site or hosts that cannot resolve) and read all three.
"""

from __future__ import annotations

import html
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from starlette.testclient import TestClient

from crawler.sources import Source
from crawler.storage import runs, schedule
from crawler.storage.engine import open_engine, sessions
from crawler.storage.models import CrawlRun
from crawler.storage.schedule import Schedule
from crawler.storage.sources import RunFacts, ServiceVerdict, judge, source_health, sync_sources
from newswatch.cli import cli
from newswatch.demo.site import NewsSite
from newswatch.settings import load_settings
from newswatch.web import create_app
from tests.crawl_helpers import newswatch, write_config

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
WAIT = 90  # seconds; reached only when something is broken
STATES = r"never run|ok|flaky|quiet|degraded|failing"
OK = runs.RunTotals("ok", 200, 2, 2, 2, 0, 0, 0, 1.0, None)
DNS = "dns: cannot resolve host gone.invalid"
FAILED = runs.RunTotals("failed", None, 0, 0, 0, 0, 1, 0, 1.0, DNS)


# -- the pure decision -----------------------------------------------------------------------


def verdict(health="ok", *, at=T0, failures=0, since=T0, detail=None) -> ServiceVerdict:
    return ServiceVerdict(at, failures, health, since, detail)


def test_one_failed_run_is_flaky_whether_the_service_ran_it_or_not():
    failed = RunFacts(T0, "failed", 0, failed_in_row=1, failed_since=T0, last_failure=DNS)
    expected = ("flaky", f"last run failed: {DNS}", T0)
    assert judge(failed, None, 3) == expected  # `newswatch crawl`
    # the service saw the same run and, below failing_after, kept its verdict "ok"
    seen = verdict(at=T0 + timedelta(seconds=1), failures=1)
    assert judge(failed, seen, 3) == expected


def test_failing_after_that_many_failed_runs_in_a_row():
    runs_ = RunFacts(T0, "failed", 0, failed_in_row=2, failed_since=T0, last_failure=DNS)
    assert judge(runs_, None, 2) == ("failing", f"2 failed runs in a row: {DNS}", T0)
    assert judge(runs_, None, 3)[0] == "flaky"


def test_a_crawl_after_the_services_verdict_counts():
    failing = verdict("failing", failures=3, detail=f"3 failed runs in a row: {DNS}")
    later = T0 + timedelta(hours=1)
    recovered = RunFacts(later, "ok", 2, good_since=later)
    assert judge(recovered, failing, 3) == ("ok", "", later)
    assert judge(RunFacts(later, "ok", 2, good_since=later), None, 3) == ("ok", "", later)
    # the service's failing stands while it has seen every run
    assert judge(RunFacts(T0, "failed", 0, 3, T0, DNS), failing, 3)[0] == "failing"


def test_quiet_and_degraded_are_the_services_and_a_failure_is_added_to_their_reason():
    quiet = verdict("quiet", at=T0 + timedelta(seconds=1), detail="nothing new for 3 d")
    failed = RunFacts(T0, "failed", 0, failed_in_row=1, failed_since=T0, last_failure=DNS)
    assert judge(failed, quiet, 3) == ("quiet", f"nothing new for 3 d; last run failed: {DNS}", T0)
    fresh = RunFacts(T0 + timedelta(hours=1), "ok", 5, good_since=T0)
    assert judge(fresh, quiet, 3)[0] == "ok"  # a later crawl stored something new
    degraded = verdict("degraded", detail="dates 90% → 10%")
    assert judge(fresh, degraded, 3) == ("degraded", "dates 90% → 10%", T0)


def test_never_run_until_a_run_or_a_poll():
    assert judge(RunFacts(), None, 3) == ("never run", "", None)
    assert judge(RunFacts(), ServiceVerdict(None, 0, "ok", None, None), 3)[0] == "never run"
    # the service polled, but the crawl process died before its run ended
    assert judge(RunFacts(), verdict(failures=1), 3) == ("flaky", "last run failed", None)


# -- the query, on SQLite and PostgreSQL ------------------------------------------------------


def configured(*names: str) -> list[Source]:
    return [Source(name, "feed", (f"https://{name}.example/feed",)) for name in names]


def test_every_configured_source_once_by_name_never_run_included(engine):
    make = sessions(engine)
    with make() as session:
        ids = sync_sources(session, configured("b", "a", "removed"))
        for name, outcomes in {
            "a": [FAILED, OK],
            "b": [OK, FAILED, FAILED],
            "removed": [OK],
        }.items():
            for totals in outcomes:
                runs.finish_run(session, runs.start_run(session, ids[name]), totals)
        found = source_health(session, configured("c", "b", "a"), failing_after=2)
        every_stored = source_health(session, None)
        # a file kept only to read the archive configures none: every stored source
        none_configured = source_health(session, ())
        query = select(CrawlRun.source_id, CrawlRun.finished_at).order_by(CrawlRun.id)
        ended = {
            name: [at for owner, at in session.execute(query) if owner == ids[name]] for name in ids
        }
    assert [(s.name, s.health, s.reason) for s in found] == [
        ("a", "ok", ""),
        ("b", "failing", f"2 failed runs in a row: {DNS}"),
        ("c", "never run", ""),
    ]
    # since: a's first good run after its failure; b's first failed run after its good one
    assert (found[0].since, found[1].since) == (ended["a"][1], ended["b"][1])
    assert found[1].consecutive_failures == 2 and found[1].last_error == DNS
    assert found[2].kind == "feed" and found[2].url == "https://c.example/feed"
    assert [s.name for s in every_stored] == ["a", "b", "removed"]
    assert [s.name for s in none_configured] == ["a", "b", "removed"]
    assert every_stored[1].health == "flaky"  # fewer than the default 3


def test_the_services_schedule_is_read_with_the_runs(engine):
    make = sessions(engine)
    with make() as session:
        ids = sync_sources(session, configured("a"))
        runs.finish_run(session, runs.start_run(session, ids["a"]), OK)
        later = datetime.now(UTC) + timedelta(minutes=1)  # assessed after the run
        schedule.save(
            session,
            Schedule(
                ids["a"],
                600.0,
                later + timedelta(minutes=10),
                later,
                health="quiet",
                health_since=later,
                health_detail="nothing new for 3 d",
            ),
        )
        (found,) = source_health(session, configured("a"))
    assert (found.health, found.reason, found.since) == ("quiet", "nothing new for 3 d", later)
    assert found.interval_seconds == 600.0 and found.next_due_at == later + timedelta(minutes=10)


# -- what the three surfaces show ------------------------------------------------------------


def shown(config: Path, url: str) -> dict[str, dict[str, tuple[str, str]]]:
    """{surface: {source: (health, its row as text)}} for `status`, `sources` and the web."""
    surfaces = {}
    for command, pattern in (
        ("status", rf"^(\S+)\s+({STATES})\s"),
        ("sources", rf"^(\S+)\s+\S*\s+({STATES})\s"),
    ):
        result = CliRunner().invoke(cli, ["--config", str(config), "--database", url, command])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()[1:]
        surfaces[command] = {
            found[1]: (found[2], line) for line in lines if (found := re.match(pattern, line))
        }
        assert len(surfaces[command]) == len(lines), result.output
    engine = open_engine(url)
    try:
        with TestClient(
            create_app(engine, load_settings(config)), base_url="http://localhost"
        ) as client:
            page = client.get("/sources").text
    finally:
        engine.dispose()
    surfaces["web"] = {}
    for row in re.findall(r'<tr class="health-[^"]*">(.*?)</tr>', page, re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        surfaces["web"][cells[0]] = (cells[2], " ".join(cells))
    return surfaces


def assert_agree(surfaces: dict[str, dict[str, tuple[str, str]]], expected: dict[str, str]):
    for surface, found in surfaces.items():
        health = {name: state for name, (state, _) in found.items()}
        assert health == expected, f"{surface} shows {health}, expected {expected}"


def test_a_plain_crawl_counts_as_a_poll_and_every_surface_lists_the_same_sources(tmp_path):
    url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    with NewsSite() as site:
        crawled = site.sources()
        result = newswatch(write_config(tmp_path / "crawled.toml", crawled), url, "crawl")
    assert result.returncode == 0, result.stderr
    names = sorted(source["name"] for source in crawled)
    surfaces = shown(tmp_path / "crawled.toml", url)
    assert_agree(surfaces, dict.fromkeys(names, "ok"))
    assert "not polled yet" not in str(surfaces)
    for name, (_, line) in surfaces["status"].items():
        # a crawl is a run; the interval and next poll are the service's, not shown yet
        assert re.match(rf"{name}\s+ok\s+.+ ago\s+.+ ago\s+\d+", line), line

    # one source taken out of the configuration, one added that never ran
    later = [*crawled[1:], {"name": "added", "kind": "feed", "url": "http://added.invalid/f"}]
    surfaces = shown(write_config(tmp_path / "later.toml", later), url)
    kept = sorted(source["name"] for source in crawled[1:])
    assert_agree(surfaces, {**dict.fromkeys(kept, "ok"), "added": "never run"})


def test_failing_after_the_configured_number_of_failed_crawls_everywhere(tmp_path):
    url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    gone = {"name": "gone", "kind": "feed", "url": "http://gone.invalid/feed"}
    config = write_config(tmp_path / "newswatch.toml", [gone])
    with config.open("a") as toml:
        toml.write("\n[service]\nfailing_after = 2\n")
    for expected in ("flaky", "failing"):
        result = newswatch(config, url, "crawl")
        assert "gone: failed" in result.stderr, result.stderr
        surfaces = shown(config, url)
        assert_agree(surfaces, {"gone": expected})
    for surface, found in surfaces.items():
        assert "2 failed runs in a row: " in found["gone"][1], (surface, found)
        assert "gone.invalid" in found["gone"][1], (surface, found)


def test_a_service_round_where_every_lookup_failed_is_flaky_everywhere(tmp_path):
    url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    names = ("gone-a", "gone-b")
    config = write_config(
        tmp_path / "newswatch.toml",
        [{"name": name, "kind": "feed", "url": f"http://{name}.invalid/feed"} for name in names],
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newswatch",
            "-v",
            "--config",
            str(config),
            "--database",
            url,
            "run",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(WAIT, process.kill)
    watchdog.start()
    settled, log = set(), []
    try:
        for line in process.stderr:  # the service's bookkeeping line is the event to wait for
            log.append(line)
            settled |= {name for name in names if f"{name}: next poll at" in line}
            if settled == set(names):
                break
        assert settled == set(names), "".join(log[-40:])
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=WAIT)
        watchdog.cancel()
    assert process.returncode == 0, "".join(log[-40:])

    surfaces = shown(config, url)
    assert_agree(surfaces, dict.fromkeys(names, "flaky"))
    for surface, found in surfaces.items():
        for name in names:
            assert "last run failed: " in found[name][1], (surface, found[name])
            assert f"{name}.invalid" in found[name][1], (surface, found[name])
    for name in names:  # the service's own columns: interval and next poll
        assert re.match(
            rf"{name}\s+flaky\s+.+ ago\s+\S+\s+in \S+\s+.+ ago", surfaces["status"][name][1]
        )
