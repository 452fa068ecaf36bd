"""Read a crawl's cProfile: top functions, CPU by stage and by library, in ms per article.

bench/crawl_hooks.py profiles the crawl's main thread with its CPU clock, so waiting (for
the network, a database server, the processor on a busy machine) is not counted. Stages
are the cumulative time of their entry points (cProfile counts a recursive function
once). The library table splits all time with none counted twice: each function's own
time goes to the library its file belongs to, and the own time of the standard library,
built-ins (an lxml or sqlite3 method, a regex) and lxml's Python side to the library that
called them.
"""

from __future__ import annotations

import pstats
from collections import Counter

# (label, file suffix, function name, only calls from files ending so); indented rows are
# inside the row above them
STAGES = (
    ("whole crawl process", None, None, None),
    (
        "extract pipeline (decode, extract, fingerprint, item)",
        "crawler/pipelines/extract.py",
        "process_item",
        None,
    ),
    ("  extract_and_fingerprint", "crawler/fingerprints.py", "extract_and_fingerprint", None),
    ("    decode_html", "crawler/extract.py", "decode_html", None),
    ("    extract_document", "crawler/extract.py", "extract_document", None),
    (
        "      of which trafilatura load_html",
        "trafilatura/utils.py",
        "load_html",
        "/crawler/extract.py",
    ),
    ("      of which trafilatura bare_extraction", "trafilatura/core.py", "bare_extraction", None),
    ("      of which bylines page_authors", "crawler/bylines.py", "page_authors", None),
    ("      of which language (py3langid)", "crawler/extract.py", "_language", None),
    (
        "    outbound_links (from the parsed tree)",
        "crawler/fingerprints.py",
        "outbound_links",
        None,
    ),
    ("    fingerprint", "crawler/fingerprints.py", "fingerprint", None),
    ("      of which MinHash band keys", "crawler/dedupe.py", "text_band_keys", None),
    ("      of which evidence", "crawler/evidence.py", "evidence", None),
    ("store pipeline", "crawler/pipelines/store.py", "process_item", None),
    ("  placement.add_article", "crawler/placement.py", "add_article", None),
    ("    place (near-duplicate, related)", "crawler/placement.py", "place", None),
    ("    articles.insert", "crawler/storage/articles.py", "insert", None),
    ("    stories.index", "crawler/storage/stories.py", "index", None),
    ("    Session.commit (its commits)", "sqlalchemy/orm/session.py", "commit", "/crawler/"),
    ("spider: read feeds and sitemaps", "crawler/spiders/news.py", "_read_index", None),
    (
        "spider: which links are new, backlog (SQL)",
        "crawler/spiders/news.py",
        "_article_requests",
        None,
    ),
    ("spider: parse_article", "crawler/spiders/news.py", "parse_article", None),
    ("all SQL statements (cursor execute)", "sqlalchemy/engine/default.py", "do_execute", None),
    ("all SQL executemany", "sqlalchemy/engine/default.py", "do_executemany", None),
    ("imports (all, start-up and lazy)", "<frozen importlib._bootstrap>", "_find_and_load", None),
)

LIBRARIES = (
    (
        "trafilatura (+htmldate, courlan, justext)",
        ("/trafilatura/", "/htmldate/", "/courlan/", "/justext/"),
    ),
    ("scrapy", ("/scrapy/",)),
    ("twisted", ("/twisted/",)),
    ("sqlalchemy (+driver calls)", ("/sqlalchemy/",)),
    ("psycopg", ("/psycopg/",)),
    ("alembic", ("/alembic/",)),
    ("parsel, w3lib, cssselect", ("/parsel/", "/w3lib/", "/cssselect/")),
    ("py3langid, numpy", ("/py3langid/", "/numpy/")),
    ("charset_normalizer", ("/charset_normalizer/",)),
    ("feedparser", ("/feedparser/",)),
    ("import machinery", ("<frozen importlib._bootstrap",)),
)


def library(filename: str) -> str | None:
    """The library a function's file belongs to; None for the standard library, built-ins
    and lxml's Python side (its element class lookup runs for every element a caller
    touches), whose time is charged to whoever called them."""
    if "/lxml/" in filename:
        return None
    for marker in ("/crawler/", "/newswatch/", "/alerts/"):
        if marker in filename:
            return marker.strip("/") + "/" + filename.split(marker, 1)[1]
    for label, markers in LIBRARIES:
        if any(marker in filename for marker in markers):
            return label
    if "/site-packages/" in filename:
        return "other: " + filename.split("/site-packages/", 1)[1].split("/", 1)[0]
    return None


def _find(stats: dict, suffix: str, name: str, caller: str | None = None) -> float:
    """Cumulative time of the functions `name` in files ending with `suffix` (only of their
    calls from files whose path holds `caller`, when given)."""
    total = 0.0
    for (filename, _line, function), values in stats.items():
        if function != name or not filename.endswith(suffix):
            continue
        if caller is None:
            total += values[3]
        else:
            total += sum(edge[3] for key, edge in values[4].items() if caller in key[0])
    return total


def by_library(stats: dict) -> Counter[str]:
    """Own time per library; the standard library's and built-ins' own time is charged to
    the library calling them: exactly one level up (cProfile splits own time per caller),
    in proportion to cumulative time beyond that."""
    memo: dict[tuple, Counter[str]] = {}
    walking: set[tuple] = set()

    def origin(func: tuple) -> Counter[str]:
        """Which libraries `func`'s cumulative time comes from, as fractions. A caller
        already being walked (recursion: deepcopy, the regex parser) is skipped."""
        area = library(func[0])
        if area is not None:
            return Counter({area: 1.0})
        if func in memo:
            return memo[func]
        walking.add(func)
        edges = [
            (caller, edge[3]) for caller, edge in stats[func][4].items() if caller not in walking
        ]
        total = sum(weight for _, weight in edges)
        found: Counter[str] = Counter()
        for caller, weight in edges:
            for name, fraction in origin(caller).items():
                found[name] += fraction * weight / total if total > 0 else 0.0
        walking.discard(func)
        memo[func] = found or Counter({"the outermost call": 1.0})
        return memo[func]

    spent: Counter[str] = Counter()
    for func, (_cc, _nc, own, _cum, callers) in stats.items():
        if _waits(func):
            continue
        area = library(func[0])
        if area is not None:
            spent[area] += own
            continue
        charged = 0.0
        for caller, edge in callers.items():
            for name, fraction in origin(caller).items():
                spent[name] += edge[2] * fraction
            charged += edge[2]
        spent["the outermost call"] += max(own - charged, 0.0)
    return spent


def _where(key: tuple) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    for marker in ("/site-packages/", "/main/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    return f"{filename}:{line} {name}"


def _waits(func: tuple) -> bool:
    """The event loop's poll: its own time is idle waiting, not work (with a wall clock)."""
    return "select.epoll" in func[2]


def _idle(stats: dict) -> float:
    return sum(values[2] for key, values in stats.items() if _waits(key))


def report(path: str, articles: int, unprofiled_cpu: float | None, top: int = 25) -> None:
    """Print the profile of a crawl that stored `articles`.

    `unprofiled_cpu`: the same crawl's CPU without the profiler; each figure is then also
    shown scaled to it (≈ms), assuming the profiler slowed everything alike (it slows
    Python code more than C: read the scaled figures as estimates).
    """
    loaded = pstats.Stats(path)
    stats = loaded.stats  # type: ignore[attr-defined]
    idle = _idle(stats)
    busy = loaded.total_tt - idle  # type: ignore[attr-defined]
    per = 1000 / max(articles, 1)
    scale = unprofiled_cpu / busy if unprofiled_cpu else 1.0

    def line(seconds: float, rest: str) -> None:
        print(
            f"  {seconds * per:8.2f} {seconds * per * scale:7.2f} {100 * seconds / busy:5.1f}  "
            f"{rest}"
        )

    print(
        f"\nprofile of the crawl's main thread: {busy:.1f} CPU s (less {idle:.1f} s in "
        f"epoll), {articles} stored. Columns: ms per stored article "
        f"under cProfile; the same scaled to the unprofiled crawl's CPU (x{scale:.2f}); "
        "% of the busy time"
    )
    header = f"  {'ms/art':>8} {'≈ms':>7} {'%':>5}"
    for title, column in (("cumulative", 3), ("own time (tottime)", 2)):
        print(f"\n  top {top} by {title}:\n{header} {'calls':>9}  function")
        ranked = sorted(stats.items(), key=lambda item: item[1][column], reverse=True)[:top]
        for key, values in ranked:
            line(values[column], f"{values[1]:9d}  {_where(key)}")
    print(f"\n  top {top} in the project's own code (crawler/, newswatch/) by cumulative:")
    print(f"{header} {'calls':>9}  function (own time, ms/art under cProfile)")
    ours = [
        item
        for item in stats.items()
        if (library(item[0][0]) or "").startswith(("crawler/", "newswatch/"))
    ]
    for key, values in sorted(ours, key=lambda item: item[1][3], reverse=True)[:top]:
        line(values[3], f"{values[1]:9d}  {_where(key)} (own {values[2] * per:.2f})")
    print(f"\n  by stage (cumulative time of the entry point):\n{header}")
    trafilatura = _find(stats, "trafilatura/core.py", "bare_extraction") + _find(
        stats, "trafilatura/utils.py", "load_html", "/crawler/extract.py"
    )
    for label, suffix, name, caller in STAGES:
        line(busy if suffix is None else _find(stats, suffix, name, caller), label)
    line(busy - trafilatura, "beyond trafilatura (busy time less load_html, bare_extraction)")
    print(
        f"\n  own time by library (that of the standard library, built-ins and lxml's Python "
        f"side charged to the library calling them):\n{header}"
    )
    for area, seconds in by_library(stats).most_common(30):
        if seconds * per >= 0.05:
            line(seconds, area)
