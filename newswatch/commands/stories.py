"""Story commands: `stories` lists stories, `story ID` shows one and why each member joined."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from alerts.render import local_time
from crawler.storage import stories as story_queries
from newswatch.app import App
from newswatch.commands.options import DateType, config_option


def _console() -> Console:
    # Piped output keeps whole lines (for grep and less) instead of an 80-column wrap.
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return local_time(moment, zone)  # [display] timezone, labelled: "2026-12-05 16:20 CET"


def _escape(text: str) -> str:
    return text.replace("[", r"\[")  # crawled titles are not rich markup


@click.command()
@config_option
@click.option(
    "--min-size",
    default=1,
    show_default=True,
    metavar="N",
    help="Only stories of at least N articles.",
)
@click.option("--since", type=DateType(), help="Only stories first seen on or after this date.")
@click.option("-n", "--limit", default=30, show_default=True, help="How many stories to list.")
@click.pass_obj
def stories(app: App, min_size: int, since: datetime | None, limit: int) -> None:
    """List stories, latest activity first: size, outlets, languages, dates, first headline.

    "first seen" is the date of the story's oldest article and "last active" that of its
    newest (published, else fetched); stories are sorted by "last active".

    A story groups every copy of one piece of news (syndicated, republished) and other
    outlets' reports of the same event, in any language (see `newswatch story ID`).

    \b
    Examples:
      newswatch stories --min-size 2
      newswatch stories --since 2026-11-01 -n 100
    """
    with app.sessions()() as session:
        found = story_queries.list_stories(session, min_articles=min_size, limit=limit, since=since)
    if not found:
        click.echo("No stored stories match.")
        return
    zone = app.settings.display.zone
    table = Table(box=None, pad_edge=False, header_style="bold")
    columns = ("story", "articles", "outlets", "languages", "first seen", "last active", "title")
    for column in columns:
        table.add_column(column, no_wrap=column != "title", overflow="fold")
    for story in found:
        table.add_row(
            f"#{story.id}",
            str(story.articles),
            str(story.outlets),
            ", ".join(story.languages) or "?",
            _when(story.first_seen, zone),
            _when(story.last_active, zone),
            _escape(story.title or ""),
        )
    _console().print(table)


@click.command()
@config_option
@click.argument("story_id", type=int, metavar="ID")
@click.pass_obj
def story(app: App, story_id: int) -> None:
    """Show one story: its articles in the order they joined, and why each joined.

    "near-duplicate of #12" means the text is a copy of article 12 (boilerplate, headline or
    a cut paragraph aside); "shares … with #12" lists the names, numbers, quotes or links
    it has in common with article 12, published within two days of it.

    \b
    Example:
      newswatch story 7
    """
    with app.sessions()() as session:
        found = story_queries.members(session, story_id)
        summary = story_queries.summaries(session, [story_id]).get(story_id)
    if not found or summary is None:
        raise click.ClickException(f"no story with id {story_id}")
    outlets = f"{summary.outlets} outlet{'s' if summary.outlets != 1 else ''}"
    zone = app.settings.display.zone
    click.echo(
        f"Story #{story_id}: {summary.articles} articles from {outlets} "
        f"({', '.join(summary.languages) or '?'}), first seen {_when(summary.first_seen, zone)}"
    )
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("article", "published", "source", "lang", "title", "why"):
        table.add_column(column, no_wrap=column in ("article", "published"), overflow="fold")
    for member in found:
        table.add_row(
            f"#{member.id}",
            _when(member.dated, zone),
            member.source,
            member.language or "?",
            _escape(member.title or member.url),
            _escape(member.reason),
        )
    _console().print(table)
