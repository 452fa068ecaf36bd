"""Languages and regions as the providers name them: ISO codes in, each provider's words out."""

from __future__ import annotations

import re

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_REGION = re.compile(r"^[A-Z]{2}$")

# Where a language is read when no region is given: Google News and Bing need one edition.
# A language not listed here is assumed to be read where its code is a country's code
# (it → IT); these are the ones where that guess is wrong.
DEFAULT_REGIONS = {
    "en": "US",
    "ar": "EG",
    "cs": "CZ",
    "da": "DK",
    "el": "GR",
    "he": "IL",
    "hi": "IN",
    "ja": "JP",
    "ko": "KR",
    "sv": "SE",
    "uk": "UA",
    "zh": "CN",
    "fa": "IR",
    "ur": "PK",
    "vi": "VN",
    "sq": "AL",
    "sl": "SI",
    "et": "EE",
    "ca": "ES",
    "bn": "BD",
    "ms": "MY",
    "nb": "NO",
    "no": "NO",
    "sr": "RS",
    "ta": "IN",
}


class LocaleError(ValueError):
    """A query, language or region a provider cannot express; `key` names the setting at
    fault ("query", "language", "region" or "provider")."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


def language_code(language: str | None) -> str | None:
    """The ISO 639-1 (or -3) code of a language setting such as "fr" or "fr-BE"; raises
    LocaleError when it is not one."""
    if language is None:
        return None
    code = language.strip().replace("_", "-").split("-")[0].lower()
    if not _LANGUAGE.match(code):
        raise LocaleError("language", f'must be a language code such as "fr" (got {language!r})')
    return code


def region_code(region: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code of a region setting such as "BE"; raises LocaleError."""
    if region is None:
        return None
    code = region.strip().upper()
    if not _REGION.match(code):
        raise LocaleError(
            "region", f'must be a two-letter country code such as "BE" (got {region!r})'
        )
    return code


def default_region(language: str) -> str:
    return DEFAULT_REGIONS.get(language, language.upper()[:2])
