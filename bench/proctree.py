"""Memory and CPU of a process tree, read from /proc: peak PSS and RSS sampled in a thread."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


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
    """User + system CPU of one process so far (its own, not its children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def processes_named(fragment: str) -> list[int]:
    """Pids whose command line (process title) contains `fragment`, e.g. PostgreSQL backends
    serving one database ("postgres: 15/main: postgres <database> 127.0.0.1(…) idle")."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fragment in title:
            found.append(int(entry.name))
    return found


class TreeSampler:
    """Every `interval` seconds, in a thread: the PSS and RSS summed over a process and all
    its descendants (peaks kept), and the CPU of each process seen, as last read.

    `others` names more processes to follow for CPU only (database server backends): a
    process that lives less than one interval, and the CPU of the last interval of each, is
    missed, so their figure is a lower bound.
    """

    def __init__(
        self, pid: int, interval: float = 0.1, others: Callable[[], Iterable[int]] | None = None
    ):
        self.pid, self.interval, self.others = pid, interval, others
        self.peak_pss_kib = self.peak_rss_kib = 0
        self.peak_processes = 0
        self.cpu_by_pid: dict[int, float] = {}
        self.other_cpu_by_pid: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        pids = tree(self.pid)
        self.peak_pss_kib = max(self.peak_pss_kib, sum(pss_kib(pid) for pid in pids))
        self.peak_rss_kib = max(self.peak_rss_kib, sum(rss_kib(pid) for pid in pids))
        self.peak_processes = max(self.peak_processes, len(pids))
        for pid in pids:
            self.cpu_by_pid[pid] = max(self.cpu_by_pid.get(pid, 0.0), cpu_seconds(pid))
        for pid in self.others() if self.others else ():
            self.other_cpu_by_pid[pid] = max(self.other_cpu_by_pid.get(pid, 0.0), cpu_seconds(pid))

    @property
    def main_cpu(self) -> float:
        return self.cpu_by_pid.get(self.pid, 0.0)

    @property
    def children_cpu(self) -> float:
        return sum(cpu for pid, cpu in self.cpu_by_pid.items() if pid != self.pid)

    @property
    def others_cpu(self) -> float:
        return sum(self.other_cpu_by_pid.values())
