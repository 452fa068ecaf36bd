"""News-search providers for a query: the request addresses, the results read as links.

One module per provider (google_news, bing_news, gdelt), each of pure functions over plain
values: `result_url` builds the request, `read` reads the answer, `wrapped` recognises the
provider's own pages. This module dispatches to them by the provider's name.

Errors: MalformedResults when an answer is not a result list (an error or consent page,
broken XML or JSON) — a per-source failure of that run; LocaleError (a ValueError with the
key at fault) when a query, language or region cannot be written for a provider — a
configuration error, raised by result_urls while settings are loaded.
"""

from __future__ import annotations

from types import ModuleType
from urllib.parse import urlsplit

from crawler.items import Link
from crawler.search import bing_news, gdelt, google_news
from crawler.search.locales import LocaleError, language_code, region_code
from crawler.search.results import MalformedResults

__all__ = [
    "PROVIDERS",
    "RATE_LIMITS",
    "LocaleError",
    "MalformedResults",
    "read_results",
    "result_urls",
    "wrapped",
]

_MODULES: dict[str, ModuleType] = {
    module.NAME: module for module in (google_news, bing_news, gdelt)
}
PROVIDERS: tuple[str, ...] = tuple(_MODULES)
# provider host -> minimum seconds between two requests to it (crawler.settings turns these
# into Scrapy download slots)
RATE_LIMITS: dict[str, float] = {module.HOST: module.RATE_LIMIT for module in _MODULES.values()}


def result_urls(
    provider: str,
    query: str,
    language: str | None,
    region: str | None,
    endpoint: str | None = None,
) -> tuple[str, ...]:
    """The address(es) of the provider's results for a query in a language and region
    (ISO codes: "fr", "BE"). `endpoint` replaces the provider's base URL (tests, mirrors).
    Raises LocaleError (a ValueError) when the provider cannot express them."""
    module = _module(provider)
    if not query or not query.strip():
        raise LocaleError("query", "must not be empty")
    base = (endpoint or module.BASE_URL).rstrip("?")
    url = module.result_url(query.strip(), language_code(language), region_code(region), base)
    return (url,)


def read_results(provider: str, body: bytes, url: str) -> list[Link]:
    """The results in a provider's answer as links to the outlets' articles, with the title,
    date, language and outlet's name as hints; [] when nothing matched. Raises
    MalformedResults when the answer is not a result list."""
    return _module(provider).read(body, url)


def wrapped(provider: str, url: str, endpoint: str | None = None) -> bool:
    """Whether `url` (where an article request ended up, after redirects) is still the
    provider's own page: the result could not be resolved to the outlet's article.

    `endpoint` (a source's result address, or the base URL it replaced) counts as the
    provider's too, host and port, so stand-ins and mirrors are recognised."""
    if _module(provider).wrapped(url):
        return True
    if endpoint is None:
        return False
    try:
        return _origin(url) == _origin(endpoint)
    except ValueError:
        return False


def _module(provider: str) -> ModuleType:
    try:
        return _MODULES[provider]
    except KeyError:
        known = ", ".join(PROVIDERS)
        raise LocaleError("provider", f"must be one of {known} (got {provider!r})") from None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port
