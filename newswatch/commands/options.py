"""Options several commands share, defined once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.storage.feed import FeedFilter
from newswatch.app import App

if TYPE_CHECKING:
    from alerts.archive import Search


def _set_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.find_object(App).config_path = value


def config_option(command):
    """`--config FILE` after the command name too (`newswatch crawl --config x.toml`)."""
    return click.option(
        "-c",
        "--config",
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        callback=_set_config,
        help="Configuration file. [default: config/newswatch.toml]",
    )(command)


class DateType(click.ParamType):
    """A day (2026-11-29) or a moment (2026-11-29T08:00+01:00); days are UTC midnight."""

    name = "date"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-11-29 or 2026-11-29T08:00", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def article_filters(command=None, *, search: bool = False):
    """The filters of the stored feed, shared by `articles` and `export`.

    With `search`, --text is a search in the rule language (as the web's search box)
    rather than a substring.
    """
    if command is None:
        return lambda command: article_filters(command, search=search)
    text_help = (
        "Search in the rule language, as the web's search box does (e.g. 'mocro* -sport')."
        if search
        else "Title or body contains this text (case-insensitive)."
    )
    for option in reversed(
        [
            click.option(
                "--source",
                "sources",
                multiple=True,
                metavar="NAME",
                help="Only this source (repeatable).",
            ),
            click.option(
                "--lang",
                "languages",
                multiple=True,
                metavar="CODE",
                help="Only this language, e.g. de (repeatable).",
            ),
            click.option("--since", type=DateType(), help="Published on or after this date."),
            click.option("--until", type=DateType(), help="Published before this date."),
            click.option("--text", metavar="WORDS", help=text_help),
            click.option(
                "--collapse",
                is_flag=True,
                help="One line per story: its first article, with the story's size.",
            ),
        ]
    ):
        command = option(command)
    return command


def feed_search(
    sources, languages, since, until, text, collapse, default_operator: str = "AND"
) -> tuple[FeedFilter, Search | None]:
    """The feed view and search these options ask for, as the web export reads its query.

    Raises click.BadParameter (with the position) when --text does not parse.
    """
    from alerts.archive import compile_search  # the rule language: for the reading commands
    from alerts.normalize import words
    from alerts.query import QueryError

    text, searched = (text or "").strip(), None  # the web strips its `q` too
    if text and words(text):
        try:
            searched = compile_search(text, default_operator)
        except QueryError as error:
            raise click.BadParameter(str(error), param_hint="--text") from None
    where = FeedFilter(
        sources=tuple(sources),
        languages=tuple(languages),
        since=since,
        until=until,
        searching=bool(text) and searched is None,  # no word to search for: finds nothing
    )
    return per_story(where, collapse), searched


def per_story(where: FeedFilter, collapse: bool) -> FeedFilter:
    """An export's collapse, on the command line and the web: one row per story."""
    return replace(where, collapse=False, per_story=collapse)
