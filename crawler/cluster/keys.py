"""The Redis keys of one cluster, in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClusterKeys:
    prefix: str = "newswatch"

    @property
    def queue(self) -> str:
        """Sorted set of serialized requests (scrapy-redis's priority queue)."""
        return f"{self.prefix}:requests"

    @property
    def seen(self) -> str:
        """Prefix of the duplicate filter's expiring fingerprint keys."""
        return f"{self.prefix}:seen"

    @property
    def workers(self) -> str:
        """Set of the ids of workers that registered (alive or not yet reaped)."""
        return f"{self.prefix}:workers"

    @property
    def runs(self) -> str:
        """Hash: source name → id of its run in progress."""
        return f"{self.prefix}:runs"

    def heartbeat(self, worker: str) -> str:
        """Expiring key, present while the worker lives; its value describes the worker."""
        return f"{self.prefix}:worker:{worker}"

    def inflight(self, worker: str) -> str:
        """Hash: serialized request → queue score, for each request the worker holds."""
        return f"{self.prefix}:inflight:{worker}"

    def turns(self, worker: str) -> str:
        """Hash: politeness turn → host, for each per-site turn the worker holds."""
        return f"{self.prefix}:turns:{worker}"

    def run(self, run_id: int) -> str:
        """Hash of one run's counters (links, fetched, new, ...)."""
        return f"{self.prefix}:run:{run_id}"

    def run_tokens(self, run_id: int) -> str:
        """Set of the run's unsettled requests: the run is done when it is empty."""
        return f"{self.prefix}:run:{run_id}:tokens"

    def run_fetches(self, run_id: int) -> str:
        """List of the run's feed fetches whose validators are saved when it completes."""
        return f"{self.prefix}:run:{run_id}:fetches"

    def domain_holders(self, host: str) -> str:
        return f"{self.prefix}:domain:{host}:holders"

    def domain_next(self, host: str) -> str:
        return f"{self.prefix}:domain:{host}:next"
