"""CPU the service spends per poll: long-lived crawl workers against a fresh process per crawl.

Runs `newswatch run` twice against the same kind of loopback site (N RSS sources, one
article published every second into a random one), each time for the same duration: once
with `crawls_per_worker = 1` (a new crawl process for every batch, the baseline) and once
with the default (workers crawl batch after batch). Prints, for each, the polls and
articles stored, the CPU of the whole process tree (service, crawl workers, extraction
processes) per poll and per stored article, the ratio of the two, and the tree's PSS early
on and at the end (what a long-lived worker accumulates). Prints figures; asserts nothing.

    python bench/service_cpu.py                  # 10 sources, 5 s interval, 60 s each
    python bench/service_cpu.py --seconds 120 --sources 20
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loopback_feeds import FeedSite, service_config
from bench.proctree import pss_kib, tree

NEWSWATCH = [sys.executable, "-m", "newswatch", "-q"]


@dataclass(frozen=True)
class Run:
    label: str
    polls: int
    stored: int
    cpu: float  # seconds, the service's process tree
    pss_mib: list[float]  # PSS of the service's process tree, sampled every second


def write_config(path: Path, site: FeedSite, interval: float, per_worker: int) -> None:
    lines = [*service_config(interval, workers=2), f"crawls_per_worker = {per_worker}"]
    for source in site.sources():
        lines += ["", "[[sources]]", *(f"{k} = {json.dumps(v)}" for k, v in source.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def tree_cpu() -> float:
    """CPU of every waited-for descendant so far: the service and all it reaped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_service(label: str, per_worker: int, args: argparse.Namespace) -> Run:
    site = FeedSite(args.sources)
    stop = threading.Event()

    def publish() -> None:
        rng = random.Random(7)
        while not stop.wait(1.0):
            site.publish(rng.choice(sorted(site.feeds)))

    try:
        with tempfile.TemporaryDirectory(prefix="newswatch-bench-") as scratch:
            config, database = Path(scratch) / "newswatch.toml", Path(scratch) / "bench.db"
            write_config(config, site, args.interval, per_worker)
            before = tree_cpu()
            service = subprocess.Popen(
                [*NEWSWATCH, "--config", str(config), "--database", f"sqlite:///{database}", "run"],
            )
            publisher = threading.Thread(target=publish, daemon=True)
            publisher.start()
            memory = []
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                memory.append(sum(pss_kib(pid) for pid in tree(service.pid)) / 1024)
                time.sleep(1.0)
            stop.set()
            service.send_signal(signal.SIGTERM)
            service.wait()
            cpu = tree_cpu() - before
            with sqlite3.connect(database) as connection:
                polls = connection.execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
                stored = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        stop.set()
        site.close()
    return Run(label, polls, stored, cpu, memory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=10)
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, seconds")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each run lasts")
    args = parser.parse_args()
    runs = [
        run_service("a fresh process per crawl (crawls_per_worker = 1)", 1, args),
        run_service("long-lived workers (crawls_per_worker = 100)", 100, args),
    ]
    print(
        f"{args.sources} sources polled every {args.interval:g} s, one article a second, "
        f"{args.seconds:g} s per run, 2 crawl workers with 1 extraction process each"
    )
    for run in runs:
        print(
            f"  {run.label:<52} {run.polls:5d} polls {run.stored:5d} stored  "
            f"{run.cpu:6.1f} CPU s = {1000 * run.cpu / max(run.polls, 1):6.1f} ms per poll, "
            f"{1000 * run.cpu / max(run.stored, 1):6.1f} ms per stored article"
        )
        # After the first polls (start-up, the first crawl of every feed) against the end:
        # what long-lived workers keep growing, if anything.
        tenth = max(len(run.pss_mib) // 10, 1)
        early = run.pss_mib[tenth : 2 * tenth] or run.pss_mib
        print(
            f"  {'':<52} PSS of the tree: peak {max(run.pss_mib, default=0):.0f} MiB, "
            f"{sum(early) / len(early):.0f} MiB early on, "
            f"{sum(run.pss_mib[-tenth:]) / tenth:.0f} MiB at the end"
        )
    baseline, long_lived = runs
    per_poll = (baseline.cpu / max(baseline.polls, 1)) / (long_lived.cpu / max(long_lived.polls, 1))
    print(f"  CPU per poll, fresh process / long-lived: {per_poll:.2f}x")


if __name__ == "__main__":
    main()
