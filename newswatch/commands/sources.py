"""`newswatch sources`: each source's health; the source list to and from feed readers (OPML)."""

from __future__ import annotations

import shutil
import tempfile
import tomllib
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import listparser
from rich.table import Table

from crawler.sources import Source
from crawler.storage import sources as source_queries
from newswatch.app import App
from newswatch.commands.options import config_option
from newswatch.commands.review import _console, _when
from newswatch.config_writer import Added, SourceBlock, append_sources, source_name
from newswatch.settings import DEFAULT_CONFIG


class OpmlError(ValueError):
    """A file that is not an OPML subscription list; the message says what is wrong."""


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    url: str
    tags: tuple[str, ...]  # the folders it sits in and its category attribute, outermost first
    language: str | None = None


@dataclass(frozen=True)
class Opml:
    feeds: tuple[OpmlFeed, ...]
    ignored: tuple[str, ...]  # outlines that are not feeds, each "title: why"


def read_opml(data: bytes) -> Opml:
    """The feed outlines of an OPML document; raises OpmlError when it is not one."""
    # listparser reads with a forgiving HTML parser: a truncated file or an RSS feed gives
    # it a partial or empty list, not an error. So the document must be well-formed XML
    # with an <opml> root first. (expat >= 2.4 bounds entity expansion and never fetches
    # external entities.)
    try:
        root = ET.fromstring(data)  # noqa: S314
    except ET.ParseError as error:
        raise OpmlError(f"not an XML file ({error})") from None
    if _local(root.tag) != "opml":
        raise OpmlError(f"not OPML: the document is <{_local(root.tag)}>, not <opml>")
    if not any(_local(child.tag) == "body" for child in root):
        raise OpmlError("not OPML: <opml> has no <body>")
    # listparser (lxml's HTML parser) reads UTF-8 only when an XML declaration says so,
    # and misreads other declared encodings: hand it UTF-8, declared.
    parsed = listparser.parse(ET.tostring(root, encoding="utf-8", xml_declaration=True))
    # listparser does not keep an outline's language attribute (OPML 2.0, type="rss").
    languages: dict[str, str] = {}
    for outline in root.iter():
        attributes = {key.lower(): _one_line(value) for key, value in outline.attrib.items()}
        if attributes.get("xmlurl") and attributes.get("language"):
            languages.setdefault(attributes["xmlurl"], attributes["language"])
    feeds = []
    for entry in parsed.feeds:
        folders = (_one_line(tag) for path in entry.categories for tag in path)
        tags = tuple(dict.fromkeys(tag for tag in folders if tag))
        feeds.append(OpmlFeed(entry.title, entry.url, tags, languages.get(entry.url)))
    ignored = [f"{e.title or e.url}: a link to another subscription list" for e in parsed.lists]
    ignored += [f"{e.url}: a web page, no feed address" for e in parsed.opportunities]
    return Opml(tuple(feeds), tuple(ignored))


def plan_import(
    opml: Opml, existing: Sequence[dict[str, Any]], tags: Sequence[str], origin: str
) -> tuple[list[SourceBlock], list[str]]:
    """The [[sources]] blocks for the feeds of `opml`, and the outlines that cannot be one.

    `existing` is the file's [[sources]] tables: a new feed's name is made unique among
    them; one whose address is there already keeps its name (config_writer skips it).
    """
    taken = {source.get("name") for source in existing}
    configured = {url for source in existing for url in _addresses(source)}
    blocks, unusable = [], list(opml.ignored)
    for feed in opml.feeds:
        name = feed_name(feed.title, feed.url)
        if not _is_web_address(feed.url):
            unusable.append(f"{name}: not an http(s) feed address ({feed.url!r})")
            continue
        if feed.url not in configured:
            name = _unique(name, taken)
        taken.add(name)
        values: dict[str, Any] = {"name": name, "kind": "feed", "url": feed.url}
        if feed.language:
            values["language"] = feed.language
        if all_tags := list(dict.fromkeys([*feed.tags, *tags])):
            values["tags"] = all_tags
        comment = f'"{_one_line(feed.title)[:120]}" from {_one_line(origin)}'
        blocks.append(SourceBlock(values, (comment,)))
    return blocks, unusable


def feed_name(title: str, url: str) -> str:
    """A source name from a feed's title ("Le Soir – Actualités" → le-soir-actualites),
    else from its host when the title has no Latin letters or digits."""
    latin = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    name = source_name(latin) if latin.strip() else "source"
    if name == "source":
        name = source_name(urlsplit(url).hostname or "source")
    return name


def write_opml(sources: Iterable[Source], *, title: str, created: datetime) -> bytes:
    """OPML 2.0 of the feed sources: a source's first tag is its folder, all are categories."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(created.astimezone(UTC))
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for source in sources:
        if source.kind != "feed":
            continue
        parent = body
        if source.tags:
            folder = source.tags[0]
            if folder not in folders:
                folders[folder] = ET.SubElement(body, "outline", text=folder, title=folder)
            parent = folders[folder]
        for url in source.urls:
            attributes = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": url}
            if source.language:
                attributes["language"] = source.language
            # A category holding ',' or '/' would come back split: the command warns.
            if categories := [tag for tag in source.tags if not _splits(tag)]:
                attributes["category"] = ",".join(categories)
            ET.SubElement(parent, "outline", attributes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _splits(tag: str) -> bool:
    return "," in tag or "/" in tag


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _one_line(text: str) -> str:
    # Titles end up in TOML comments: a line break or control character there would end
    # the comment (or make the file invalid).
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _is_web_address(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    printable = url.isprintable() and not any(c.isspace() for c in url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and printable


def _addresses(source: dict[str, Any]) -> list[str]:
    urls = source.get("urls", [])
    return [*([urls] if isinstance(urls, str) else urls), *filter(None, [source.get("url")])]


def _unique(name: str, taken: set[Any]) -> str:
    if name not in taken:
        return name
    return next(f"{name[:56]}-{n}" for n in count(2) if f"{name[:56]}-{n}" not in taken)


@click.group(invoke_without_command=True)
@config_option
@click.pass_context
def sources(ctx: click.Context) -> None:
    """Show each source's last run and health; import or export the source list (OPML).

    Health, the same as `newswatch status` and the web's sources page show: failing
    ([service] failing_after failed runs in a row, 3 by default), degraded or quiet
    (as the service last assessed), flaky (its latest run failed, but fewer in a
    row), ok, or never run.

    \b
    Examples:
      newswatch sources
      newswatch sources import subscriptions.opml --dry-run
      newswatch sources export --format opml -o newswatch.opml
    """
    if ctx.invoked_subcommand is None:
        _print_health(ctx.find_object(App))


def _print_health(app: App) -> None:
    with app.sessions()() as session:
        rows = source_queries.source_health(
            session, app.settings.sources, app.settings.service.health.failing_after
        )
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in (
        "source",
        "kind",
        "health",
        "last run",
        "status",
        "new",
        "failed",
        "stored",
        "reason",
    ):
        table.add_column(column, overflow="fold")
    zone = app.settings.display.zone
    for row in rows:
        table.add_row(
            row.name,
            row.kind,
            row.health,
            _when(row.last_run_at, zone),
            row.last_status or "—",
            str(row.last_new or 0),
            str(row.last_failed or 0),
            str(row.articles),
            row.reason[:120],
        )
    _console().print(table)


@sources.command("import", short_help="Add the feeds of an OPML file as sources.")
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Also give every imported source this tag (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be added; write nothing.")
@click.pass_obj
def import_opml(app: App, file: Path, tags: tuple[str, ...], dry_run: bool) -> None:
    """Add the feeds of an OPML file (a feed reader's export) to the configuration.

    Each feed outline becomes a kind = "feed" source: its name from the outline's
    title (made unique), its url from xmlUrl, its tags from the folders it sits in
    (and its category attribute), its language from a language attribute. They are
    appended to the configuration file after a timestamped backup copy. A feed whose
    address is configured already is skipped and listed, so importing twice adds
    nothing. A file that is not OPML is refused, and then nothing is written.

    \b
    Examples:
      newswatch sources import feedly.opml --dry-run
      newswatch --config my.toml sources import feedly.opml --tag from-feedly
    """
    try:
        opml = read_opml(file.read_bytes())
    except (OSError, OpmlError) as error:
        raise click.ClickException(f"{file}: {error}; nothing imported") from None
    config = Path(app.config_path or DEFAULT_CONFIG)
    existing = []
    if config.exists():
        app.settings  # noqa: B018  a broken configuration is reported as such, before anything
        existing = tomllib.loads(config.read_text(encoding="utf-8")).get("sources", [])
    elif not config.parent.is_dir():
        raise click.ClickException(f"{config}: no such folder for the configuration file")
    tags = tuple(filter(None, map(_one_line, tags)))
    blocks, unusable = plan_import(opml, existing, tags, file.name)
    try:
        added = _append(config, blocks, f"newswatch sources import {file.name}", dry_run)
    except (OSError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    verb = "would add" if dry_run else "added"
    by_name = {block.values["name"]: block.values for block in blocks}
    for name in added.written:
        values = by_name[name]
        extra = [f"tags: {', '.join(values['tags'])}"] if "tags" in values else []
        extra += [f"language: {values['language']}"] if "language" in values else []
        click.echo("  ".join([f"{verb:9}", name, values["url"], *extra]))
    for reason in [*added.skipped, *unusable]:
        click.echo(f"{'skipped':9}  {reason}")
    if dry_run:
        click.echo(
            f"Dry run: {_sources(added.written)} would be added to {config}; nothing written."
        )
    elif added.written:
        backup = f" (backup: {added.backup})" if added.backup else ""
        click.echo(f"Added {_sources(added.written)} to {config}{backup}.")
    elif opml.feeds:
        click.echo(f"Nothing new in {file}: {config} is unchanged.")
    else:
        click.echo(f"No feed outlines in {file}: nothing imported.")


def _sources(items: Sequence[object]) -> str:
    return f"{len(items)} source{'' if len(items) == 1 else 's'}"


def _append(config: Path, blocks: list[SourceBlock], note: str, dry_run: bool) -> Added:
    if not dry_run:
        return append_sources(config, blocks, note=_one_line(note))
    # A dry run appends to a copy, so it skips exactly what a real run would, and also
    # proves the result would load.
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / config.name
        if config.exists():
            shutil.copy2(config, copy)
        return append_sources(copy, blocks, note=_one_line(note))


@sources.command("export", short_help="Write the feed sources as OPML.")
@config_option
@click.option(
    "--format",
    "format_",
    type=click.Choice(["opml"]),
    default="opml",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.File("wb"),
    default="-",
    metavar="FILE",
    help="Write to this file instead of standard output.",
)
@click.pass_obj
def export_opml(app: App, format_: str, output) -> None:
    """Write the feed sources as OPML 2.0, for a feed reader (or another newswatch).

    Feed sources become type="rss" outlines with their xmlUrl (and language). A
    source's first tag is the folder it is put in; all its tags are in its category
    attribute, so `sources import` of the file gives back the same feeds and tags.
    Sitemap, listing, site and search sources are left out, since feed readers cannot
    follow them (they are named on standard error and stay in the TOML file); so are
    disabled sources.

    \b
    Examples:
      newswatch sources export -o newswatch.opml
      newswatch --config my.toml sources export --format opml > subscriptions.opml
    """
    configured = app.settings.sources
    output.write(write_opml(configured, title="newswatch sources", created=datetime.now(UTC)))
    feeds = [s for s in configured if s.kind == "feed"]
    left_out = [f"{s.name} ({s.kind})" for s in configured if s.kind != "feed"]
    for source in feeds:
        for tag in filter(_splits, source.tags):
            click.echo(
                f"warning: {source.name}: the tag {tag!r} has ',' or '/', which an "
                "OPML category cannot hold: it may not come back on import",
                err=True,
            )
    click.echo(f"Exported {_sources(feeds)}.", err=True)
    if left_out:
        click.echo(f"Left out (not feeds): {', '.join(left_out)}", err=True)
