"""The long-running service: one APScheduler job per source, one alerts job, crawl workers.

    source job (interval or cron; max_instances=1, coalesced) ──due──► CrawlPool queue
    CrawlPool slot ──batch of due sources──► long-lived worker process (crawler.run.serve)
        ──batch crawled──►
        bookkeeping: next poll and health per source (saved) ──► job rescheduled,
        alerts job kicked when articles were stored
    alerts job (every alerts_interval, and when kicked) ──► match, then deliver

All state that matters lives in the database (articles, alert watermark, deliveries,
validators, schedule), so a restart runs what is due and repeats nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from redis.exceptions import RedisError
from sqlalchemy import Engine

from alerts.dispatch import build_channels
from crawler.sources import Source, poll_interval
from crawler.storage import schedule
from crawler.storage.engine import sessions
from crawler.storage.models.base import utcnow
from crawler.storage.schedule import Schedule
from crawler.storage.sources import sync_sources
from crawler.urls import without_password
from newswatch.scheduling.alerts_round import AlertsRound
from newswatch.scheduling.bookkeeping import FixedTimes, Policies, settle_batch
from newswatch.scheduling.pool import CrawlPool
from newswatch.scheduling.websub import Subscriber
from newswatch.scheduling.worker import BatchJob, WorkerProcesses
from newswatch.settings import Settings

log = logging.getLogger(__name__)
ALERTS_JOB = "alerts"
CLUSTER_SLOTS = 16


def job_id(source: str) -> str:
    return f"source:{source}"


class Service:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        verbosity: int = 0,
        json_logs: bool = False,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        processes: WorkerProcesses | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions(engine)
        self.clock = clock
        self.rng = rng or random.Random()
        self.processes = processes or WorkerProcesses(settings.service.crawls_per_worker)
        self.by_name = {source.name: source for source in settings.sources}
        # In a cluster a slot only queues a batch and waits for the workers: more slots let
        # more sources be in the shared queue at once.
        slots = max(settings.service.workers, CLUSTER_SLOTS) if settings.cluster else None
        self.pool = CrawlPool(self._crawl, slots or settings.service.workers, site=self._site)
        self.policies = Policies(
            settings.service.polling, settings.service.health, settings.default_interval
        )
        channels = build_channels(settings.alerts)
        admin = settings.service.admin_channel
        self.admin = channels[admin] if admin else None
        self.alerts = AlertsRound(engine, settings.alerts, channels, clock, settings.evidence)
        websub = settings.service.websub  # push from feeds' hubs, beside polling
        self.websub = (
            Subscriber(websub, settings.crawl, self.sessions, self.pool.submit, clock)
            if websub.enabled
            else None
        )
        self.ids: dict[str, int] = {}
        self.zone = ZoneInfo(settings.service.timezone)
        self.stopping = threading.Event()
        self._log_options = (verbosity, json_logs)
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            # Source jobs only queue their source, so a few threads serve them all; the
            # alerts job gets its own thread, as a slow channel may hold it for a while.
            executors={"default": ThreadPoolExecutor(4), "alerts": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        now = self.clock()
        with self.sessions() as session:
            self.ids = sync_sources(session, self.settings.sources)
            abandoned = schedule.abandon_unfinished_runs(session, now)
            saved = schedule.load(session, self.ids.values())
        if abandoned:
            log.info("closed %d runs a stopped crawl left open", abandoned)
        if self.settings.cluster is not None:
            self._forget_stale_cluster_runs()
        if self.websub is not None:
            self.websub.start(self.by_name, self.ids)
        for source in self.settings.sources:
            state = saved.get(self.ids[source.name])
            due = state.next_due_at if state and state.next_due_at else now
            # A poll planned under an older, longer interval is not waited for.
            configured = poll_interval(source, self.settings.default_interval)
            longest = max(self.policies.polling.max_interval, configured)
            due = min(due, now + timedelta(seconds=longest))
            self.scheduler.add_job(
                self.pool.submit,
                self._trigger(source, state),
                args=[source.name],
                id=job_id(source.name),
                name=f"poll {source.name}",
                next_run_time=max(due, now),
            )
        self.scheduler.add_job(
            self.alerts.run,
            IntervalTrigger(seconds=self.settings.service.alerts_interval),
            id=ALERTS_JOB,
            name="alerts",
            executor="alerts",
            next_run_time=now,
        )
        self.pool.start()
        self.scheduler.start()
        admin = self.settings.service.admin_channel
        cluster = self.settings.cluster
        crawling = (
            f"sources queued for the cluster's workers at {without_password(cluster.redis_url)}"
            if cluster
            else f"{self.settings.service.workers} crawl workers"
        )
        log.info(
            "service running: %d sources, %s, health notices to %s",
            len(self.settings.sources),
            crawling,
            admin or "the log only",
        )

    def stop(self) -> None:
        """Stop polling, let in-flight crawls finish (or kill them after stop_timeout)."""
        self.stopping.set()
        if self.websub is not None:
            self.websub.stop()
        if self.scheduler.running:
            self.scheduler.pause()
        self.pool.close()
        self.processes.stop_all(self.settings.service.stop_timeout)
        self.pool.join()
        with contextlib.suppress(SchedulerNotRunningError):  # start() failed early
            self.scheduler.shutdown(wait=True)  # an alerts round in flight completes
        log.info("service stopped")

    # -- jobs ----------------------------------------------------------------------------

    def _site(self, name: str) -> str:
        return urlsplit(self.by_name[name].urls[0]).hostname or name

    def _trigger(self, source: Source, state: Schedule | None) -> BaseTrigger:
        if source.cron:
            return CronTrigger.from_crontab(source.cron, timezone=self.zone)
        interval = state.interval_seconds if state and state.interval_seconds else None
        interval = interval or poll_interval(source, self.settings.default_interval)
        return IntervalTrigger(seconds=max(interval, 1.0))

    def _fixed_times(self, source: Source) -> FixedTimes | None:
        if not source.cron:
            return None
        trigger = CronTrigger.from_crontab(source.cron, timezone=self.zone)
        return lambda after: trigger.get_next_fire_time(None, after)

    def _crawl(self, names: tuple[str, ...]) -> None:
        """One pool slot's batch: a worker process, then bookkeeping and rescheduling."""
        batch = {name: (self.by_name[name], self.ids[name]) for name in names}
        with self.sessions() as session:
            after = schedule.last_run_id(session)
        verbosity, json_logs = self._log_options
        job = BatchJob(
            tuple(source for source, _ in batch.values()),
            self.settings.crawl,
            self.settings.database_url,
            verbosity,
            json_logs,
            os.getpid(),
        )
        polled_at, started = self.clock(), time.monotonic()
        if self.settings.cluster is not None:
            started_worker, exit_code = self._crawl_in_cluster(batch)
        else:
            started_worker, exit_code = self.processes.run(job)
        crawled = time.monotonic()
        if not started_worker:
            return  # stopping
        stopping = self.stopping.is_set()
        if exit_code:  # asked to stop before Scrapy took over its signals: expected
            level = logging.INFO if stopping else logging.WARNING
            log.log(level, "crawl worker for %s exited with status %s", ", ".join(names), exit_code)
        settled, new = settle_batch(
            self.sessions,
            batch,
            after,
            self.policies,
            self.clock(),
            self.rng,
            self.admin,
            self._fixed_times,
            stopping=stopping,
            polled_at=polled_at,
        )
        if self.websub is not None:  # the crawl may have found a feed's hub
            self.websub.wake()
        log.debug(
            "batch of %d sources: crawl %.1fs, bookkeeping %.1fs",
            len(names),
            crawled - started,
            time.monotonic() - crawled,
        )
        if stopping:
            return
        for name, state in settled.items():
            self._reschedule(self.by_name[name], state)
        if new:
            self.alerts.kick(lambda: self._modify(ALERTS_JOB, next_run_time=datetime.now(UTC)))

    def _forget_stale_cluster_runs(self) -> None:
        from redis import Redis

        from crawler.cluster.coordinator import forget_stale_runs
        from crawler.cluster.keys import ClusterKeys

        assert self.settings.cluster is not None
        redis = Redis.from_url(self.settings.cluster.redis_url)
        try:
            forget_stale_runs(redis, ClusterKeys(self.settings.cluster.prefix), self.sessions)
        except RedisError as error:  # the first batch reports it, source by source
            log.warning("cluster queue unreachable: %s", error)
        finally:
            redis.close()

    def _crawl_in_cluster(self, batch: dict[str, tuple[Source, int]]) -> tuple[bool, int | None]:
        """Queue the batch for the cluster's workers and wait until they settle it."""
        from crawler.cluster.coordinator import crawl_in_cluster

        assert self.settings.cluster is not None
        if self.stopping.is_set():
            return False, None
        sources = [source for source, _ in batch.values()]
        ids = {name: source_id for name, (_, source_id) in batch.items()}
        try:
            crawl_in_cluster(
                sources,
                ids,
                self.settings.cluster,
                self.sessions,
                self.settings.crawl,
                stop=self.stopping,
                progress=log.info,
            )
        except RedisError as error:  # the queue is away: the batch is due again later
            log.error("cluster queue unreachable for %s: %s", ", ".join(batch), error)
            return True, 1
        return True, 0

    def _reschedule(self, source: Source, state: Schedule) -> None:
        changes: dict = {"next_run_time": state.next_due_at}
        if not source.cron and state.interval_seconds:
            changes["trigger"] = IntervalTrigger(seconds=max(state.interval_seconds, 1.0))
        self._modify(job_id(source.name), **changes)

    def _modify(self, job: str, **changes) -> None:
        with contextlib.suppress(JobLookupError, SchedulerNotRunningError):  # shutting down
            self.scheduler.modify_job(job, **changes)
