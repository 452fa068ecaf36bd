"""The webhook channel: the JSON payload POSTed and signed the Standard Webhooks way.

Headers: ``webhook-id`` (the delivery's message id, the same on every retry, so receivers
can de-duplicate), ``webhook-timestamp`` (seconds since the epoch, of this attempt) and
``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")). The
key is the base64 part of a ``whsec_…`` secret, or the secret's UTF-8 bytes otherwise.
Redirects are not followed. 2xx is success; 408, 429, 5xx and transport errors are
transient (Retry-After honoured); 410 means the receiver wants no more; other answers fail
permanently.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.error
import urllib.request
from datetime import datetime
from email.utils import parsedate_to_datetime

from alerts.config import Channel
from alerts.errors import PermanentError, TransientError
from alerts.render import Rendered

RETRYABLE = {408, 429}
USER_AGENT = "newswatch-alerts/1"


def signing_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx then surfaces as an HTTPError


class WebhookChannel:
    def __init__(self, channel: Channel) -> None:
        self.name = channel.name
        self.url = channel.options["url"]
        self.timeout = channel.options["timeout"]
        self.secret = channel.secrets["secret"]
        self._opener = urllib.request.build_opener(_NoRedirect())

    def headers(self, message: Rendered, now: datetime) -> dict[str, str]:
        timestamp = int(now.timestamp())
        return {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(
                self.secret, message.message_id, timestamp, message.body
            ),
        }

    def send(self, message: Rendered, now: datetime) -> str:
        # The URL comes from the operator's configuration and was checked to be http(s).
        request = urllib.request.Request(  # noqa: S310
            self.url, data=message.body, headers=self.headers(message, now), method="POST"
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
            raise TransientError(f"{self.url}: {reason}") from None


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
