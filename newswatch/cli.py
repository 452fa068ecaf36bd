"""The `newswatch` command: options shared by every command, error boundary, registration."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from crawler.urls import without_password
from newswatch.app import App
from newswatch.commands.alerts import alerts
from newswatch.commands.copy_db import copy_db
from newswatch.commands.coverage import coverage
from newswatch.commands.crawl import crawl, demo
from newswatch.commands.discover import discover
from newswatch.commands.dispatcher import dispatcher
from newswatch.commands.export import export
from newswatch.commands.review import articles, failures, show
from newswatch.commands.serve import serve
from newswatch.commands.service import run, status
from newswatch.commands.sources import sources
from newswatch.commands.stories import stories, story
from newswatch.commands.worker import worker
from newswatch.logs import setup_logging
from newswatch.settings import ConfigError

EPILOG = """\b
Start with:
  newswatch demo                  crawl the bundled sample site, no internet needed
  newswatch crawl                 crawl every source of config/newswatch.toml once
  newswatch articles --lang de    what was stored, newest first
"""


class Newswatch(click.Group):
    """Turns the errors a user can fix into a clear message and an exit status."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            for line in error.lines():
                click.echo(f"config error: {line}", err=True)
            ctx.exit(2)
        except RedisError as error:
            # The cluster's queue is unreachable or refused us: one line, not a traceback.
            app = ctx.find_object(App)
            cluster = app.settings.cluster if app and "settings" in vars(app) else None
            where = without_password(cluster.redis_url) if cluster else "redis"
            click.echo(f"redis error ({where}): {str(error).strip().splitlines()[0]}", err=True)
            ctx.exit(1)
        except SQLAlchemyError as error:
            app = ctx.find_object(App)
            where = app.settings.database_url if app and "settings" in vars(app) else "database"
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            click.echo(f"database error ({without_password(where)}): {reason}", err=True)
            ctx.exit(1)
        finally:
            app = ctx.find_object(App)
            if app:
                app.close()


@click.group(cls=Newswatch, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="NEWSWATCH_CONFIG",
    help="Configuration file. [default: config/newswatch.toml, or $NEWSWATCH_CONFIG]",
)
@click.option(
    "--database",
    metavar="URL",
    help="Database URL, overriding the config and $NEWSWATCH_DATABASE_URL "
    "(e.g. sqlite:///news.db, postgresql://user@host/newswatch).",
)
@click.option("-v", "--verbose", count=True, help="More detail; -vv shows Scrapy's own log.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.option("--log-json", is_flag=True, help="Log one JSON object per line.")
@click.version_option(package_name="newswatch")
@click.pass_context
def cli(ctx: click.Context, config, database, verbose, quiet, log_json) -> None:
    """Follow news sources on a topic, store every article once, alert on keywords.

    Sources, topics, alert rules and channels live in a TOML file (see
    config/newswatch.toml). Articles go to SQLite by default, or PostgreSQL.
    """
    setup_logging(-1 if quiet else verbose, json_format=log_json)
    ctx.obj = App(config, database)


COMMANDS = (
    crawl, demo, discover, run, status,  # collect
    articles, show, stories, story, export, sources, failures, coverage, serve,  # review
    worker, dispatcher, alerts, copy_db,  # operate
)  # fmt: skip
for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli(prog_name="newswatch")


if __name__ == "__main__":
    sys.exit(main())
