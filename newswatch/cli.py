"""The `newswatch` command: options shared by every command, error boundary, registration."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path

import click
from click.core import ParameterSource
from sqlalchemy.exc import SQLAlchemyError

from crawler.storage.engine import MissingDatabase, UnusableDatabase
from crawler.urls import without_password
from newswatch.app import App
from newswatch.logs import setup_logging
from newswatch.settings import CONFIG_ENV, ConfigError, config_candidates, locate_config

EPILOG = """\b
Start with:
  newswatch demo                  crawl the bundled sample site, no internet needed
  newswatch crawl                 crawl every source of the configuration once
  newswatch articles --lang de    what was stored, newest first
"""

# Commands that only read the archive: a missing SQLite file is an error naming it, never
# a new, empty database (nor its folders). By path below `newswatch`.
READ_ONLY = frozenset(
    {
        "articles",
        "show",
        "failures",
        "export",
        "coverage",
        "stories",
        "story",
        "evidence",
        "status",
        "serve",
        "sources",
        "sources export",
        "alerts log",
        "alerts test",
        "copy-db",
    }
)
SHARED = ("config", "database", "verbose", "quiet", "log_json")


class Newswatch(click.Group):
    """Turns the errors a user can fix into a clear message and an exit status."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            for line in error.lines():
                click.echo(f"config error: {line}", err=True)
            ctx.exit(2)
        except MissingDatabase as error:
            app = ctx.find_object(App)
            origin = f" ({app.database_origin()})" if app else ""
            click.echo(
                f"database error: no database at {error.path}{origin}: nothing has been "
                "stored there yet; `newswatch crawl` creates it",
                err=True,
            )
            ctx.exit(1)
        except UnusableDatabase as error:
            click.echo(f"database error ({without_password(error.url)}): {error}", err=True)
            ctx.exit(1)
        except SQLAlchemyError as error:
            app = ctx.find_object(App)
            where = app.settings.database_url if app and "settings" in vars(app) else "database"
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            click.echo(f"database error ({without_password(where)}): {reason}", err=True)
            ctx.exit(1)
        except Exception as error:
            if not _is_redis_error(error):
                raise
            # The cluster's queue is unreachable or refused us: one line, not a traceback.
            app = ctx.find_object(App)
            cluster = app.settings.cluster if app and "settings" in vars(app) else None
            where = without_password(cluster.redis_url) if cluster else "redis"
            click.echo(f"redis error ({where}): {str(error).strip().splitlines()[0]}", err=True)
            ctx.exit(1)
        finally:
            app = ctx.find_object(App)
            if app:
                app.close()


def _is_redis_error(error: Exception) -> bool:
    """A redis client's error; redis is imported by the commands that use it only."""
    redis_errors = sys.modules.get("redis.exceptions")  # not imported: not a redis error
    return redis_errors is not None and isinstance(error, redis_errors.RedisError)


class ConfigOption(click.Option):
    """`--config`, whose help says where a configuration is looked for, and which one it is."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        looked = ", ".join(
            f"./{c}" if not c.is_absolute() else str(c) for c in config_candidates(os.environ)
        )
        try:
            location = locate_config()
            now = f"{location.path.absolute()}, {location.origin}"
        except ConfigError:
            now = "none found"
        return record[0], (
            f"Configuration file. [default: ${CONFIG_ENV}, else the first of {looked}; now: {now}]"
        )


# The options every command takes, before or after its name; `cli` reads them first.
SHARED_OPTIONS = (
    (
        ("-c", "--config"),
        {
            "cls": ConfigOption,
            "metavar": "FILE",
            "help": "Configuration file.",
            "type": click.Path(path_type=Path, dir_okay=False),
        },
    ),
    (
        ("--database",),
        {
            "metavar": "URL",
            "help": "Database URL, overriding the config and $NEWSWATCH_DATABASE_URL "
            "(e.g. sqlite:///news.db, postgresql://user@host/newswatch).",
        },
    ),
    (("-v", "--verbose"), {"count": True, "help": "More detail; -vv shows Scrapy's own log."}),
    (("-q", "--quiet"), {"is_flag": True, "help": "Only warnings and errors."}),
    (("--log-json",), {"is_flag": True, "help": "Log one JSON object per line."}),
)


def shared_params(**changes) -> list[click.Option]:
    """New Option objects for the shared options (a parameter belongs to one command)."""
    params = []
    for decls, attrs in SHARED_OPTIONS:
        attrs = {**attrs, **changes}
        cls = attrs.pop("cls", click.Option)
        params.append(cls(list(decls), **attrs))
    return params


@click.group(
    cls=Newswatch,
    epilog=EPILOG,
    params=shared_params(),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="newswatch")
@click.pass_context
def cli(ctx: click.Context, config, database, verbose, quiet, log_json) -> None:
    """Follow news sources on a topic, store every article once, alert on keywords.

    Sources, topics, alert rules and channels live in a TOML file (--config
    below says where it is looked for). Articles go to SQLite by default, or
    PostgreSQL. The options below work after a command's name too.
    """
    setup_logging(-1 if quiet else verbose, json_format=log_json)
    ctx.obj = App(config, database)


def _shared_option_given(read_only: bool):
    """The callback of a shared option after a command's name.

    A value given there goes where `cli` put the same option's: the App, and the root
    context's parameters (which `run` hands to its crawl processes) with the logging
    set up again. `read_only` tells the App what the command does; the innermost
    command parsed (`sources import`, not `sources`) decides.
    """

    def given(ctx: click.Context, param: click.Parameter, value) -> None:
        app = ctx.find_object(App)
        if app is None:  # the command is invoked on its own, as some tests do
            return
        app.read_only = read_only
        if ctx.get_parameter_source(param.name) is not ParameterSource.COMMANDLINE:
            return
        if param.name == "config":
            app.config_path = value
        elif param.name == "database":
            app.database_url = value
        else:
            root = ctx.find_root().params
            root[param.name] = root.get("verbose", 0) + value if param.name == "verbose" else value
            verbosity = -1 if root.get("quiet") else root.get("verbose", 0)
            setup_logging(verbosity, json_format=bool(root.get("log_json")))

    return given


def _adopt(command: click.Command, path: str) -> None:
    """Give `command` and its subcommands the shared options, in place of their own."""
    own = [param for param in command.params if param.name not in SHARED]
    callback = _shared_option_given(path in READ_ONLY)
    command.params = own + shared_params(expose_value=False, callback=callback)
    for name, subcommand in getattr(command, "commands", {}).items():
        _adopt(subcommand, f"{path} {name}")


class Commands(MutableMapping[str, click.Command]):
    """The commands by name, each imported when first asked for: a command pays for its
    own imports only (`crawl` does not load the web application, nor redis).

    Each command gets the shared options (`_adopt`) when it is loaded.
    """

    def __init__(self, where: dict[str, str]) -> None:
        self._where = dict(where)  # name -> "module:attribute"
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attribute = self._where[name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            _adopt(command, command.name)
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._where[name] = ""
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._where[name]
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


# Every command, by name: where it is defined. In groups: collect, review, operate.
COMMANDS = {
    "crawl": "newswatch.commands.crawl:crawl",
    "demo": "newswatch.commands.crawl:demo",
    "discover": "newswatch.commands.discover:discover",
    "run": "newswatch.commands.service:run",
    "status": "newswatch.commands.service:status",
    "articles": "newswatch.commands.review:articles",
    "show": "newswatch.commands.review:show",
    "stories": "newswatch.commands.stories:stories",
    "story": "newswatch.commands.stories:story",
    "evidence": "newswatch.commands.evidence:evidence",
    "export": "newswatch.commands.export:export",
    "sources": "newswatch.commands.sources:sources",
    "failures": "newswatch.commands.review:failures",
    "coverage": "newswatch.commands.coverage:coverage",
    "serve": "newswatch.commands.serve:serve",
    "worker": "newswatch.commands.worker:worker",
    "dispatcher": "newswatch.commands.dispatcher:dispatcher",
    "alerts": "newswatch.commands.alerts:alerts",
    "copy-db": "newswatch.commands.copy_db:copy_db",
}
cli.commands = Commands(COMMANDS)


def main() -> None:
    cli(prog_name="newswatch")


if __name__ == "__main__":
    sys.exit(main())
