"""A webhook receiver on loopback for tests of several processes delivering alerts."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TIMEOUT = 20  # seconds: the longest any event may take to come, on a slow machine
# A gate sees (path, headers, body) before the answer; False drops the request unanswered.
Gate = Callable[[str, dict[str, str], bytes], bool]


class Receiver:
    """A webhook receiver on loopback that records every request and what it acknowledged.

    `tolerance` makes it check timestamps as the Standard Webhooks libraries do: a request
    whose webhook-timestamp is more than that many seconds from the receiver's clock when
    it arrived is answered 400 (whole seconds, the header's resolution). `delay` holds
    every answer that long: a slow receiver.
    """

    def __init__(
        self, gate: Gate | None = None, *, tolerance: int | None = None, delay: float = 0.0
    ) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.arrived: list[float] = []  # when each of `requests` came, on the receiver's clock
        self.acked: list[tuple[str, dict[str, str], bytes]] = []  # answered 200
        self.changed = threading.Condition()
        self.gate = gate or (lambda *_: True)
        self.closing = threading.Event()  # set: held answers go out now
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                arrived = time.time()
                request = (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                receiver.record(receiver.requests, request, arrived)
                if not receiver.gate(*request):
                    return  # no answer: the connection just closes
                receiver.closing.wait(delay)
                stamp = request[1].get("webhook-timestamp", "")
                if tolerance is not None and not (
                    stamp.isdigit() and abs(int(arrived) - int(stamp)) <= tolerance
                ):
                    self.send_response(400)  # "message timestamp too old"
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
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

    def record(self, where: list, request: tuple, arrived: float | None = None) -> None:
        with self.changed:
            where.append(request)
            if arrived is not None:
                self.arrived.append(arrived)
            self.changed.notify_all()

    def wait_for_acks(self, count: int, timeout: float = TIMEOUT) -> None:
        with self.changed:
            done = self.changed.wait_for(lambda: len(self.acked) >= count, timeout)
        assert done, f"{len(self.acked)} of {count} deliveries acknowledged"

    def acked_ids(self) -> Counter[str]:
        return Counter(headers["webhook-id"] for _, headers, _ in self.acked)

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
