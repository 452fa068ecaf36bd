"""Crawl throughput with 1, 2 and 4 cluster workers on one Redis queue, and their politeness.

Builds a loopback site of N real news pages (the shared corpus, made unique per copy)
over several outlets, each on its own loopback address (127.0.0.2, 127.0.0.3, ...), served
by another process that logs every request (host, start, end). Crawls it with a
single-process `newswatch crawl` (the baseline), then with 1, 2 and 4 `newswatch worker`
processes fed by a `newswatch crawl` through Redis, each crawl into a fresh PostgreSQL
database. Prints articles/s, the ratio to the baseline and the queue's overhead, CPU and
peak RSS; per host, the request rate, the requests in flight and the gaps between request
starts against [crawl] delay and per_domain_concurrency (POLITENESS VIOLATED when the rate
or the concurrency limit is broken; starts closer than half the delay are named); then a
sizing on paper for 1,000,000 articles a day. Prints figures; asserts nothing about speed.
Cleans up its processes, databases and Redis keys, also on Ctrl-C.

    python bench/cluster.py                          # 600 articles, 8 outlets; 1, 2, 4 workers
    python bench/cluster.py --articles 300 --workers 1 2 --delay 0.25
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import itertools
import json
import math
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import corpus_dir, corpus_pages
from bench.crawl import cpu_seconds, tree
from bench.sites import build_site

ARTICLES_PER_DAY = 1_000_000
DAY = 86_400.0


# -- the file server (runs in its own process: `--serve`) -----------------------------------


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; also the cmsg type


def serve_forever(directory: Path, hosts: int, log_path: Path) -> None:
    """Serve `directory` on 127.0.0.2 ... 127.0.0.{hosts + 1}, one socket each; log requests.

    Prints the base URLs as one JSON line, then serves until SIGTERM. Each request is
    logged as `host start end status path`: start is when the kernel received the request's
    first bytes (SO_TIMESTAMPNS, so a busy machine delaying this process does not shift
    it), end when the response was written (seconds since the epoch).
    """
    lock = threading.Lock()
    log = log_path.open("a", encoding="utf-8")
    # The server stands for remote sites: ahead of the crawl for the CPU (as root), so that
    # the end times it logs are not late. Threads inherit it from this one.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, -10)

    class Handler(SimpleHTTPRequestHandler):
        def handle_one_request(self) -> None:
            started, self.status = 0.0, 0
            with contextlib.suppress(OSError):
                _, ancillary, _, _ = self.connection.recvmsg(
                    1, socket.CMSG_SPACE(16), socket.MSG_PEEK
                )
                for level, kind, data in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        seconds, nanoseconds = struct.unpack("qq", data[:16])
                        started = seconds + nanoseconds / 1e9
            started = started or time.time()
            super().handle_one_request()
            if self.status:
                line = (f"{self.server.server_address[0]}\t{started:.6f}\t{time.time():.6f}"
                        f"\t{self.status}\t{self.path}\n")  # fmt: skip
                with lock:
                    log.write(line)
                    log.flush()

        def log_request(self, code="-", size="-") -> None:
            self.status = int(getattr(code, "value", code)) if code != "-" else 0

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def server_bind(self) -> None:
            self.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)  # accepted ones too
            super().server_bind()

    servers = []
    for number in range(hosts):
        server = Server((f"127.0.0.{number + 2}", 0), partial(Handler, directory=str(directory)))
        servers.append(server)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    bases = [f"http://{host}:{port}" for host, port, *_ in (s.server_address for s in servers)]
    print(json.dumps(bases), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark stops us, after its children
    while not stop.wait(0.5):
        pass
    for server in servers:
        server.shutdown()
    log.close()


# -- processes and their resources, from /proc --------------------------------------------


def _die_with_parent() -> None:
    """In a child before exec: SIGTERM when the benchmark dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (every core, every process)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def peak_mib(pid: int) -> float:
    """Peak resident set size of a process so far (VmHWM), in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        kib = int(next(li.split()[1] for li in status.splitlines() if li.startswith("VmHWM")))
    except (OSError, StopIteration, ValueError):
        return 0.0
    return kib / 1024


def tree_cpu(pid: int) -> float:
    return sum(cpu_seconds(p) for p in tree(pid))


class Resources:
    """Everything the benchmark started, so that any exit leaves nothing behind."""

    def __init__(self, admin_url: str, redis_url: str):
        self.admin_url = admin_url
        self.redis_url = redis_url
        self.processes: list[subprocess.Popen] = []
        self.databases: list[str] = []
        self.prefixes: list[str] = []

    def start(self, command: list[str], log: Path | None = None) -> subprocess.Popen:
        """Start a child in its own session (Ctrl-C reaches the benchmark alone, which then
        stops it); its output goes to `log`, or to a pipe without one."""
        with contextlib.ExitStack() as stack:
            out = stack.enter_context(log.open("ab")) if log else subprocess.PIPE
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_die_with_parent, env=child_env(),
            )  # fmt: skip
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 20.0) -> int | None:
        """SIGTERM (SIGKILL after `timeout`), then SIGKILL whatever it left in its process
        group (an extraction pool orphaned by a killed worker)."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # its own group: start_new_session
        with contextlib.suppress(ValueError):
            self.processes.remove(process)
        return process.returncode

    def database(self, label: str) -> str:
        """A new, empty PostgreSQL database; its URL."""
        import psycopg
        from sqlalchemy.engine import make_url

        name = f"nwbench_cluster_{os.getpid()}_{label}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(self.admin_url, autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(False)

    def drop(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.databases.remove(name)

    def prefix(self, label: str) -> str:
        prefix = f"nwbench-{os.getpid()}-{label}-{uuid.uuid4().hex[:6]}"
        self.prefixes.append(prefix)
        return prefix

    def forget_prefix(self, prefix: str) -> int:
        from redis import Redis

        deleted = 0
        with Redis.from_url(self.redis_url) as redis:
            batch = list(redis.scan_iter(match=f"{prefix}:*", count=1000))
            while batch:
                deleted += redis.delete(*batch)
                batch = list(redis.scan_iter(match=f"{prefix}:*", count=1000))
        self.prefixes.remove(prefix)
        return deleted

    def release(self, database: str | None = None, prefix: str | None = None) -> None:
        """Drop a database, delete a prefix's Redis keys; says so rather than raise."""
        if database in self.databases:
            try:
                self.drop(database)
            except Exception as error:
                self.databases.remove(database)
                print(f"cleanup: could not drop database {database}: {error}", file=sys.stderr)
        if prefix in self.prefixes:
            try:
                self.forget_prefix(prefix)
            except Exception as error:
                self.prefixes.remove(prefix)
                print(f"cleanup: could not delete Redis keys {prefix}:*: {error}", file=sys.stderr)

    def close(self) -> None:
        """Stop every process (newest first), drop every database, delete every Redis key."""
        for process in reversed(list(self.processes)):
            with contextlib.suppress(Exception):
                self.stop(process)
        for name in list(self.databases):
            self.release(database=name)
        for prefix in list(self.prefixes):
            self.release(prefix=prefix)


def child_env() -> dict[str, str]:
    """The environment of newswatch processes: only the command line says where things are."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    if "NEWSWATCH_CORPUS" in os.environ:
        env["NEWSWATCH_CORPUS"] = os.environ["NEWSWATCH_CORPUS"]
    return env


# -- one crawl -----------------------------------------------------------------------------


@dataclass
class Result:
    mode: str
    workers: int  # 0: the single-process crawl
    stored: int = 0
    failed: int = 0
    seconds: float = 0.0
    workers_cpu: float = 0.0
    coordinator_cpu: float = 0.0  # or the single process's
    server_cpu: float = 0.0
    postgres_cpu: float = 0.0  # the backends serving this crawl's database
    redis_cpu: float = 0.0  # the whole Redis server (shared with anything else using it)
    machine_cpu: float = 0.0  # every core's busy time, whatever ran on it
    peak_rss: list[float] = field(default_factory=list)  # MiB, per crawling process
    runs: dict[str, int] = field(default_factory=dict)  # crawl_runs by status
    writes: int = 0  # rows inserted, updated and deleted in the database
    commits: int = 0
    tables: dict[str, int] = field(default_factory=dict)  # rows written, by table
    error: str = ""
    log_span: tuple[int, int] = (0, 0)  # bytes of the request log written meanwhile
    requests: dict = field(default_factory=dict)  # see politeness()

    @property
    def rate(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0

    @property
    def cpu(self) -> float:
        """The crawl's own processes: the single process, or the workers and coordinator."""
        return self.workers_cpu + self.coordinator_cpu

    @property
    def other_cpu(self) -> float:
        """Whatever else kept the machine busy meanwhile (other users, PostgreSQL's own
        background processes)."""
        known = self.cpu + self.server_cpu + self.postgres_cpu + self.redis_cpu
        return max(0.0, self.machine_cpu - known)


class Probe:
    """CPU around one crawl, from start() to stop(): the machine, the file server, Redis,
    and the PostgreSQL backends serving the crawl's database (sampled: they come and go)."""

    def __init__(self, admin_url: str, database: str, redis_url: str, server_pid: int):
        import psycopg
        from redis import Redis

        self.admin = psycopg.connect(admin_url, autocommit=True)
        self.redis = Redis.from_url(redis_url)
        self.database, self.server_pid = database, server_pid
        self.backends: dict[int, list[float]] = {}  # pid → [CPU at start, CPU last seen]
        self.running = False

    def _redis_cpu(self) -> float:
        info = self.redis.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def db_stats(self) -> tuple[int, int]:
        """(rows written, transactions committed) in the database since it was made."""
        row = self.admin.execute(
            "SELECT tup_inserted + tup_updated + tup_deleted, xact_commit "
            "FROM pg_stat_database WHERE datname = %s",
            (self.database,),
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def sample(self) -> None:
        rows = self.admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
        ).fetchall()
        for (pid,) in rows:
            cpu = cpu_seconds(pid)
            # a backend already there at the start counts from then, a new one from birth
            self.backends.setdefault(pid, [cpu if not self.running else 0.0, cpu])[1] = cpu

    def start(self) -> None:
        self.sample()
        self.running = True
        self.db0 = self.db_stats()
        self.machine0, self.server0 = machine_busy(), cpu_seconds(self.server_pid)
        self.redis0 = self._redis_cpu()

    def stop(self, result: Result) -> None:
        self.sample()
        result.machine_cpu = machine_busy() - self.machine0
        result.server_cpu = cpu_seconds(self.server_pid) - self.server0
        result.redis_cpu = self._redis_cpu() - self.redis0
        result.postgres_cpu = sum(last - first for first, last in self.backends.values())

    def writes(self, result: Result) -> None:
        """Once the crawl's connections are closed: PostgreSQL publishes a backend's
        statistics when it exits, or up to a second late."""
        time.sleep(1.0)
        writes, commits = self.db_stats()
        result.writes, result.commits = writes - self.db0[0], commits - self.db0[1]

    def close(self) -> None:
        self.admin.close()
        self.redis.close()


class Bench:
    """The site, its server and the options: what every crawl of this run shares."""

    def __init__(self, args, root: Path, resources: Resources, server, sources: list[dict]):
        self.args, self.root, self.resources = args, root, resources
        self.server, self.sources = server, sources

    def config(self, name: str, prefix: str | None) -> Path:
        args, path = self.args, self.root / f"{name}.toml"
        lines = [
            "[crawl]", f"delay = {args.delay}", f"per_domain_concurrency = {args.per_domain}",
            f"concurrency = {args.concurrency}",
            f"autothrottle = {str(args.autothrottle).lower()}",
            f"extraction_workers = {args.extraction_workers}",
            "max_articles_per_source = 100000", 'timeout = "30s"', "",
        ]  # fmt: skip
        if prefix:
            lines += ["[cluster]", f'redis_url = "{args.redis_url}"', f'prefix = "{prefix}"',
                      f'run_timeout = "{args.timeout:g}s"', ""]  # fmt: skip
        for source in self.sources:
            lines += ["[[sources]]", *(f"{k} = {json.dumps(v)}" for k, v in source.items()), ""]
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    def database(self, label: str) -> tuple[str, str]:
        """A fresh database with the newest schema, so no crawl pays (or races) for it."""
        from sqlalchemy.engine import make_url

        from crawler.storage.engine import open_engine

        url = self.resources.database(label)
        open_engine(url).dispose()
        return url, make_url(url).database

    def log_size(self) -> int:
        path = self.args.request_log
        return path.stat().st_size if path.exists() else 0

    def crawl(self, process: subprocess.Popen, probe: Probe, result: Result, sample) -> None:
        """Wait for the coordinating `newswatch crawl`; sample while it runs."""
        began = last = time.perf_counter()
        while process.poll() is None:
            sample()
            now = time.perf_counter()
            if now - last >= 0.5:
                probe.sample()
                last = now
            if now - began > self.args.timeout + 60:
                result.error = f"still crawling after {self.args.timeout + 60:g} s: stopped"
                break
            time.sleep(0.1)
        result.seconds = time.perf_counter() - began

    def single(self) -> Result:
        result = Result("single process", 0)
        url, name = self.database("single")
        config, log = self.config("single", None), self.root / "single.log"
        probe = Probe(self.args.admin_url, name, self.args.redis_url, self.server.pid)
        try:
            offset = self.log_size()
            probe.start()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            process = self.resources.start(newswatch(config, url, "crawl"), log)
            peak = 0.0

            def sample() -> None:
                nonlocal peak
                peak = max(peak, peak_mib(process.pid))

            self.crawl(process, probe, result, sample)
            probe.stop(result)
            exit_status = self.resources.stop(process)
            result.coordinator_cpu = children_cpu() - (before.ru_utime + before.ru_stime)
            result.peak_rss = [peak]
            result.log_span = (offset, self.log_size())
            self.finish(result, url, exit_status, log, probe)
        finally:
            probe.close()
            self.resources.release(database=name)
        return result

    def cluster(self, n: int) -> Result:
        from redis import Redis

        from crawler.cluster.coordinator import live_workers
        from crawler.cluster.keys import ClusterKeys

        result = Result(f"{n} worker{'s' if n > 1 else ''}", n)
        url, name = self.database(f"w{n}")
        prefix = self.resources.prefix(f"w{n}")
        config = self.config(f"cluster-{n}", prefix)
        logs = [self.root / f"worker-{n}-{i}.log" for i in range(n)]
        probe = Probe(self.args.admin_url, name, self.args.redis_url, self.server.pid)
        workers = []
        try:
            offset = self.log_size()
            workers = [
                self.resources.start(newswatch(config, url, "worker", "--id", f"bench-{i}"), log)
                for i, log in enumerate(logs)
            ]
            with Redis.from_url(self.args.redis_url) as redis:
                deadline = time.monotonic() + 120
                while len(live_workers(redis, ClusterKeys(prefix))) < n:
                    if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
                        for log in logs:
                            tail(log)
                        result.error = "the workers did not all start"
                        return result
                    time.sleep(0.1)
            time.sleep(0.5)  # their startup done before counting CPU
            log = self.root / f"coordinator-{n}.log"
            probe.start()
            started = {w.pid: tree_cpu(w.pid) for w in workers}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            coordinator = self.resources.start(newswatch(config, url, "crawl"), log)
            self.crawl(coordinator, probe, result, lambda: None)
            probe.stop(result)
            result.workers_cpu = sum(tree_cpu(w.pid) - started[w.pid] for w in workers)
            result.peak_rss = [peak_mib(w.pid) for w in workers]
            exit_status = self.resources.stop(coordinator)
            result.coordinator_cpu = children_cpu() - (before.ru_utime + before.ru_stime)
            died = sum(w.poll() is not None for w in workers)
            if died:
                result.error = result.error or f"{died} workers died during the crawl"
                for log in logs:
                    tail(log)
            for worker in workers:
                self.resources.stop(worker)
            result.log_span = (offset, self.log_size())
            self.finish(result, url, exit_status, log, probe)
        finally:
            for worker in workers:
                self.resources.stop(worker)
            probe.close()
            self.resources.release(database=name, prefix=prefix)
        return result

    def finish(self, result: Result, url: str, exit_status, log: Path, probe: Probe) -> None:
        import psycopg

        if exit_status and not result.error:
            result.error = f"`newswatch crawl` exit status {exit_status}"
            tail(log)
        with psycopg.connect(url, autocommit=True) as db:
            result.stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
            result.failed = db.execute("SELECT count(*) FROM failures").fetchone()[0]
            result.runs = dict(
                db.execute("SELECT status, count(*) FROM crawl_runs GROUP BY status").fetchall()
            )
        probe.writes(result)
        with psycopg.connect(url, autocommit=True) as db:
            result.tables = dict(
                db.execute(
                    "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
                    "WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY 2 DESC"
                ).fetchall()
            )
        time.sleep(0.2)  # the server's last log lines
        result.log_span = (result.log_span[0], self.log_size())
        records = read_requests(self.args.request_log, result.log_span)
        args = self.args
        result.requests = politeness(records, args.delay, args.per_domain, args.tolerance)
        if args.save_requests:
            with args.save_requests.open("a", encoding="utf-8") as saved:
                saved.write(f"# {result.mode}\n")
                saved.writelines("\t".join(map(str, record)) + "\n" for record in records)


def newswatch(config: Path, database: str, *command: str) -> list[str]:
    return [sys.executable, "-m", "newswatch", "-q", "--config", str(config),
            "--database", database, *command]  # fmt: skip


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tail(log: Path, lines: int = 15) -> None:
    with contextlib.suppress(OSError):
        text = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- last lines of {log.name}:", *text, sep="\n    ", file=sys.stderr)


# -- what each host saw --------------------------------------------------------------------


def read_requests(path: Path, span: tuple[int, int]) -> list[tuple[str, float, float, int, str]]:
    with path.open("rb") as log:
        log.seek(span[0])
        data = log.read(span[1] - span[0]).decode()
    records = []
    for line in data.splitlines():
        host, start, end, status, target = line.split("\t", 4)
        records.append((host, float(start), float(end), int(status), target))
    return records


def politeness(records, delay: float, limit: int, tolerance: float) -> dict:
    """Per host: most requests in any 1 s, most in flight at once, gaps between starts;
    the worst host's figures, and which limits were broken."""
    hosts: dict[str, list[tuple[float, float]]] = {}
    for host, start, end, _status, _target in records:
        hosts.setdefault(host, []).append((start, end))
    window = concurrency = 0
    gaps: list[float] = []
    mean_rate = 0.0
    for spans in hosts.values():
        spans.sort()
        starts = [start for start, _ in spans]
        gaps += [b - a for a, b in itertools.pairwise(starts)]
        j = 0
        for i, start in enumerate(starts):
            while j < len(starts) and starts[j] < start + 1.0:
                j += 1
            window = max(window, j - i)
        current = 0
        # at one instant an end (-1) sorts before a start (+1)
        for _, step in sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans]):
            current += step
            concurrency = max(concurrency, current)
        if len(starts) > 1:
            mean_rate = max(mean_rate, (len(starts) - 1) / max(starts[-1] - starts[0], 1e-9))
    gaps.sort()
    allowed = math.floor((1 + tolerance) / delay) + 1 if delay else math.inf
    # The limits are Scrapy's: per-host concurrency, and a request rate of 1/delay. Scrapy
    # itself spaces single requests 0.5-1.5 x delay (RANDOMIZE_DOWNLOAD_DELAY), and a busy
    # event loop can send a granted request late, so single gaps are reported, not judged;
    # those under half the delay are named ("bunched"), in every mode alike.
    short = sum(1 for gap in gaps if gap < delay - tolerance)
    bunched = sum(1 for gap in gaps if gap < delay / 2 - tolerance)
    broken = []
    if concurrency > limit:
        broken.append(f"concurrency: {concurrency} requests in flight to one host (limit {limit})")
    if window > allowed:
        broken.append(f"rate: {window} requests to one host within 1 s (at most {allowed})")
    notes = []
    if bunched:
        notes.append(
            f"bunched: {bunched} of {len(gaps)} request starts came less than half the delay "
            f"({delay * 500:.0f} ms) after the previous one to the same host (shortest "
            f"{gaps[0] * 1000:.1f} ms); the rate over any second stayed within the limit"
        )
    return {
        "requests": len(records),
        "pages": sum(1 for record in records if record[4].endswith(".html")),
        "hosts": len(hosts),
        "window": window,
        "allowed": allowed,
        "mean_rate": mean_rate,
        "concurrency": concurrency,
        "min_gap": gaps[0] if gaps else math.inf,
        "p5_gap": gaps[len(gaps) // 20] if gaps else math.inf,
        "short": short,
        "gaps": len(gaps),
        "response": sum(e - s for _, s, e, _, _ in records) / max(1, len(records)),
        "broken": broken,
        "notes": notes,
    }


# -- report --------------------------------------------------------------------------------


def report(results: list[Result], args) -> None:
    base = next((r for r in results if r.workers == 0 and r.stored), None)
    print(f"{'':<15}{'':>9}{'':>8}{'':>8}{'':>8}{'crawl processes':>22}"
          f"{'cores meanwhile':>24}")  # fmt: skip
    head = (f"{'mode':<15}{'articles':>9}{'seconds':>8}{'art/s':>8}{'x single':>9}"
            f"{'CPU s':>7}{'ms/art':>7}{'RSS MiB':>8}{'crawl':>7}{'PG+Redis':>9}{'other':>7}"
            f"{'server':>7}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for r in results:
        if not r.seconds:
            print(f"{r.mode:<15}  FAILED: {r.error}")
            continue
        ratio = f"{r.rate / base.rate:.2f}" if base and base.rate else "-"
        print(
            f"{r.mode:<15}{r.stored:>9}{r.seconds:>8.1f}{r.rate:>8.1f}{ratio:>9}{r.cpu:>7.1f}"
            f"{r.cpu / max(r.stored, 1) * 1000:>7.0f}{max(r.peak_rss, default=0):>8.0f}"
            f"{r.cpu / r.seconds:>7.2f}{(r.postgres_cpu + r.redis_cpu) / r.seconds:>9.2f}"
            f"{r.other_cpu / r.seconds:>7.2f}{r.server_cpu / r.seconds:>7.2f}"
            + (f"  [{r.error}]" if r.error else "")
        )
    print(
        f"art/s: articles stored / seconds from `newswatch crawl` start to exit. CPU s: the "
        f"single process, or workers + coordinator, during the crawl; RSS: peak (VmHWM) of the "
        f"largest crawling process. Cores meanwhile ({os.cpu_count()} here): crawl = its CPU "
        f"s / seconds; PG+Redis = PostgreSQL backends of its database + the Redis server; "
        f"other = the rest of the machine's busy time (other users, PostgreSQL background); "
        f"server = the loopback file server.\n"
    )
    allowed = results[0].requests.get("allowed", 0) if results else 0
    head = (f"{'mode':<15}{'requests':>9}{'req/s 1 host':>13}{'mean req/s':>11}"
            f"{'in flight':>10}{'min gap':>9}{'p5 gap':>8}{'gaps < delay':>13}"
            "  politeness")  # fmt: skip
    print(head)
    print("-" * len(head))
    for r in results:
        q = r.requests
        if not q:
            continue
        verdict = ("POLITENESS VIOLATED: " + ", ".join(b.split(":")[0] for b in q["broken"])
                   if q["broken"] else "within limits")  # fmt: skip
        if q.get("notes"):
            verdict += " (bunched)"
        print(
            f"{r.mode:<15}{q['requests']:>9}{q['window']:>13}{q['mean_rate']:>11.1f}"
            f"{q['concurrency']:>10}{q['min_gap'] * 1000:>6.1f} ms{q['p5_gap'] * 1000:>5.0f} ms"
            f"{q['short']:>6} / {q['gaps']:<5}  {verdict}"
        )
    print(
        f"Per host (the worst one), as the server saw it: req/s 1 host = most request starts "
        f"in any 1 s (limit 1/delay + 1 = {allowed}); mean req/s = over the host's active "
        f"span; in flight = most requests at once (limit per_domain_concurrency = "
        f"{args.per_domain}); gaps = between consecutive starts (delay {args.delay * 1000:.0f} "
        f"ms, {args.tolerance * 1000:.0f} ms allowed for timing; starts are the kernel's "
        f"receive times)."
    )
    for r in results:
        for problem in r.requests.get("broken", []):
            print(f"POLITENESS VIOLATED ({r.mode}) {problem}")
        for note in r.requests.get("notes", []):
            print(f"note ({r.mode}) {note}")
    print()
    for r in results:
        if not r.requests:
            continue
        q = r.requests
        print(
            f"{r.mode}: {q['pages']} article pages + {q['requests'] - q['pages']} feeds and "
            f"robots.txt over {q['hosts']} hosts (server time {q['response'] * 1000:.1f} ms a "
            f"request); CPU s: workers {r.workers_cpu:.1f}, coordinator {r.coordinator_cpu:.1f}"
            f", PostgreSQL {r.postgres_cpu:.1f}, Redis {r.redis_cpu:.1f}, server "
            f"{r.server_cpu:.1f}, other {r.other_cpu:.1f}; RSS "
            f"{'/'.join(f'{m:.0f}' for m in r.peak_rss)} MiB; runs {r.runs}, {r.failed} "
            f"failures; {r.writes} rows written in {r.commits} commits"
        )
    single = next((r for r in results if r.workers == 0 and r.stored), None)
    one = next((r for r in results if r.workers == 1 and r.stored), None)
    if single and one:
        print(
            f"\nqueue overhead, 1 worker against the single process: {one.seconds:.1f} s vs "
            f"{single.seconds:.1f} s = {one.seconds / single.seconds:.2f}x the time "
            f"({(one.seconds - single.seconds) / one.stored * 1000:+.1f} ms per article); CPU "
            f"{one.cpu:.1f} s vs {single.cpu:.1f} s "
            f"({(one.cpu - single.cpu) / one.stored * 1000:+.1f} ms per article), PostgreSQL + "
            f"Redis {one.postgres_cpu + one.redis_cpu:.1f} s vs "
            f"{single.postgres_cpu + single.redis_cpu:.1f} s"
        )


def on_paper(results: list[Result], args) -> None:
    done = [r for r in results if r.stored and r.workers and not r.error]
    one = next((r for r in done if r.workers == 1), None)
    if not one:
        return
    best = max(done, key=lambda r: r.rate)
    average = ARTICLES_PER_DAY / DAY
    peak = average * args.peak_factor
    # Per article, from the 1-worker run (the least contended): a worker's CPU, and the
    # database's and Redis's beside it.
    worker = one.workers_cpu / one.stored
    backing = (one.postgres_cpu + one.redis_cpu) / one.stored
    use = args.utilisation
    per_request = best.requests["requests"] / best.stored
    per_host = DAY / args.delay if args.delay else math.inf
    writes, commits = best.writes / best.stored, best.commits / best.stored
    tables = ", ".join(f"{name} {rows / best.stored:.0f}"
                       for name, rows in list(best.tables.items())[:4])  # fmt: skip
    print(
        f"\nON PAPER: 1,000,000 articles a day, from the figures above\n"
        f"  the need: {average:.1f} articles/s on average; news comes in bursts, so plan "
        f"{args.peak_factor:g}x = {peak:.1f} articles/s at peak.\n"
        f"  one worker measured {one.rate:.1f} articles/s = {one.rate * DAY:,.0f} a day, "
        f"using {one.workers_cpu / one.seconds:.2f} of a core; it spends "
        f"{worker * 1000:.0f} ms of CPU per article, so one fully busy worker core would do "
        f"{1 / worker:.1f} articles/s = {DAY / worker:,.0f} a day.\n"
        f"  worker cores at {use:.0%} use: {math.ceil(peak * worker / use)} for the peak "
        f"({math.ceil(average * worker / use)} for the average); beside them PostgreSQL + "
        f"Redis took {backing * 1000:.0f} ms per article = {peak * backing / use:.1f} cores "
        f"at peak; the coordinator {one.coordinator_cpu:.1f} s a crawl, mostly starting up "
        f"(a long-running `newswatch run --cluster` pays that once).\n"
        f"  in machines like this one ({os.cpu_count()} cores, everything on it): the best "
        f"run ({best.mode}) did {best.rate:.1f} articles/s, so "
        f"{math.ceil(peak / best.rate)} machine(s) for the peak, "
        f"{math.ceil(average / best.rate)} for the average.\n"
        f"  politeness: a host gets at most 1/delay = {1 / args.delay:.0f} requests/s = "
        f"{per_host:,.0f} a day at delay {args.delay:g} s ({DAY / 0.25:,.0f} at newswatch's "
        f"default 0.25 s, {DAY / 0.5:,.0f} at config/newswatch.toml's 0.5 s). At "
        f"{per_request:.2f} requests per article one outlet tops out at "
        f"{per_host / per_request:,.0f} articles a day ({DAY / 0.5 / per_request:,.0f} at "
        f"0.5 s): no single outlet needs that, but a crawl that works on one host at a time "
        f"is held to {1 / args.delay / per_request:.0f} articles/s "
        f"({1 / 0.5 / per_request:.1f} at 0.5 s) whatever its number of workers.\n"
        f"  PostgreSQL: {writes:.0f} rows written and {commits:.1f} commits per article = "
        f"{writes * average:,.0f} rows/s and {commits * average:.0f} commits/s on average, "
        f"{writes * peak:,.0f} rows/s and {commits * peak:.0f} commits/s at peak "
        f"({writes * ARTICLES_PER_DAY / 1e6:.0f} million rows a day; per article: {tables})."
    )


# -- main ----------------------------------------------------------------------------------


def reachable(args) -> None:
    """Stop at once, and clearly, when PostgreSQL or Redis is not there."""
    import psycopg
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        psycopg.connect(args.admin_url, connect_timeout=5).close()
    except psycopg.Error as error:
        where = f"{args.admin_url} (--postgres)"
        raise SystemExit(f"PostgreSQL not reachable at {where}: {error}") from None
    try:
        with Redis.from_url(args.redis_url, socket_connect_timeout=5) as redis:
            redis.ping()
    except RedisError as error:
        where = f"{args.redis_url} (--redis-url)"
        raise SystemExit(f"Redis not reachable at {where}: {error}") from None


def interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        epilog="Needs PostgreSQL (--postgres; it creates and drops its own databases), Redis "
        "(--redis-url; its own key prefixes, deleted at the end) and the shared corpus "
        "(../shared/corpus or $NEWSWATCH_CORPUS).",
    )
    option = parser.add_argument
    option("--articles", type=int, default=600, help="article pages [600]")
    option("--outlets", type=int, default=8,
           help="outlets, each on its own loopback address [8]")  # fmt: skip
    option("--workers", type=int, nargs="+", default=[1, 2, 4],
           help="worker counts to crawl with [1 2 4]")  # fmt: skip
    option("--no-single", dest="single", action="store_false",
           help="skip the single-process baseline")  # fmt: skip
    option("--delay", type=float, default=0.05,
           help="[crawl] delay, seconds between request starts to one host [0.05]")  # fmt: skip
    option("--per-domain", type=int, default=2,
           help="[crawl] per_domain_concurrency [2]")  # fmt: skip
    option("--concurrency", type=int, default=16,
           help="[crawl] concurrency, per process [16]")  # fmt: skip
    option("--autothrottle", action=argparse.BooleanOptionalAction, default=True,
           help="[crawl] autothrottle [on, newswatch's default]")  # fmt: skip
    option("--extraction-workers", type=int, default=0,
           help="[crawl] extraction_workers, per process [0: extract in the process "
           "itself; the workers are the parallelism]")  # fmt: skip
    option("--tolerance", type=float, default=0.005,
           help="seconds of timing noise allowed when checking the delay [0.005]")  # fmt: skip
    option("--timeout", type=float, default=600,
           help="seconds a crawl may take before it is given up [600]")  # fmt: skip
    option("--peak-factor", type=float, default=3.0,
           help="peak over average rate, for the sizing on paper [3]")  # fmt: skip
    option("--utilisation", type=float, default=0.7,
           help="share of each core to plan to use, for the sizing on paper [0.7]")  # fmt: skip
    option("--postgres", dest="admin_url",
           default="postgresql://postgres@127.0.0.1:5432/postgres",
           help="PostgreSQL database to connect to for creating the benchmark's own "
           "[%(default)s]")  # fmt: skip
    option("--redis-url", default="redis://127.0.0.1:6379/0",
           help="Redis for the cluster [%(default)s]")  # fmt: skip
    option("--save-requests", type=Path, metavar="FILE",
           help="append the server's request log to FILE (host, start, end, status, path; "
           "tab-separated, a '# mode' line before each crawl)")  # fmt: skip
    option("--serve", type=Path, help=argparse.SUPPRESS)
    option("--request-log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_forever(args.serve, args.outlets, args.request_log)
        return

    pages = corpus_pages()
    if not pages:
        raise SystemExit(f"corpus not found at {corpus_dir()} (set NEWSWATCH_CORPUS)")
    reachable(args)
    resources = Resources(args.admin_url, args.redis_url)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="newswatch-cluster-bench-") as scratch:
        root = Path(scratch)
        site, args.request_log = root / "site", root / "requests.log"
        site.mkdir()
        try:
            server = resources.start(
                [sys.executable, str(Path(__file__).resolve()), "--serve", str(site),
                 "--outlets", str(args.outlets), "--request-log", str(args.request_log)],
            )  # fmt: skip
            ready, _, _ = select.select([server.stdout], [], [], 30)
            if not ready:
                raise SystemExit("the file server did not start")
            bases = json.loads(server.stdout.readline())
            sources = build_site(
                site, pages, bases=bases, articles=args.articles, outlets=args.outlets
            )
            feeds = sum(source["kind"] == "feed" for source in sources)
            print(
                f"site: {args.articles} article pages (from {len(pages)} corpus pages) in "
                f"{len(sources)} outlets ({feeds} RSS, {len(sources) - feeds} sitemaps), "
                f"each on its own host: {bases[0]} ... {bases[-1]}\n"
                f"machine: {os.cpu_count()} cores, load average "
                f"{Path('/proc/loadavg').read_text().split()[0]} at the start\n"
                f"[crawl] per_domain_concurrency = {args.per_domain}, delay = {args.delay:g}, "
                f"autothrottle = {str(args.autothrottle).lower()}, obey_robots = true "
                f"(default), concurrency = {args.concurrency}, extraction_workers = "
                f"{args.extraction_workers}"
                + (" (each process extracts itself)" if not args.extraction_workers else "")
                + "; a fresh PostgreSQL database per crawl\n",
                flush=True,
            )
            bench = Bench(args, root, resources, server, sources)
            for n in ([0] if args.single else []) + args.workers:
                try:
                    result = bench.single() if n == 0 else bench.cluster(n)
                except Exception as error:  # reported; the other crawls still run
                    mode = "single process" if n == 0 else f"{n} workers"
                    result = Result(mode, n, error=f"{type(error).__name__}: {error}")
                results.append(result)
                print(
                    f"  {result.mode}: {result.stored} articles in {result.seconds:.1f} s = "
                    f"{result.rate:.1f}/s, CPU {result.cpu:.1f} s"
                    + (f"  [{result.error}]" if result.error else ""),
                    flush=True,
                )
        except KeyboardInterrupt:
            print("\ninterrupted: cleaning up", file=sys.stderr)
            raise SystemExit(130) from None
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop it
            resources.close()
            signal.signal(signal.SIGINT, signal.default_int_handler)
    print()
    report(results, args)
    on_paper(results, args)


if __name__ == "__main__":
    main()
