"""`newswatch export`: write the stored feed as JSON Lines or CSV.

Times are ISO 8601 in the display zone ([display] timezone) with its offset:
"2026-12-05T16:20:00+01:00" is the same moment in any program that reads it.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy.orm import Session

from alerts.archive import Search, search_page
from crawler.storage import feed
from crawler.storage.feed import Cursor, FeedFilter, FeedItem, FeedPage
from newswatch.app import App
from newswatch.commands.options import article_filters, config_option, feed_search

FIELDS = (
    "id",
    "source",
    "url",
    "title",
    "author",
    "published_at",
    "language",
    "site_name",
    "lead",
    "text",
    "image_url",
    "story_id",
    "duplicate_of_id",
    "fetched_at",
)


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection);
# a leading apostrophe makes it text. Crawled titles are untrusted, so CSV cells get it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 200  # rows read, and written, at a time
# Articles the matcher may judge per page of an export: an export wants them all.
EXPORT_BUDGET = 1_000_000


def export_items(
    session: Session, where: FeedFilter, search: Search | None, *, limit: int | None = None
) -> Iterator[FeedItem]:
    """Every article of the view (the first `limit`), newest first, a page at a time.

    Both exports and `newswatch articles` read this; the web's feed page, API and Atom
    feeds read the same feed.iter_feed. A search is the rule language's (alerts.archive):
    the index narrows, the matcher decides.
    """

    def judged(session: Session, where: FeedFilter, after: Cursor | None, limit: int):
        page = search_page(session, search, where, after=after, limit=limit, budget=EXPORT_BUDGET)
        return FeedPage(tuple(hit.item for hit in page.found), page.next)  # type: ignore[arg-type]

    return feed.iter_feed(session, where, BATCH, limit=limit, pages=judged)


def csv_safe(record: dict) -> dict:
    """The record with every text cell a spreadsheet would run as a formula made inert."""
    return {
        key: "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value
        for key, value in record.items()
    }


def export_record(article, source: str, zone: ZoneInfo) -> dict:
    """One article as the exports (command line and web) write it, its times in `zone`."""
    record = {name: getattr(article, name, None) for name in FIELDS}
    record["source"] = source
    for name in ("published_at", "fetched_at"):
        record[name] = record[name].astimezone(zone).isoformat() if record[name] else None
    return record


@click.command()
@config_option
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="JSON Lines (one article per line) or CSV with a header row.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of standard output.",
)
@article_filters(search=True)
@click.pass_obj
def export(app: App, fmt: str, output: Path | None, **filters) -> None:
    """Export stored articles, newest first: the rows of the web's export with these filters.

    --text searches as the web's search box does; --collapse keeps one row per story.

    \b
    Examples:
      newswatch export --format csv -o feed.csv --since 2026-11-01
      newswatch export --lang nl --text 'mocro*' | jq .title
    """
    where, search = feed_search(**filters, default_operator=app.settings.alerts.default_operator)
    zone = app.settings.display.zone
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    count = 0
    try:
        with app.sessions()() as session:
            records = (
                export_record(item, item.source, zone)
                for item in export_items(session, where, search)
            )
            if fmt == "csv":
                writer = csv.DictWriter(stream, fieldnames=FIELDS)
                writer.writeheader()
            for record in records:
                count += 1
                if fmt == "csv":
                    writer.writerow(csv_safe(record))
                else:
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if output:
            stream.close()
    if output:
        click.echo(f"wrote {count} articles to {output}", err=True)
