"""Many loopback hosts for the cluster benchmark: a site served on each, and what each saw.

`serve_forever` runs in its own process (`bench/cluster.py --serve`) and logs every request
with its host and its start (the kernel's receive time) and end; `politeness` reads that log
back into per-host rates, concurrency and gaps between starts.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import signal
import socket
import struct
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
                line = (
                    f"{self.server.server_address[0]}\t{started:.6f}\t{time.time():.6f}"
                    f"\t{self.status}\t{self.path}\n"
                )
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
