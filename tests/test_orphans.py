"""A crawl killed with SIGKILL leaves no process behind: fork server, extraction, resource
tracker, anything.

Real processes throughout: a crawl (or a service crawl worker) runs against a loopback site
whose article pages never answer, so it is busy when the test kills it; the test then
watches /proc until everything the crawl had started is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from newswatch.demo.server import Request, Response, serve, text
from tests.crawl_helpers import rows, write_config

WAIT = 90  # seconds: only reached when the behaviour under test is broken
POLL = 0.05

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG and /proc")

PARAGRAPH = (
    "<p>Die belgische Bundespolizei und die marokkanische DGST tauschen seit dem Frühjahr "
    "Ermittlungsdaten über Kokainlieferungen aus, die über den Hafen von Antwerpen laufen. "
    "Beide Seiten sprechen von einem Durchbruch in der Zusammenarbeit.</p>"
)
ARTICLE = (
    "<!doctype html><html lang='de'><head><meta charset='utf-8'><title>Hafen</title></head>"
    f"<body><article><h1>Hafen von Antwerpen</h1>{PARAGRAPH * 4}</article></body></html>"
)

# A stand-in for the service: one crawl worker, run the way the service runs it.
SERVICE = """
import os, sys
from newswatch.scheduling.worker import BatchJob, WorkerProcesses
from newswatch.settings import load_settings
settings = load_settings(sys.argv[1])
# verbosity 2: Scrapy's own lines, such as that it received SIGTERM
job = BatchJob(settings.sources, settings.crawl, sys.argv[2], 2, parent_pid=os.getpid())
WorkerProcesses().run(job)
"""


# --- the process tree, read from /proc --------------------------------------------------


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return fields[0], fields[19]


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found.update(int(child) for child in (task / "children").read_text().split())
    return found


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid`: pid → start time (which tells a reused pid apart)."""
    found: dict[int, str] = {}
    todo = list(children(pid))
    while todo:
        child = todo.pop()
        stat = _stat(child)
        if stat is not None and child not in found:
            found[child] = stat[1]
            todo.extend(children(child))
    return found


def alive(pid: int, started: str) -> bool:
    """Still running: the same process (not a reused pid) and not a zombie awaiting its reaper."""
    stat = _stat(pid)
    return stat is not None and stat[1] == started and stat[0] != "Z"


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def survivors(family: dict[int, str]) -> dict[int, str]:
    return {pid: cmdline(pid) for pid, started in family.items() if alive(pid, started)}


def wait_until(condition: Callable[[], object], what: str) -> object:
    """Poll `condition` until it holds; fail, saying `what` never happened, after WAIT."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(POLL)
    raise AssertionError(f"within {WAIT}s, never: {what}")


def is_spawned(pid: int) -> bool:
    """A multiprocessing "spawn" child: a service's crawl worker."""
    return "spawn_main" in cmdline(pid)


def is_fork_server(pid: int) -> bool:
    """A multiprocessing fork server, or a process it forked (they share its command line)."""
    return "multiprocessing.forkserver" in cmdline(pid)


def extraction_processes(pid: int) -> set[int]:
    """The processes that fork servers below `pid` have forked: extraction processes."""
    return {
        child
        for server in descendants(pid)
        if is_fork_server(server)
        for child in children(server)
        if is_fork_server(child)
    }


def wait_gone(family: dict[int, str], after: str, log: Path) -> None:
    """Poll until every process of `family` has ended; fail, naming those left, after WAIT."""
    deadline = time.monotonic() + WAIT
    while survivors(family) and time.monotonic() < deadline:
        time.sleep(POLL)
    assert not survivors(family), (
        f"still running {WAIT}s after {after}: {survivors(family)}\n{log.read_text()[-3000:]}"
    )


def is_tracker(pid: int) -> bool:
    return "resource_tracker" in cmdline(pid)


def article_stored(url: str) -> bool:
    """The extraction process has done a page's work: it is up and waiting for the next."""
    try:
        return bool(rows(url, "SELECT 1 FROM articles"))
    except Exception:  # the crawl has not created the table yet
        return False


@contextlib.contextmanager
def reaped(*processes: subprocess.Popen) -> Iterator[dict[int, str]]:
    """Yield a dict to record a family in; kill whatever of it is left when the test ends."""
    family: dict[int, str] = {}
    try:
        yield family
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        for pid, started in family.items():  # a failed test must not leave them running
            if alive(pid, started):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


# --- the site: one article that answers, and articles that never do -----------------------


@contextlib.contextmanager
def hanging_site() -> Iterator[tuple[str, threading.Event]]:
    """A loopback news site whose feed lists one article that answers and two that hang.

    Yields its base URL and the event that lets the hanging ones answer.
    """
    release = threading.Event()

    def hang(_request: Request) -> Response:
        release.wait(WAIT * 2)  # keeps the crawl busy until it is killed or released
        return text(200, ARTICLE)

    links = ["/news/answers.html", "/news/hangs-1.html", "/news/hangs-2.html"]

    def respond(request: Request) -> Response:
        if request.path == "/feed.xml":
            items = "".join(
                f"<item><title>t</title><link>{request.base_url}{link}</link></item>"
                for link in links
            )
            body = f"<?xml version='1.0'?><rss version='2.0'><channel>{items}</channel></rss>"
            return text(200, body, "application/rss+xml")
        if request.path == "/news/answers.html":
            return text(200, ARTICLE)
        if request.path.startswith("/news/hangs-"):
            return hang(request)
        return text(404, "not found")

    server, thread = serve("127.0.0.1", 0, respond)
    try:
        yield server.base_url, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def config_for(tmp_path: Path, base_url: str) -> Path:
    source = {"name": "hanging", "kind": "feed", "url": f"{base_url}/feed.xml"}
    # a long timeout and room for every page at once: the answering article is never
    # stuck behind the hanging ones, and the crawl is still running when it is killed
    return write_config(
        tmp_path / "newswatch.toml",
        [source],
        extraction_workers=1,
        timeout="300s",
        per_domain_concurrency=4,
    )


def started(command: list[str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:  # a file, not a pipe: orphans would hold a pipe open
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def busy_worker(service: subprocess.Popen, url: str) -> int:
    """The service's crawl worker, once its extraction process has stored an article."""
    worker = wait_until(
        lambda: next((pid for pid in children(service.pid) if is_spawned(pid)), None),
        "the service started a crawl worker",
    )
    wait_until(lambda: extraction_processes(worker), "the worker started an extraction process")
    wait_until(lambda: article_stored(url), "the answering article was stored")
    return worker


# --- the tests --------------------------------------------------------------------------


def test_a_killed_crawl_leaves_no_processes(tmp_path, sqlite_url):
    with hanging_site() as (base_url, _):
        config = config_for(tmp_path, base_url)
        log = tmp_path / "crawl.log"
        crawl = started(
            [
                sys.executable,
                "-m",
                "newswatch",
                "--config",
                str(config),
                "--database",
                sqlite_url,
                "crawl",
            ],
            log,
        )
        with reaped(crawl) as family:
            wait_until(
                lambda: extraction_processes(crawl.pid), "the crawl started an extraction process"
            )
            wait_until(lambda: article_stored(sqlite_url), "the answering article was stored")
            family.update(descendants(crawl.pid))
            extraction = extraction_processes(crawl.pid)
            servers = {pid for pid in family if is_fork_server(pid)} - extraction
            assert extraction and servers and any(map(is_tracker, family)), (
                "expected a fork server, an extraction process it forked and a resource "
                f"tracker: {survivors(family)}"
            )

            crawl.send_signal(signal.SIGKILL)
            crawl.wait()

            wait_gone(family, "the crawl was killed", log)


def test_a_killed_service_worker_leaves_no_processes(tmp_path, sqlite_url):
    with hanging_site() as (base_url, _):
        config = config_for(tmp_path, base_url)
        log = tmp_path / "service.log"
        service = started([sys.executable, "-c", SERVICE, str(config), sqlite_url], log)
        with reaped(service) as family:
            worker = busy_worker(service, sqlite_url)
            below_worker = descendants(worker)
            family.update(descendants(service.pid))

            os.kill(worker, signal.SIGKILL)  # the worker alone: the service lives on

            wait_gone(below_worker, "the worker was killed", log)
            # the service sees its worker gone and ends; then nothing of it is left either
            assert service.wait(WAIT) == 0, log.read_text()[-3000:]
            wait_gone(family, "the service ended", log)


def test_a_killed_service_leaves_no_processes(tmp_path, sqlite_url):
    with hanging_site() as (base_url, release):
        config = config_for(tmp_path, base_url)
        log = tmp_path / "service.log"
        service = started([sys.executable, "-c", SERVICE, str(config), sqlite_url], log)
        with reaped(service) as family:
            busy_worker(service, sqlite_url)
            family.update(descendants(service.pid))

            service.send_signal(signal.SIGKILL)
            service.wait()

            # The worker is asked to stop (SIGTERM), as the service would: Scrapy finishes
            # the requests in flight, so the test lets them answer once the worker knows.
            wait_until(
                lambda: "Received SIGTERM" in log.read_text(),
                "the worker was told that its service died",
            )
            release.set()
            wait_gone(family, "the service was killed", log)
