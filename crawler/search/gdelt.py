"""GDELT DOC 2.0 API (mode=ArtList, format=json): the request address, and its articles.

GDELT answers {"articles": [{"url", "title", "seendate", "domain", "language", ...}]}, and
{} or an empty body when nothing matched. A refused query (too short, OR outside
parentheses, too many requests) comes back as a plain-text or HTML message instead of JSON.
Languages and countries are written as names: sourcelang:french, sourcecountry:belgium
(GDELT's two-letter country codes are FIPS codes, not ISO ones: never pass a region through).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from crawler.items import FeedHints, Link
from crawler.search import query as syntax
from crawler.search.locales import LocaleError
from crawler.search.results import MalformedResults, clean, describe, is_web_address, on_host

NAME = "gdelt"
BASE_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
HOST = "api.gdeltproject.org"
# GDELT asks for at most one request every 5 seconds; the margin is for the network, as
# GDELT counts arrivals and the crawler counts departures.
RATE_LIMIT = 6.0
MAX_RECORDS = 250  # the most ArtList returns
TIMESPAN = "1d"  # sources are polled more often than daily; the backlog skips known links

LANGUAGES = {
    "af": "afrikaans",
    "sq": "albanian",
    "ar": "arabic",
    "hy": "armenian",
    "az": "azerbaijani",
    "bn": "bengali",
    "bs": "bosnian",
    "bg": "bulgarian",
    "ca": "catalan",
    "zh": "chinese",
    "hr": "croatian",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "gl": "galician",
    "ka": "georgian",
    "de": "german",
    "el": "greek",
    "gu": "gujarati",
    "he": "hebrew",
    "hi": "hindi",
    "hu": "hungarian",
    "is": "icelandic",
    "id": "indonesian",
    "it": "italian",
    "ja": "japanese",
    "kn": "kannada",
    "kk": "kazakh",
    "ko": "korean",
    "lv": "latvian",
    "lt": "lithuanian",
    "mk": "macedonian",
    "ms": "malay",
    "ml": "malayalam",
    "mr": "marathi",
    "mn": "mongolian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "fa": "persian",
    "pl": "polish",
    "pt": "portuguese",
    "pa": "punjabi",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sk": "slovak",
    "sl": "slovenian",
    "so": "somali",
    "es": "spanish",
    "sw": "swahili",
    "sv": "swedish",
    "ta": "tamil",
    "te": "telugu",
    "th": "thai",
    "tr": "turkish",
    "uk": "ukrainian",
    "ur": "urdu",
    "vi": "vietnamese",
}
COUNTRIES = {
    "BE": "belgium",
    "MA": "morocco",
    "NL": "netherlands",
    "FR": "france",
    "DE": "germany",
    "LU": "luxembourg",
    "GB": "unitedkingdom",
    "IE": "ireland",
    "US": "unitedstates",
    "CA": "canada",
    "ES": "spain",
    "PT": "portugal",
    "IT": "italy",
    "CH": "switzerland",
    "AT": "austria",
    "DK": "denmark",
    "SE": "sweden",
    "NO": "norway",
    "FI": "finland",
    "PL": "poland",
    "CZ": "czechrepublic",
    "GR": "greece",
    "TR": "turkey",
    "RU": "russia",
    "UA": "ukraine",
    "DZ": "algeria",
    "TN": "tunisia",
    "LY": "libya",
    "EG": "egypt",
    "SA": "saudiarabia",
    "AE": "unitedarabemirates",
    "QA": "qatar",
    "IL": "israel",
    "LB": "lebanon",
    "JO": "jordan",
    "SY": "syria",
    "IQ": "iraq",
    "IR": "iran",
    "SN": "senegal",
    "ML": "mali",
    "NG": "nigeria",
    "ZA": "southafrica",
    "IN": "india",
    "PK": "pakistan",
    "CN": "china",
    "JP": "japan",
    "KR": "southkorea",
    "AU": "australia",
    "BR": "brazil",
    "MX": "mexico",
    "AR": "argentina",
}
_LANGUAGE_NAMES = {name: code for code, name in LANGUAGES.items() if code != "nb"}


def result_url(query: str, language: str | None, region: str | None, base: str) -> str:
    parts = syntax.implicit_and(query, "GDELT")
    terms = f"({syntax.join(parts)})" if syntax.top_level_or(parts) else syntax.join(parts)
    filters = []
    if language is not None:
        if language not in LANGUAGES:
            raise LocaleError("language", f"GDELT does not know the language {language!r}")
        filters.append(f"sourcelang:{LANGUAGES[language]}")
    if region is not None:
        if region not in COUNTRIES:
            known = ", ".join(sorted(COUNTRIES))
            raise LocaleError("region", f"no GDELT country name known for {region!r} ({known})")
        filters.append(f"sourcecountry:{COUNTRIES[region]}")
    params = {
        "query": " ".join([terms, *filters]),
        "mode": "ArtList",
        "format": "json",
        "maxrecords": MAX_RECORDS,
        "timespan": TIMESPAN,
        "sort": "DateDesc",
    }
    return f"{base}?{urlencode(params)}"


def read(body: bytes, url: str) -> list[Link]:
    if not body.strip():
        return []
    try:
        # strict=False: GDELT titles sometimes hold raw control characters
        answer = json.loads(body.decode("utf-8", "replace"), strict=False)
    except ValueError:
        raise MalformedResults(f"GDELT did not answer with JSON: {describe(body)}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("articles", []), list):
        raise MalformedResults("GDELT answered JSON without an articles list")
    links = []
    for article in answer.get("articles", []):
        if not isinstance(article, dict) or not is_web_address(article.get("url")):
            continue
        image = article.get("socialimage")
        hints = FeedHints(
            title=clean(article.get("title")),
            published_at=seen_at(article.get("seendate")),
            language=_LANGUAGE_NAMES.get(str(article.get("language", "")).lower()),
            image_url=image if is_web_address(image) else None,
            site_name=clean(article.get("domain")),
        )
        links.append(Link(article["url"].strip(), hints))
    return links


def seen_at(value: object) -> datetime | None:
    """GDELT's seendate, YYYYMMDDTHHMMSSZ (UTC), as an aware datetime."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def wrapped(url: str) -> bool:
    return on_host(url, "gdeltproject.org")
