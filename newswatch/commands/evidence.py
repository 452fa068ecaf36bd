"""The `evidence` command: write what an outlet published for one article, as files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.capture import metadata, warc_bytes, warc_name
from crawler.storage import captures
from newswatch.app import App
from newswatch.commands.options import config_option

PAGE = "page.html"
TEXT = "text.txt"
METADATA = "metadata.json"


@click.command()
@config_option
@click.argument("article_id", type=int, metavar="ARTICLE_ID")
@click.option(
    "-o",
    "--output",
    "directory",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory to write the four files to (made if missing; files there are replaced).",
)
@click.pass_obj
def evidence(app: App, article_id: int, directory: Path) -> None:
    """Write the evidence kept for one article: what its outlet published, as fetched.

    \b
    Files written to DIRECTORY:
      page.html                 the page body, the exact bytes fetched (content coding undone)
      text.txt                  the text extracted from it, as stored and matched
      metadata.json             article id, URLs, fetch time, HTTP status and headers,
                                SHA-256 and size of the body, extractor and version,
                                title, author, date, language, story, matched rules
      article-ID.warc.gz        the same as a WARC file that web-archive tools open
                                (warcio, pywb, replayweb.page)

    A page is kept as [evidence] keep and retention say: by default only for articles in
    a story a rule matched, for 365 days.

    \b
    Example:
      newswatch evidence 42 -o evidence/42
    """
    with app.sessions()() as session:
        try:
            found = captures.evidence(session, article_id)
        except ValueError as error:  # the stored body no longer matches its SHA-256
            raise click.ClickException(str(error)) from None
    if found is None:
        raise click.ClickException(f"no article with id {article_id}")
    if found.capture is None:
        keep = app.settings.evidence.keep
        raise click.ClickException(
            f"article {article_id} has no page kept: it was removed by [evidence] retention "
            f'(keep = "{keep}"), or the article was stored while no page was kept'
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / PAGE).write_bytes(found.capture.body)
        (directory / TEXT).write_text(found.text, encoding="utf-8")
        document = json.dumps(metadata(found), ensure_ascii=False, indent=2)
        (directory / METADATA).write_text(document + "\n", encoding="utf-8")
        (directory / warc_name(article_id)).write_bytes(warc_bytes(found))
    except OSError as error:
        raise click.ClickException(f"cannot write to {directory}: {error}") from None
    fetched = found.capture.fetched_at.astimezone(app.settings.display.zone)
    click.echo(
        f"article {article_id}: {found.capture.final_url} fetched "
        f"{fetched:%Y-%m-%d %H:%M %Z}, {len(found.capture.body)} bytes; "
        f"wrote {PAGE}, {TEXT}, {METADATA}, {warc_name(article_id)} to {directory}"
    )
