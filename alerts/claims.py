"""Who holds a delivery claim, and taking back at once the claims of a process that died.

A claim is a lease ([alerts] claim_lease) so that a dispatcher that dies mid-send does not
hold its deliveries for ever; but waiting out the lease delays every alert it held, even
when the dead process is plainly gone. So each claim names its owner,
"host:pid:start:scope", and a round on the same host first releases the claims of
owners that no longer run. Several dispatchers may share one database, so this is done
only when sure: the owner's host and scope are ours, and no process with its pid and
start time runs. The start time (field 22 of /proc/PID/stat, clock ticks since boot)
guards against a reused pid; the scope (a hash of the kernel's boot id and our pid
namespace) makes sure a pid means the same process to both, so containers that share a
host name never release each other's claims. Without /proc (not Linux) there is no
scope: claims are then only ever released by their lease.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from crawler.storage import deliveries

log = logging.getLogger(__name__)
PROC = Path("/proc")


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: str  # the process's start time, in clock ticks since boot; "" when unknown
    scope: str  # boot id and pid namespace, hashed; "" when unknown

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.started}:{self.scope}"

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        parts = text.rsplit(":", 3)  # from the right: whatever a host name holds
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        host, pid, started, scope = parts
        return cls(host, int(pid), started, scope)


def owner_of(pid: int) -> Owner:
    """The name a claim made by process `pid` of this host carries."""
    found = _stat(pid)
    return Owner(socket.gethostname()[:64], pid, found[1] if found else "", _scope())


def this_process() -> Owner:
    return owner_of(os.getpid())  # read each time: a forked child is another owner


def is_gone(holder: Owner, here: Owner) -> bool:
    """True only when sure that `holder` no longer runs; False when it runs or we cannot tell."""
    if not (here.scope and holder.started):
        return False
    if (holder.host, holder.scope) != (here.host, here.scope):
        return False  # another machine, container or boot: its pids are not ours to check
    try:
        os.kill(holder.pid, 0)  # signal 0 only asks whether the pid exists
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists, run by another user (whose /proc entry may be hidden)
    found = _stat(holder.pid)
    if found is None:
        return False  # cannot tell: leave it to the lease
    state, started = found
    return started != holder.started or state in ("Z", "X")  # a reused pid, or a corpse


def release_dead(session: Session, now: datetime, here: Owner) -> int:
    """Release the running claims of this host's processes that died; how many were held."""
    released = 0
    for text in deliveries.claim_holders(session, now):
        holder = Owner.parse(text)
        if holder is not None and is_gone(holder, here):
            count = deliveries.release_claims(session, text)
            log.info("alerts: took back %d claim(s) of %s, which no longer runs", count, text)
            released += count
    return released


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of process `pid` from /proc/PID/stat; None if it cannot be read."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:  # no such process, no /proc, or hidden from us
        return None
    # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after it
    fields = text.rpartition(")")[2].split()
    return fields[0], fields[19]  # fields 3 and 22 of proc(5)


def _scope() -> str:
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(PROC / "self/ns/pid")
    except OSError:
        return ""
    return hashlib.sha256(f"{boot}|{namespace}".encode()).hexdigest()[:12]
