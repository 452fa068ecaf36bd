"""Safety around every response: security headers, Host checks, and the guard on actions.

Everything shown comes from crawled pages and is untrusted. Templates escape it; these
headers are the second line: the Content-Security-Policy allows no script at all, no
plugin, no frame and no remote image, so even markup that slipped through runs nothing.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newswatch.web.options import WebOptions

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityMiddleware:
    """Adds the headers to every response; on loopback, refuses foreign Host names."""

    def __init__(self, app: ASGIApp, options: WebOptions) -> None:
        self.app = app
        self.allowed = options.allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.allowed is not None and host_name(scope) not in self.allowed:
            response = PlainTextResponse("unknown Host header", status_code=400)
            await response(scope, receive, self._with_headers(send))
            return
        await self.app(scope, receive, self._with_headers(send))

    @staticmethod
    def _with_headers(send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        return sending


def host_name(scope: Scope) -> str:
    """The Host header without its port ("[::1]:8080" → "::1")."""
    for key, value in scope.get("headers", []):
        if key == b"host":
            return urlsplit("//" + value.decode("latin-1")).hostname or ""
    return ""


def action_refused(request: Request, options: WebOptions, token: str | None) -> str | None:
    """Why a state-changing request must be refused, or None when it may go ahead.

    Besides the token, a browser's request must come from one of our own pages: a page
    elsewhere could otherwise make the browser of someone on this machine post here.
    """
    if options.read_only:
        return "this server is read-only (started with --read-only)"
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return "cross-site request refused"
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        return "cross-origin request refused"
    if options.actions_need_token:
        if not token:
            bearer = request.headers.get("authorization", "")
            token = bearer[7:] if bearer.lower().startswith("bearer ") else None
        if not token or not hmac.compare_digest(token.encode(), options.token.encode()):
            return "a valid token is required for this action"
    return None
