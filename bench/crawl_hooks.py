"""Run the `newswatch` command line with counters on its database traffic, optionally under
cProfile, and write what was counted to a JSON file when it exits (for bench/crawl.py).

Started as `python -c "from bench.crawl_hooks import run; run()" COUNTS PROFILE -- ARGS`
rather than as a script, so extraction processes spawned by the crawl import nothing of
the benchmark: they start as they would under `python -m newswatch`.

Counted per process, through SQLAlchemy's events (no change to the crawler):
- statements sent, and rows each INSERT, UPDATE or DELETE reported, per table;
- commits SQLAlchemy issued (a commit of a transaction that wrote nothing included);
- on SQLite, COMMIT statements SQLite itself ran (seen by its trace callback): pysqlite
  opens a transaction only before a write, so these are the transactions that wrote.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter

_TABLE = re.compile(r"^\s*(INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)


class Counts:
    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0
        self.sqlite_commits = 0
        self.checkouts = 0  # connections taken from the pool (each pinged on PostgreSQL)
        self.rows: Counter[str] = Counter()  # "insert articles" -> rows

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        event.listen(Engine, "after_cursor_execute", self._executed)
        event.listen(Engine, "commit", self._committed)
        event.listen(Pool, "connect", self._connected)
        event.listen(Pool, "checkout", self._checked_out)

    def _executed(self, _conn, cursor, statement, _params, _context, _many) -> None:
        self.statements += 1
        found = _TABLE.match(statement)
        if found and cursor.rowcount and cursor.rowcount > 0:
            verb = found.group(1).split()[0].lower()
            self.rows[f"{verb} {found.group(2)}"] += cursor.rowcount

    def _committed(self, _conn) -> None:
        self.commits += 1

    def _connected(self, dbapi_connection, _record) -> None:
        if hasattr(dbapi_connection, "set_trace_callback"):  # sqlite3
            dbapi_connection.set_trace_callback(self._traced)

    def _checked_out(self, *_args) -> None:
        self.checkouts += 1

    def _traced(self, statement: str) -> None:
        if statement.startswith("COMMIT"):
            self.sqlite_commits += 1

    def as_json(self) -> dict:
        return {
            "statements": self.statements,
            "commits": self.commits,
            "sqlite_commits": self.sqlite_commits,
            "checkouts": self.checkouts,
            "rows": dict(self.rows),
        }


def run() -> None:
    """argv: COUNTS_FILE PROFILE_FILE|- -- newswatch arguments."""
    counts_file, profile_file, separator, *arguments = sys.argv[1:]
    if separator != "--":
        raise SystemExit("usage: COUNTS_FILE PROFILE_FILE|- -- NEWSWATCH_ARGS")
    counts = Counts()
    counts.install()
    profile = None
    if profile_file != "-":
        import cProfile
        import time

        # The thread's CPU clock, not cProfile's default wall clock: on a shared machine a
        # descheduled crawl would charge other processes' time to whatever it was running.
        # It costs a system call per event, so the profiled crawl runs slower.
        profile = cProfile.Profile(time.thread_time)
    sys.argv = ["newswatch", *arguments]
    try:
        if profile is not None:
            profile.enable()  # before the imports: they are part of a crawl's cost
        from newswatch.cli import main

        main()
    finally:
        if profile is not None:
            profile.disable()
            profile.dump_stats(profile_file)
        with open(counts_file, "w", encoding="utf-8") as out:
            json.dump(counts.as_json(), out)
