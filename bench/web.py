"""Web layer cost on a large archive: pages, search and Atom feeds against the same SQL.

Fills a fresh SQLite database (migrated, so the FTS5 triggers index every row) with
N synthetic articles in five languages, serves the web app from another process with
uvicorn on loopback, and prints p50/p95 response times of the feed page (first and a deep
keyset page), searches (a rare word, a common word, a prefix) and Atom feeds, side by side
with the same queries run directly through sqlite3. The ratio is what the web layer
(SQLAlchemy, rendering, HTTP) costs on top of the query. Prints figures; asserts nothing.

    .venv/bin/python bench/web.py            # 100,000 articles, 100 requests per case
    .venv/bin/python bench/web.py --quick    # 10,000 articles, 30 requests per case
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = {
    "nl": "de het een en van in op met voor dat niet werd door politie rechter onderzoek "
    "verdachten haven drugs smokkel minister stad regering bende arrestatie".split(),
    "fr": "le la les et de des un une dans sur avec pour que police juge enquête suspects "
    "port drogue trafic ministre ville gouvernement réseau arrestation sûreté".split(),
    "de": "der die das und von in auf mit für dass nicht Polizei Richter Ermittlung "
    "Verdächtige Hafen Drogen Schmuggel Minister Stadt Regierung Bande Festnahme".split(),
    "en": "the a and of in on with for that not police judge inquiry suspects port drugs "
    "smuggling minister city government gang arrest cooperation".split(),
    "ar": "في من على إلى الشرطة القاضي التحقيق المشتبه الميناء المخدرات التهريب الوزير "
    "المدينة الحكومة العصابة اعتقال التعاون الأمني المغرب بلجيكا".split(),
}
RARE, COMMON, PREFIX = "Mocromaffia", "Antwerpen", "Aktions*"
T0 = datetime(2026, 9, 1, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """A UTC time as SQLAlchemy stores it in SQLite (the same text sorts and compares)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def text_for(rng: random.Random, language: str) -> str:
    """150 to 400 words in sentences of 6 to 25, with the searched words at known rates."""
    words = [rng.choice(WORDS[language]) for _ in range(rng.randint(150, 400))]
    if rng.random() < 0.005:  # rare: about 1 article in 200
        words.insert(rng.randrange(len(words)), RARE)
    if rng.random() < 0.2:  # common: 1 in 5
        words.insert(rng.randrange(len(words)), COMMON)
    if rng.random() < 0.03:
        words.insert(rng.randrange(len(words)), rng.choice(["Aktionsplan", "Aktionstag"]))
    sentences, start = [], 0
    while start < len(words):
        end = start + rng.randint(6, 25)
        sentences.append(" ".join(words[start:end]).capitalize() + ".")
        start = end
    return " ".join(sentences)


def fill(path: Path, count: int, seed: int = 1) -> float:
    """Migrate a new database and bulk-insert `count` articles; returns seconds taken."""
    from crawler.storage.engine import open_engine

    open_engine(f"sqlite:///{path}").dispose()  # the schema, FTS table and triggers
    rng = random.Random(seed)
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    languages = list(WORDS)
    for number in range(20):
        tags = f'["topic-{number % 4}", "{languages[number % 5]}"]'
        db.execute(
            "INSERT INTO sources (id, name, kind, url, language, tags, "
            "consecutive_failures, created_at) VALUES (?, ?, 'feed', ?, ?, ?, 0, ?)",
            (
                number + 1,
                f"source-{number}",
                f"https://s{number}.example/feed",
                languages[number % 5],
                tags,
                stamp(T0),
            ),
        )
    batch, newest = [], 0
    for number in range(1, count + 1):
        source = rng.randrange(20)
        language = languages[source % 5]
        # about one article in ten joins the story of a recent one
        joins = number > 10 and rng.random() < 0.1
        if joins:
            story = rng.randint(max(1, newest - 50), newest)
        else:
            newest = story = newest + 1
        when = stamp(T0 + timedelta(seconds=number * 50 + rng.randint(0, 40)))
        body = text_for(rng, language)
        batch.append(
            (
                number,
                source + 1,
                f"https://s{source}.example/a/{number}",
                f"{body[:70]}",
                None if rng.random() < 0.01 else when,
                language,
                body,
                hashlib.sha256(body.encode()).hexdigest(),
                story,
                "first" if not joins else "same text as article #1",
                when,
                when,
            )
        )
        if len(batch) == 5000 or number == count:
            stories = {row[8] for row in batch}
            db.executemany(
                "INSERT OR IGNORE INTO stories (id, created_at) VALUES (?, ?)",
                [(s, stamp(T0)) for s in stories],
            )
            db.executemany(
                "INSERT INTO articles (id, source_id, url, link_key, title, published_at, "
                "language, text, content_hash, story_id, story_reason, fetched_at, stored_at) "
                "VALUES (?, ?, ?, ?3, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            db.commit()
            batch = []
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return time.perf_counter() - started


def serve(path: Path) -> tuple[subprocess.Popen, int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    code = (
        "import sys, uvicorn; sys.path.insert(0, sys.argv[3]);"
        "from crawler.storage.engine import open_engine; from newswatch.web import create_app;"
        "uvicorn.run(create_app(open_engine('sqlite:///' + sys.argv[1])), host='127.0.0.1',"
        " port=int(sys.argv[2]), log_level='warning')"
    )
    root = str(Path(__file__).resolve().parents[1])
    server = subprocess.Popen([sys.executable, "-c", code, str(path), str(port), root])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # a benchmark, not a test: polling for readiness is fine
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the web server did not start")


def timed(call, repeat: int) -> list[float]:
    call()  # warm: first-use costs (template compile, page cache) are not what we measure
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def http_get(port: int, path: str):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call() -> None:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}: {body[:200]!r}")

    return call


COLUMNS = "a.*, s.name"
FEED_SQL = (
    f"SELECT {COLUMNS} FROM articles a JOIN sources s ON s.id = a.source_id "
    "WHERE a.published_at IS NOT NULL {extra} ORDER BY a.published_at DESC, a.id DESC LIMIT {n}"
)
# the app's own form (crawler.storage.search: `id + 0` keeps SQLite walking the date index)
SEARCH = "AND a.id + 0 IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH '{q}')"
NAIVE = "AND a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH '{q}')"


def sql_call(db: sqlite3.Connection, extra: str, n: int = 51):
    query = FEED_SQL.format(extra=extra, n=n)
    return lambda: db.execute(query).fetchall()


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="10,000 articles, 30 requests")
    options = parser.parse_args()
    count, repeat = (10_000, 30) if options.quick else (options.articles, options.repeat)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        seconds = fill(path, count)
        size = path.stat().st_size / 1e6
        print(f"filled {count:,} articles in {seconds:.1f} s ({size:.0f} MB with the FTS index)")
        print(f"machine: {os.cpu_count()} cores; {repeat} requests per case after one warm-up")
        db = sqlite3.connect(path)
        middle = db.execute(
            "SELECT published_at, id FROM articles WHERE published_at IS NOT NULL "
            "ORDER BY published_at DESC, id DESC LIMIT 1 OFFSET ?",
            (count // 2,),
        ).fetchone()
        moment = datetime.fromisoformat(middle[0]).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        deep = (
            f"AND (a.published_at < '{middle[0]}' OR (a.published_at = '{middle[0]}' "
            f"AND a.id < {middle[1]}))"
        )
        topic = ",".join(str(i + 1) for i in range(20) if i % 4 == 0)
        cases = [
            ("feed page 1", "/", sql_call(db, "")),
            (f"feed page at {count // 2:,}", f"/?after={moment}~{middle[1]}", sql_call(db, deep)),
            (f"search rare ({RARE})", f"/?q={RARE}", sql_call(db, SEARCH.format(q=RARE))),
            (f"search common ({COMMON})", f"/?q={COMMON}", sql_call(db, SEARCH.format(q=COMMON))),
            (
                f"search prefix ({PREFIX})",
                "/?q=Aktions%2A",
                sql_call(db, SEARCH.format(q='"Aktions"*')),
            ),
            (
                "Atom tag feed",
                "/feeds/tags/topic-0",
                sql_call(db, f"AND a.source_id IN ({topic})", 201),
            ),
            (
                f"Atom search feed ({COMMON})",
                f"/feeds/search?q={COMMON}",
                sql_call(db, SEARCH.format(q=COMMON), 201),
            ),
            ("JSON API page 1", "/api/articles", sql_call(db, "")),
            (
                "export CSV, rare word (all hits)",
                f"/export.csv?q={RARE}",
                sql_call(db, SEARCH.format(q=RARE), count),
            ),
        ]
        server, port = serve(path)
        try:
            print(f"{'case':34} {'web p50':>8} {'p95':>8}   {'SQL p50':>8} {'p95':>8}   ratio")
            for name, url, sql in cases:
                web = timed(http_get(port, url), repeat)
                direct = timed(sql, repeat)
                ratio = statistics.median(web) / max(statistics.median(direct), 1e-3)
                print(
                    f"{name:34} {statistics.median(web):7.1f}ms {percentile(web, 0.95):7.1f}ms"
                    f"   {statistics.median(direct):7.1f}ms {percentile(direct, 0.95):7.1f}ms"
                    f"   {ratio:5.1f}x"
                )
            naive = timed(sql_call(db, NAIVE.format(q=COMMON)), max(5, repeat // 10))
            print(
                f"(for reference: SQLite's own plan for `a.id IN (hits)`, common word: "
                f"p50 {statistics.median(naive):.1f}ms; the app writes `a.id + 0 IN`)"
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
            db.close()


if __name__ == "__main__":
    main()
