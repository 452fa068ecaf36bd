"""`newswatch serve`: the review web UI, Atom feeds and JSON API over the stored feed."""

from __future__ import annotations

import contextlib
import os

import click

from crawler.config_reader import Problem
from newswatch.app import App
from newswatch.commands.options import config_option
from newswatch.settings import ConfigError, Settings
from newswatch.web.options import TOKEN_ENV, WebOptions, unsafe


def web_options(host: str, port: int, read_only: bool, settings: Settings, env=None) -> WebOptions:
    """Options from the command line, [web] and the token from the environment.

    Refuses unsafe ones before anything is served: a missing or short token is a usage
    error; missing [web] settings are a config error naming the file and every key.
    """
    env = os.environ if env is None else env
    token = env.get(TOKEN_ENV) or None
    web = settings.web
    problems = unsafe(host, token, web.allowed_hosts, web.base_url)
    for problem in problems:
        if problem.key is None:
            raise click.UsageError(str(problem))
    if problems:
        raise ConfigError(settings.config_path, [Problem(p.key or "", str(p)) for p in problems])
    return WebOptions(
        host=host,
        port=port,
        token=token,
        read_only=read_only,
        hosts=web.allowed_hosts,
        base_url=web.base_url,
    )


@click.command()
@config_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help=f"Address to listen on. Beyond loopback, ${TOKEN_ENV} and [web] allowed_hosts and "
    "base_url must be set.",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on.",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Refuse every action that changes state (retrying deliveries).",
)
@click.pass_obj
def serve(app: App, host: str, port: int, read_only: bool) -> None:
    """Serve the web UI: the stored feed, search, stories, alert log and sources.

    Also serves Atom feeds (/feeds/rules/NAME, /feeds/tags/TAG, /feeds/search?q=...),
    the JSON API (/api/, described by /api/openapi.json) and CSV/JSONL exports.
    Retrying a dead delivery needs the token in $NEWSWATCH_WEB_TOKEN when it is set.

    Reached from the network (beyond loopback, or behind a proxy named in [web]), it
    needs the token for everything: browsers sign in at /login, scripts send
    `Authorization: Bearer TOKEN`, and each Atom feed or export link carries its own
    key. [web] allowed_hosts (Host names accepted) and base_url (the address links
    are built from) are then required too.

    \b
    Examples:
      newswatch serve
      NEWSWATCH_WEB_TOKEN=$(openssl rand -hex 16) newswatch serve --host 0.0.0.0
    """
    from newswatch.web import create_app
    from newswatch.web.server import listen, serve_forever

    options = web_options(host, port, read_only, app.settings)
    web = create_app(app.engine(), app.settings, options)
    with cannot_listen(options):
        listener = listen(options)
    click.echo(
        f"newswatch: serving http://{_netloc(host, listener.getsockname()[1])}/ (Ctrl+C stops)",
        err=True,
    )
    serve_forever(web, listener)


@contextlib.contextmanager
def cannot_listen(options: WebOptions):
    """A port taken or an address not ours is a message for the user, not a traceback."""
    try:
        yield
    except OSError as error:
        where = _netloc(options.host, options.port)
        raise click.ClickException(f"cannot listen on {where}: {error.strerror or error}") from None


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
