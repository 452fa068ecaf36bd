"""How a cluster is reached and how quickly it gives up on a silent worker."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class ClusterOptions:
    redis_url: str = DEFAULT_REDIS_URL
    # Every key starts with this, so several clusters (or test runs) can share one Redis.
    prefix: str = "newswatch"
    heartbeat_seconds: float = 2.0  # how often a worker says it is alive
    worker_timeout: float = 15.0  # a worker silent this long is dead: its requests go back
    # An article URL queued by one worker is not queued again by any worker for this long;
    # afterwards a link that still has no stored article (a failed fetch) is tried again.
    dedupe_window: float = 3600.0
    run_timeout: float = 1800.0  # a run still unsettled after this is closed as partial
