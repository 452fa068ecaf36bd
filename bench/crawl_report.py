"""Print one benchmark crawl's cost per stored article: CPU by stage, rows, commits, bytes,
memory, each beside its target (bench/crawl.py measures them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.crawl_db import Snapshot
from bench.crawl_stages import StageCosts

MIB = 1024 * 1024
PER_DAY = 20_000  # articles a day, for the year's projection
# Targets from the product issue: printed beside the figures, never asserted.
TARGET_RATIO, TARGET_ROWS, TARGET_COMMITS, TARGET_PSS_MB = 1.3, 20, 1, 400


@dataclass
class CrawlResult:
    workers: int
    exit: int
    seconds: float
    cpu: float  # user + sys of the whole process tree (waited-for children included)
    main_cpu: float  # the crawl process alone, as last sampled
    children_cpu: float  # its children (extraction workers), as last sampled
    server_cpu: float | None  # PostgreSQL backends of the database, sampled (a lower bound)
    peak_pss_kib: int
    peak_rss_kib: int
    processes: int
    stored: int
    failed: int
    before: Snapshot
    after: Snapshot
    counts: dict = field(default_factory=dict)  # from bench/crawl_hooks.py
    commits: tuple[int, int] | None = None  # PostgreSQL xact_commit, xact_rollback deltas


@dataclass
class Floor:
    """trafilatura alone on the same pages (bench/crawl_floor.py) and the start-up costs."""

    pages: int
    process_cpu: float  # the whole trafilatura process, interpreter start and import included
    loop_cpu: float  # the pages alone
    startup: dict[str, float] = field(default_factory=dict)  # label -> CPU s


def _ms(seconds: float, articles: int) -> float:
    return 1000 * seconds / max(articles, 1)


def print_stages(costs: StageCosts) -> None:
    n = costs.articles
    print(
        f"stages in one warm process, same pages (CPU ms per stored article; {n} of "
        f"{costs.pages} pages gave an article):"
    )
    groups = (
        ("decode", ()),
        (
            "extraction",
            (
                "trafilatura load_html (parse)",
                "trafilatura bare_extraction",
                "bylines (crawler.bylines)",
                "language (py3langid)",
                "publication time",
                "declared canonical",
            ),
        ),
        ("outbound links", ()),
        ("fingerprint", ("MinHash band keys", "evidence keys")),
        ("article item (canonical URL, hash)", ()),
        (
            "storage",
            (
                "known URL? (by_url)",
                "same text? (content hash)",
                "place: near-duplicate, then related story",
                "new story row",
                "insert article (ORM flush)",
                "index bands + evidence + counts",
                "backlog.forget",
                "commit",
            ),
        ),
    )
    for stage, parts in groups:
        extra = ""
        if stage == "storage" and costs.database_server_cpu is not None:
            extra = f"  + PostgreSQL backend {_ms(costs.database_server_cpu, n):.1f}"
        print(f"    {stage:<46} {_ms(costs.cpu[stage], n):7.2f}{extra}")
        for part in parts:
            print(f"        {part:<42} {_ms(costs.parts[part], n):7.2f}")


def stage_split(result: CrawlResult, costs: StageCosts | None, floor: Floor) -> list[tuple]:
    """(label, ms per stored article) of the crawl's CPU: start-up, the stages, the rest."""
    n = result.stored
    startup = floor.startup.get("empty crawl", 0.0) + result.workers * floor.startup.get(
        "worker start-up", 0.0
    )
    rows = [("start-up (empty crawl + worker start-ups), fixed", _ms(startup, n))]
    if costs is None or not floor.startup:  # not measured (--profile, --no-stages)
        return []
    per = 1000 / max(costs.articles, 1)
    extraction = sum(costs.cpu[k] for k in ("decode", "extraction")) * per
    prints = sum(costs.cpu[k] for k in ("outbound links", "fingerprint")) * per
    item = costs.cpu["article item (canonical URL, hash)"] * per
    storage = costs.cpu["storage"] * per
    rows += [
        ("extraction (decode + extract_article)", extraction),
        ("fingerprints (outbound links + fingerprint)", prints),
        ("article item", item),
        ("storage (placement.add_article)", storage),
    ]
    rest = _ms(result.cpu, n) - sum(ms for _, ms in rows)
    rows.append(("fetch + Scrapy + spider SQL + rest (remainder)", rest))
    return rows


def print_crawl(result: CrawlResult, costs: StageCosts | None, floor: Floor, rate: float) -> None:
    n = result.stored
    speed = n / result.seconds
    print(
        f"crawl, {result.workers} extraction workers: {speed:7.1f} articles/s  "
        f"{n} stored, {result.failed} failed in {result.seconds:.1f} s  "
        f"{result.cpu:6.1f} CPU s ({result.cpu / result.seconds:.2f} cores)  "
        f"peak RSS {result.peak_rss_kib / 1024:.0f} MiB (PSS {result.peak_pss_kib / 1024:.0f})  "
        f"ratio to extraction alone {speed / rate:.2f}x"
        + (f"  EXIT {result.exit}" if result.exit else "")
    )
    print(
        f"    CPU split: crawl process {result.main_cpu:.1f} s, "
        f"extraction workers {result.children_cpu:.1f} s"
    )
    floor_ms = _ms(floor.process_cpu, floor.pages)
    ratio = result.cpu / floor.process_cpu
    print(
        f"    CPU per stored article {_ms(result.cpu, n):.1f} ms (process tree, start-up "
        f"included) vs trafilatura alone {floor_ms:.1f} ms per page: "
        f"{ratio:.2f}x the floor's whole CPU on the same pages "
        f"[target <= {TARGET_RATIO}x]"
    )
    for label, ms in stage_split(result, costs, floor):
        print(f"        {label:<52} {ms:7.1f}")
    if result.server_cpu is not None:
        print(
            f"        {'+ PostgreSQL backends (sampled, outside the tree)':<52} "
            f"{_ms(result.server_cpu, n):7.1f}"
        )
    _print_database(result)
    print(
        f"    memory: peak PSS of the process tree {result.peak_pss_kib / 1024:.0f} MiB "
        f"[target <= {TARGET_PSS_MB} MB], peak RSS sum {result.peak_rss_kib / 1024:.0f} MiB, "
        f"up to {result.processes} processes"
    )


def _print_database(result: CrawlResult) -> None:
    n = max(result.stored, 1)
    before, after = result.before, result.after
    tables = sorted(set(after.rows) | set(before.rows))
    added = {t: after.rows.get(t, 0) - before.rows.get(t, 0) for t in tables}
    written: dict[str, dict[str, int]] = {t: {} for t in tables}
    for key, count in result.counts.get("rows", {}).items():
        verb, table = key.split(" ", 1)
        written.setdefault(table, {})[verb] = count
    gross = sum(sum(v.values()) for v in written.values())
    print(
        f"    rows: {sum(added.values())} more in the database = "
        f"{sum(added.values()) / n:.1f} per stored article [target <= {TARGET_ROWS}]; "
        f"written (insert + update + delete, as the driver reported): "
        f"{gross / n:.1f}"
    )
    commits = result.counts.get("commits", 0)
    line = (
        f"    commits: {commits / n:.2f} per stored article by SQLAlchemy "
        f"[target <= {TARGET_COMMITS}]"
    )
    if result.commits is not None:
        done, rolled = result.commits
        line += f"; PostgreSQL xact_commit {done / n:.2f}, xact_rollback {rolled / n:.2f}"
    else:
        line += (
            f"; SQLite COMMITs (transactions that wrote) "
            f"{result.counts.get('sqlite_commits', 0) / n:.2f}"
        )
    print(
        line + f"; statements {result.counts.get('statements', 0) / n:.1f}, pool checkouts "
        f"{result.counts.get('checkouts', 0) / n:.2f}"
    )
    data = {t: after.data_bytes.get(t, 0) - before.data_bytes.get(t, 0) for t in tables}
    index = {t: after.index_bytes.get(t, 0) - before.index_bytes.get(t, 0) for t in tables}
    total = after.total_bytes - before.total_bytes
    source = (
        "pg_stat_user_tables"
        if after.tuples
        else (
            "the driver's row counts: an upsert's updates count as inserts, rows written by "
            "triggers (FTS) are not seen"
        )
    )
    print(
        f"    largest tables (rows/art: more rows in the table; ins/upd/del per article from "
        f"{source}):"
    )
    print(
        f"    {'table':<22} {'rows/art':>8} {'ins/art':>8} {'upd/art':>8} {'del/art':>8} "
        f"{'data B/art':>10} {'index B/art':>11}"
    )
    for table in sorted(tables, key=lambda t: (-added[t], -(data[t] + index[t])))[:12]:
        got = written.get(table, {})
        pg = after.tuples.get(table)
        if pg:  # PostgreSQL's own counts of rows written, where it has them
            old = before.tuples.get(table, (0, 0, 0))
            delta = (now - then for now, then in zip(pg, old, strict=True))
            got = dict(zip(("insert", "update", "delete"), delta, strict=True))
        print(
            f"    {table:<22} {added[table] / n:8.1f} {got.get('insert', 0) / n:8.1f} "
            f"{got.get('update', 0) / n:8.1f} {got.get('delete', 0) / n:8.1f} "
            f"{data[table] / n:10.0f} {index[table] / n:11.0f}"
        )
    per = total / n
    year = per * PER_DAY * 365
    print(
        f"    bytes: {total / MIB:.1f} MiB more = {per / 1024:.1f} KiB per stored article "
        f"(tables {sum(data.values()) / n / 1024:.1f} KiB, indexes "
        f"{sum(index.values()) / n / 1024:.1f} KiB); a year at {PER_DAY:,} a day: "
        f"{year / 1e9:.0f} GB, "
        f"{sum(added.values()) / n * PER_DAY * 365 / 1e6:.0f} M rows"
    )
