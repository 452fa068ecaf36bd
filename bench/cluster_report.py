"""What one benchmark crawl measured, and how the cluster benchmark prints it."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

ARTICLES_PER_DAY = 1_000_000
DAY = 86_400.0


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


def report(results: list[Result], args) -> None:
    base = next((r for r in results if r.workers == 0 and r.stored), None)
    print(f"{'':<15}{'':>9}{'':>8}{'':>8}{'':>8}{'crawl processes':>22}{'cores meanwhile':>24}")
    head = (
        f"{'mode':<15}{'articles':>9}{'seconds':>8}{'art/s':>8}{'x single':>9}"
        f"{'CPU s':>7}{'ms/art':>7}{'RSS MiB':>8}{'crawl':>7}{'PG+Redis':>9}{'other':>7}"
        f"{'server':>7}"
    )
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
    head = (
        f"{'mode':<15}{'requests':>9}{'req/s 1 host':>13}{'mean req/s':>11}"
        f"{'in flight':>10}{'min gap':>9}{'p5 gap':>8}{'gaps < delay':>13}"
        "  politeness"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        q = r.requests
        if not q:
            continue
        verdict = (
            "POLITENESS VIOLATED: " + ", ".join(b.split(":")[0] for b in q["broken"])
            if q["broken"]
            else "within limits"
        )
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
    tables = ", ".join(
        f"{name} {rows / best.stored:.0f}" for name, rows in list(best.tables.items())[:4]
    )
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
