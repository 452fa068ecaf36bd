"""Crawl worker processes: one fresh process per batch, because a reactor cannot restart.

A worker is spawned (not forked: the service runs threads), crawls its batch with
`crawler.run.crawl` and exits; everything it learns is in the database. It lives in its own
session, so a Ctrl-C at the terminal reaches only the service, which asks each worker once
to stop (SIGTERM: Scrapy finishes what is in flight). On Linux a worker is also sent SIGTERM
when the service dies without asking (SIGKILL, OOM), so no crawl outlives its service; its
extraction processes die with it the same way (`crawler.processes`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from crawler.processes import die_with_parent
from crawler.sources import CrawlOptions, Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker process needs, sent to it pickled."""

    sources: tuple[Source, ...]
    options: CrawlOptions
    database_url: str
    verbosity: int = 0
    json_logs: bool = False
    parent_pid: int = 0


def crawl_batch(job: BatchJob) -> None:
    """The worker process's entry point."""
    os.setsid()
    # SIGTERM, not SIGKILL: Scrapy stops cleanly and the extraction processes end with it.
    die_with_parent(job.parent_pid)
    from crawler.run import crawl
    from newswatch.logs import setup_logging

    setup_logging(job.verbosity, json_format=job.json_logs)
    crawl(job.sources, job.options, job.database_url)


class WorkerProcesses:
    """Starts worker processes, waits for them, and stops them all on shutdown."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._gone = threading.Condition(self._lock)
        self._live: set[BaseProcess] = set()
        self._stopping = False

    def run(self, job: BatchJob) -> tuple[bool, int | None]:
        """Crawl a batch in a new process and wait: (started, exit code if known)."""
        names = ",".join(source.name for source in job.sources)
        process = self._context.Process(
            target=crawl_batch, args=(job,), name=f"newswatch-crawl[{names[:60]}]"
        )
        with self._lock:
            if self._stopping:
                return False, None
            # The worker dies with this thread (PR_SET_PDEATHSIG), which is fine: the
            # thread waits below for as long as the worker runs.
            process.start()
            self._live.add(process)
        try:
            # Only this thread waits for (reaps) the process: two threads joining one
            # process race for its exit status, and the loser takes it for still running.
            process.join()
        finally:
            with self._gone:
                self._live.discard(process)
                self._gone.notify_all()
        # None when multiprocessing's own clean-up reaped the process first: unknown.
        return True, process.exitcode

    def stop_all(self, timeout: float) -> None:
        """Ask every worker to stop, and kill those still running after `timeout` seconds."""
        with self._lock:
            self._stopping = True
            live = list(self._live)
        for process in live:
            log.info("asking crawl worker %s to finish", process.pid)
            process.terminate()
        with self._gone:
            if self._gone.wait_for(lambda: not self._live, timeout):
                return
            for process in self._live:
                log.warning("crawl worker %s did not stop in %gs: killed", process.pid, timeout)
                process.kill()
