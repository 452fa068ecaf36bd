"""A fixed number of crawl slots; sources that fall due wait in one queue and go out in batches.

Each slot is a thread that takes a batch of waiting sources and runs it to completion (a
crawl worker process, then the bookkeeping). When several sources are due together they are
shared out between the free slots, so two slots keep two cores busy; a source already
waiting or being crawled is not queued twice. Sources of one site (the same `site(name)`)
travel in one batch and never in two at once: Scrapy's per-site politeness holds only
within one process.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class CrawlPool:
    def __init__(
        self,
        run_batch: Callable[[tuple[str, ...]], None],
        workers: int,
        *,
        site: Callable[[str], str] = str,
        settle: float = 0.2,
        max_settle: float = 1.0,
    ) -> None:
        self._run_batch = run_batch
        self._workers = max(1, workers)
        self._site = site
        # Sources fall due in bursts (every job of one scheduler wake-up): wait until the
        # queue stops growing for `settle` seconds, so the burst is shared out, not
        # crawled as one source now and all the others later.
        self._settle = settle
        self._max_settle = max_settle
        self._changed = threading.Condition()
        self._queue: list[str] = []
        self._busy: set[str] = set()
        self._busy_sites: set[str] = set()
        self._running_batches = 0
        self._closed = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(self._workers):
            thread = threading.Thread(target=self._slot, name=f"crawl-slot-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, name: str) -> bool:
        """Queue a due source; False when it is waiting or being crawled already."""
        with self._changed:
            if self._closed or name in self._busy or name in self._queue:
                return False
            self._queue.append(name)
            self._changed.notify_all()
            return True

    def busy(self) -> set[str]:
        """Sources waiting or being crawled."""
        with self._changed:
            return set(self._queue) | self._busy

    def close(self) -> None:
        """Start no more batches; what is waiting stays due for the next start."""
        with self._changed:
            self._closed = True
            self._queue.clear()
            self._changed.notify_all()

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def _ready(self) -> list[str]:
        """Waiting sources whose site no running batch is crawling."""
        return [name for name in self._queue if self._site(name) not in self._busy_sites]

    def _take(self) -> tuple[tuple[str, ...], set[str]] | None:
        with self._changed:
            while not self._closed and not self._ready():
                self._changed.wait()
            settle_until = time.monotonic() + self._max_settle
            while not self._closed and self._settle > 0:
                seen = len(self._queue)
                self._changed.wait(min(self._settle, max(0.0, settle_until - time.monotonic())))
                if len(self._queue) == seen or time.monotonic() >= settle_until:
                    break
            ready = self._ready()
            if self._closed or not ready:
                return None
            free = self._workers - self._running_batches
            chosen = ready[: math.ceil(len(ready) / max(free, 1))]
            sites = {self._site(name) for name in chosen}
            batch = tuple(name for name in ready if self._site(name) in sites)
            self._queue = [name for name in self._queue if name not in batch]
            self._busy.update(batch)
            self._busy_sites.update(sites)
            self._running_batches += 1
            return batch, sites

    def _slot(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                with self._changed:
                    if self._closed:
                        return
                continue
            batch, sites = taken
            try:
                self._run_batch(batch)
            except Exception:  # one batch's bug must not end the slot: the next one runs
                log.exception("crawl of %s failed unexpectedly", ", ".join(batch))
            finally:
                with self._changed:
                    self._busy.difference_update(batch)
                    self._busy_sites.difference_update(sites)
                    self._running_batches -= 1
                    self._changed.notify_all()
