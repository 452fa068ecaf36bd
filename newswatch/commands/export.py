"""`newswatch export`: write the stored feed as JSON Lines or CSV.

Times are ISO 8601 in the display zone ([display] timezone) with its offset:
"2026-12-05T16:20:00+01:00" is the same moment in any program that reads it.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from crawler.storage import articles as article_queries
from newswatch.app import App
from newswatch.commands.options import article_filters, config_option
from newswatch.commands.review import article_filter

FIELDS = (
    "id", "source", "url", "title", "author", "published_at", "language", "site_name",
    "lead", "text", "image_url", "story_id", "duplicate_of_id", "fetched_at",
)  # fmt: skip


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection);
# a leading apostrophe makes it text. Crawled titles are untrusted, so CSV cells get it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    "-f", "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
    show_default=True, help="JSON Lines (one article per line) or CSV with a header row.",
)  # fmt: skip
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of standard output.",
)  # fmt: skip
@article_filters
@click.pass_obj
def export(app: App, fmt: str, output: Path | None, **filters) -> None:
    """Export stored articles, newest first, with the same filters as `articles`.

    \b
    Examples:
      newswatch export --format csv -o feed.csv --since 2026-11-01
      newswatch export --lang nl | jq .title
    """
    with app.sessions()() as session:
        rows = article_queries.list_articles(session, article_filter(**filters), limit=None)
    zone = app.settings.display.zone
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "csv":
            writer = csv.DictWriter(stream, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(csv_safe(export_record(a, s, zone)) for a, s in rows)
        else:
            for article, source in rows:
                record = export_record(article, source, zone)
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if output:
            stream.close()
    if output:
        click.echo(f"wrote {len(rows)} articles to {output}", err=True)
