"""How the web server is exposed: address, names, token, and whether reads need the token.

A server is *exposed* when anyone but this machine may reach it: bound beyond loopback, or
given a host name or base URL in [web] that is not a loopback name (a reverse proxy on this
machine then forwards the world to it). An exposed server needs the token for every
request, the list of Host names it answers to, and the base URL its links are built from.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

TOKEN_ENV = "NEWSWATCH_WEB_TOKEN"  # noqa: S105  the variable's name, not a secret
# As TrustedHostMiddleware compares them: an IPv6 address keeps its brackets.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
MIN_TOKEN = 16


class UnsafeBind(ValueError):
    """Serving like this would show the archive, or let act, people it was not meant for.

    `key` is the [web] setting to fix, or None when the token ($NEWSWATCH_WEB_TOKEN) is.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses; any other name might reach a network."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure(host: str, hosts: tuple[str, ...], base_url: str | None) -> str | None:
    """Why a server is reached from beyond this machine, or None when it is not."""
    if not is_loopback(host):
        return f"serving on {host}, which is not a loopback address"
    for name in hosts:
        if not is_loopback(name):
            return f"allowed_hosts names {name}, which is not a loopback name"
    named = urlsplit(base_url).hostname if base_url else None
    if named and not is_loopback(named):
        return f"base_url names {named}, which is not a loopback name"
    return None


def unsafe(
    host: str, token: str | None, hosts: tuple[str, ...], base_url: str | None
) -> list[UnsafeBind]:
    """Every reason to refuse these options (empty: they are safe)."""
    found = []
    if token is not None and len(token) < MIN_TOKEN:
        found.append(
            UnsafeBind(
                f"{TOKEN_ENV} is too short: use at least {MIN_TOKEN} random "
                "characters, e.g. $(openssl rand -hex 16)"
            )
        )
    why = exposure(host, hosts, base_url)
    if why is None:
        return found
    if not token:
        instead = "serve on 127.0.0.1" if not is_loopback(host) else "name only loopback in [web]"
        found.append(
            UnsafeBind(
                f"refusing to serve without a token when {why}: set {TOKEN_ENV} (every page, "
                f"feed and API call then needs it), or {instead}"
            )
        )
    if not hosts:
        found.append(
            UnsafeBind(
                f"required when {why}: list the host names clients use, "
                'e.g. allowed_hosts = ["news.example.org"]',
                "web.allowed_hosts",
            )
        )
    if not base_url:
        found.append(
            UnsafeBind(
                f"required when {why}: the address clients use, e.g. base_url = "
                '"https://news.example.org"; absolute links are built from it, never from the '
                "request's Host header",
                "web.base_url",
            )
        )
    return found


@dataclass(frozen=True)
class WebOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None  # from $NEWSWATCH_WEB_TOKEN; required when exposed
    read_only: bool = False  # no state-changing action at all
    page_size: int = 50
    hosts: tuple[str, ...] = ()  # [web] allowed_hosts
    base_url: str | None = None  # [web] base_url, without a trailing slash

    def __post_init__(self) -> None:
        problems = unsafe(self.host, self.token, self.hosts, self.base_url)
        if problems:
            raise problems[0]

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def exposed(self) -> bool:
        return exposure(self.host, self.hosts, self.base_url) is not None

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        """Host headers accepted: the configured names, and the loopback ones on loopback.

        Bound to loopback, a Host name of some web page's own domain is refused, so the
        page cannot reach this server through a name it rebinds to 127.0.0.1.
        """
        local = LOOPBACK_HOSTS if self.loopback else ()
        return tuple(dict.fromkeys((*self.hosts, *local)))

    @property
    def reads_need_token(self) -> bool:
        """Pages, feeds, exports and the API need the token (or what is derived from it)."""
        return self.exposed

    @property
    def actions_need_token(self) -> bool:
        return self.token is not None

    @property
    def https(self) -> bool:
        return bool(self.base_url and self.base_url.startswith("https:"))
