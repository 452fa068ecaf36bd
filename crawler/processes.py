"""Child processes that end when their parent dies, so a killed crawl leaves nothing running.

A parent killed with SIGKILL (by hand, by the OOM killer) runs no clean-up, and its
children would run on forever: an extraction process blocks reading a queue whose writing
end it holds itself, so it never sees the end of it. Linux can signal a child when its
parent dies (prctl PR_SET_PDEATHSIG); each child asks for that first thing.

The multiprocessing resource tracker needs nothing of this: it ignores SIGTERM and SIGINT
but exits by itself when every process holding its pipe (the parent and the children it
spawned) is gone, so it goes once the children do.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def cores() -> int:
    """How many processes "one per core" means: [crawl] extraction_workers, [service] workers."""
    return max(os.cpu_count() or 1, 1)


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
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signum)) != 0:
            return
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signum)
