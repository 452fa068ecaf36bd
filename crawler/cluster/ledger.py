"""Which requests each worker holds, and which requests each run still waits for.

Every request of a run carries a token. The token enters the run's token set when the
request is made and leaves it when the request is *settled*: its article stored (or its
failure recorded), or, for a feed, when the requests it led to are in the queue. A run whose
set is empty is complete.

A worker takes a request out of the queue and into its own in-flight hash in one step (a
Lua script), and deletes it from there when it settles the request. A retry or a redirect
keeps the token and replaces the held copy. When a worker's heartbeat expires, whoever
notices first moves its in-flight requests back into the queue, again in one step.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from redis import Redis

from crawler.cluster.keys import ClusterKeys

log = logging.getLogger("newswatch.cluster")

TOKEN = "nw_token"  # noqa: S105 (not a secret) request meta: the request's token (kept by retries and redirects)
RUN = "nw_run"  # request meta: id of the run the request belongs to
PARENT = "nw_parent"  # request meta: token of the feed request that led to this one

# Move the best request of the queue into a worker's in-flight hash, keeping its score.
TAKE = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #found == 0 then return false end
redis.call('ZREM', KEYS[1], found[1])
redis.call('HSET', KEYS[2], found[1], found[2])
return found[1]
"""

# Put back what workers hold, and free their per-site turns (politeness.py): every worker
# in ARGV[2..], or (ARGV[2] == '*') every registered worker whose heartbeat has expired.
# Returns how many requests went back.
REQUEUE = """
local prefix = ARGV[1]
local workers = {}
if ARGV[2] == '*' then
  for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('EXISTS', prefix .. ':worker:' .. worker) == 0 then
      table.insert(workers, worker)
    end
  end
else
  for i = 2, #ARGV do table.insert(workers, ARGV[i]) end
end
local moved = 0
for _, worker in ipairs(workers) do
  local inflight = prefix .. ':inflight:' .. worker
  local held = redis.call('HGETALL', inflight)
  for i = 1, #held, 2 do
    redis.call('ZADD', KEYS[1], held[i + 1], held[i])
    moved = moved + 1
  end
  redis.call('DEL', inflight)
  local turns = prefix .. ':turns:' .. worker
  local held_turns = redis.call('HGETALL', turns)
  for i = 1, #held_turns, 2 do
    redis.call('ZREM', prefix .. ':domain:' .. held_turns[i + 1] .. ':holders', held_turns[i])
  end
  redis.call('DEL', turns)
  redis.call('SREM', KEYS[2], worker)
end
return moved
"""


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Ledger:
    """One process's view of the cluster's bookkeeping (a worker's, or the coordinator's)."""

    def __init__(self, redis: Redis, keys: ClusterKeys, worker_id: str | None = None):
        self.redis = redis
        self.keys = keys
        self.worker_id = worker_id or new_worker_id()
        self.held: dict[str, bytes] = {}  # token → the serialized request in our hash
        self.settled = 0  # requests this process settled (shown by `newswatch status`)
        self._waiting: dict[str, list] = {}  # feed token → [requests not queued yet, meta]
        self._take = redis.register_script(TAKE)
        self._requeue = redis.register_script(REQUEUE)

    # -- tokens of a run -------------------------------------------------------------------

    def admit(self, metas: list[dict[str, Any]], run_id: int, parent: str | None = None) -> None:
        """Give new requests (their meta dicts) tokens; the run now waits for them."""
        if not metas:
            return
        for meta in metas:
            meta[TOKEN] = uuid.uuid4().hex
            meta[RUN] = run_id
            if parent:
                meta[PARENT] = parent
        self.redis.sadd(self.keys.run_tokens(run_id), *(meta[TOKEN] for meta in metas))

    def settle(self, meta: dict[str, Any]) -> None:
        """The request's effect is stored: drop our copy; the run no longer waits for it."""
        token = meta.get(TOKEN)
        if token is None:
            return
        with self.redis.pipeline() as pipe:
            data = self.held.pop(token, None)
            if data is not None:
                pipe.hdel(self.keys.inflight(self.worker_id), data)
            pipe.srem(self.keys.run_tokens(meta[RUN]), token)
            pipe.execute()
        self.settled += 1

    def expect_children(self, meta: dict[str, Any], children: int) -> None:
        """A feed led to `children` requests: it is settled once they are all queued."""
        if children == 0:
            self.settle(meta)
        else:
            self._waiting[meta[TOKEN]] = [children, meta]

    def child_queued(self, parent: str) -> None:
        """One request a feed led to is in the queue (or was dropped as a duplicate)."""
        waiting = self._waiting.get(parent)
        if waiting is None:
            return
        waiting[0] -= 1
        if waiting[0] <= 0:
            del self._waiting[parent]
            self.settle(waiting[1])

    # -- requests a worker holds -----------------------------------------------------------

    def take(self, queue_key: str) -> bytes | None:
        """Pop the best request into our in-flight hash (None: the queue is empty)."""
        return self._take(keys=[queue_key, self.keys.inflight(self.worker_id)])

    def hold(self, token: str, data: bytes) -> None:
        self.held[token] = data

    def superseded(self, meta: dict[str, Any], pipe: Any) -> None:
        """A retry or redirect of a request we hold is queued (in `pipe`): drop our copy."""
        data = self.held.pop(meta.get(TOKEN, ""), None)
        if data is not None:
            pipe.hdel(self.keys.inflight(self.worker_id), data)

    def forget(self, data: bytes) -> None:
        """Drop a held request that cannot be crawled at all (it could not be decoded)."""
        self.redis.hdel(self.keys.inflight(self.worker_id), data)

    # -- liveness --------------------------------------------------------------------------

    def heartbeat(self, timeout: float, info: dict[str, Any]) -> None:
        """Say we are alive for `timeout` seconds; `info` is shown by `newswatch status`."""
        value = json.dumps({**info, "held": len(self.held), "seen_at": time.time()})
        with self.redis.pipeline() as pipe:
            pipe.set(self.keys.heartbeat(self.worker_id), value, px=int(timeout * 1000))
            pipe.sadd(self.keys.workers, self.worker_id)
            pipe.execute()

    def requeue_dead(self) -> int:
        """Put back what workers whose heartbeat expired were holding; how many requests."""
        moved = self._requeue(
            keys=[self.keys.queue, self.keys.workers], args=[self.keys.prefix, "*"]
        )
        if moved:
            log.warning("cluster: %d requests of a dead worker went back to the queue", moved)
        return int(moved or 0)

    def leave(self) -> int:
        """Stop: put back everything we hold and unregister (a clean shutdown)."""
        moved = self._requeue(
            keys=[self.keys.queue, self.keys.workers], args=[self.keys.prefix, self.worker_id]
        )
        self.redis.delete(self.keys.heartbeat(self.worker_id))
        self.held.clear()
        return int(moved or 0)


class Heartbeat:
    """Says the worker is alive, from its own thread, and reaps workers that are not.

    Not on the reactor: a page that keeps the reactor busy for a few seconds (extraction
    in-process, the first load of the language models) must not get a live worker declared
    dead and its requests crawled twice.
    """

    def __init__(self, ledger: Ledger, every: float, timeout: float):
        self.ledger = ledger
        self.every = every
        self.timeout = timeout
        self.started_at = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cluster-heartbeat", daemon=True)

    def start(self) -> None:
        self.beat()  # registered before the first request is taken
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.every + 5)

    def beat(self) -> None:
        info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": self.started_at,
            "settled": self.ledger.settled,
        }
        self.ledger.heartbeat(self.timeout, info)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
                self.ledger.requeue_dead()
            except Exception as error:  # Redis away for a moment: try again next beat
                log.warning("cluster: heartbeat failed: %s", error)
