"""`newswatch serve`: its help, and its refusal to listen beyond loopback without a token."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from newswatch.app import App
from newswatch.commands.serve import serve, web_options
from newswatch.web.options import TOKEN_ENV


def test_help_explains_with_an_example():
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "--host" in result.output
    assert "127.0.0.1" in result.output and "8080" in result.output


def test_refuses_a_public_address_without_a_token(tmp_path):
    runner = CliRunner(env={TOKEN_ENV: ""})
    app = App(tmp_path / "none.toml", f"sqlite:///{tmp_path / 'db.sqlite'}")
    result = runner.invoke(serve, ["--host", "0.0.0.0"], obj=app)
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0" in result.output
    assert not (tmp_path / "db.sqlite").exists()  # refused before touching anything


def test_options_take_the_token_from_the_environment():
    token = "0123456789abcdef0123"
    options = web_options("0.0.0.0", 8080, False, env={TOKEN_ENV: token})
    assert options.token == token and options.actions_need_token
    assert not web_options("127.0.0.1", 8080, True, env={}).actions_need_token
    with pytest.raises(click.UsageError):
        web_options("::", 8080, False, env={})


def test_a_port_already_taken_is_a_message_not_a_traceback(tmp_path):
    import socket

    from newswatch.cli import cli

    config = tmp_path / "newswatch.toml"
    config.write_text("", encoding="utf-8")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["--config", str(config), "--database", f"sqlite:///{tmp_path / 'n.db'}",
                  "serve", "--port", str(port)],
        )  # fmt: skip
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
