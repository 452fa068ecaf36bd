"""HTTP plumbing of the demo site: request and response values, conditional GET, a quiet server."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path with query, as sent
    headers: Mapping[str, str]
    base_url: str  # http://host:port of the site, for absolute links

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def header(self, name: str) -> str | None:
        """Header lookup ignoring case, as HTTP wants."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


# A route answers a request; None means: drop the connection without an answer.
Route = Callable[[Request], Response | None]


def text(status: int, body: str, content_type: str = HTML) -> Response:
    return Response(status, body.encode("utf-8"), {"Content-Type": content_type})


def conditional(
    request: Request, body: bytes, content_type: str, last_modified: datetime
) -> Response:
    """A 200 with a strong ETag and Last-Modified, or a 304 when the client's copy is current."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "Content-Type": content_type,
        "ETag": etag,
        "Last-Modified": format_datetime(last_modified.astimezone(UTC), usegmt=True),
    }
    if _not_modified(request, etag, last_modified):
        return Response(304, b"", headers)
    return Response(200, body, headers)


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    if_none_match = request.header("If-None-Match")
    if if_none_match is not None:
        # RFC 9110: If-None-Match wins over If-Modified-Since and compares weakly.
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.header("If-Modified-Since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


class _Handler(BaseHTTPRequestHandler):
    server: QuietServer
    server_version = "newswatch-demo/1.0"
    timeout = 30  # a client that connects and never sends must not pin a thread forever

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        request = Request(self.command, self.path, dict(self.headers.items()), self.server.base_url)
        response = self.server.respond(request)
        if response is None:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if send_body and response.body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the site keeps its own request log instead of writing to stderr."""


class QuietServer(ThreadingHTTPServer):
    """A threading server that never blocks on close and keeps handler errors off stderr."""

    daemon_threads = True
    # Otherwise server_close() joins every handler thread, daemon or not.
    block_on_close = False

    def __init__(self, address: tuple[str, int], respond: Callable[[Request], Response | None]):
        super().__init__(address, _Handler)
        self.respond = respond

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that hang up mid-body (size limits, timeouts) are normal here.
        logger.debug("demo site: error while serving %s", client_address, exc_info=True)


def serve(host: str, port: int, respond: Route) -> tuple[QuietServer, threading.Thread]:
    server = QuietServer((host, port), respond)
    # A short poll interval makes shutdown() return quickly.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.name = f"newswatch-demo-site:{server.server_address[1]}"
    thread.start()
    return server, thread
