"""A webhook receiver on loopback for tests of several processes delivering alerts."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TIMEOUT = 20  # seconds: the longest any event may take to come, on a slow machine
# A gate sees (path, headers, body) before the answer; False drops the request unanswered.
Gate = Callable[[str, dict[str, str], bytes], bool]


class Receiver:
    """A webhook receiver on loopback that records every request and what it acknowledged."""

    def __init__(self, gate: Gate | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.acked: list[tuple[str, dict[str, str], bytes]] = []  # answered 200
        self.changed = threading.Condition()
        self.gate = gate or (lambda *_: True)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                request = (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                receiver.record(receiver.requests, request)
                if not receiver.gate(*request):
                    return  # no answer: the connection just closes
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
                self.wfile.flush()
                receiver.record(receiver.acked, request)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def record(self, where: list, request: tuple) -> None:
        with self.changed:
            where.append(request)
            self.changed.notify_all()

    def wait_for_acks(self, count: int, timeout: float = TIMEOUT) -> None:
        with self.changed:
            done = self.changed.wait_for(lambda: len(self.acked) >= count, timeout)
        assert done, f"{len(self.acked)} of {count} deliveries acknowledged"

    def acked_ids(self) -> Counter[str]:
        return Counter(headers["webhook-id"] for _, headers, _ in self.acked)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
