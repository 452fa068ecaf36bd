"""Crawl worker processes: long-lived, each crawling batch after batch in one reactor.

A worker is spawned (not forked: the service runs threads) and crawls the batches sent
to it with `crawler.run.serve`; everything it learns is in the database. Keeping it
alive saves each crawl the worker's start-up: its imports, its reactor, and the fork
server that preloads extraction, which together cost a second or two of CPU a crawl.
After `crawls_per_worker` batches it is replaced, so whatever a long run accumulates
(caches, fragmented memory) is let go; 1 gives a fresh process per crawl.

A worker lives in its own session, so a Ctrl-C at the terminal reaches only the service,
which asks each worker once to stop (SIGTERM: Scrapy finishes what is in flight). On
Linux a worker is also sent SIGTERM when the service dies without asking (SIGKILL, OOM),
so no crawl outlives its service; its extraction processes die with it the same way
(`crawler.processes`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from crawler.processes import die_with_parent
from crawler.sources import CrawlOptions, Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker process needs for one crawl, sent to it pickled."""

    sources: tuple[Source, ...]
    options: CrawlOptions
    database_url: str
    verbosity: int = 0
    json_logs: bool = False
    parent_pid: int = 0


def serve_batches(connection: Connection, first: BatchJob) -> None:
    """The worker process's entry point: crawl what arrives on `connection` until told to end.

    Each batch is answered with None (crawled) or why it was not. None received, or the
    service gone, ends the worker.
    """
    os.setsid()
    # SIGTERM, not SIGKILL: Scrapy stops cleanly and the extraction processes end with it.
    die_with_parent(first.parent_pid)
    from crawler.run import Batch, serve
    from newswatch.logs import setup_logging

    setup_logging(first.verbosity, json_format=first.json_logs)
    jobs: list[BatchJob | None] = [first]

    def next_batch() -> Batch | None:
        job = jobs.pop() if jobs else connection.recv()
        return None if job is None else Batch(job.sources, job.options, job.database_url)

    serve(next_batch, connection.send, first.options)


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    crawls: int = 0


class WorkerProcesses:
    """Runs batches in long-lived worker processes, and stops them all on shutdown."""

    def __init__(self, crawls_per_worker: int = 100) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._crawls_per_worker = max(crawls_per_worker, 1)
        self._lock = threading.Lock()
        self._gone = threading.Condition(self._lock)
        self._idle: list[_Worker] = []
        self._live: set[BaseProcess] = set()
        self._stopping = False

    def run(self, job: BatchJob) -> tuple[bool, int | None]:
        """Crawl a batch in a worker and wait: (started, 0 or the worker's exit code).

        A worker that died during the batch (killed, out of memory) gives its exit code,
        and the next batch gets a new worker.
        """
        with self._lock:
            if self._stopping:
                return False, None
            worker = self._idle_worker()
        if worker is None:
            worker = self._start(job)
            if worker is None:
                return False, None
        else:
            try:
                worker.connection.send(job)
            except OSError:  # it ended while idle (a signal, its parent's death watch)
                self._retire(worker)
                return self.run(job)
        try:
            error = worker.connection.recv()
        except (EOFError, OSError):
            self._retire(worker)
            return True, worker.process.exitcode
        if error:
            log.warning("crawl worker %s: %s", worker.process.pid, error)
        worker.crawls += 1
        with self._lock:
            keep = not self._stopping and worker.crawls < self._crawls_per_worker
            if keep:
                self._idle.append(worker)
        if not keep:  # worn out, or stop_all has asked it to go already
            self._retire(worker, ask=True)
        return True, 1 if error else 0

    def _idle_worker(self) -> _Worker | None:
        """An idle worker that is still alive, or None (called with the lock held)."""
        while self._idle:
            worker = self._idle.pop()
            # An idle worker sends nothing: anything to read is the end of its pipe, the
            # surest sign of its death (is_alive can miss one that was reaped elsewhere).
            if worker.process.is_alive() and not worker.connection.poll():
                return worker
            worker.connection.close()
            self._live.discard(worker.process)
        return None

    def _start(self, job: BatchJob) -> _Worker | None:
        mine, theirs = self._context.Pipe()
        names = ",".join(source.name for source in job.sources)
        process = self._context.Process(
            target=serve_batches, args=(theirs, job), name=f"newswatch-crawl[{names[:60]}]"
        )
        with self._lock:
            if self._stopping:
                return None
            # The worker dies with the thread that starts it (PR_SET_PDEATHSIG): a pool
            # slot's thread, which lives as long as the service does.
            process.start()
            self._live.add(process)
        theirs.close()  # so the worker's death reads as the end of `mine`
        return _Worker(process, mine)

    def _retire(self, worker: _Worker, *, ask: bool = False) -> None:
        """Let a worker go: ask it to end (or note that it has), and reap it."""
        if ask:
            with contextlib.suppress(OSError):  # it may have ended already
                worker.connection.send(None)
        # Only this thread waits for (reaps) the process: two threads joining one
        # process race for its exit status, and the loser takes it for still running.
        worker.process.join()
        worker.connection.close()
        with self._gone:
            self._live.discard(worker.process)
            self._gone.notify_all()

    def stop_all(self, timeout: float) -> None:
        """Ask every worker to stop, and kill those still running after `timeout` seconds."""
        with self._lock:
            self._stopping = True
            live = list(self._live)
            idle, self._idle = self._idle, []
        for process in live:
            log.info("asking crawl worker %s to finish", process.pid)
            process.terminate()
        for worker in idle:  # no thread waits for an idle worker: reap it here
            threading.Thread(target=self._retire, args=(worker,), daemon=True).start()
        with self._gone:
            if self._gone.wait_for(lambda: not self._live, timeout):
                return
            for process in self._live:
                log.warning("crawl worker %s did not stop in %gs: killed", process.pid, timeout)
                process.kill()
