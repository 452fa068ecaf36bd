"""`newswatch coverage`: per outlet, what each way of finding articles saw, and what was lost."""

from __future__ import annotations

import json
from datetime import datetime

import click
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from crawler.storage import coverage as coverage_queries
from crawler.storage.coverage import Coverage, Link, OutletCoverage
from newswatch.app import App
from newswatch.commands.options import DateType, config_option

INDENT = (0, 0, 0, 2)  # an outlet's tables sit under its name


def _console() -> Console:
    # Piped output keeps whole lines (for grep and less) instead of an 80-column wrap.
    console = Console()
    return console if console.is_terminal else Console(width=200)


@click.command()
@config_option
@click.option("--since", type=DateType(), help="Only articles first found on or after this date.")
@click.option(
    "--outlet", metavar="HOST", help="Only this outlet (lesoir.be; www., m. and amp. are ignored)."
)
@click.option(
    "--details", is_flag=True, help="List the articles one way alone found, and those not stored."
)
@click.option(
    "-n",
    "--limit",
    default=100,
    show_default=True,
    metavar="N",
    help="With --details: at most N articles per list and outlet.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (for scripts).")
@click.pass_obj
def coverage(
    app: App,
    since: datetime | None,
    outlet: str | None,
    details: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Show, per outlet, how many articles each way of finding them saw.

    The ways are the outlet's feed, sitemap, listing page and news search. For each
    outlet: articles found and stored, found by each way, found by that way only, and
    found but not stored, by reason: cap (over a run's limit, fetched on the next
    runs), robots (refused by robots.txt), http 404, timeout, extraction (no article
    text), … "(retrying)" means it will be tried again; "not fetched yet" that no run
    requested it yet. A feed that carries 15 items while the sitemap carries 200 shows
    as a large "only sitemap" count.

    Counting starts with the first crawl that records which way listed each link.

    \b
    Examples:
      newswatch coverage
      newswatch coverage --outlet lesoir.be --details
      newswatch coverage --since 2026-11-01 --json
    """
    with app.sessions()() as session:
        found = coverage_queries.report(
            session, since=since, outlet=outlet, details=limit if details else 0
        )
    if as_json:
        click.echo(
            json.dumps(as_document(found, since, outlet, details), ensure_ascii=False, indent=2)
        )
        return
    if not found.outlets:
        click.echo(
            "No articles found by any way"
            + (
                " that match."
                if since or outlet
                else " yet: coverage is counted from the next `newswatch crawl` on."
            )
        )
        return
    console = _console()
    for row in found.outlets:
        print_outlet(console, row, found.ways, details)
    if len(found.outlets) > 1:
        console.print(
            f"{len(found.outlets)} outlets: {found.found} articles found, {found.stored} stored."
        )


def print_outlet(console: Console, row: OutletCoverage, ways: tuple[str, ...], details: bool):
    console.print(
        f"[bold]{escape(row.outlet)}[/bold]: {row.found} found, {row.stored} stored, "
        f"{row.not_stored_total} not stored"
    )
    table = _table("way", "found", "only this way")
    for way in ways:
        table.add_row(way, str(row.found_by[way]), str(row.only_by[way]))
    console.print(Padding(table, INDENT, expand=False))
    if row.not_stored:
        table = _table("not stored because", "articles")
        for reason, count in row.not_stored.items():
            table.add_row(escape(reason), str(count))
        console.print(Padding(table, INDENT, expand=False))
    if details:
        _links(console, "Found by one way only", row.only_one_way, row.more_only_one_way)
        _links(console, "Found but not stored", row.unstored, row.more_unstored)
    console.print()


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(
        box=None,
        pad_edge=False,
        header_style="bold",
        title=title,
        title_justify="left",
        title_style="bold",
    )
    for column in columns:
        numeric = column in ("found", "only this way", "articles")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    return table


def _links(console: Console, title: str, links: tuple[Link, ...], more: int) -> None:
    if not links:
        return
    single = title.startswith("Found by one")
    if single:
        table = _table("way", "url", "title, or why not stored", title=title)
    else:
        table = _table("reason", "url", "detail", "found by", title=title)
    for link in links:
        if single:
            note = link.title if link.stored else f"not stored: {link.reason}"
            cells = (link.ways[0], link.url, note or "")
        else:
            cells = (link.reason or "", link.url, link.detail or "", ", ".join(link.ways))
        table.add_row(*(escape(cell) for cell in cells))  # crawled text is not rich markup
    console.print(Padding(table, INDENT, expand=False))
    if more:
        console.print(Padding(f"… and {more} more (raise --limit)", INDENT, expand=False))


def as_document(found: Coverage, since: datetime | None, outlet: str | None, details: bool) -> dict:
    """The report as plain JSON values."""
    outlets = []
    for row in found.outlets:
        record = {
            "outlet": row.outlet,
            "found": row.found,
            "stored": row.stored,
            "not_stored_total": row.not_stored_total,
            "found_by": row.found_by,
            "only_by": row.only_by,
            "not_stored": row.not_stored,
        }
        if details:
            record["only_one_way"] = [_link(link) for link in row.only_one_way]
            record["unstored"] = [_link(link) for link in row.unstored]
            record["more_only_one_way"] = row.more_only_one_way
            record["more_unstored"] = row.more_unstored
        outlets.append(record)
    return {
        "since": since.isoformat() if since else None,
        "outlet": outlet,
        "ways": list(found.ways),
        "found": found.found,
        "stored": found.stored,
        "outlets": outlets,
    }


def _link(link: Link) -> dict:
    return {
        "url": link.url,
        "key": link.key,
        "ways": list(link.ways),
        "stored": link.stored,
        "article_id": link.article_id,
        "title": link.title,
        "reason": link.reason,
        "state": link.state,
        "detail": link.detail,
        "first_seen_at": link.first_seen_at.isoformat(),
    }
