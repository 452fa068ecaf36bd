"""What `newswatch status` shows of a cluster: live workers, the queue, runs in progress."""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from crawler.cluster.coordinator import live_workers
from crawler.cluster.keys import ClusterKeys


@dataclass(frozen=True)
class WorkerState:
    worker_id: str
    host: str
    pid: int
    started_at: float  # epoch seconds
    seen_at: float  # its last heartbeat
    holding: int  # requests in its in-flight hash
    settled: int  # requests it has finished since it started


@dataclass(frozen=True)
class ClusterState:
    workers: list[WorkerState]
    registered_dead: int  # workers whose heartbeat expired and whose requests await requeue
    queued: int  # requests waiting in the shared queue
    pending_by_source: dict[str, int]  # unsettled requests of each source's running run

    @property
    def holding(self) -> int:
        return sum(worker.holding for worker in self.workers)


def cluster_state(redis: Redis, keys: ClusterKeys) -> ClusterState:
    alive = live_workers(redis, keys)
    registered = redis.scard(keys.workers)
    with redis.pipeline(transaction=False) as pipe:
        for worker in alive:
            pipe.hlen(keys.inflight(worker))
        holding = pipe.execute()
    workers = [
        WorkerState(
            worker,
            str(info.get("host", "?")),
            int(info.get("pid", 0)),
            float(info.get("started_at", 0)),
            float(info.get("seen_at", 0)),
            held,
            int(info.get("settled", 0)),
        )
        for (worker, info), held in zip(alive.items(), holding, strict=True)
    ]
    runs = {name.decode(): int(run) for name, run in redis.hgetall(keys.runs).items()}
    with redis.pipeline(transaction=False) as pipe:
        for run in runs.values():
            pipe.scard(keys.run_tokens(run))
        pending = pipe.execute()
    return ClusterState(
        workers=workers,
        registered_dead=max(int(registered) - len(workers), 0),
        queued=int(redis.zcard(keys.queue)),
        pending_by_source=dict(zip(runs, (int(count) for count in pending), strict=True)),
    )
