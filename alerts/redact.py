"""Channel addresses are secrets: text shown to people keeps only their scheme and host.

For Slack, Teams or Discord the webhook URL is the credential. The channels name only the
origin in the errors they make; and every address in a delivery's error text is cut to
"https://hooks.slack.com" wherever it is shown (web pages, the JSON API, `newswatch alerts
log`), so rows written before that, or errors quoting an address, leak nothing either.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# A scheme, "://", then everything up to white space or a character that ends a quotation.
_URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://[^\s<>\"'`]*", re.IGNORECASE)
_CLOSING = ".,;:!?)]}"  # punctuation after an address belongs to the sentence


def redact_urls(text: str | None) -> str | None:
    """`text` with every address cut to its scheme and host (user, port, path, query gone)."""
    if not text:
        return text
    return _URL.sub(_cut, text)


def origin(url: str) -> str:
    """ "https://hooks.slack.com/services/T/B/x" → "https://hooks.slack.com"."""
    scheme = url.partition("://")[0].lower()
    try:
        host = urlsplit(url).hostname
    except ValueError:  # a malformed address: show none of it
        host = None
    if not host:
        return f"{scheme}://(redacted)"
    return f"{scheme}://[{host}]" if ":" in host else f"{scheme}://{host}"


def _cut(found: re.Match[str]) -> str:
    url = found.group(0)
    kept = url.rstrip(_CLOSING)
    return origin(kept) + url[len(kept) :]
