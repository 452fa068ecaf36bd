"""Where the configuration and the data are: found from any folder, said, never made up."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.storage.engine import open_engine
from newswatch.cli import READ_ONLY, cli
from newswatch.demo.site import NewsSite
from tests.crawl_helpers import write_config
from tests.test_cli import all_commands

WAIT = 120  # seconds: only reached when something hangs


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """This machine's environment without a configuration or database of its own."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NEWSWATCH_CONFIG", "NEWSWATCH_DATABASE_URL")
    }
    return {**clean, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def newswatch(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newswatch", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def invoke(env: dict[str, str], *args: str, **changes: str):
    """The command line in this process; CliRunner changes only the variables it is given."""
    overrides = {
        "NEWSWATCH_CONFIG": None,
        "NEWSWATCH_DATABASE_URL": None,
        "XDG_CONFIG_HOME": env["XDG_CONFIG_HOME"],
        **changes,
    }
    return CliRunner().invoke(cli, list(args), env=overrides)


def folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def one_feed(path: Path, name: str) -> Path:
    """A configuration with one feed, `name`, that nothing else has."""
    folder(path.parent)
    return write_config(path, [{"name": name, "kind": "feed", "url": f"https://{name}.test/"}])


def test_a_project_folder_crawls_and_reads_its_own_data(tmp_path, env):
    project, elsewhere = folder(tmp_path / "project"), folder(tmp_path / "elsewhere")
    with NewsSite() as site:
        write_config(project / "newswatch.toml", site.sources())  # database: default, relative
        crawled = newswatch(project, env, "crawl")
    assert crawled.returncode == 0, crawled.stderr
    assert (
        f"config {project / 'newswatch.toml'} (found as ./newswatch.toml); database "
        f"{project / 'newswatch.db'} (from storage.database_url of "
    ) in crawled.stderr
    listed = newswatch(project, env, "articles", "--lang", "de")
    assert listed.returncode == 0 and "Aktionsplan" in listed.stdout, listed.stderr

    lost = newswatch(elsewhere, env, "articles")
    assert lost.returncode == 2
    assert "no configuration found: looked for ./newswatch.toml" in lost.stderr
    assert len(lost.stderr.splitlines()) == 1, lost.stderr

    # the relative database is relative to where newswatch runs: not there, so not made
    config = str(project / "newswatch.toml")
    missing = newswatch(elsewhere, env, "articles", "--config", config)
    assert missing.returncode == 1
    assert missing.stderr == (
        f"database error: no database at {elsewhere / 'newswatch.db'} (from storage."
        f"database_url of {config}): nothing has been stored there yet; `newswatch crawl` "
        "creates it\n"
    )
    assert list(elsewhere.iterdir()) == []

    # every shared option after the command's name, as before it
    database = f"sqlite:///{project / 'newswatch.db'}"
    found = newswatch(
        elsewhere, env, "articles", "--lang", "de", "--config", config, "--database", database, "-v"
    )
    assert found.returncode == 0, found.stderr
    assert "Aktionsplan" in found.stdout
    assert f"DEBUG   config {config} (from --config)" in found.stderr


def test_run_says_which_config_it_uses(tmp_path, env):
    user_config = one_feed(tmp_path / "xdg" / "newswatch" / "newswatch.toml", "only-here")
    database = tmp_path / "data" / "news.db"
    service = subprocess.Popen(
        [sys.executable, "-m", "newswatch", "run", "--database", f"sqlite:///{database}"],
        cwd=folder(tmp_path / "anywhere"),
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        said = next((line for line in service.stderr if " config " in line), "")
    finally:
        service.send_signal(signal.SIGTERM)
        _, rest = service.communicate(timeout=WAIT)
    assert re.search(r"^\d\d:\d\d:\d\d INFO ", said), said + rest
    assert (
        f"config {user_config} (found in the user config directory); "
        f"database {database} (from --database)"
    ) in said


def test_every_way_to_name_the_config_in_its_order(tmp_path, env, monkeypatch):
    def used(*args: str, **extra: str) -> str:
        result = invoke(env, *args, "sources", "export", **extra)
        assert result.exit_code == 0, result.output
        return re.findall(r'text="([\w-]+)"', result.output)[0]

    work = folder(tmp_path / "work")
    monkeypatch.chdir(work)
    one_feed(tmp_path / "xdg" / "newswatch" / "newswatch.toml", "user-dir")
    assert used() == "user-dir"
    one_feed(work / "config" / "newswatch.toml", "checkout")
    assert used() == "checkout"
    one_feed(work / "newswatch.toml", "working-dir")
    assert used() == "working-dir"
    named = one_feed(tmp_path / "named.toml", "by-env")
    assert used(NEWSWATCH_CONFIG=str(named)) == "by-env"
    given = one_feed(tmp_path / "given.toml", "by-option")
    assert used("--config", str(given), NEWSWATCH_CONFIG=str(named)) == "by-option"
    after = invoke(env, "sources", "export", "-c", str(given))
    assert 'text="by-option"' in after.output


def test_help_says_where_the_config_is_looked_for_and_which_is_used(tmp_path, env, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["--help"], ["crawl", "--help"]):
        nothing = " ".join(invoke(env, *args).output.split())
        assert "[default: $NEWSWATCH_CONFIG, else the first of ./newswatch.toml, " in nothing
        assert "now: none found]" in nothing
    one_feed(tmp_path / "newswatch.toml", "here")
    found = "".join(invoke(env, "--help").output.split())  # a long path is wrapped anywhere
    assert f"now:{tmp_path / 'newswatch.toml'},foundas./newswatch.toml]" in found


READING = [
    ["articles"],
    ["show", "1"],
    ["failures"],
    ["export"],
    ["coverage"],
    ["stories"],
    ["story", "1"],
    ["evidence", "1", "-o", "out"],
    ["status"],
    ["serve", "--port", "0"],
    ["sources"],
    ["alerts", "log"],
    ["alerts", "test", "Maroc"],
    ["copy-db", "--to", "sqlite:///copy.db"],
]


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_reading_commands_refuse_a_missing_database_and_make_nothing(
    command, tmp_path, env, monkeypatch
):
    config = write_config(folder(tmp_path / "config") / "newswatch.toml", [])
    work = folder(tmp_path / "work")
    monkeypatch.chdir(work)
    missing = tmp_path / "nonexistent" / "dir" / "news.db"
    for database in ([], ["--database", f"sqlite:///{missing}"]):
        result = invoke(env, *command, "--config", str(config), *database)
        expected = missing if database else work / "newswatch.db"
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"database error: no database at {expected} (from ")
        assert result.stderr.endswith("`newswatch crawl` creates it\n")
        assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "nonexistent").exists()
    assert list(work.iterdir()) == []


def test_every_reading_command_is_a_command():
    paths = {" ".join(path) for path, _ in all_commands(cli)}
    assert paths >= READ_ONLY, READ_ONLY - paths
    assert {" ".join(c[: 2 if c[0] in ("alerts", "sources") else 1]) for c in READING} == (
        READ_ONLY - {"sources export"}
    )


def test_writing_commands_still_make_their_database(tmp_path, env, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path / "newswatch.toml", [])
    database = tmp_path / "new" / "folder" / "news.db"
    result = invoke(
        env, "alerts", "run", "--database", f"sqlite:///{database}", "--config", str(config)
    )
    assert result.exit_code == 0, result.output
    assert database.exists()


def test_logging_options_after_the_command(tmp_path, env, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path / "newswatch.toml", [])
    open_engine(f"sqlite:///{tmp_path / 'newswatch.db'}").dispose()
    result = invoke(env, "stories", "--log-json", "-v")
    assert result.exit_code == 0, result.output
    logged = [json.loads(line) for line in result.stderr.splitlines()]
    assert any(entry["message"].startswith("config ") for entry in logged), logged
    quiet = invoke(env, "-v", "stories", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == "", quiet.stderr


def test_the_demo_keeps_its_database_and_says_how_to_explore_it(tmp_path, env, monkeypatch):
    work = folder(tmp_path / "work")
    kept = newswatch(work, env, "demo", "--keep", "demo")
    assert kept.returncode == 0, kept.stderr
    assert (work / "demo" / "demo.db").exists()
    assert f"The demo's articles are kept in {work / 'demo' / 'demo.db'}." in kept.stdout
    commands = [
        line.split(maxsplit=1)[1]
        for line in kept.stdout.splitlines()
        if line.startswith("  newswatch ")
    ]
    assert any(command.endswith(" serve") for command in commands), kept.stdout
    monkeypatch.chdir(tmp_path)  # somewhere else: the printed commands work from anywhere
    for command in commands:
        if not command.endswith(" serve"):
            result = invoke(env, *shlex.split(command))
            assert result.exit_code == 0, (command, result.output)
    german = invoke(env, *shlex.split(commands[0])).output
    assert "Aktionsplan" in german
    monkeypatch.chdir(work / "demo")  # or in its folder, where its configuration is found
    assert "Aktionsplan" in invoke(env, "articles", "--lang", "de").output
    forgotten = newswatch(work, env, "demo", "-q")
    assert forgotten.returncode == 0, forgotten.stderr
    assert "newswatch demo --keep DIR" in forgotten.stdout
    assert sorted(path.name for path in work.iterdir()) == ["demo"]
