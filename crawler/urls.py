"""Pure URL handling: the canonical form of an article URL, the page's host, same-site tests."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import idna

# Query parameters that only say how a reader arrived (campaigns, click ids, share widgets).
# Dropping them makes links from feeds, newsletters and social posts meet on one storage key.
TRACKING_PARAMS = frozenset(
    {
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "at_campaign",
        "at_medium",
        "cmpid",
        "dclid",
        "fbclid",
        "gbraid",
        "gclid",
        "igshid",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "msclkid",
        "ocid",
        "ref",
        "ref_src",
        "ref_url",
        "smid",
        "ttclid",
        "twclid",
        "wbraid",
        "wt.mc_id",
        "wt_mc",
        "xtor",
        "xtref",
        "yclid",
    }
)
# Whole families of campaign parameters (Google Analytics, HubSpot ads, Matomo/Piwik).
TRACKING_PREFIXES = ("utm_", "hsa_", "pk_", "mtm_")
# Query parameters that only ask for the AMP rendering of the same article.
AMP_PARAMS = frozenset({"amp", "_amp", "amp_js_v", "usqp"})
AMP_PARAM_VALUES = frozenset({("outputtype", "amp")})  # (name, value) pairs, e.g. Washington Post
# Host prefixes of mobile and AMP copies of a site; the bare host is the article's home.
VARIANT_HOST_PREFIXES = ("m.", "mobile.", "amp.")
# Prefixes ignored when comparing whether two URLs belong to one site.
SAME_SITE_PREFIXES = ("www.", *VARIANT_HOST_PREFIXES)

DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 unreserved characters never need escaping; other escapes are kept, hex upper-cased.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters allowed unescaped in a path (and, with '?' and '/', in a query), besides escapes.
_PATH_SAFE = frozenset("!$&'()*+,;=:@/%") | _UNRESERVED
_QUERY_SAFE = _PATH_SAFE | frozenset("?")


def _normalize_escapes(component: str, safe: frozenset[str]) -> str:
    """Decode escaped unreserved characters, upper-case other escapes, escape what must be."""

    def unescape(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    component = _ESCAPE.sub(unescape, component)
    out = []
    for char in component:
        if char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def _ascii_host(host: str) -> str:
    """Lower-case the host and write an internationalised name in its xn-- (IDNA) form."""
    host = host.strip().rstrip(".").lower()
    if host.isascii() or host.startswith("["):
        return host
    try:
        # UTS #46 without transitional mapping, as browsers do: "straße.de" keeps its "ß".
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return host


def _strip_prefix(host: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        # Keep "m.example" from becoming a bare top-level domain.
        if host.startswith(prefix) and "." in host[len(prefix) :]:
            return host[len(prefix) :]
    return host


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: resolve "." and ".." segments."""
    segments: list[str] = []
    parts = path.split("/")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == ".":
            if last:
                segments.append("")
        elif part == "..":
            if len(segments) > 1:
                segments.pop()
            if last:
                segments.append("")
        else:
            segments.append(part)
    return "/".join(segments)


def _canonical_path(path: str) -> str:
    path = _remove_dot_segments(_normalize_escapes(path, _PATH_SAFE))
    # An "amp" segment marks the AMP copy (".../story/amp", "/amp/story").
    segments = [segment for segment in path.split("/") if segment.lower() != "amp"]
    path = "/".join(segments)
    if path.lower().endswith(".amp.html"):
        path = path[: -len(".amp.html")] + ".html"
    path = path.rstrip("/")
    return path if path.startswith("/") else "/" + path


def _is_dropped_param(name: str, value: str) -> bool:
    key = _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), name).lower()
    return (
        key in TRACKING_PARAMS
        or key.startswith(TRACKING_PREFIXES)
        or key in AMP_PARAMS
        or (key, value.lower()) in AMP_PARAM_VALUES
    )


def _canonical_query(query: str) -> str:
    kept = []
    # Split the raw query rather than parse it so "+" and escapes keep their meaning.
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if _is_dropped_param(name, value):
            continue
        kept.append((_normalize_escapes(name, _QUERY_SAFE), _normalize_escapes(value, _QUERY_SAFE)))
    kept.sort()
    return "&".join(f"{name}={value}" if value else name for name, value in kept)


def request_url(link: str) -> str | None:
    """The address to request for a published link: the link itself, without its fragment.

    Nothing else changes: many sites answer only the exact spelling they published
    (a trailing slash, letter case, parameter order, an AMP or m. host), so the canonical
    form is a key for recognising the article, never an address. None unless absolute
    http(s).
    """
    link = link.strip()
    parts = urlsplit(link)
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.netloc:
        return None
    return link.split("#", 1)[0]


def canonical_url(url: str) -> str:
    """The one form of a URL used as a key: a link's, and an article's (see article_key).

    Raises ValueError for anything but an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = _strip_prefix(_ascii_host(parts.hostname), VARIANT_HOST_PREFIXES)
    if ":" in host:  # IPv6 literal: urlsplit removed the brackets
        host = f"[{host}]"
    port = parts.port  # raises ValueError on a malformed port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit(
        (scheme, netloc, _canonical_path(parts.path), _canonical_query(parts.query), "")
    )


def host_of(url: str) -> str:
    """The lower-case ASCII host name of a URL, without port; "" when it has none."""
    try:
        hostname = urlsplit(url.strip()).hostname
    except ValueError:
        return ""
    return _ascii_host(hostname) if hostname else ""


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on one host, ignoring a leading www., m., mobile. or amp."""
    host_a, host_b = host_of(a), host_of(b)
    return bool(host_a) and _strip_prefix(host_a, SAME_SITE_PREFIXES) == _strip_prefix(
        host_b, SAME_SITE_PREFIXES
    )


def outlet_of(url: str) -> str:
    """The outlet of a URL: its host without a leading www., m., mobile. or amp., and its
    port when not the scheme's default ("lesoir.be", "127.0.0.1:8080"); "" without host."""
    host = host_of(url)
    if not host:
        return ""
    host = _strip_prefix(host, SAME_SITE_PREFIXES)
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return host
    default = DEFAULT_PORTS.get(parts.scheme.lower())
    return f"{host}:{port}" if port is not None and port != default else host


def wanted_outlet(text: str) -> str:
    """What a user typed for an outlet ("www.lesoir.be", "https://lesoir.be/", "host:8080")
    in the form outlet_of gives."""
    text = text.strip()
    return outlet_of(text if "://" in text else f"http://{text}")


def absolute_url(base: str, link: str | None) -> str | None:
    """A link from a page made absolute against the page's URL; None when empty or not http(s)."""
    if not link or not link.strip():
        return None
    joined = urljoin(base, link.strip())
    return joined if urlsplit(joined).scheme in DEFAULT_PORTS else None


def article_key(link_key: str, link_url: str, final_url: str, declared: str | None) -> str:
    """The storage key of a fetched article, decided here and nowhere else.

    `link_key` is the canonical form of `link_url`, decided by the spider when it chose to
    request the link (`canonical_url`); a page served from that very address (no redirect)
    has that key already, so it is passed through rather than computed again. After a
    redirect the key is the final URL's.

    A declared canonical (rel=canonical, og:url) wins when trustworthy: an absolute http(s)
    URL on the same site, so a page cannot claim another site's key, and not pointing a
    non-root page at the site's home page (a common template mistake that would fold every
    article into one).
    """
    fetched = link_key if final_url == link_url else canonical_url(final_url)
    if not declared or not same_site(final_url, declared):
        return fetched
    try:
        chosen = canonical_url(declared)
    except ValueError:
        return fetched
    if urlsplit(chosen).path == "/" and urlsplit(fetched).path != "/":
        return fetched
    return chosen


def without_password(url: str) -> str:
    """A database or Redis address fit for a message: its password, if any, starred out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))
