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
import json
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cluster_report import Result, on_paper, report
from bench.corpus import corpus_dir, corpus_pages
from bench.crawl import cpu_seconds, tree
from bench.hosts import politeness, read_requests, serve_forever
from bench.sites import build_site

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
                command,
                stdout=out,
                stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                env=child_env(),
            )
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
            "[crawl]",
            f"delay = {args.delay}",
            f"per_domain_concurrency = {args.per_domain}",
            f"concurrency = {args.concurrency}",
            f"autothrottle = {str(args.autothrottle).lower()}",
            f"extraction_workers = {args.extraction_workers}",
            "max_articles_per_source = 100000",
            'timeout = "30s"',
            "",
        ]
        if prefix:
            lines += [
                "[cluster]",
                f'redis_url = "{args.redis_url}"',
                f'prefix = "{prefix}"',
                f'run_timeout = "{args.timeout:g}s"',
                "",
            ]
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
    return [
        sys.executable,
        "-m",
        "newswatch",
        "-q",
        "--config",
        str(config),
        "--database",
        database,
        *command,
    ]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tail(log: Path, lines: int = 15) -> None:
    with contextlib.suppress(OSError):
        text = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- last lines of {log.name}:", *text, sep="\n    ", file=sys.stderr)


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
    option("--outlets", type=int, default=8, help="outlets, each on its own loopback address [8]")
    option(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2, 4],
        help="worker counts to crawl with [1 2 4]",
    )
    option(
        "--no-single", dest="single", action="store_false", help="skip the single-process baseline"
    )
    option(
        "--delay",
        type=float,
        default=0.05,
        help="[crawl] delay, seconds between request starts to one host [0.05]",
    )
    option("--per-domain", type=int, default=2, help="[crawl] per_domain_concurrency [2]")
    option("--concurrency", type=int, default=16, help="[crawl] concurrency, per process [16]")
    option(
        "--autothrottle",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="[crawl] autothrottle [on, newswatch's default]",
    )
    option(
        "--extraction-workers",
        type=int,
        default=0,
        help="[crawl] extraction_workers, per process [0: extract in the process "
        "itself; the workers are the parallelism]",
    )
    option(
        "--tolerance",
        type=float,
        default=0.005,
        help="seconds of timing noise allowed when checking the delay [0.005]",
    )
    option(
        "--timeout",
        type=float,
        default=600,
        help="seconds a crawl may take before it is given up [600]",
    )
    option(
        "--peak-factor",
        type=float,
        default=3.0,
        help="peak over average rate, for the sizing on paper [3]",
    )
    option(
        "--utilisation",
        type=float,
        default=0.7,
        help="share of each core to plan to use, for the sizing on paper [0.7]",
    )
    option(
        "--postgres",
        dest="admin_url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL database to connect to for creating the benchmark's own [%(default)s]",
    )
    option(
        "--redis-url",
        default="redis://127.0.0.1:6379/0",
        help="Redis for the cluster [%(default)s]",
    )
    option(
        "--save-requests",
        type=Path,
        metavar="FILE",
        help="append the server's request log to FILE (host, start, end, status, path; "
        "tab-separated, a '# mode' line before each crawl)",
    )
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
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--serve",
                    str(site),
                    "--outlets",
                    str(args.outlets),
                    "--request-log",
                    str(args.request_log),
                ],
            )
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
