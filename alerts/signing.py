"""Standard Webhooks signing: the key a secret stands for, and the signature of one attempt.

The webhook channel's options check a secret with `signing_key` when the configuration
loads: a secret that cannot be turned into a key is an operator's mistake, to be reported
then, not a failure of every send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    """The HMAC key: the base64 part of a ``whsec_…`` secret, or the secret's UTF-8 bytes.

    Decoded the way the Standard Webhooks libraries decode it, so that both ends derive
    the same key. Raises ValueError saying what is wrong, never showing the secret.
    """
    if not secret.startswith(PREFIX):
        if not secret:
            raise ValueError("the secret is empty")
        return secret.encode()
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX))
    except ValueError as error:  # binascii.Error, or characters that are not ASCII
        raise ValueError(f"the part after {PREFIX} is not valid base64 ({error})") from None
    if not key:
        raise ValueError(f"the part after {PREFIX} is empty")
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
