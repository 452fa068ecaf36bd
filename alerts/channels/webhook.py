"""The webhook channel: the JSON payload POSTed and signed the Standard Webhooks way.

Headers: ``webhook-id`` (the delivery's message id, the same on every retry, so receivers
can de-duplicate), ``webhook-timestamp`` (seconds since the epoch, of this attempt) and
``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")). The
key is the base64 part of a ``whsec_…`` secret, or the secret's UTF-8 bytes otherwise.
Redirects are not followed. 2xx is success; 408, 429, 5xx and transport errors are
transient (Retry-After honoured); 410 means the receiver wants no more; other answers fail
permanently, and so does a secret that yields no key (no retry can fix it).

The timestamp is read from the wall clock as each request is built, not taken from the
`now` of the round: receivers compare it with their own clock within a tolerance, and a
round of slow sends would otherwise age it with every send. `now` stays the round's
(logical) time, the one Retry-After dates are measured against.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from alerts.channels.options import Option
from alerts.errors import PermanentError, TransientError
from alerts.redact import origin, redact_urls
from alerts.render import Rendered
from alerts.signing import signature, signing_key

if TYPE_CHECKING:  # alerts.config reads the channels' options: no import back at run time
    from alerts.config import Channel

RETRYABLE = {408, 429}
USER_AGENT = "newswatch-alerts/1"


def http_address(url: str) -> str | None:
    """A problem with the receiver's address, or None; the address is shown as its origin."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a malformed IPv6 host or port
        usable = False
    if usable:
        return None
    return f"must be an http(s) address (got {redact_urls(url) if '://' in url else 'no scheme'})"


def signing_secret(value: str) -> str | None:
    """A problem with the secret an environment variable holds, or None."""
    try:
        signing_key(value)  # a bad secret would fail every send, for good: say so at load
    except ValueError as error:
        return f"does not hold a usable signing secret: {error}"
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx then surfaces as an HTTPError


class WebhookChannel:
    OPTIONS = (
        Option("url", "text", required=True, check=http_address),
        Option("secret_env", "env", required=True, check=signing_secret, into="secret"),
        Option("timeout", "duration", 15.0),
    )

    def __init__(self, channel: Channel, clock: Callable[[], float] = time.time) -> None:
        self.name = channel.name
        self.url = channel.options["url"]
        self.timeout = channel.options["timeout"]
        self._clock = clock  # the wall clock the timestamps are read from
        self._opener = urllib.request.build_opener(_NoRedirect())
        # The configuration checks the secret when it loads; a Channel built some other
        # way may still hold a bad one, and then every send fails for good, at once.
        try:
            self._key, self._key_problem = signing_key(channel.secrets["secret"]), None
        except ValueError as error:
            self._key, self._key_problem = b"", f"the signing secret is unusable: {error}"

    def headers(self, message: Rendered) -> dict[str, str]:
        """The headers of one attempt, signed with the time of this attempt."""
        if self._key_problem:
            raise PermanentError(self._key_problem)
        timestamp = int(self._clock())
        return {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(self._key, message.message_id, timestamp, message.body),
        }

    def send(self, message: Rendered, now: datetime) -> str:
        # The URL comes from the operator's configuration and was checked to be http(s).
        request = urllib.request.Request(  # noqa: S310
            self.url, data=message.body, headers=self.headers(message), method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            status = error.code
            retry_after = _retry_after(error.headers.get("retry-after"), now)
            error.close()
            if status in RETRYABLE or status >= 500:
                raise TransientError(f"HTTP {status}", retry_after) from None
            if status == 410:
                raise PermanentError("HTTP 410: the receiver wants no more deliveries") from None
            raise PermanentError(f"HTTP {status}") from None
        except (urllib.error.URLError, OSError) as error:  # refused, reset, DNS, timeout
            reason = getattr(error, "reason", error)
            # The address is the credential of many services: its origin only.
            raise TransientError(f"{origin(self.url)}: {reason}") from None


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None
