"""WebSub for `newswatch run`: subscribe to the hubs feeds advertise; a push polls the source now.

    crawl reads a feed with rel=hub ──► websub_subscriptions row (new)
    subscriber thread ──POST hub.mode=subscribe (own callback path and secret)──► hub
    hub ──GET hub.challenge──► callback: echoed for a subscription we asked for ──► active
    hub ──POST signed content──► callback: valid X-Hub-Signature ──► the source is polled now
    at 85% of the lease ──► subscribe again (renewal); a failed request ──► retried with backoff
    a source no longer configured ──► unsubscribed when the service starts

A push only wakes the source: the ordinary crawl then stores, dedupes and alerts, so
nothing depends on the hub, and polling at the adaptive interval goes on beside it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.orm import Session, sessionmaker

from crawler.sources import CrawlOptions, Source
from crawler.storage import websub as store
from crawler.storage.models.base import utcnow
from crawler.storage.websub import WebSubSubscription
from crawler.websub import SIGNATURE_METHODS, HubRefused, WebSubOptions, request_subscription
from crawler.websub import signature_valid as _signature_valid

log = logging.getLogger(__name__)
RENEW_AT = 0.85  # share of the lease after which it is renewed
VERIFY_TIMEOUT = 600.0  # a hub that accepted a request but never verified it is asked again
MAX_RETRY = 6 * 3600.0
UNSUBSCRIBE_TRIES = 5  # then a removed source's subscription is forgotten (its lease ends)
CHECK_EVERY = 60.0  # seconds between looks at the table when nothing is due sooner
BUSY_RETRY = 1.0  # a pushed source being crawled is queued again this often
MAX_BODY = 16 * 2**20


class Subscriber:
    def __init__(
        self,
        options: WebSubOptions,
        crawl: CrawlOptions,
        sessions: sessionmaker[Session],
        poll_now: Callable[[str], bool],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        assert options.callback_url is not None
        self.options = options
        self.crawl = crawl
        self.sessions = sessions
        self.poll_now = poll_now  # False when the source is already waiting or being crawled
        self.clock = clock
        self.names: dict[int, str] = {}
        self.sources: dict[str, Source] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pushed: set[str] = set()  # pushed while being crawled: polled once more after
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, sources: Mapping[str, Source], ids: Mapping[str, int]) -> bool:
        """Answer hubs on `listen`, unsubscribe removed sources; False when it cannot listen."""
        self.sources = dict(sources)
        self.names = {source_id: name for name, source_id in ids.items()}
        host, port = self.options.listen_address
        try:
            self._server = ThreadingHTTPServer((host, port), _handler(self))
        except OSError as error:
            log.error(
                "WebSub off: cannot listen for hubs on %s (%s); sources are polled as usual",
                self.options.listen,
                error,
            )
            return False
        self._server.daemon_threads = True
        with self.sessions() as session:
            leaving = store.leave_removed(session, list(ids.values()), self.clock())
            session.commit()
        if leaving:
            log.info("WebSub: unsubscribing %d subscriptions of removed sources", leaving)
        for target, name in ((self._server.serve_forever, "http"), (self._run, "subscriber")):
            thread = threading.Thread(target=target, name=f"websub-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("WebSub callbacks at %s, answered on %s", self.options.callback_url, self.listen)
        return True

    @property
    def listen(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def wake(self) -> None:
        """Look at the table now (a crawl may have recorded a hub)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                wait = self.maintain()
            except Exception:  # the database away for a moment: try again later
                log.exception("WebSub: subscriptions could not be maintained")
                wait = CHECK_EVERY
            self._wake.wait(wait)
            self._wake.clear()

    # -- requests to hubs ------------------------------------------------------------

    def maintain(self) -> float:
        """Send what is due (subscribe, renew, retry, unsubscribe); seconds until the next."""
        with self._lock:
            pushed, self._pushed = self._pushed, set()
        for name in pushed:
            self._poll(name)
        now = self.clock()
        with self.sessions() as session:
            due = store.due(session, now)
        for row in due:
            if self._stopping.is_set():
                break
            self._request(row, now)
        with self.sessions() as session:
            upcoming = store.next_due(session)
        wait = CHECK_EVERY
        if upcoming is not None:
            wait = min(wait, max((upcoming - self.clock()).total_seconds(), 0.05))
        with self._lock:
            return min(wait, BUSY_RETRY) if self._pushed else wait

    def _request(self, row: WebSubSubscription, now: datetime) -> None:
        name = self.names.get(row.source_id)
        mode = "unsubscribe" if row.state == "unsubscribing" or name is None else "subscribe"
        if mode == "subscribe" and row.state == "denied":
            self._change(row, due_at=None)
            return
        token = row.token or secrets.token_urlsafe(32)
        secret = row.secret or secrets.token_hex(32)
        form = {
            "hub.callback": f"{self.options.callback_url}{token}",
            "hub.mode": mode,
            "hub.topic": row.topic_url,
        }
        if mode == "subscribe":
            form["hub.lease_seconds"] = str(round(self.options.lease))
            form["hub.secret"] = secret
        source = self.sources.get(name) if name else None
        if source is None:  # removed: the crawl's rules for private addresses still hold
            source = Source(_named(name, row), "feed", (row.feed_url,))
        # Written before the request: a hub may verify before it answers.
        state = "unsubscribing" if mode == "unsubscribe" else _asking(row.state)
        self._change(
            row,
            token=token,
            secret=secret,
            state=state,
            due_at=now + timedelta(seconds=VERIFY_TIMEOUT),
        )
        try:
            request_subscription(
                row.hub_url,
                source,
                form,
                user_agent=self.crawl.user_agent,
                timeout=self.crawl.download_timeout,
            )
        except HubRefused as error:
            self._failed(row, mode, name, str(error), now)
            return
        log.info(
            "WebSub: %s: asked hub %s to %s to %s",
            _named(name, row),
            row.hub_url,
            mode,
            row.topic_url,
        )

    def _failed(
        self, row: WebSubSubscription, mode: str, name: str | None, error: str, now: datetime
    ) -> None:
        failures = row.failures + 1
        if mode == "unsubscribe" and failures >= UNSUBSCRIBE_TRIES:
            with self.sessions() as session:
                store.forget(session, row.id)
                session.commit()
            log.warning(
                "WebSub: %s: giving up unsubscribing from hub %s after %d tries (%s); "
                "its lease ends the subscription",
                _named(name, row),
                row.hub_url,
                failures,
                error,
            )
            return
        delay = min(self.options.retry_interval * 2 ** (failures - 1), MAX_RETRY)
        leased = row.lease_expires_at is not None and row.lease_expires_at > now
        if mode == "unsubscribe":
            state = "unsubscribing"
        else:
            state = "active" if row.state == "active" and leased else "failed"
        self._change(
            row,
            state=state,
            failures=failures,
            last_error=error,
            due_at=now + timedelta(seconds=delay),
        )
        log.warning(  # after the change: what the log says is on record
            "WebSub: %s: %s at hub %s failed: %s; trying again in %.1fs (polling goes on)",
            _named(name, row),
            mode,
            row.hub_url,
            error,
            delay,
        )

    def _change(self, row: WebSubSubscription, **values: object) -> None:
        with self.sessions() as session:
            store.change(session, row.id, **values)
            session.commit()

    # -- the callback ------------------------------------------------------------------

    def verify(self, token: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        """A hub's GET: confirm a request we made (echo the challenge) or learn of a denial."""
        mode, topic = params.get("hub.mode"), params.get("hub.topic")
        challenge = params.get("hub.challenge")
        now = self.clock()
        with self.sessions() as session:
            row = store.by_token(session, token)
            if row is None or topic != row.topic_url:
                return 404, b""
            name = self.names.get(row.source_id)
            if mode == "denied":
                reason = params.get("hub.reason") or "no reason given"
                store.change(session, row.id, state="denied", due_at=None, last_error=reason)
                session.commit()
                log.warning(
                    "WebSub: %s: hub %s denied the subscription to %s: %s",
                    _named(name, row),
                    row.hub_url,
                    topic,
                    reason,
                )
                return 200, b""
            if not challenge:
                return 404, b""
            given = params.get("hub.lease_seconds")  # required; a hub that omits it gets ours
            lease = _lease(given) if given is not None else round(self.options.lease)
            if mode == "subscribe" and name and row.state != "unsubscribing" and lease:
                store.change(
                    session,
                    row.id,
                    state="active",
                    lease_expires_at=now + timedelta(seconds=lease),
                    due_at=now + timedelta(seconds=lease * RENEW_AT),
                    failures=0,
                    last_error=None,
                )
                session.commit()
                self._wake.set()  # the renewal is now due earlier than the loop waits
                log.info(
                    "WebSub: %s: subscribed at hub %s to %s for %ds",
                    name,
                    row.hub_url,
                    topic,
                    lease,
                )
                return 200, challenge.encode()
            if mode == "unsubscribe" and row.state == "unsubscribing":
                store.forget(session, row.id)
                session.commit()
                log.info("WebSub: %s: unsubscribed at hub %s", _named(name, row), row.hub_url)
                return 200, challenge.encode()
        return 404, b""

    def distribution(self, token: str, body: bytes, signature: str | None) -> int:
        """A hub's POST of new content: a valid signature polls the source now."""
        with self.sessions() as session:
            row = store.by_token(session, token)
            name = self.names.get(row.source_id) if row else None
            if row is None or name is None or row.state not in store.DELIVERABLE:
                return 410  # Gone: the hub may end the subscription
            if not row.secret or not _signature_valid(row.secret, body, signature):
                # Answered 2xx all the same (the recommendation allows it): a forger learns
                # nothing, and the content is ignored.
                log.warning(
                    "WebSub: %s: ignored content from hub %s: %s",
                    name,
                    row.hub_url,
                    _signature_problem(signature),
                )
                return 202
            store.change(session, row.id, last_push_at=self.clock())
            session.commit()
            hub = row.hub_url
        log.info("WebSub: %s: new content pushed by hub %s, polling now", name, hub)
        self._poll(name)
        return 202

    def _poll(self, name: str) -> None:
        if self._stopping.is_set() or name not in self.sources:
            return
        if not self.poll_now(name):  # waiting (fine) or being crawled (may have missed it)
            with self._lock:
                self._pushed.add(name)
            self._wake.set()


def _asking(state: str) -> str:
    # A renewal keeps an active subscription active: the hub goes on delivering meanwhile.
    return "active" if state == "active" else "requested"


def _lease(value: str | None) -> int | None:
    try:
        lease = int(value or "")
    except ValueError:
        return None
    return lease if lease > 0 else None


def _named(name: str | None, row: WebSubSubscription) -> str:
    return name or f"removed source #{row.source_id}"


def _signature_problem(header: str | None) -> str:
    if not header:
        return "no X-Hub-Signature"
    method = header.partition("=")[0].strip().lower()
    if method not in SIGNATURE_METHODS:
        return f"X-Hub-Signature method {method!r} refused (sha256, sha384 or sha512 only)"
    return "X-Hub-Signature does not match the subscription's secret"


def _handler(subscriber: Subscriber) -> type[BaseHTTPRequestHandler]:
    prefix = urlsplit(subscriber.options.callback_url or "/").path or "/"

    class Callback(BaseHTTPRequestHandler):
        server_version = "newswatch"
        sys_version = ""

        def _token(self) -> str | None:
            path = urlsplit(self.path).path
            token = path[len(prefix) :] if path.startswith(prefix) else ""
            return token if token and "/" not in token else None

        def do_GET(self) -> None:
            token = self._token()
            if token is None:
                return self._answer(404)
            query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
            params = {key: values[0] for key, values in query.items()}
            status, body = subscriber.verify(token, params)
            self._answer(status, body)

        def do_POST(self) -> None:
            token = self._token()
            length = self.headers.get("Content-Length")
            if token is None:
                return self._answer(404)
            if length is None or not length.isdigit():
                return self._answer(411)
            if int(length) > MAX_BODY:
                return self._answer(413)
            body = self.rfile.read(int(length))
            self._answer(subscriber.distribution(token, body, self.headers.get("X-Hub-Signature")))

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("WebSub callback: " + format, *args)

    return Callback
