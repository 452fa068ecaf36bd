"""Run accounting when a run's requests are spread over many workers: counters in Redis.

Same calls as crawler.recorder.RunRecorder, so the spider and pipelines do not care which
they have. Counters go to the run's Redis hash; failures go to the database at once, as in
a single-process crawl; the coordinator turns the hash into the run's totals at the end.
"""

from __future__ import annotations

import time
from datetime import datetime

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from crawler.cluster.keys import ClusterKeys
from crawler.failures import retry_after_until
from crawler.placement import Outcome
from crawler.recorder import SourceTally, failure_counter
from crawler.storage import runs
from crawler.storage.models.base import utcnow

# KEYS[1]: the runs hash; ARGV: prefix, source, now, then field/increment pairs and, after
# a '=' marker, field/value pairs to set. Returns the source's run id (false: no run).
BUMP = """
local run = redis.call('HGET', KEYS[1], ARGV[2])
if not run then return false end
local key = ARGV[1] .. ':run:' .. run
redis.call('HSET', key, 'last_activity', ARGV[3])
local i = 4
while i <= #ARGV and ARGV[i] ~= '=' do
  redis.call('HINCRBY', key, ARGV[i], ARGV[i + 1])
  i = i + 2
end
i = i + 1
while i <= #ARGV do
  if string.sub(ARGV[i], 1, 1) == '?' then
    redis.call('HSETNX', key, string.sub(ARGV[i], 2), ARGV[i + 1])
  else
    redis.call('HSET', key, ARGV[i], ARGV[i + 1])
  end
  i = i + 2
end
return tonumber(run)
"""
COUNTERS = (
    "index_fetches",
    "index_failures",
    "not_modified",
    "links",
    "fetched",
    "new",
    "duplicates",
    "failed",
    "skipped",
)


class ClusterRecorder:
    def __init__(
        self,
        redis: Redis,
        keys: ClusterKeys,
        sessions: sessionmaker[Session],
        source_ids: dict[str, int],
    ):
        self.redis = redis
        self.keys = keys
        self._sessions = sessions
        self._source_ids = source_ids  # filled in by the spider as requests arrive
        self._bump = redis.register_script(BUMP)

    def _record(
        self, source: str, counts: dict[str, int], values: dict[str, object] | None = None
    ) -> int | None:
        args: list[object] = [self.keys.prefix, source, time.time()]
        for name, count in counts.items():
            args += [name, count]
        args.append("=")
        for name, value in (values or {}).items():
            args += [name, value]
        run = self._bump(keys=[self.keys.runs], args=args)
        return int(run) if run is not None else None

    def index_fetched(
        self, source: str, status: int | None, *, retry_after: str | None = None
    ) -> None:
        counts = {"index_fetches": 1, "not_modified": int(status == 304)}
        values: dict[str, object] = {} if status is None else {"http_status": status}
        until = retry_after_until(retry_after, utcnow())
        run = self._record(source, counts, values)
        if until and run is not None:
            key = self.keys.run(run)
            # Several workers may see one; the latest wins, as in a single process.
            previous = self.redis.hget(key, "retry_after_until")
            if previous is None or datetime.fromisoformat(previous.decode()) < until:
                self.redis.hset(key, "retry_after_until", until.isoformat())

    def links_found(self, source: str, count: int) -> None:
        self._record(source, {"links": count})

    def article_fetched(self, source: str) -> None:
        self._record(source, {"fetched": 1})

    def stored(self, source: str, outcome: Outcome) -> None:
        self._record(source, {"new" if outcome is Outcome.NEW else "duplicates": 1})

    def failed(
        self, source: str, url: str, reason: str, detail: str, *, index: bool = False
    ) -> None:
        counter = failure_counter(source, url, reason, detail, index=index)
        values = {} if counter == "skipped" else {"?first_error": f"{reason}: {detail}"}
        run = self._record(source, {counter: 1}, values)
        with self._sessions() as session:
            runs.record_failure(
                session,
                source_id=self._source_ids[source],
                run_id=run,
                url=url,
                reason=reason,
                detail=detail,
            )


def tally_from_hash(
    name: str, source_id: int, run_id: int, fields: dict[bytes, bytes]
) -> SourceTally:
    """A run's counters, read back from its Redis hash."""
    values = {key.decode(): value.decode() for key, value in fields.items()}
    tally = SourceTally(name, source_id, run_id)
    for counter in COUNTERS:
        setattr(tally, counter, int(values.get(counter, 0)))
    tally.started = float(values.get("started", 0.0))
    tally.last_activity = float(values.get("last_activity", tally.started))
    tally.http_status = int(values["http_status"]) if "http_status" in values else None
    tally.first_error = values.get("first_error")
    if "retry_after_until" in values:
        tally.retry_after_until = datetime.fromisoformat(values["retry_after_until"])
    return tally
