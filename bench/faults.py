"""Crash safety of `newswatch run`: SIGKILLed again and again, what it stored and alerted.

Starts a loopback site of RSS sources (bench.loopback_feeds) and a slow webhook receiver
(0.2–0.5 s per answer), runs the service against them with a short poll interval and the
default [alerts] claim_lease, and kills it with SIGKILL N times, each time 1–8 s after it was
started, restarting it at once; articles holding the rule's word are published while it
runs. After the last kill it runs until every published article was alerted (or a timeout),
then stops on SIGTERM. A kill freezes the service and every process it started (SIGSTOP),
notes what was going on, then SIGKILLs them all: crawl workers leave the service's process
group (setsid), so a killpg alone would spare them.

Prints articles published / stored / stored twice; alerts expected / received / received
twice, a repeat with the same webhook-id (a resend after a crash mid-send, which receivers
drop) apart from one with another webhook-id (a real double alert); the seconds from the
last restart to the last alert pending at it; and how many kills landed while starting,
during a crawl, during a send or while idle. Prints figures; asserts nothing.

    python bench/faults.py                        # 20 kills, 10 sources, 40 articles
    python bench/faults.py --kills 40 --seed 3 --keep /tmp/faults   # keep db and logs
    python bench/faults.py --postgres postgresql://localhost/empty_bench_db
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.latency import WORD, write_config
from bench.loopback_feeds import FeedSite
from crawler.storage.engine import open_engine

SECRET = "bench-secret-of-some-length"


@dataclass(frozen=True)
class Post:
    at: float  # time.time() when it arrived
    webhook_id: str
    urls: tuple[str, ...]


class SlowReceiver:
    """Webhook endpoint that answers 200 after low–high seconds and records every POST."""

    def __init__(self, low: float, high: float, seed: int) -> None:
        self.posts: list[Post] = []
        self.in_flight: list[Post] = []  # read and not answered yet
        self.changed = threading.Condition()
        rng, receiver = random.Random(seed), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                urls = tuple(match["article"]["url"] for match in body.get("matches", []))
                with receiver.changed:
                    post = Post(time.time(), self.headers.get("webhook-id", ""), urls)
                    receiver.posts.append(post)
                    receiver.in_flight.append(post)
                    pause = rng.uniform(low, high)
                    receiver.changed.notify_all()
                try:
                    time.sleep(pause)
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the service died waiting for the answer
                finally:
                    with receiver.changed:
                        receiver.in_flight.remove(post)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def received(self) -> set[str]:
        with self.changed:
            return {url for post in self.posts for url in post.urls}

    def wait_for(self, urls: set[str], timeout: float) -> bool:
        def seen() -> bool:
            return urls <= {url for post in self.posts for url in post.urls}

        with self.changed:
            return self.changed.wait_for(seen, timeout)


@dataclass(frozen=True)
class Kill:
    uptime: float
    moment: str  # starting | crawl | send | crawl+send | idle | exited by itself (code)
    sending: tuple[str, ...]  # webhook-ids of the POSTs it cut short
    outside_group: int  # processes killed that a killpg of the service's group would miss
    survivors: int  # processes of the tree still alive a second after the kill
    note: str = ""  # the last line of the log of a service that exited by itself


def _stat(pid: int) -> list[str] | None:
    """Fields 3… of /proc/PID/stat (state, ppid, pgrp, …), or None when it is gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _is_crawl_worker(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return b"spawn_main" in (Path("/proc") / str(pid) / "cmdline").read_bytes()
    return False


class ServiceRuns:
    """Starts `newswatch run` (its stderr to one log file per run), kills it, stops it."""

    def __init__(self, command: list[str], logs: Path) -> None:
        self.command, self.logs, self.count = command, logs, 0
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> float:
        self.count += 1
        log = (self.logs / f"run-{self.count:02d}.log").open("wb")
        self.started = time.time()
        env = {**os.environ, "BENCH_SECRET": SECRET}
        self.process = subprocess.Popen(
            self.command, stdout=log, stderr=log, env=env, start_new_session=True
        )
        log.close()
        return self.started

    def log_text(self) -> str:
        return (self.logs / f"run-{self.count:02d}.log").read_text(errors="replace")

    def crash(self, receiver: SlowReceiver | None) -> Kill:
        """Freeze the service and its tree, note what it was doing, SIGKILL them all."""
        assert self.process is not None
        pid, uptime = self.process.pid, time.time() - self.started
        if (code := self.process.poll()) is not None:
            last = [line for line in self.log_text().splitlines() if line.strip()][-1:]
            return Kill(uptime, f"exited by itself ({code})", (), 0, 0, "".join(last)[:300])
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGSTOP)
        frozen: set[int] = set()
        while fresh := descendants(pid) - frozen:  # a child may start another meanwhile
            for child in fresh:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGSTOP)
            frozen |= fresh
        sending: tuple[str, ...] = ()
        if receiver:
            with receiver.changed:
                sending = tuple(post.webhook_id for post in receiver.in_flight)
        crawling = any((f := _stat(c)) and int(f[1]) == pid and _is_crawl_worker(c) for c in frozen)
        outside = sum(1 for c in frozen if (f := _stat(c)) and int(f[2]) != pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        for child in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.process.wait()
        time.sleep(1.0)
        survivors = sum(1 for c in frozen if (f := _stat(c)) and f[0] not in ("Z", "X"))
        if "service running" not in self.log_text():
            moment = "starting"
        else:
            moment = {
                (True, True): "crawl+send",
                (True, False): "crawl",
                (False, True): "send",
            }.get((crawling, bool(sending)), "idle")
        return Kill(uptime, moment, sending, outside, survivors)

    def stop(self, timeout: float) -> int | str:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.crash(None)
            return f"none: still running {timeout:g} s after SIGTERM, killed"


@dataclass(frozen=True)
class LastRun:
    deliveries: Counter  # by state when it started ("claimed": pending and claimed)
    pending: frozenset[str]  # published URLs not received when it started
    started: float
    finished: bool  # everything published was received before the timeout
    waited: float
    exit: int | str


def deliveries_now(database: str) -> Counter:
    """Deliveries by state, read while the service is dead."""
    engine = open_engine(database, migrate_schema=False)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT state, claimed_by IS NOT NULL FROM alert_deliveries")
            ).all()
    finally:
        engine.dispose()
    return Counter(
        "claimed" if state == "pending" and claimed else state for state, claimed in rows
    )


def stored(database: str) -> tuple[set[str], int, list[tuple[str, int]], dict[str, str]]:
    """(stored URLs, rows, URLs stored twice, each stored URL's alert state)."""
    engine = open_engine(database, migrate_schema=False)
    try:
        with engine.connect() as connection:
            urls = {row[0] for row in connection.execute(text("SELECT url FROM articles"))}
            rows = connection.execute(text("SELECT count(*) FROM articles")).scalar_one()
            twice = connection.execute(
                text("SELECT url, count(*) FROM articles GROUP BY url HAVING count(*) > 1")
            ).all()
            # one alert per rule and story: an article joining an alerted story has none
            states = connection.execute(
                text(
                    "SELECT a.url, coalesce(d.state || ' after ' || d.attempts || ' attempt(s)'"
                    " || coalesce(': ' || d.last_error, ''), 'no match for its story')"
                    " FROM articles a LEFT JOIN alert_matches m ON m.story_id = a.story_id"
                    " LEFT JOIN alert_deliveries d ON d.match_id = m.id"
                )
            ).all()
    finally:
        engine.dispose()
    return urls, rows, [(url, count) for url, count in twice], dict(states)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--kills", type=int, default=20, help="SIGKILLs, at least 20 [20]")
    add("--seed", type=int, default=1, help="for the kill moments, articles and answers [1]")
    add("--articles", type=int, default=40, help="articles published [40]")
    add("--sources", type=int, default=10, help="RSS sources [10]")
    add("--interval", type=float, default=3.0, help="poll interval in seconds [3]")
    add(
        "--uptime",
        type=float,
        nargs=2,
        default=(1.0, 8.0),
        metavar=("MIN", "MAX"),
        help="seconds from a start to its kill, uniform [1 8]",
    )
    add(
        "--answer",
        type=float,
        nargs=2,
        default=(0.2, 0.5),
        metavar=("MIN", "MAX"),
        help="seconds the receiver takes to answer, uniform [0.2 0.5]",
    )
    add(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds the last run may take to alert everything [120]",
    )
    add("--workers", type=int, default=os.cpu_count() or 2, help="crawl workers [one per core]")
    add("--postgres", metavar="URL", help="an empty PostgreSQL database, instead of SQLite")
    add("--keep", type=Path, metavar="DIR", help="keep config, SQLite file and run logs here")
    args = parser.parse_args()
    if args.kills < 20:
        parser.error("--kills: at least 20")

    rng = random.Random(args.seed)
    site, receiver = FeedSite(args.sources, seed=args.seed), SlowReceiver(*args.answer, args.seed)
    with tempfile.TemporaryDirectory(prefix="newswatch-faults-") as scratch:
        where = args.keep or Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        config = where / "newswatch.toml"
        database = args.postgres or f"sqlite:///{where / 'faults.db'}"
        write_config(config, site, receiver.url, args.interval, args.workers)
        runs = ServiceRuns(
            [
                sys.executable,
                "-m",
                "newswatch",
                "--config",
                str(config),
                "--database",
                database,
                "run",
            ],
            where,
        )
        # each article is published during one run, at a random moment of its uptime
        uptimes = [rng.uniform(*args.uptime) for _ in range(args.kills)]
        plan = [0] * args.kills
        for number in range(args.articles):
            plan[number * args.kills // args.articles] += 1
        published: dict[str, float] = {}
        kills: list[Kill] = []
        starts: list[float] = []
        try:
            for uptime, articles in zip(uptimes, plan, strict=True):
                starts.append(runs.start())
                for moment in sorted(rng.uniform(0, uptime) for _ in range(articles)):
                    time.sleep(max(0.0, starts[-1] + moment - time.time()))
                    path = site.publish(rng.choice(list(site.feeds)), WORD)
                    published[site.url(path)] = time.time()
                time.sleep(max(0.0, starts[-1] + uptime - time.time()))
                kills.append(runs.crash(receiver))
                print(
                    f"kill {len(kills):2d} after {kills[-1].uptime:4.1f} s: {kills[-1].moment}",
                    flush=True,
                )
            deliveries = deliveries_now(database)
            pending = frozenset(published) - receiver.received()
            starts.append(runs.start())
            finished = receiver.wait_for(set(published), args.timeout)
            waited = time.time() - starts[-1]
            last = LastRun(deliveries, pending, starts[-1], finished, waited, runs.stop(60))
        finally:
            if runs.process and runs.process.poll() is None:
                runs.crash(None)
            site.close()
            receiver.server.shutdown()
        report(args, kills, starts, published, receiver.posts, stored(database), last)
        if args.keep:
            print(f"config, database and logs (run-01.log … run-{runs.count:02d}.log) in {where}")


def report(args, kills, starts, published, posts, store, last: LastRun) -> None:
    urls, rows, twice, states = store
    print(
        f"\n{args.kills} kills, {args.sources} sources, poll every {args.interval:g} s, "
        f"receiver answers in {args.answer[0]:g}–{args.answer[1]:g} s, seed {args.seed}"
    )
    moments = Counter(kill.moment for kill in kills)
    labels = {
        "starting": "while starting",
        "crawl": "during a crawl",
        "send": "during a send",
        "crawl+send": "during a crawl and a send",
        "idle": "while idle",
    }
    order = [*labels, *sorted(set(moments) - set(labels))]  # then "exited by itself (…)"
    print("kills landed: " + ", ".join(f"{moments[m]} {labels.get(m, m)}" for m in order))
    for number, kill in enumerate(kills, 1):
        if kill.note:
            print(f"  run {number} {kill.moment} before {kill.uptime:.1f} s: {kill.note}")
    print(
        f"  processes killed outside the service's process group (crawl workers and their "
        f"children): {sum(k.outside_group for k in kills)}; alive a second after a kill: "
        f"{sum(k.survivors for k in kills)}"
    )
    print(
        f"articles: published {len(published)}, stored {len(urls & set(published))} "
        f"({rows} rows in all), stored twice {len(twice)}"
    )
    for url, count in twice[:5]:
        print(f"  stored {count} times: {url}")

    ids: dict[str, list[str]] = {}
    for post in posts:
        for url in post.urls:
            ids.setdefault(url, []).append(post.webhook_id)
    got = [url for url in published if url in ids]
    repeated = [url for url in got if len(ids[url]) > 1]
    same = [url for url in repeated if len(set(ids[url])) < len(ids[url])]
    other = [url for url in repeated if len(set(ids[url])) > 1]
    print(
        f"alerts: expected {len(published)}, received {len(got)} (in {len(posts)} POSTs), "
        f"received twice {len(repeated)} ({sum(len(ids[u]) - 1 for u in repeated)} extra "
        f"copies): with the same webhook-id {len(same)} (resends "
        f"after a crash mid-send), with another webhook-id {len(other)} (double alerts)"
    )
    for url in other[:5]:
        print(f"  double alert: {url} under {', '.join(dict.fromkeys(ids[url]))}")
    for url in [url for url in published if url not in ids][:5]:
        print(f"  never received: {url}: {states.get(url, 'not stored')}")
    resends = []  # restart → the resend of what a kill cut short
    for kill, restart in zip(kills, starts[1:], strict=True):
        for webhook_id in kill.sending:
            again = [p.at for p in posts if p.webhook_id == webhook_id and p.at > restart]
            resends.append(f"{min(again) - restart:.1f} s" if again else "never")
    print(
        f"  {len(resends)} POSTs cut short by a kill; restart → their resend: "
        f"{', '.join(resends) or '—'}"
    )

    queued = ", ".join(f"{n} {state}" for state, n in sorted(last.deliveries.items()))
    print(
        f"at the last restart: {len(last.pending)} published articles not alerted yet; "
        f"deliveries {queued or 'none'} (claimed: pending, held by a killed service)"
    )
    arrivals = [min(p.at for p in posts if url in p.urls) for url in last.pending & set(ids)]
    if not last.pending:
        print("last restart → last pending alert received: nothing was pending")
    else:
        figure = f"{max(arrivals) - last.started:.1f} s" if arrivals else "none arrived"
        if not last.finished:
            missing = len(last.pending - set(ids))
            figure += f" — TIMED OUT after {last.waited:.0f} s, {missing} never received"
        print(f"last restart → last pending alert received: {figure}")
    print(f"last run stopped by SIGTERM: exit status {last.exit}")


if __name__ == "__main__":
    main()
