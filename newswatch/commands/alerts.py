"""The `alerts` commands: try a query on the archive, run a round, read the log, re-queue.

Each command is a thin click wrapper around a plain function taking the settings, the
engine and an output stream, so tests and other front ends call the same code.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine

from alerts.config import AlertSettings
from alerts.dispatch import build_channels
from alerts.engine import article_text
from alerts.matching import Matcher, RuleSpec, prepare
from alerts.query import QueryError, parse_query
from alerts.render import local_time, one_line
from alerts.runner import run_once
from alerts.snippets import snippets
from crawler.capture import prune
from crawler.storage import deliveries, matches
from crawler.storage.engine import sessions
from newswatch.commands.options import config_option

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def _marked(text: str, spans) -> str:
    """Hits in reverse video; control characters in the (untrusted) text become spaces."""
    text = _CONTROL.sub(" ", text)
    out, position = [], 0
    for start, end in spans:
        out += [text[position:start], click.style(text[start:end], bold=True, reverse=True)]
        position = end
    return "".join([*out, text[position:]])


def try_query(
    settings: AlertSettings,
    engine: Engine,
    text: str,
    out: TextIO,
    *,
    days: float | None = None,
    limit: int = 10,
    now: datetime | None = None,
    zone: ZoneInfo | str = "UTC",
) -> int:
    """Run `text` over the stored archive and print what it finds; returns the hit count.

    Days and times are those of `zone`, the display zone ([display] timezone).
    """
    query = parse_query(text, settings.default_operator)
    matcher = Matcher([RuleSpec("test", query)])
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days) if days else None
    zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    per_day: Counter[str] = Counter()
    stories, hits, searched = set(), [], 0
    with sessions(engine)() as session:
        for row in matches.archive(session, since):
            searched += 1
            found = matcher.match(prepare(article_text(row)))
            if found:
                when = (row.published_at or row.stored_at).astimezone(zone)
                per_day[when.strftime("%Y-%m-%d")] += 1
                stories.add(row.story_id)
                hits.append((when, row, found[0]))
    click.echo(
        f"{text}: {_count(len(hits), 'article')} ({_count(len(stories), 'story', 'stories')}) "
        f"of {searched} searched",
        file=out,
    )
    if per_day:
        click.echo(f"per day ({zone.key}):", file=out)
        widest = max(per_day.values())
        for day in sorted(per_day):
            bar = "█" * max(1, round(20 * per_day[day] / widest))
            click.echo(f"  {day} {per_day[day]:5d} {bar}", file=out)
        click.echo(f"latest {min(limit, len(hits))} hits:", file=out)
    for when, row, hit in sorted(hits, key=lambda h: h[0], reverse=True)[:limit]:
        click.echo(
            f"  #{row.id} {local_time(when, zone)} · {row.source} · {row.language or '?'}", file=out
        )
        click.echo(f"    {one_line(row.title or row.url)}", file=out)
        why = "; ".join(f"{f.term.label} in {' and '.join(f.fields)}" for f in hit.terms)
        click.echo(f"    why: {why or 'language, source or tag conditions only'}", file=out)
        for snippet in snippets(article_text(row).body, [f.term for f in hit.terms], limit=2):
            click.echo(f"    … {_marked(snippet.text, snippet.highlights)}", file=out)
    return len(hits)


def run_alerts(settings: AlertSettings, engine: Engine, out: TextIO) -> None:
    found, sent = run_once(engine, settings, channels=build_channels(settings, console=out))
    click.echo(
        f"matched {found.articles} articles: {found.matches} new matches, "
        f"{found.deliveries} deliveries queued; sent {sent.sent}, "
        f"will retry {sent.retried}, dead {sent.dead}",
        file=out,
    )


def show_log(
    engine: Engine,
    out: TextIO,
    *,
    state: str | None = None,
    rule: str | None = None,
    limit: int = 30,
    attempts: bool = False,
    zone: ZoneInfo | str = "UTC",
) -> None:
    # channel addresses are secrets (a Slack or Teams webhook URL is the credential)
    from alerts.redact import redact_urls

    with sessions(engine)() as session:
        rows = deliveries.log(session, state, rule, limit)
        tried = {row.id: deliveries.attempts(session, row.id) for row in rows} if attempts else {}
    if not rows:
        click.echo("No deliveries.", file=out)
        return
    click.echo(f"{'id':>6} {'state':8} {'rule':20} {'channel':14} {'tries':>5}  when", file=out)
    for row in rows:
        when = row.sent_at if row.state == "sent" else row.next_attempt_at
        label = {"sent": "sent", "pending": "next", "dead": "died"}[row.state]
        click.echo(
            f"{row.id:>6} {row.state:8} {row.rule[:20]:20} {row.channel[:14]:14} "
            f"{row.attempts:>5}  {label} {local_time(when, zone)}"
            + (f"  {one_line(redact_urls(row.last_error), 80)}" if row.last_error else ""),
            file=out,
        )
        for moment, outcome, detail in tried.get(row.id, []):
            shown = one_line(redact_urls(detail), 90)
            moment = local_time(moment, zone, seconds=True)
            click.echo(f"{'':8}{moment} {outcome:6} {shown}", file=out)


def retry_dead(engine: Engine, out: TextIO, ids: tuple[int, ...] = ()) -> int:
    with sessions(engine)() as session, session.begin():
        count = deliveries.requeue_dead(session, datetime.now(UTC), list(ids) or None)
    click.echo(f"re-queued {count} dead deliveries; `newswatch alerts run` sends them", file=out)
    return count


@click.group()
def alerts() -> None:
    """Keyword alerts: try queries, match and deliver, inspect and retry deliveries."""


@alerts.command("test")
@config_option
@click.argument("query")
@click.option("--days", type=float, help="Only articles stored in the last N days.")
@click.option("-n", "--limit", default=10, show_default=True, help="How many hits to show.")
@click.pass_context
def test_command(ctx: click.Context, query: str, days: float | None, limit: int) -> None:
    """Run QUERY over the stored archive before saving it as a rule.

    Shows the hit count per day and the latest hits, with highlighted snippets and
    which terms made each one match.

    \b
    Examples:
      newswatch alerts test '"Mocro-Maffia" OR Mocromaffia'
      newswatch alerts test 'Aktionsplan* AND (Marokko OR Belgien)' --days 30
    """
    from newswatch.app import App

    app = ctx.find_object(App)
    try:
        try_query(
            app.settings.alerts,
            app.engine(),
            query,
            click.get_text_stream("stdout"),
            days=days,
            limit=limit,
            zone=app.settings.display.zone,
        )
    except QueryError as error:
        raise click.BadParameter(str(error), param_hint="QUERY") from None


@alerts.command("run")
@config_option
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """Match new articles against every rule once, then send what is due.

    \b
    Example:
      newswatch alerts run
    """
    from newswatch.app import App

    app = ctx.find_object(App)
    run_alerts(app.settings.alerts, app.engine(), click.get_text_stream("stdout"))
    # after matching: [evidence] keep = "matched" drops the captures it did not match
    pruned = prune(app.sessions(), app.settings.evidence)
    if pruned.total:
        click.echo(f"removed {pruned.total} page captures ([evidence] retention)")


@alerts.command("log")
@config_option
@click.option("--state", type=click.Choice(["pending", "sent", "dead"]), help="Only this state.")
@click.option("--rule", help="Only this rule.")
@click.option("-n", "--limit", default=30, show_default=True, help="How many deliveries.")
@click.option("--attempts", is_flag=True, help="Also list every attempt and its outcome.")
@click.pass_context
def log_command(ctx: click.Context, state, rule, limit, attempts) -> None:
    """Show deliveries, newest first, with their state and last error.

    \b
    Examples:
      newswatch alerts log --state dead
      newswatch alerts log --rule mocro-maffia --attempts
    """
    from newswatch.app import App

    app = ctx.find_object(App)
    show_log(
        app.engine(),
        click.get_text_stream("stdout"),
        state=state,
        rule=rule,
        limit=limit,
        attempts=attempts,
        zone=app.settings.display.zone,
    )


@alerts.command("retry")
@config_option
@click.argument("ids", nargs=-1, type=int)
@click.pass_context
def retry_command(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Re-queue dead deliveries (all, or the given IDS) to be sent on the next run.

    \b
    Examples:
      newswatch alerts retry
      newswatch alerts retry 17 18
    """
    from newswatch.app import App

    app = ctx.find_object(App)
    retry_dead(app.engine(), click.get_text_stream("stdout"), ids)
