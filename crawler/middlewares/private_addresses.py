"""One guard for every outgoing request: nothing private unless the source's own host.

Feeds, sitemaps and listings are untrusted input: a link in them, a child sitemap, a
redirect (of an article or of the configured feed itself) or the robots.txt of any of
those hosts must not make the crawler fetch a loopback, private, link-local or otherwise
reserved address. The one exemption is decided once per source: the hosts of its
configured addresses (`Source.own_hosts`), which the user chose; `allow_private_links =
true` lifts the guard for the source. Names are resolved here, so `localhost` or a
public-looking name pointing at 10.0.0.1 is caught too.

Through an HTTP proxy the proxy resolves names, not us, and it may well reach hosts we
cannot: a name is allowed there only once it resolves here to public addresses, and a name
that does not resolve is refused. (A name that resolves differently a moment later — DNS
rebinding — is not caught; the fetch resolves again.)

A request that carries no source (it should not exist) is guarded as strictly as any.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass_environment

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from crawler.addresses import is_private
from crawler.sources import Source
from crawler.urls import host_of

# Request meta keys every request of the crawl carries (see guard_meta).
OWN_HOSTS = "newswatch_own_hosts"
ALLOW_PRIVATE = "newswatch_allow_private"
GUARD_KEYS = (OWN_HOSTS, ALLOW_PRIVATE)


class PrivateAddressRefused(IgnoreRequest):
    """A request led to a private (or, through a proxy, unprovable) address."""


def guard_meta(source: Source) -> dict[str, Any]:
    """What the guard needs to know of a request's source: its own hosts, its opt-out."""
    return {OWN_HOSTS: tuple(sorted(source.own_hosts)), ALLOW_PRIVATE: source.allow_private_links}


class PrivateAddressGuard:
    def __init__(self, proxies: dict[str, str]):
        self._proxies = proxies  # as Scrapy's HttpProxyMiddleware reads them, at start

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        enabled = crawler.settings.getbool("HTTPPROXY_ENABLED", True)
        return cls(getproxies() if enabled else {})

    async def process_request(self, request: Request) -> None:
        if request.meta.get(ALLOW_PRIVATE):
            return None
        parts = urlsplit(request.url)
        host = host_of(request.url)
        if host in request.meta.get(OWN_HOSTS, ()):
            return None
        addresses = await _addresses(host, parts.port)
        for address in addresses:
            if is_private(address):
                raise PrivateAddressRefused(
                    f"refused {request.url}: {host} is the private address {address} "
                    "(set allow_private_links = true on the source to allow it)"
                )
        if not addresses and self._proxied(request, parts.scheme, host):
            raise PrivateAddressRefused(
                f"refused {request.url}: {host} does not resolve here, and through a proxy "
                "only a host shown to be public is fetched (set allow_private_links = true "
                "on the source to allow it)"
            )
        return None

    def _proxied(self, request: Request, scheme: str, host: str) -> bool:
        if "proxy" in request.meta:  # set by hand: it decides, None meaning none
            return bool(request.meta["proxy"])
        return scheme in self._proxies and not proxy_bypass_environment(host, self._proxies)


async def _addresses(host: str, port: int | None) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port or 80, type=socket.SOCK_STREAM
        )
    except OSError:
        return []  # unresolvable: without a proxy the download itself reports it
    return [info[4][0] for info in infos]
