"""Refuse links from untrusted feeds that lead into private networks (no SSRF).

A feed, sitemap or listing is untrusted input: a link in it, or a redirect from that
link, must not make the crawler fetch a loopback, private, link-local or otherwise
reserved address — unless it is on the source's own host, or the source's config
says `allow_private_links = true`. Names are resolved here, so `localhost` or a
public-looking name pointing at 10.0.0.1 is caught too. (A name that resolves
differently a moment later — DNS rebinding — is not caught; the fetch resolves again.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

# Request meta keys the spider sets on article requests.
SOURCE_HOST = "newswatch_source_host"
ALLOW_PRIVATE = "newswatch_allow_private"


class PrivateAddressRefused(IgnoreRequest):
    """A link led to a private address on another host than the source's."""


def is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class PrivateAddressGuard:
    async def process_request(self, request: Request) -> None:
        source_host = request.meta.get(SOURCE_HOST)
        if source_host is None or request.meta.get(ALLOW_PRIVATE):
            return None  # not an untrusted link (a configured feed URL, robots.txt)
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        if host == source_host:
            return None
        for address in await _addresses(host, parts.port):
            if is_private(address):
                raise PrivateAddressRefused(
                    f"refused {request.url}: {host} is the private address {address} "
                    "(set allow_private_links = true on the source to allow it)"
                )
        return None


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
        return []  # unresolvable: the download itself reports the DNS failure
    return [info[4][0] for info in infos]
