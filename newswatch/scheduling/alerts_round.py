"""The alerts job: match new articles and send what is due, again at once when kicked.

A crawl that stored articles kicks the job. APScheduler would skip a run asked for while
the job is still running (max_instances=1), so a kick during a run makes that run go
round once more instead: no stored article waits for the next interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from alerts.config import AlertSettings
from alerts.dispatch import Sender
from alerts.engine import compile_rules
from alerts.runner import run_once
from crawler.capture import Retention, prune
from crawler.storage.engine import sessions


class AlertsRound:
    def __init__(
        self,
        engine: Engine,
        settings: AlertSettings,
        channels: dict[str, Sender],
        clock: Callable[[], datetime],
        retention: Retention | None = None,
    ) -> None:
        self._engine = engine
        self._retention = retention  # [evidence]: applied after matching, which it depends on
        self._settled = 0  # articles up to this id had their capture kept or removed
        self._settings = settings
        self._matcher = compile_rules(settings)  # once: compiling every rule is not free
        self._channels = channels
        self._clock = clock
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def run(self) -> None:
        """The job: one round, and another as long as kicks arrived meanwhile."""
        with self._lock:
            self._running = True
        try:
            while True:
                with self._lock:
                    self._again = False
                # match_new_articles and dispatch_due log what they found and sent
                run_once(
                    self._engine,
                    self._settings,
                    now=self._clock(),
                    matcher=self._matcher,
                    channels=self._channels,
                )
                if self._retention is not None:
                    pruned = prune(
                        sessions(self._engine), self._retention, self._clock(), self._settled
                    )
                    self._settled = pruned.settled
                with self._lock:
                    if not self._again:
                        self._running = False
                        return
        except BaseException:
            with self._lock:
                self._running = False
            raise

    def kick(self, start: Callable[[], None]) -> None:
        """New articles are stored: go round again now (`start` runs the job at once)."""
        with self._lock:
            self._again = True
            running = self._running
        if not running:
            start()
