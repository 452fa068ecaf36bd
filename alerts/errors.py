"""Delivery errors: transient ones are retried with backoff, permanent ones go to dead letters.

The split follows httpx and RFC 5321: transport errors, timeouts, HTTP 5xx, 408 and 429,
and SMTP 4xx replies are transient; other HTTP 4xx, SMTP 5xx, a refused address and a
misconfigured channel are permanent. `retry_after` carries a server's Retry-After, in seconds.
"""

from __future__ import annotations


class DeliveryError(Exception):
    transient = False

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(DeliveryError):
    transient = True


class PermanentError(DeliveryError):
    transient = False
