"""Who may read an exposed server: the token, a session cookie, or a feed's own key.

Every route but the sign-in page and the stylesheet needs one of:

- `Authorization: Bearer <token>` (scripts and the JSON API);
- the session cookie that signing in at /login with the token sets (browsers);
- for an Atom feed or an export only, `key=` in its URL: feed readers and spreadsheets
  cannot send headers or sign in. Each key is derived from the token and that URL's path
  and query, so it opens that one feed or export and nothing else: a feed URL that leaks
  from a reader's sync service shows one feed, not the archive, and never the token,
  which also authorises actions. Changing the token revokes every key and session.

The cookie and the keys are HMAC-SHA256 with the token as key (one purpose label each, so
a key is never a valid cookie); Starlette's SessionMiddleware would need itsdangerous,
which newswatch does not depend on. All comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newswatch.web.options import WebOptions

COOKIE = "newswatch_session"
SESSION_SECONDS = 12 * 3600
KEY = "key"  # the query parameter of a feed's or an export's key
SIGN_IN = "/login"
STATIC = "/static/"  # the stylesheet and icon the sign-in page shows
KEYED = ("/feeds/", "/export.")  # what a feed reader or spreadsheet fetches


def same(given: str | None, expected: str | None) -> bool:
    """`given` equals `expected`, compared in constant time; nothing equals a missing value."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _mac(token: str, purpose: str, message: str) -> str:
    signed = f"newswatch {purpose}\n{message}".encode()
    return hmac.new(token.encode(), signed, hashlib.sha256).hexdigest()


def session_value(token: str, now: float | None = None) -> str:
    """A cookie value good for SESSION_SECONDS: its expiry, signed."""
    expires = str(int(now if now is not None else time.time()) + SESSION_SECONDS)
    return f"{expires}.{_mac(token, 'session', expires)}"


def session_valid(token: str, value: str | None, now: float | None = None) -> bool:
    expires, _, mac = (value or "").partition(".")
    if not expires.isdigit() or len(expires) > 12:
        return False
    if int(expires) < (now if now is not None else time.time()):
        return False
    return same(mac, _mac(token, "session", expires))


def feed_key(token: str, path: str, pairs: Iterable[tuple[str, str]]) -> str:
    """The key of one feed or export URL: its (decoded) path and its query in any order."""
    query = urlencode(sorted((name, value) for name, value in pairs if name != KEY))
    return _mac(token, "feed", f"{path}?{query}")[:32]


def keyed_link(options: WebOptions, link: str) -> str:
    """`link` (a path with its query, or an absolute URL) with its key when reads need one."""
    if not options.reads_need_token or not options.token:
        return link
    parts = urlsplit(link)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    key = feed_key(options.token, unquote(parts.path), pairs)
    return f"{link}{'&' if parts.query else '?'}{urlencode({KEY: key})}"


def reader_allowed(connection: HTTPConnection, options: WebOptions) -> bool:
    token = options.token or ""
    bearer = connection.headers.get("authorization", "")
    if bearer[:7].lower() == "bearer " and same(bearer[7:].strip(), token):
        return True
    if session_valid(token, connection.cookies.get(COOKIE)):
        return True
    path = connection.scope["path"]  # decoded, as ASGI gives it
    if path.startswith(KEYED) and KEY in connection.query_params:
        expected = feed_key(token, path, connection.query_params.multi_items())
        return same(connection.query_params[KEY], expected)
    return False


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 32 or char == "\\" for char in target):
        return "/"
    return target


class ReadGate:
    """On an exposed server, refuses every request that brings neither token nor key."""

    def __init__(self, app: ASGIApp, options: WebOptions) -> None:
        self.app = app
        self.options = options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.options.reads_need_token:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        path = scope["path"]
        if path == SIGN_IN or path.startswith(STATIC):
            await self.app(scope, receive, send)
        elif reader_allowed(connection, self.options):
            await self.app(scope, receive, _private(send))
        else:
            await _refusal(connection, scope["method"])(scope, receive, send)


def _private(send: Send) -> Send:
    """What one reader may see is for that reader: no shared cache (a proxy's) may keep it."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers["cache-control"] = "private, no-cache"
            headers.add_vary_header("Authorization")
            headers.add_vary_header("Cookie")
        await send(message)

    return sending


def _refusal(connection: HTTPConnection, method: str) -> Response:
    path = connection.scope["path"]
    if path.startswith("/api/"):
        return JSONResponse(
            {"error": "a token is required: send Authorization: Bearer <token>"},
            status_code=401,
            headers={"www-authenticate": 'Bearer realm="newswatch"'},
        )
    if path.startswith(KEYED):
        message = "a valid key is required: copy this link from the web UI after signing in"
        return JSONResponse({"error": message}, status_code=401)
    if method in ("GET", "HEAD"):
        query = connection.url.query
        target = urlencode({"next": path + (f"?{query}" if query else "")})
        return RedirectResponse(f"{SIGN_IN}?{target}", status_code=303)
    return JSONResponse({"error": "sign in at /login first"}, status_code=401)
