"""What the providers' readers share: the error they raise, RSS parsing, clean values."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import feedparser
from bs4 import BeautifulSoup

from crawler.search.locales import LocaleError, language_code


class MalformedResults(ValueError):
    """A provider's answer that is not a result list: an error page, broken XML or JSON."""


def parse_rss(body: bytes, url: str, provider: str) -> feedparser.FeedParserDict:
    """An RSS answer parsed by feedparser; raises MalformedResults on anything else (a
    captcha or consent page, an error message, a truncated body)."""
    headers = {"content-location": url, "content-type": "application/rss+xml"}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    if not parsed.get("version"):
        raise MalformedResults(f"{provider} did not answer with RSS: {describe(body)}")
    problem = parsed.get("bozo_exception")
    # Broken XML with a usable item is read (the loose parser recovers it); broken XML
    # with none, e.g. a truncated answer, is not taken for "no results".
    if problem is not None and not any(entry.get("link") for entry in parsed.entries):
        raise MalformedResults(f"{provider} answered with broken RSS: {problem}")
    return parsed


def describe(body: bytes) -> str:
    """A short description of an unexpected answer, for the failure's detail."""
    if not body.strip():
        return "an empty body"
    text = body[:4096].decode("utf-8", "replace")
    if "<" in text:
        soup = BeautifulSoup(text, "html.parser")
        title = soup.title.get_text(" ", strip=True) if soup.title else ""
        text = title or soup.get_text(" ", strip=True)
    text = " ".join(text.split())
    return repr(text[:160] + ("…" if len(text) > 160 else "")) if text else "no text"


def when(parsed: time.struct_time | None) -> datetime | None:
    """A feedparser date (UTC struct_time) as an aware datetime."""
    if parsed is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def clean(value: object) -> str | None:
    """A single-line string, or None when there is no text."""
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return text or None


def plain_text(html: str | None) -> str | None:
    if not html:
        return None
    return clean(BeautifulSoup(html, "html.parser").get_text(" ", strip=True))


def language_of(*values: str | None) -> str | None:
    """The first of these that is a language code (as "fr", "fr-BE" or "fr_be"), as ISO."""
    for value in values:
        try:
            code = language_code(value) if value else None
        except LocaleError:
            continue
        if code:
            return code
    return None


def query_parameter(url: str, name: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def is_web_address(url: object) -> bool:
    """An absolute http(s) address with a host: something an article request can go to."""
    if not isinstance(url, str) or any(ch.isspace() for ch in url.strip()):
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def on_host(url: str, domain: str) -> bool:
    """Whether `url` is on `domain` or one of its subdomains."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    return host == domain or host.endswith(f".{domain}")
