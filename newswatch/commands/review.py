"""Review commands: `articles`, `show`, `failures` — reading the stored feed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from alerts.archive import Search
from alerts.render import local_time
from crawler.storage import articles as article_queries
from crawler.storage import backlog, runs
from crawler.storage import stories as story_queries
from crawler.storage import versions as version_queries
from crawler.storage.feed import FeedFilter
from crawler.versions import Version, with_diffs
from newswatch.app import App
from newswatch.commands.export import export_items
from newswatch.commands.options import article_filters, config_option, feed_search
from newswatch.settings import local_zone


def _console() -> Console:
    # Piped output keeps whole lines (for grep and less) instead of an 80-column wrap.
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _when(moment: datetime | None, zone: ZoneInfo | None = None) -> str:
    """A stored time in the display zone ([display] timezone), labelled: "… 16:20 CET".

    Without a zone, the machine's: the default of that setting.
    """
    return local_time(moment, zone or local_zone())


def print_articles(
    sessions: sessionmaker[Session],
    where: FeedFilter | None = None,
    search: Search | None = None,
    *,
    limit: int | None,
    zone: ZoneInfo | None = None,
) -> None:
    """The first `limit` rows `newswatch export` writes for this view, as a table."""
    where = where or FeedFilter()
    with sessions() as session:
        rows = list(export_items(session, where, search, limit=limit))
        collapsed = (
            story_queries.summaries(session, [item.story_id for item in rows])
            if where.per_story
            else {}
        )
    console = _console()
    if not rows:
        console.print("No stored articles match.")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("id", "published", "source", "lang", "title"):
        table.add_column(column, no_wrap=column != "title", overflow="fold")
    for item in rows:
        copy = f" [dim](copy of #{item.duplicate_of_id})[/dim]" if item.duplicate_of_id else ""
        story = collapsed.get(item.story_id)
        if story and story.articles > 1:
            outlets = f"{story.outlets} outlet{'s' if story.outlets != 1 else ''}"
            size = f"{story.articles} articles, {outlets}"
            copy = f" [dim](story #{story.id}: {size})[/dim]"
        table.add_row(
            str(item.id),
            _when(item.published_at or item.fetched_at, zone),
            item.source,
            item.language or "?",
            (item.title or item.url).replace("[", r"\[") + copy,
        )
    console.print(table)


@click.command()
@config_option
@article_filters(search=True)
@click.option("-n", "--limit", default=50, show_default=True, help="How many articles to list.")
@click.pass_obj
def articles(app: App, limit: int, **filters) -> None:
    """List stored articles, newest first: the first rows `newswatch export` writes.

    --text searches in the rule language, as the web's search box does; --collapse keeps
    one line per story.

    \b
    Examples:
      newswatch articles --lang de --since 2026-11-01
      newswatch articles --source le-soir --text "Mocro-Maffia"
      newswatch articles --text 'mocro* -sport' --collapse
    """
    where, search = feed_search(**filters, default_operator=app.settings.alerts.default_operator)
    zone = app.settings.display.zone
    print_articles(app.sessions(), where, search, limit=limit, zone=zone)


@click.command()
@config_option
@click.argument("article_id", type=int, metavar="ID")
@click.option(
    "--versions",
    "with_versions",
    is_flag=True,
    help="Also list the article's versions (edits seen on re-checks), each with a diff.",
)
@click.pass_obj
def show(app: App, article_id: int, with_versions: bool) -> None:
    """Print one stored article: its metadata, story and full text.

    A matched article is fetched again on a schedule ([crawl] recheck_after); --versions
    lists what changed each time (headline, text, date, author; removed or redirected).

    \b
    Examples:
      newswatch show 42
      newswatch show 42 --versions
    """
    with app.sessions()() as session:
        found = article_queries.get_article(session, article_id)
        if found is None:
            raise click.ClickException(f"no article with id {article_id}")
        article, source = found
        members = article_queries.story_members(session, article.story_id)
        history = version_queries.history(session, article_id) if with_versions else []
    zone = app.settings.display.zone
    lines = [
        ("title", article.title),
        ("source", source),
        ("url", article.url),
        ("link", article.link_url if article.link_url != article.url else None),
        ("fetched from", article.final_url if article.final_url != article.link_url else None),
        ("author", article.author),
        ("published", _when(article.published_at, zone)),
        ("language", article.language),
        ("site", article.site_name),
        ("image", article.image_url),
        ("fetched", _when(article.fetched_at, zone)),
        ("story", f"#{article.story_id} ({len(members)} copies; {article.story_reason})"),
    ]
    for label, value in lines:
        if value:
            click.echo(f"{label + ':':14}{value}")
    for member, member_source in members:
        if member.id != article.id:
            click.echo(f"{'':14}also #{member.id} {member_source}: {member.url}")
    if article.lead:
        click.echo(f"\n{article.lead}")
    click.echo(f"\n{article.text}")
    if with_versions:
        print_versions(history, zone)


def print_versions(history: list[Version], zone: ZoneInfo | None) -> None:
    """Each version: when it was seen, what changed, and a unified diff of the fields."""
    click.echo(f"\nversions: {len(history)}")
    for version, diffs in with_diffs(history):
        click.echo(
            f"\nversion {version.number}  {_when(version.seen_at, zone)}  {_change(version)}"
        )
        for field_diff in diffs:
            click.echo(f"  {field_diff.field}:")
            for line in field_diff.lines:
                click.echo(f"    {line}")


def _change(version: Version) -> str:
    if version.change == "first":
        return "as first stored"
    if version.change == "removed":
        return f"removed (HTTP {version.status})"
    fields = ", ".join(version.changed) or "nothing else"
    if version.change == "redirected":
        return f"redirected to {version.final_url}; changed: {fields}"
    return f"edited: {fields}"


@click.command()
@config_option
@click.option("--source", metavar="NAME", help="Only this source.")
@click.option("-n", "--limit", default=30, show_default=True, help="How many to list.")
@click.pass_obj
def failures(app: App, source: str | None, limit: int) -> None:
    """List what could not be fetched or extracted, and why; what will be tried again, when.

    An article that failed for a passing cause (timeout, connection, HTTP 5xx or 429) is
    tried again on later runs, after 10 minutes, 1 hour, 6 hours and 24 hours
    ([crawl] retry_schedule), then given up; one that failed for good (404, 410, not
    HTML, too large, a redirect loop, no article text) is given up at once. Either way it
    is listed here with its cause.

    \b
    Example:
      newswatch failures --source hln
    """
    with app.sessions()() as session:
        links = backlog.listing(session, source=source, limit=limit)
        recent = runs.recent_failures(session, source=source, limit=limit)
    if not links and not recent:
        click.echo("No failures recorded.")
        return
    console, zone = _console(), app.settings.display.zone
    if links:
        table = Table(
            box=None,
            pad_edge=False,
            header_style="bold",
            title_justify="left",
            title="Articles that failed: next try, or given up",
        )
        for column in ("next try", "source", "attempts", "reason", "url", "detail"):
            table.add_column(column, overflow="fold")
        for link, name in links:
            next_try = {"retry": _when(link.next_attempt_at, zone), "gave_up": "gave up"}.get(
                link.state, "refused"
            )
            table.add_row(
                next_try, name, str(link.attempts), link.reason or "", link.url, link.detail or ""
            )
        console.print(table)
        console.print()
    if recent:
        table = Table(
            box=None,
            pad_edge=False,
            header_style="bold",
            title_justify="left",
            title="Recent failures",
        )
        for column in ("when", "source", "reason", "url", "detail"):
            table.add_column(column, overflow="fold")
        for failure, name in recent:
            table.add_row(
                _when(failure.occurred_at, zone), name, failure.reason, failure.url, failure.detail
            )
        console.print(table)
