"""Pure content fingerprints: the exact-duplicate test over normalised article text."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Near-duplicate sketches (MinHash/SimHash) belong beside these functions and should start
# from normalize_text, so an exact duplicate is always also a near-duplicate.

_WHITESPACE = re.compile(r"\s+")
# Invisible characters that copies of one text carry inconsistently: soft hyphen, zero-width
# space, word joiner, byte-order mark. (ZWJ/ZWNJ stay: they change how some scripts read.)
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")


def normalize_text(text: str) -> str:
    """Text reduced to what a reader sees as the same: NFKC, case-folded, whitespace collapsed.

    NFKC makes compatibility forms (ligatures, full-width letters, non-breaking spaces) equal to
    their plain forms; casefold also equates "ß" with "ss", as German writing does.
    """
    # NFKC again after casefold, as Unicode's NFKC_Casefold does: folding can denormalise.
    folded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    folded = unicodedata.normalize("NFKC", folded)
    return _WHITESPACE.sub(" ", folded).strip()


def content_hash(text: str) -> str:
    """SHA-256 hex digest of the normalised text: equal for exact copies of an article."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()
