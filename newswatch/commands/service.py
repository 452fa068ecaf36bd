"""`newswatch run` (the long-running service) and `newswatch status` (its sources' health)."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table

from crawler.storage import schedule
from crawler.storage.models.base import utcnow
from newswatch.app import App
from newswatch.commands.options import config_option

log = logging.getLogger("newswatch")


@click.command()
@config_option
@click.option(
    "--workers", type=click.IntRange(min=1), metavar="N",
    help="Crawl processes at once. [default: [service] workers, one per core]",
)  # fmt: skip
@click.option(
    "--web", "web_address", metavar="HOST:PORT", is_flag=False, flag_value="127.0.0.1:8080",
    help="Also serve the web UI (as `newswatch serve`) in this process; "
    "`--web` alone listens on 127.0.0.1:8080.",
)  # fmt: skip
@click.pass_context
def run(ctx: click.Context, workers: int | None, web_address: str | None) -> None:
    """Run the service: poll every source on its schedule, alert, watch source health.

    Each source is polled on its own interval (adapted to how often it publishes,
    between [service] min_interval and max_interval) or cron times; crawls run in
    worker processes, and new articles are matched and delivered right after they
    are stored. SIGTERM or Ctrl-C stops cleanly; a restart repeats nothing.

    \b
    Examples:
      newswatch run
      newswatch run --web                 # and the web UI on http://127.0.0.1:8080/
      newswatch --log-json run --config /etc/newswatch.toml
    """
    from dataclasses import replace

    from newswatch.scheduling.service import Service

    app = ctx.find_object(App)
    settings = app.settings
    if not settings.sources:
        raise click.UsageError("the configuration has no [[sources]] to poll")
    if workers:
        settings = replace(settings, service=replace(settings.service, workers=workers))
    root = ctx.find_root().params
    verbosity = -1 if root.get("quiet") else root.get("verbose", 0)
    service = Service(settings, app.engine(), verbosity=verbosity,
                      json_logs=bool(root.get("log_json")))  # fmt: skip
    stop = threading.Event()

    def on_signal(number: int, _frame) -> None:
        log.info("%s received: stopping", signal.Signals(number).name)
        stop.set()

    web = _start_web(app, settings, web_address) if web_address else None
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        service.start()
        stop.wait()
    finally:
        service.stop()
        if web:
            web.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}".rstrip("0").rstrip(".") + unit
    return f"{seconds:.0f}s"


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "—"
    delta = (moment - now).total_seconds()
    if delta >= 0:
        return f"in {_duration(delta)}"
    return f"{_duration(-delta)} ago"


@click.command()
@config_option
@click.pass_obj
def status(app: App) -> None:
    """Show each source's health, polling interval and next poll.

    States: failing (several failed runs in a row), degraded (dates, authors or
    text of its latest articles fell well below usual), quiet (nothing new for
    much longer than usual), ok; "not polled yet" or "never run" before the
    service first polls it.

    \b
    Example:
      newswatch status
    """
    configured = {source.name: source for source in app.settings.sources}
    now = utcnow()
    with app.sessions()() as session:
        rows = schedule.status_rows(session)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("source", "state", "since", "interval", "next poll", "last poll",
                   "last new", "stored", "detail"):  # fmt: skip
        table.add_column(column, overflow="fold")
    seen = set()
    for row in rows:
        if row.name not in configured:
            continue  # removed from the configuration
        seen.add(row.name)
        state = row.schedule
        detail = (state.health_detail if state else None) or ""
        if state and state.retry_after_until and state.retry_after_until > now:
            detail = f"server asked to wait until {state.retry_after_until:%H:%M} UTC. {detail}"
        if state is None or state.last_run_at is None:
            # crawled by `newswatch crawl` perhaps, but never assessed by the service
            label = "never run" if row.last_status is None else "not polled yet"
            table.add_row(row.name, label, "", "", "", "", "", str(row.articles), detail)
            continue
        cron = configured[row.name].cron
        table.add_row(
            row.name, state.health, _when(state.health_since, now),
            f"cron {cron}" if cron else _duration(state.interval_seconds),
            _when(state.next_due_at, now),
            _when(state.last_run_at, now), _when(state.last_new_at, now), str(row.articles),
            detail.strip()[:120],
        )  # fmt: skip
    for name in sorted(set(configured) - seen):
        table.add_row(name, "never run", "", "", "", "", "", "0", "")
    console = Console()
    (console if console.is_terminal else Console(width=200)).print(table)


def _start_web(app: App, settings, address: str):
    """The review UI in a thread beside the scheduler; the same checks as `newswatch serve`."""
    from newswatch.commands.serve import cannot_listen, web_options
    from newswatch.web import create_app
    from newswatch.web.server import serve_in_thread

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"expected HOST:PORT, got {address!r}", param_hint="--web")
    options = web_options(host.strip("[]"), int(port), read_only=False)
    with cannot_listen(options):
        web = serve_in_thread(create_app(app.engine(), settings, options), options)
    log.info("web UI at %s/", web.base_url)
    return web
