"""Safety around every response: security headers, and the guard on actions.

Everything shown comes from crawled pages and is untrusted. Templates escape it; these
headers are the second line: the Content-Security-Policy allows no script at all, no
plugin, no frame and no remote image, so even markup that slipped through runs nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newswatch.web.access import same
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
    """Adds the headers to every response, refusals by the middleware inside it included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, sending)


def cross_site(request: Request, options: WebOptions) -> str | None:
    """Why a form post must be refused as coming from another site's page, or None.

    Our own origin is the one the (checked) Host header names, or the configured base URL
    when a proxy in front of us speaks https to the browser.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return "cross-site request refused"
    origin = request.headers.get("origin")
    if origin == "null":
        # Our pages' no-referrer policy makes a browser send "null" even from our own form;
        # then only Sec-Fetch-Site, which no page can set, can vouch for it.
        return None if site is not None else "cross-origin request refused"
    ours = {f"{request.url.scheme}://{request.url.netloc}", options.base_url}
    if origin is not None and origin not in ours:
        return "cross-origin request refused"
    return None


def action_refused(request: Request, options: WebOptions, token: str | None) -> str | None:
    """Why a state-changing request must be refused, or None when it may go ahead.

    Besides the token, a browser's request must come from one of our own pages: a page
    elsewhere could otherwise make the browser of someone on this machine post here.
    """
    if options.read_only:
        return "this server is read-only (started with --read-only)"
    refused = cross_site(request, options)
    if refused:
        return refused
    if options.actions_need_token:
        if not token:
            bearer = request.headers.get("authorization", "")
            token = bearer[7:].strip() if bearer[:7].lower() == "bearer " else None
        if not same(token, options.token):
            return "a valid token is required for this action"
    return None
