"""A WebSub hub on loopback, after the W3C Recommendation (sections 5 to 7), for tests and benches.

Subscription requests (form POST: hub.callback, hub.mode, hub.topic, hub.lease_seconds,
hub.secret) are answered 202 and verified afterwards with a GET carrying hub.challenge; a
subscription holds only when the subscriber echoes the challenge with a 2xx. `publish`
distributes content to the topic's subscribers whose lease has not ended, with the Link
headers (rel=hub, rel=self) and `X-Hub-Signature` of their secret. The hub can deny a
topic, be stopped and started again on the same port (a hub that is down), and lets a
test wait for each event instead of sleeping.
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from crawler.websub import sign

TIMEOUT = 60  # seconds: the longest any event may take to come, on a slow machine
MAX_SECRET = 200  # bytes, the recommendation's limit


@dataclass
class Event:
    """A request the hub received, and how its verification went."""

    mode: str  # subscribe | unsubscribe | denied
    callback: str
    topic: str
    secret: str | None = None
    lease: int | None = None
    verified: bool | None = None  # None until the subscriber answered the verification
    answer: int | None = None  # the status the callback answered with


@dataclass
class Subscription:
    callback: str
    topic: str
    secret: str | None
    expires: float  # time.monotonic()


class Hub:
    def __init__(self, *, max_lease: int = 864000, default_lease: int = 86400) -> None:
        self.max_lease = max_lease
        self.default_lease = default_lease
        self.denied_topics: set[str] = set()
        self.events: list[Event] = []
        self.subscriptions: dict[tuple[str, str], Subscription] = {}
        self.changed = threading.Condition()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hub"

    # -- running -------------------------------------------------------------------

    def start(self) -> Hub:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: connections to the port are refused until `start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- what tests wait for -------------------------------------------------------

    def wait_for(self, predicate, timeout: float = TIMEOUT) -> list[Event]:
        """The events once `predicate(events)` holds; AssertionError after `timeout`."""
        with self.changed:
            done = self.changed.wait_for(lambda: predicate(self.events), timeout)
            assert done, f"the hub saw only {self.events}"
            return list(self.events)

    def verified(self, mode: str = "subscribe") -> list[Event]:
        with self.changed:
            return [e for e in self.events if e.mode == mode and e.verified]

    def active(self, topic: str) -> list[Subscription]:
        now = time.monotonic()
        with self.changed:
            return [s for s in self.subscriptions.values() if s.topic == topic and s.expires > now]

    # -- distribution --------------------------------------------------------------

    def publish(
        self,
        topic: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml",
        signature: str | None = None,
        method: str = "sha256",
    ) -> list[int]:
        """Deliver `body` to each subscriber of `topic`; their answers' statuses.

        `signature` replaces the real X-Hub-Signature ("" sends none).
        """
        statuses = []
        for subscription in self.active(topic):
            headers = {
                "Content-Type": content_type,
                "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
            }
            if signature is None and subscription.secret:
                headers["X-Hub-Signature"] = sign(subscription.secret, body, method)
            elif signature:
                headers["X-Hub-Signature"] = signature
            request = urllib.request.Request(
                subscription.callback, data=body, headers=headers, method="POST"
            )
            statuses.append(_status(request))
        return statuses

    # -- the protocol --------------------------------------------------------------

    def _request(self, form: dict[str, str]) -> tuple[int, str]:
        mode, callback, topic = (
            form.get("hub.mode"),
            form.get("hub.callback"),
            form.get("hub.topic"),
        )
        if mode not in ("subscribe", "unsubscribe") or not callback or not topic:
            return 400, "hub.mode, hub.callback and hub.topic are required"
        if urlsplit(callback).scheme not in ("http", "https"):
            return 400, "hub.callback must be an http(s) URL"
        secret = form.get("hub.secret")
        if secret is not None and len(secret.encode()) >= MAX_SECRET:
            return 400, "hub.secret must be shorter than 200 bytes"
        lease = self.default_lease
        if form.get("hub.lease_seconds", "").isdigit():
            lease = min(int(form["hub.lease_seconds"]), self.max_lease)
        event = Event(mode, callback, topic, secret, lease if mode == "subscribe" else None)
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()
        # Answered first, verified afterwards (section 5.2 and 5.3).
        threading.Thread(target=self._verify, args=(event,), daemon=True).start()
        return 202, ""

    def _verify(self, event: Event) -> None:
        if event.mode == "subscribe" and event.topic in self.denied_topics:
            params = {"hub.mode": "denied", "hub.topic": event.topic, "hub.reason": "not here"}
            event.answer = _status(urllib.request.Request(_with_query(event.callback, params)))
            with self.changed:
                event.verified = False
                self.events.append(Event("denied", event.callback, event.topic, verified=True))
                self.changed.notify_all()
            return
        challenge = secrets.token_urlsafe(16)
        params = {"hub.mode": event.mode, "hub.topic": event.topic, "hub.challenge": challenge}
        if event.lease is not None:
            params["hub.lease_seconds"] = str(event.lease)
        status, body = _get(_with_query(event.callback, params))
        verified = 200 <= status < 300 and body == challenge.encode()
        with self.changed:
            key = (event.callback, event.topic)
            if verified and event.mode == "subscribe":
                expires = time.monotonic() + (event.lease or self.default_lease)
                self.subscriptions[key] = Subscription(
                    event.callback, event.topic, event.secret, expires
                )
            elif verified:
                self.subscriptions.pop(key, None)
            event.answer, event.verified = status, verified
            self.changed.notify_all()


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            status, message = hub._request(form)
            body = message.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler
