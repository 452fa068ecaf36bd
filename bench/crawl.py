"""Crawl throughput and cost per stored article, per stage, against trafilatura alone.

Builds a loopback site of N real article pages (the shared corpus, made unique per
copy) behind RSS feeds and news sitemaps, serves it from another process, crawls it
into a fresh SQLite or PostgreSQL database with `newswatch crawl`, and prints:
articles per second; CPU of the whole process tree per stored article, split into
start-up, extraction, fingerprints, storage (measured in this process on the same
pages) and fetch + Scrapy + the rest (what remains); the ratio to trafilatura alone
on the same pages; rows, commits, statements and bytes per stored article, with the
largest tables and a year's projection; peak PSS and RSS of the process tree.
With --profile, one crawl runs under cProfile with extraction in the crawl process, and
the top functions, stages and libraries are printed in ms per article.
Prints figures and the targets beside them; asserts nothing.

    python bench/crawl.py                          # 2,000 pages, extraction workers = cores
    python bench/crawl.py --pages 300 --database postgresql
    python bench/crawl.py --workers 0 1 2          # compare in-process and pooled extraction
    python bench/crawl.py --pages 300 --profile    # where the CPU goes
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from bench import crawl_profile, crawl_stages
from bench.corpus import corpus_dir, corpus_pages
from bench.crawl_db import BenchDatabase, fresh_database
from bench.crawl_floor import trafilatura_alone
from bench.crawl_report import PER_DAY, CrawlResult, Floor, print_crawl, print_stages
from bench.proctree import TreeSampler, cpu_seconds, pss_kib, rss_kib, tree  # noqa: F401 (*)
from bench.sites import build_site
from crawler.extract import ExtractionError, decode_html, extract_article

# (*) cpu_seconds, pss_kib, rss_kib and tree lived here; bench/cluster.py imports them from here.
ROOT = Path(__file__).resolve().parents[1]
# The crawl runs through bench/crawl_hooks.py, which counts its database traffic.
HOOKS = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from bench.crawl_hooks import run; run()"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("file server did not start")


def extraction_alone(files: list[Path]) -> tuple[float, float]:
    """(pages per second, CPU seconds) of decode + extract on one core."""
    cpu, wall = time.process_time(), time.perf_counter()
    for path in files:
        with contextlib.suppress(ExtractionError):  # a rejected page costs time too
            extract_article(decode_html(path.read_bytes(), None), f"http://bench/{path.name}")
    return len(files) / (time.perf_counter() - wall), time.process_time() - cpu


def write_config(path: Path, sources: list[dict], workers: int) -> None:
    lines = [
        "[crawl]",
        "delay = 0",
        "autothrottle = false",
        "concurrency = 32",
        "per_domain_concurrency = 16",
        f"extraction_workers = {workers}",
        "max_articles_per_source = 100000",
        'timeout = "30s"',
        "",
        "[evidence]",  # every page kept: the upper bound of what evidence costs
        'keep = "all"',
        "",
    ]
    for source in sources:
        lines += [
            "[[sources]]",
            f'name = "{source["name"]}"',
            f'kind = "{source["kind"]}"',
            f'url = "{source["url"]}"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_empty_feed(site: Path, base: str) -> list[dict]:
    """One source whose feed lists nothing: a crawl of it costs start-up alone."""
    (site / "empty").mkdir(exist_ok=True)
    (site / "empty" / "rss.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>empty</title></channel></rss>",
        encoding="utf-8",
    )
    return [{"name": "empty", "kind": "feed", "url": f"{base}/empty/rss.xml"}]


def children_cpu(command: list[str]) -> float:
    """User + system CPU of a command run to its end (its waited-for children included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def crawl_command(config: Path, database: BenchDatabase, counts: Path, profile: Path | None):
    return [
        sys.executable,
        "-c",
        HOOKS,
        str(counts),
        str(profile or "-"),
        "--",
        "-q",
        "--config",
        str(config),
        "--database",
        database.url,
        "crawl",
    ]


def crawl(
    config: Path, database: BenchDatabase, workers: int, scratch: Path, profile: Path | None = None
) -> CrawlResult:
    before = database.contents()
    commits_before = database.commit_counters()  # after our own reading, which it counts
    counts = scratch / f"counts-{database.name.rsplit('/', 1)[-1]}.json"
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    process = subprocess.Popen(
        crawl_command(config, database, counts, profile), stdout=subprocess.DEVNULL
    )
    with TreeSampler(process.pid, others=database.backends) as sampler:
        process.wait()
    seconds = time.perf_counter() - wall
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    commits_after = database.commit_counters()  # before reading, which would count
    after = database.contents()
    stored, failed = database.stored_and_failed()
    commits = None
    if commits_before is not None and commits_after is not None:
        commits = (commits_after[0] - commits_before[0], commits_after[1] - commits_before[1])
    return CrawlResult(
        workers=workers,
        exit=process.returncode,
        seconds=seconds,
        # Waited-for children count in full; extraction workers forked by the forkserver are
        # never waited for by the crawl, so only the sampler sees them (less its last 0.1 s).
        cpu=max(
            (used.ru_utime - usage.ru_utime) + (used.ru_stime - usage.ru_stime),
            sampler.main_cpu + sampler.children_cpu,
        ),
        main_cpu=sampler.main_cpu,
        children_cpu=sampler.children_cpu,
        server_cpu=sampler.others_cpu if database.kind == "postgresql" else None,
        peak_pss_kib=sampler.peak_pss_kib,
        peak_rss_kib=sampler.peak_rss_kib,
        processes=sampler.peak_processes,
        stored=stored,
        failed=failed,
        before=before,
        after=after,
        commits=commits,
        counts=json.loads(counts.read_text()) if counts.exists() else {},
    )


def startup_costs(
    site: Path, base: str, root: Path, kind: str, workers: int, first: Path
) -> dict[str, float]:
    """CPU of a crawl that finds nothing, and of an extraction worker's start-up: its
    imports and its first page (lazy loading of models and tables)."""
    python = [sys.executable, "-c"]
    first_page = (
        "from pathlib import Path; from crawler.fingerprints import extract_and_fingerprint; "
        "from crawler.items import ArticlePage; "
        f"body = Path({str(first)!r}).read_bytes(); "
        "url = 'http://bench/a'; page = ArticlePage('s', url, url, url, body, None); "
        "extract_and_fingerprint(page)"
    )
    costs = {
        "import crawler.run": children_cpu([*python, "import crawler.run"]),
        "worker start-up": children_cpu([*python, first_page]),
    }
    config = root / "empty.toml"
    write_config(config, write_empty_feed(site, base), workers)
    with fresh_database(kind, root, "empty") as database:
        counts = root / "counts-empty.json"
        costs["empty crawl"] = children_cpu(crawl_command(config, database, counts, None))
    return costs


def page_sizes(files: list[Path]) -> str:
    raw = [path.read_bytes() for path in files]
    packed = sum(len(zlib.compress(page, 6)) for page in raw)
    return (
        f"{sum(map(len, raw)) / len(raw) / 1024:.0f} KiB, {packed / len(raw) / 1024:.0f} "
        "KiB compressed (zlib 6)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--articles",
        "--pages",
        dest="articles",
        type=int,
        default=2000,
        help="article pages on the site [default: 2000]",
    )
    parser.add_argument("--outlets", type=int, default=20)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[os.cpu_count() or 1],
        help="extraction worker counts to crawl with (0 = in the crawl process)",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="where the crawl stores (PostgreSQL: a database created and "
        "dropped at $NEWSWATCH_BENCH_POSTGRES's server) "
        "[default: sqlite]",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="crawl once under cProfile, extraction in the crawl process, "
        "and print where the time goes",
    )
    parser.add_argument(
        "--profile-out",
        type=Path,
        metavar="FILE",
        help="with --profile: keep the cProfile data in FILE",
    )
    parser.add_argument(
        "--no-stages",
        action="store_true",
        help="skip the in-process stage and start-up measurements",
    )
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
            print(
                f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
                f"(other work on the machine slows wall-clock figures; CPU figures hold "
                f"better); database: {args.database}"
            )
            print(
                f"pages: mean {page_sizes(files)}; the schema keeps the extracted text and "
                "metadata, and each page zlib-compressed as evidence (page_captures)"
            )
            rate, cpu = extraction_alone(files)
            print(f"extraction alone (1 core): {rate:7.1f} pages/s  {cpu:6.1f} CPU s")
            floor_run = trafilatura_alone(files, base, site)
            floor = Floor(len(files), floor_run["process_cpu"], floor_run["loop_cpu"])
            print(
                f"trafilatura alone (1 core, own process, bare_extraction with its defaults): "
                f"{floor_run['extracted']} of {len(files)} pages with text, "
                f"{floor.process_cpu:.1f} CPU s = {floor.process_cpu - floor.loop_cpu:.1f} "
                f"start-up and import + {floor.loop_cpu:.1f} pages "
                f"({1000 * floor.loop_cpu / len(files):.1f} ms/page)"
            )
            if args.profile:
                profile(args, sources, site, root, floor, rate)
                return
            costs = None
            if not args.no_stages:
                floor.startup = startup_costs(
                    site, base, root, args.database, max(args.workers), files[0]
                )
                print(
                    "start-up CPU: "
                    + "; ".join(
                        f"{label} {seconds:.2f} s" for label, seconds in floor.startup.items()
                    )
                    + " (worker start-up: its imports and first page, once per worker)"
                )
                with fresh_database(args.database, root, "stages") as database:
                    costs = crawl_stages.measure(files, site, base, database)
                print_stages(costs)
            for workers in args.workers:
                config = root / f"bench-{workers}.toml"
                write_config(config, sources, workers)
                with fresh_database(args.database, root, f"bench-{workers}") as database:
                    result = crawl(config, database, workers, root)
                    print_crawl(result, costs, floor, rate)
                    print_evidence(database, result)
                    print(
                        f"    text: {database.mean_text_chars():.0f} characters per article; "
                        f"load average after the crawl {os.getloadavg()[0]:.1f}"
                    )
        finally:
            server.terminate()
            server.wait()


def print_evidence(database: BenchDatabase, result: CrawlResult) -> None:
    """What keeping every page as evidence costs: page_captures' share of the bytes."""
    engine = database.engine()
    try:
        with engine.connect() as connection:
            count, raw, packed = connection.execute(
                text("SELECT count(*), sum(body_size), sum(length(body)) FROM page_captures")
            ).one()
    finally:
        engine.dispose()
    n = max(result.stored, 1)
    table = "page_captures"
    data = result.after.data_bytes.get(table, 0) - result.before.data_bytes.get(table, 0)
    index = result.after.index_bytes.get(table, 0) - result.before.index_bytes.get(table, 0)
    total = result.after.total_bytes - result.before.total_bytes
    share = (data + index) / total if total else 0.0
    year = (data + index) / n * PER_DAY * 365
    print(
        f'    evidence ([evidence] keep = "all"): {count} pages kept; bodies '
        f"{(raw or 0) / n / 1024:.1f} KiB raw -> {(packed or 0) / n / 1024:.1f} KiB zlib per "
        f"article (ratio {(raw or 0) / max(packed or 1, 1):.1f}); page_captures "
        f"{(data + index) / n / 1024:.1f} KiB per article = {share:.0%} of the bytes; a year at "
        f"{PER_DAY:,} a day: {year / 1e9:.0f} GB of evidence, "
        f"{(total / n * PER_DAY * 365 - year) / 1e9:.0f} GB without it"
    )


def profile(args, sources: list[dict], site: Path, root: Path, floor: Floor, rate: float) -> None:
    """One crawl under cProfile, extraction in the crawl process so all of it is seen, after
    the same crawl without the profiler (its CPU is what the profile is scaled to)."""
    config = root / "bench-profile.toml"
    write_config(config, sources, 0)
    with fresh_database(args.database, root, "plain") as database:
        plain = crawl(config, database, 0, root)
    print("without the profiler, extraction in the crawl process:")
    print_crawl(plain, None, floor, rate)
    out = args.profile_out or root / "crawl.prof"
    with fresh_database(args.database, root, "profile") as database:
        result = crawl(config, database, 0, root, profile=out)
    print(
        f"under cProfile: {result.stored} stored in {result.seconds:.1f} s, "
        f"{result.cpu:.1f} CPU s (without: {plain.cpu:.1f})"
    )
    unprofiled = plain.cpu * result.stored / max(plain.stored, 1)
    crawl_profile.report(str(out), result.stored, unprofiled)
    trafilatura_ms = 1000 * floor.loop_cpu / floor.pages
    print(f"\n  for scale: trafilatura alone, not profiled, {trafilatura_ms:.1f} ms per page")


if __name__ == "__main__":
    main()
