"""Options several commands share, defined once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from newswatch.app import App


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


def article_filters(command):
    """The filters of the stored feed, shared by `articles` and `export`."""
    for option in reversed(
        [
            click.option("--source", "sources", multiple=True, metavar="NAME",
                         help="Only this source (repeatable)."),
            click.option("--lang", "languages", multiple=True, metavar="CODE",
                         help="Only this language, e.g. de (repeatable)."),
            click.option("--since", type=DateType(), help="Published on or after this date."),
            click.option("--until", type=DateType(), help="Published before this date."),
            click.option("--text", metavar="WORDS",
                         help="Title or body contains this text (case-insensitive)."),
            click.option("--collapse", is_flag=True,
                         help="One line per story: its first article, with the story's size."),
        ]
    ):  # fmt: skip
        command = option(command)
    return command
