"""`newswatch dispatcher`: alerts rounds in a loop, one of any number sharing a database.

Dispatchers need no coordination of their own: matching is serialised by a lock on the
matcher's state row, and deliveries are claimed with SELECT … FOR UPDATE SKIP LOCKED and
a lease ([alerts] claim_lease), so each due delivery is sent by one dispatcher, and by
another only after the first died holding it: at once by a dispatcher on the same host
(which can see that the holder is gone, alerts.claims), after the lease by any other.
That sharing needs PostgreSQL; on SQLite one dispatcher at a time is what makes sense.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

import click
from sqlalchemy import Engine

from alerts.config import AlertSettings
from alerts.dispatch import CLAIM_BATCH, DispatchReport, Sender, build_channels
from alerts.engine import MatchReport, compile_rules
from alerts.matching import Matcher
from alerts.runner import run_once
from crawler.config_reader import Problem, TableReader
from crawler.urls import without_password
from newswatch.app import App
from newswatch.commands.options import config_option

log = logging.getLogger("newswatch")
Round = Callable[[], tuple[MatchReport, DispatchReport]]


class Duration(click.ParamType):
    """Seconds, written as in the configuration: 30, "5s", "2m"."""

    name = "duration"

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, float):
            return value
        problems: list[Problem] = []
        seconds = TableReader({"value": value}, "", problems).duration("value", None)
        if problems:
            self.fail(f'{value!r} is not a duration like 30, "5s" or "2m"', param, ctx)
        return seconds


@click.command()
@config_option
@click.option(
    "--interval",
    type=Duration(),
    metavar="DURATION",
    help="Start a round this often, e.g. 5s or 2m. [default: [service] alerts_interval]",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=CLAIM_BATCH,
    show_default=True,
    metavar="N",
    help="Claim at most N deliveries a round, so several dispatchers share a burst.",
)
@click.option("--once", is_flag=True, help="Run one round and exit (status 1 if it failed).")
@click.pass_context
def dispatcher(ctx: click.Context, interval: float | None, batch: int, once: bool) -> None:
    """Match new articles and send due alerts in a loop, beside crawlers and other dispatchers.

    Each round does what `newswatch alerts run` does. Run as many dispatchers as you like
    against one PostgreSQL database: they share the work, and deliveries claimed by one
    that dies go out again with the same message id: at once from the next round on the
    same host, or from elsewhere once its [alerts] claim_lease runs out. A failed round
    (database down, say) is logged and the next one comes after the interval. SIGTERM
    or Ctrl-C stops after the current round.

    \b
    Example:
      newswatch dispatcher --interval 10s
      newswatch --database postgresql://newswatch@db/newswatch dispatcher --batch 50
    """
    app = ctx.find_object(App)
    settings = app.settings
    interval = interval or settings.service.alerts_interval
    engine = app.engine()  # migrates the schema, or stops here if the database is unreachable
    one_round = _round(engine, settings.alerts, batch)
    if once:
        if not _logged(one_round):
            ctx.exit(1)
        return
    log.info(
        "dispatcher: started on %s, a round every %gs, claim lease %gs",
        without_password(settings.database_url),
        interval,
        settings.alerts.claim_lease_seconds,
    )
    stop = threading.Event()
    previous = _stop_on_signals(stop)
    try:
        rounds = loop(one_round, interval, stop)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    log.info("dispatcher: stopped after %d round(s)", rounds)


def _round(engine: Engine, settings: AlertSettings, batch: int) -> Round:
    """One round with the rules compiled and the channels built once, not every round."""
    matcher: Matcher = compile_rules(settings)
    channels: dict[str, Sender] = build_channels(settings)
    return lambda: run_once(engine, settings, matcher=matcher, channels=channels, limit=batch)


def loop(one_round: Round, interval: float, stop: threading.Event) -> int:
    """Start a round every `interval` seconds (at once after one that overran) until `stop`."""
    rounds = 0
    while not stop.is_set():
        started = time.monotonic()
        _logged(one_round)
        rounds += 1
        if stop.wait(max(0.0, started + interval - time.monotonic())):
            break
    return rounds


def _logged(one_round: Round) -> bool:
    """Run a round, logging one line if it did anything or failed; False if it failed."""
    try:
        found, sent = one_round()
    except Exception as error:  # the database or a channel broke; the next round tries again
        log.error("dispatcher: round failed: %s", _reason(error))
        log.debug("dispatcher: the failed round", exc_info=True)
        return False
    if found.matches or sent.sent or sent.retried or sent.dead:
        log.info(
            "dispatcher: matched %d, sent %d, retried %d, dead %d",
            found.matches,
            sent.sent,
            sent.retried,
            sent.dead,
        )
    return True


def _stop_on_signals(stop: threading.Event) -> dict[int, object]:
    """SIGTERM and Ctrl-C set `stop`; a second one stops at once. Returns the old handlers."""

    def on_signal(number: int, _frame) -> None:
        name = signal.Signals(number).name
        if stop.is_set():
            log.warning(
                "%s again: stopping now; what this round claimed goes out again "
                "from the next round on this host, or elsewhere once the claim "
                "lease runs out",
                name,
            )
            raise SystemExit(128 + number)
        log.info("%s received: stopping after this round", name)
        stop.set()

    return {number: signal.signal(number, on_signal) for number in (signal.SIGTERM, signal.SIGINT)}


def _reason(error: Exception) -> str:
    """The first line of what went wrong: the driver's message for database errors."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else 'no detail'}"
