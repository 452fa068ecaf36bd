"""Crawl throughput on real news pages, against trafilatura extraction alone in the same run.

Builds a loopback site of N real article pages (the shared corpus, made unique per
copy) behind RSS feeds and news sitemaps, serves it from another process, crawls it
into a fresh SQLite database with `newswatch crawl`, and prints articles per second,
CPU seconds, peak RSS, and the single-core extraction rate on the same pages with
the ratio between the two. Prints figures; asserts nothing.

    python bench/crawl.py                    # 2,000 pages, extraction workers = cores
    python bench/crawl.py --workers 0 1 2    # compare in-process and pooled extraction
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import corpus_dir, corpus_pages
from bench.sites import build_site
from crawler.extract import ExtractionError, decode_html, extract_article


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("file server did not start")


def tree(pid: int) -> list[int]:
    """A process and all its descendants, from /proc."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(next(li.split()[1] for li in status.splitlines() if li.startswith("VmRSS")))
    except (OSError, StopIteration, ValueError):
        return 0


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages divided among the processes sharing them."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        return int(next(li.split()[1] for li in rollup.splitlines() if li.startswith("Pss:")))
    except (OSError, StopIteration, ValueError):
        return 0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def extraction_alone(files: list[Path]) -> tuple[float, float]:
    """(pages per second, CPU seconds) of decode + extract on one core."""
    cpu, wall = time.process_time(), time.perf_counter()
    for path in files:
        with contextlib.suppress(ExtractionError):  # a rejected page costs time too
            extract_article(decode_html(path.read_bytes(), None), f"http://bench/{path.name}")
    return len(files) / (time.perf_counter() - wall), time.process_time() - cpu


def write_config(path: Path, sources: list[dict], workers: int) -> None:
    lines = [
        "[crawl]", "delay = 0", "autothrottle = false", "concurrency = 32",
        "per_domain_concurrency = 16", f"extraction_workers = {workers}",
        "max_articles_per_source = 100000", 'timeout = "30s"', "",
    ]  # fmt: skip
    for source in sources:
        lines += [
            "[[sources]]",
            f'name = "{source["name"]}"',
            f'kind = "{source["kind"]}"',
            f'url = "{source["url"]}"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def crawl(config: Path, database: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "newswatch", "-q", "--config", str(config),
         "--database", f"sqlite:///{database}", "crawl"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    peak = peak_pss = 0
    cpu_by_pid: dict[int, float] = {}
    while process.poll() is None:
        pids = tree(process.pid)
        peak = max(peak, sum(rss_kib(pid) for pid in pids))
        peak_pss = max(peak_pss, sum(pss_kib(pid) for pid in pids))
        for pid in pids:
            cpu_by_pid[pid] = max(cpu_by_pid.get(pid, 0.0), cpu_seconds(pid))
        time.sleep(0.1)
    seconds = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        failed = db.execute("SELECT count(*) FROM failures").fetchone()[0]
    return {"stored": stored, "failed": failed, "seconds": seconds, "cpu": cpu,
            "peak_mib": peak / 1024, "peak_pss_mib": peak_pss / 1024, "exit": process.returncode,
            # the crawl process itself (Scrapy, parsing feeds, storing) vs. the rest
            # (extraction workers), as last sampled
            "main_cpu": cpu_by_pid.get(process.pid, 0.0),
            "workers_cpu": sum(c for p, c in cpu_by_pid.items() if p != process.pid)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--outlets", type=int, default=20)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[os.cpu_count() or 1],
        help="extraction worker counts to crawl with (0 = in the crawl process)",
    )  # fmt: skip
    args = parser.parse_args()

    pages = corpus_pages()
    if not pages:
        raise SystemExit(f"corpus not found at {corpus_dir()} (set NEWSWATCH_CORPUS)")
    with tempfile.TemporaryDirectory(prefix="newswatch-bench-") as scratch:
        root = Path(scratch)
        site = root / "site"
        site.mkdir()
        server, base = serve(site)
        try:
            sources = build_site(
                site, pages, base=base, articles=args.articles, outlets=args.outlets
            )
            files = sorted(site.glob("outlet*/*.html"))
            print(f"site: {len(files)} article pages, {len(sources)} sources at {base}")
            print(f"machine: {os.cpu_count()} cores")
            rate, cpu = extraction_alone(files)
            print(f"extraction alone (1 core): {rate:7.1f} pages/s  {cpu:6.1f} CPU s")
            for workers in args.workers:
                config = root / f"bench-{workers}.toml"
                write_config(config, sources, workers)
                result = crawl(config, root / f"bench-{workers}.db")
                speed = result["stored"] / result["seconds"]
                print(
                    f"crawl, {workers} extraction workers: {speed:7.1f} articles/s  "
                    f"{result['stored']} stored, {result['failed']} failed in "
                    f"{result['seconds']:.1f} s  {result['cpu']:6.1f} CPU s "
                    f"({result['cpu'] / result['seconds']:.2f} cores)  "
                    f"peak RSS {result['peak_mib']:.0f} MiB (PSS {result['peak_pss_mib']:.0f})  "
                    f"ratio to extraction alone {speed / rate:.2f}x"
                )
                print(
                    f"    CPU split: crawl process {result['main_cpu']:.1f} s, "
                    f"extraction workers {result['workers_cpu']:.1f} s"
                )
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
