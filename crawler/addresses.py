"""Which addresses the crawl may reach: the one rule of the private-address guard.

Pure, without Scrapy: the crawl's middleware (crawler.middlewares.private_addresses) checks
each request with `is_private` after resolving it in the reactor, and requests made outside
Scrapy (subscriptions to WebSub hubs) ask `refusal`, which resolves here.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from crawler.sources import Source
from crawler.urls import host_of


def is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def refusal(url: str, source: Source) -> str | None:
    """Why the guard refuses `url` for this source (the crawl's rule), or None."""
    if source.allow_private_links:
        return None
    host = host_of(url)
    if not host:
        return f"refused {url}: no host"
    if host in source.own_hosts:
        return None
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, urlsplit(url).port or 80, type=socket.SOCK_STREAM)
        except OSError as error:
            return f"refused {url}: {host} does not resolve ({error})"
        addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if is_private(address):
            return (
                f"refused {url}: {host} is the private address {address} "
                "(set allow_private_links = true on the source to allow it)"
            )
    return None
