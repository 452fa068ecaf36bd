"""`newswatch serve`: its help, and its refusal to listen beyond loopback without a token,
the Host names it answers to and the base URL of its links."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crawler.storage.engine import open_engine
from newswatch.app import App
from newswatch.cli import cli
from newswatch.commands.serve import serve, web_options
from newswatch.settings import parse_settings
from newswatch.web.options import TOKEN_ENV

TOKEN = "0123456789abcdef0123"
WEB = '[web]\nallowed_hosts = ["news.example.org"]\nbase_url = "https://news.example.org/"\n'
SOURCE = '[[sources]]\nname = "a"\nkind = "feed"\nurl = "https://a.example/feed"\n'


def test_help_explains_with_an_example():
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "--host" in result.output
    assert "127.0.0.1" in result.output and "8080" in result.output


def test_refuses_a_public_address_without_a_token(tmp_path):
    config = tmp_path / "newswatch.toml"
    config.write_text(WEB, encoding="utf-8")
    runner = CliRunner(env={TOKEN_ENV: ""})
    app = App(config, f"sqlite:///{tmp_path / 'db.sqlite'}")
    result = runner.invoke(serve, ["--host", "0.0.0.0"], obj=app)
    assert result.exit_code == 2
    assert "refusing to serve without a token when serving on 0.0.0.0" in result.output
    assert not (tmp_path / "db.sqlite").exists()  # refused before touching anything


@pytest.mark.parametrize("command", [["serve", "--host", "0.0.0.0"], ["run", "--web", "0.0.0.0:0"]])
def test_a_public_address_needs_web_names_and_base_url_in_the_config(tmp_path, command):
    config = tmp_path / "newswatch.toml"
    config.write_text(SOURCE, encoding="utf-8")
    result = CliRunner(env={TOKEN_ENV: TOKEN}).invoke(
        cli, ["--config", str(config), "--database", f"sqlite:///{tmp_path / 'n.db'}", *command]
    )
    assert result.exit_code == 2, result.output
    assert f"config error: {config}: web.allowed_hosts: required when serving on 0.0.0.0" in (
        result.output
    )
    assert f"config error: {config}: web.base_url: required when serving on 0.0.0.0" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "n.db").exists()


def test_options_take_the_token_from_the_environment_and_web_from_the_config():
    settings = parse_settings(tomllib.loads(WEB), Path("n.toml"), {})
    options = web_options("0.0.0.0", 8080, False, settings, env={TOKEN_ENV: TOKEN})
    assert options.token == TOKEN and options.actions_need_token and options.reads_need_token
    assert options.allowed_hosts == ("news.example.org",)
    assert options.base_url == "https://news.example.org"
    # on loopback, but named news.example.org: a proxy shows it to the world
    proxied = web_options("127.0.0.1", 8080, True, settings, env={TOKEN_ENV: TOKEN})
    assert proxied.reads_need_token
    assert proxied.allowed_hosts == ("news.example.org", "localhost", "127.0.0.1", "[::1]")
    with pytest.raises(click.UsageError, match="name only loopback in"):
        web_options("127.0.0.1", 8080, True, settings, env={})
    bare = parse_settings({}, Path("n.toml"), {})
    local = web_options("127.0.0.1", 8080, True, bare, env={})
    assert not local.actions_need_token and not local.reads_need_token
    with pytest.raises(click.UsageError):
        web_options("::", 8080, False, settings, env={})
    with pytest.raises(click.UsageError, match="too short"):
        web_options("::", 8080, False, settings, env={TOKEN_ENV: "short"})


def test_a_port_already_taken_is_a_message_not_a_traceback(tmp_path):
    import socket

    config = tmp_path / "newswatch.toml"
    config.write_text("", encoding="utf-8")
    open_engine(f"sqlite:///{tmp_path / 'n.db'}").dispose()  # serve reads: it creates none
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli,
            [
                "--config",
                str(config),
                "--database",
                f"sqlite:///{tmp_path / 'n.db'}",
                "serve",
                "--port",
                str(port),
            ],
        )
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
