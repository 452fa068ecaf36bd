"""Child processes that end when their parent dies, so a killed crawl leaves nothing running.

A parent killed with SIGKILL (by hand, by the OOM killer) runs no clean-up, and its
children would run on forever: an extraction process blocks reading a queue whose writing
end it holds itself, so it never sees the end of it. Linux can signal a child when its
parent dies (prctl PR_SET_PDEATHSIG); each child asks for that first thing.

Extraction processes are forked by a fork server (multiprocessing's "forkserver"), not by
the crawl: the server dies with the crawl (`become_fork_server`), and each extraction
process with the server (`die_with_fork_server`). The server alone would not notice: it
waits for every holder of its "alive" pipe to go, and the extraction processes hold it.

The multiprocessing resource tracker needs nothing of this: it ignores SIGTERM and SIGINT
but exits by itself when every process holding its pipe (the parent and the children it
started) is gone, so it goes once the children do.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# The pid of the process that asked for a fork server, passed down to the server.
FORK_SERVER_PARENT = "NEWSWATCH_FORK_SERVER_PARENT"

RELEASE_EVERY = 10  # calls of `call_and_release` between two returns of freed memory

_fork_server_pid: int | None = None  # set in a fork server, inherited by what it forks
_calls = 0  # calls of `call_and_release` in this process

T = TypeVar("T")


def cores() -> int:
    """How many processes "one per core" means: [crawl] extraction_workers, [service] workers."""
    return max(os.cpu_count() or 1, 1)


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent(parent_pid: int, signum: int = signal.SIGTERM) -> None:
    """Have Linux send this process `signum` when its parent dies (elsewhere: do nothing).

    `parent_pid` is the parent's pid as the parent saw it, passed down to the child: if it
    died before the request took effect, the child is already orphaned and ends itself.
    Linux signals when the parent *thread* that started the child ends, not the process, so
    start children from a thread that lives as long as they do (the main thread or one that
    waits for the child).
    """
    if sys.platform != "linux":
        return
    try:
        if _libc().prctl(PR_SET_PDEATHSIG, int(signum)) != 0:
            return
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signum)


def fork_server(preload: Sequence[str]) -> BaseContext:
    """A "forkserver" context whose server imports `preload` before it forks anything.

    The server is started with the first child, from the thread that starts it (which must
    live as long as the children do, as for `die_with_parent`). One of the `preload`
    modules must call `become_fork_server`, and the children `die_with_fork_server` first
    thing (as a pool's initializer), for them all to die with this process.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    if os.environ.get(FORK_SERVER_PARENT) != str(os.getpid()):  # set once per process
        os.environ[FORK_SERVER_PARENT] = str(os.getpid())
    return context


def become_fork_server(signum: int = signal.SIGKILL) -> None:
    """In a fork server, while it imports its preload: die with the process that started it.

    Does nothing in a process that was not started by `fork_server`'s caller. Should the
    caller die before this takes effect, the server still ends: it has forked nothing yet,
    so its "alive" pipe is closed and it exits by itself.
    """
    global _fork_server_pid
    parent = os.environ.get(FORK_SERVER_PARENT, "")
    if parent.isdigit() and int(parent) == os.getppid():
        die_with_parent(int(parent), signum)
        _fork_server_pid = os.getpid()


def die_with_fork_server(signum: int = signal.SIGKILL) -> None:
    """First thing in a process forked by a fork server: die with the server."""
    # A server that did not preload (it was started before, without): its pid is unknown
    # here, and the parent is taken to be alive still.
    die_with_parent(_fork_server_pid or os.getppid(), signum)


def release_freed_memory() -> None:
    """Give the memory this process has freed back to the system (glibc; elsewhere nothing).

    glibc keeps freed memory for later allocations: a process that has parsed large pages
    stays as large as its largest moment, its freed pages counted against it.
    """
    with contextlib.suppress(OSError, AttributeError):
        _libc().malloc_trim(0)


def call_and_release(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, in a pool process: every RELEASE_EVERY calls, freed memory goes back.

    Trimming costs a few milliseconds, so not after every call; the pages freed between
    two trims are reused by the calls in between.
    """
    global _calls
    try:
        return function(*args)
    finally:
        _calls += 1
        if _calls % RELEASE_EVERY == 0:
            release_freed_memory()
