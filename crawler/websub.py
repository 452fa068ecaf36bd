"""WebSub (W3C Recommendation) for a subscriber: its options, the hub links, the signature check,
and the subscription request a hub is sent.

A feed that advertises a hub (rel=hub in the feed or in the HTTP Link header) can have new
entries pushed to a callback URL in seconds. The service (newswatch.scheduling.websub) keeps
the subscriptions; this module holds the protocol's parts that need no service: reading Link
headers, checking `X-Hub-Signature`, and sending the form POST through the same
private-address rules as every crawl request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

from crawler.addresses import refusal
from crawler.config_reader import TableReader
from crawler.sources import Source

KEYS = ("callback_url", "listen", "lease", "retry_interval")
# sha1 is what older hubs send; the recommendation lets a subscriber refuse it, and we do.
SIGNATURE_METHODS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.I)


@dataclass(frozen=True)
class WebSubOptions:
    """`[service.websub]`: off until a public callback base URL is set."""

    # what hubs are given, plus one random segment per subscription; the path must reach
    # `listen` unchanged (a reverse proxy forwards it as is)
    callback_url: str | None = None
    listen: str = "127.0.0.1:8091"  # where `newswatch run` answers the hubs
    lease: float = 7 * 86400.0  # the lease asked for; the hub decides, renewed at 85%
    retry_interval: float = 60.0  # first retry after a failed request, doubled up to 6 h

    @property
    def enabled(self) -> bool:
        return self.callback_url is not None

    @property
    def listen_address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


def read_options(reader: TableReader) -> WebSubOptions:
    """`[service.websub]`, every problem named with its key."""
    reader.only(KEYS)
    defaults = WebSubOptions()
    callback = reader.text("callback_url")
    if callback is not None:
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            reader.problem(
                "callback_url",
                f"must be an absolute http(s) URL without a query, like "
                f'"https://monitor.example.org/websub/" (got {callback!r})',
            )
            callback = None
        elif not callback.endswith("/"):
            callback += "/"
    listen = reader.text("listen", defaults.listen)
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        reader.problem("listen", f'must be HOST:PORT, like "127.0.0.1:8091" (got {listen!r})')
        listen = defaults.listen
    return WebSubOptions(
        callback_url=callback,
        listen=listen,
        lease=reader.duration("lease", defaults.lease),
        retry_interval=reader.duration("retry_interval", defaults.retry_interval),
    )


def link_header(value: str | None, base: str) -> dict[str, list[str]]:
    """The URLs of an HTTP Link header by relation: {"hub": [...], "self": [...]}."""
    found: dict[str, list[str]] = {}
    for match in _LINK.finditer(value or ""):
        rel = _REL.search(match.group(2))
        if not rel:
            continue
        for name in (rel.group(1) or rel.group(2)).lower().split():
            found.setdefault(name, []).append(urljoin(base, match.group(1).strip()))
    return found


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `X-Hub-Signature: method=hex` is the HMAC of the body with a method we accept."""
    method, _, given = (header or "").strip().partition("=")
    digest = SIGNATURE_METHODS.get(method.strip().lower())
    if digest is None or not given:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The header value a hub sends (for tests and the benchmark's loopback hub)."""
    return f"{method}={hmac.new(secret.encode(), body, SIGNATURE_METHODS[method]).hexdigest()}"


class HubRefused(Exception):
    """The request was not sent, or the hub did not accept it; the message says why."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would reach an address the guard has not seen: the hub's answer stands.
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def request_subscription(
    hub: str,
    source: Source,
    form: dict[str, str],
    *,
    user_agent: str,
    timeout: float,
) -> int:
    """POST the hub.* form to the hub; its status when 2xx, else HubRefused saying why."""
    if urlsplit(hub).scheme not in ("http", "https"):
        raise HubRefused(f"refused {hub}: a hub is reached over http or https only")
    refused = refusal(hub, source)
    if refused:
        raise HubRefused(refused)
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        hub,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": user_agent,
        },
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        detail = error.read(300).decode("utf-8", "replace").strip()
        raise HubRefused(f"hub answered {error.code}{': ' + detail if detail else ''}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise HubRefused(f"hub unreachable: {reason}") from None
