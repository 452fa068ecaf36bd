"""`newswatch run` (the long-running service) and `newswatch status` (its sources' health)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table

from crawler.cluster.options import ClusterOptions
from crawler.storage import deliveries
from crawler.storage import sources as source_queries
from crawler.storage.models.base import utcnow
from crawler.urls import without_password
from newswatch.app import App
from newswatch.commands.options import config_option
from newswatch.settings import with_cluster

log = logging.getLogger("newswatch")


@click.command()
@config_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    metavar="N",
    help="Crawl processes at once. [default: [service] workers, one per core]",
)
@click.option(
    "--web",
    "web_address",
    metavar="HOST:PORT",
    is_flag=False,
    flag_value="127.0.0.1:8080",
    help="Also serve the web UI (as `newswatch serve`) in this process; "
    "`--web` alone listens on 127.0.0.1:8080.",
)
@click.option(
    "--cluster",
    is_flag=True,
    help="Queue due sources for `newswatch worker` processes instead of crawling here. "
    "[default: when the config has a [cluster] section]",
)
@click.pass_context
def run(ctx: click.Context, workers: int | None, web_address: str | None, cluster: bool) -> None:
    """Run the service: poll every source on its schedule, alert, watch source health.

    Each source is polled on its own interval (adapted to how often it publishes,
    between [service] min_interval and max_interval) or cron times; crawls run in
    worker processes, and new articles are matched and delivered right after they
    are stored. SIGTERM or Ctrl-C stops cleanly; a restart repeats nothing.

    With [service.websub] callback_url set, it also subscribes to the WebSub hubs
    its feeds advertise, and a signed push polls that source at once.

    With --cluster (or a [cluster] section) due sources are queued in Redis for
    `newswatch worker` processes on any number of machines, and run in one place
    only: start a single `newswatch run --cluster`.

    \b
    Examples:
      newswatch run
      newswatch run --cluster             # workers crawl; see `newswatch worker --help`
      newswatch run --web                 # and the web UI on http://127.0.0.1:8080/
      newswatch --log-json run --config /etc/newswatch.toml
    """
    from dataclasses import replace

    from newswatch.scheduling.service import Service

    app = ctx.find_object(App)
    settings = with_cluster(app.settings, requested=cluster)
    if not settings.sources:
        raise click.UsageError("the configuration has no [[sources]] to poll")
    if workers:
        settings = replace(settings, service=replace(settings.service, workers=workers))
    # checked before the database is opened: a refusal touches nothing
    web_options = _web_options(settings, web_address) if web_address else None
    root = ctx.find_root().params
    verbosity = -1 if root.get("quiet") else root.get("verbose", 0)
    service = Service(
        settings, app.engine(), verbosity=verbosity, json_logs=bool(root.get("log_json"))
    )
    stop = threading.Event()

    def on_signal(number: int, _frame) -> None:
        log.info("%s received: stopping", signal.Signals(number).name)
        stop.set()

    web = _start_web(app, settings, web_options) if web_options else None
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
@click.option(
    "--cluster",
    is_flag=True,
    help="Also show the cluster: workers, queue, claims. [default: with a [cluster] section]",
)
@click.pass_obj
def status(app: App, cluster: bool) -> None:
    """Show each source's health, polling interval and next poll.

    Health, the same as `newswatch sources` and the web's sources page show: failing
    ([service] failing_after failed runs in a row), degraded (dates, authors or text
    of its latest articles fell well below usual), quiet (nothing new for much longer
    than usual), flaky (its latest run failed, but fewer in a row), ok; "never run"
    before any crawl. A `newswatch crawl` counts as a poll; interval and next poll
    are shown once the service has polled the source.

    In a cluster it also shows each live worker (host, pid, requests it holds and
    has finished, last heartbeat), the shared queue's length, each running
    source's unsettled requests ("in queue"), and alert deliveries claimed by
    dispatchers.

    \b
    Examples:
      newswatch status
      newswatch status --cluster
    """
    settings = with_cluster(app.settings, requested=cluster)
    console = Console()
    console = console if console.is_terminal else Console(width=200)
    in_queue = _print_cluster(app, settings.cluster, console) if settings.cluster else None
    configured = {source.name: source for source in app.settings.sources}
    now = utcnow()
    with app.sessions()() as session:
        rows = source_queries.source_health(
            session, app.settings.sources, app.settings.service.health.failing_after
        )
    table = Table(box=None, pad_edge=False, header_style="bold")
    columns = [
        "source",
        "health",
        "since",
        "interval",
        "next poll",
        "last run",
        "last new",
        "stored",
        "reason",
    ]
    if in_queue is not None:
        columns.insert(2, "in queue")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        reason = row.reason
        if row.retry_after_until and row.retry_after_until > now:
            reason = f"server asked to wait until {row.retry_after_until:%H:%M} UTC. {reason}"
        queued = [] if in_queue is None else [str(in_queue.get(row.name, ""))]
        cron = configured[row.name].cron
        polled = row.interval_seconds is not None  # the service's columns, once it has them
        table.add_row(
            row.name,
            row.health,
            *queued,
            _when(row.since, now),
            (f"cron {cron}" if cron else _duration(row.interval_seconds)) if polled else "",
            _when(row.next_due_at, now) if polled else "",
            _when(row.last_run_at, now),
            _when(row.last_new_at, now) if polled else "",
            str(row.articles),
            reason.strip()[:120],
        )
    console.print(table)


def _print_cluster(app: App, cluster: ClusterOptions, console: Console) -> dict[str, int]:
    """The cluster's workers, queue and claims; returns each running source's unsettled count."""
    from redis import Redis
    from redis.exceptions import RedisError

    from crawler.cluster.keys import ClusterKeys
    from crawler.cluster.status import cluster_state

    redis = Redis.from_url(cluster.redis_url)
    try:
        state = cluster_state(redis, ClusterKeys(cluster.prefix))
    except RedisError as error:  # the sources' health is still worth showing
        console.print(f"cluster {without_password(cluster.redis_url)}: unreachable ({error})\n")
        return {}
    finally:
        redis.close()
    with app.sessions()() as session:
        claims = deliveries.claims_in_flight(session, utcnow())
    console.print(
        f"cluster {without_password(cluster.redis_url)} ({cluster.prefix}): "
        f"{len(state.workers)} workers alive, {state.queued} requests queued, "
        f"{state.holding} being crawled, {sum(state.pending_by_source.values())} unsettled in "
        f"{len(state.pending_by_source)} running sources; {claims} alert deliveries claimed"
        + (
            f"; {state.registered_dead} dead workers not yet requeued"
            if state.registered_dead
            else ""
        )
    )
    if state.workers:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("worker", "host", "pid", "up", "holding", "finished", "last heartbeat"):
            table.add_column(column)
        now = time.time()
        for worker in state.workers:
            table.add_row(
                worker.worker_id,
                worker.host,
                str(worker.pid),
                _duration(now - worker.started_at),
                str(worker.holding),
                str(worker.settled),
                f"{_duration(max(now - worker.seen_at, 0))} ago",
            )
        console.print(table)
    console.print()
    return state.pending_by_source


def _web_options(settings, address: str):
    """The options of `--web HOST:PORT`, refused as `newswatch serve` refuses them."""
    from newswatch.commands.serve import web_options

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"expected HOST:PORT, got {address!r}", param_hint="--web")
    return web_options(host.strip("[]"), int(port), False, settings)


def _start_web(app: App, settings, options):
    """The review UI in a thread beside the scheduler."""
    from newswatch.commands.serve import cannot_listen
    from newswatch.web import create_app
    from newswatch.web.server import serve_in_thread

    with cannot_listen(options):
        web = serve_in_thread(create_app(app.engine(), settings, options), options)
    log.info("web UI at %s/", web.base_url)
    return web
