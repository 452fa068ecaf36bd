"""`newswatch copy-db`: move the whole archive into another, empty database."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from crawler.storage import copy
from crawler.storage.engine import open_engine
from newswatch.app import App
from newswatch.commands.options import config_option


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@click.command("copy-db")
@config_option
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="The database to fill; created or migrated to the newest schema, must hold no articles.",
)
@click.option(
    "--batch",
    default=copy.BATCH,
    show_default=True,
    type=click.IntRange(1),
    help="Rows written per statement.",
)
@click.pass_obj
def copy_db(app: App, target_url: str, batch: int) -> None:
    """Copy every table of the current database into an empty one.

    This is how one process on SQLite grows into many on PostgreSQL: the articles,
    stories, sources, crawl history, alert matches and deliveries all move over, ids
    unchanged. Stop the crawl and the service first; the target is written in one
    transaction, so a failed copy leaves it empty and can be run again.

    \b
    Example:
      newswatch copy-db --to postgresql://newswatch@db.example/newswatch
    """
    source_url = app.settings.database_url
    if make_url(source_url) == make_url(target_url):
        raise click.ClickException("the target is the current database")
    source = app.engine()
    target = open_engine(target_url)
    try:
        if copy.has_articles(target):
            raise click.ClickException(
                f"{_shown(target_url)} already holds articles: copy-db only fills an empty database"
            )
        click.echo(f"copying {_shown(source_url)} → {_shown(target_url)}")
        counts = copy.copy_tables(
            source,
            target,
            batch=batch,
            on_table=lambda name, rows: click.echo(f"  {name:<18} {rows:>9,} rows"),
        )
    finally:
        target.dispose()
    click.echo(f"copied {sum(counts.values()):,} rows in {len(counts)} tables")
