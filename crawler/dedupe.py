"""Pure content fingerprints: exact-duplicate hashes and near-duplicate MinHash sketches."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np

# Near-duplicate sketches start from normalize_text, so an exact duplicate is always also a
# near-duplicate.

# Invisible characters that copies of one text carry inconsistently: soft hyphen, zero-width
# space, word joiner, byte-order mark. (ZWJ/ZWNJ stay: they change how some scripts read.)
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
_WORD = re.compile(r"\w+")

SHINGLE_WORDS = 4  # a changed word spoils 4 shingles; 5 made light edits cost more recall
PERMUTATIONS = 126
ROWS_PER_BAND = 3
BANDS = PERMUTATIONS // ROWS_PER_BAND  # 42 bands × 3 rows, see band_keys
# Share of the shorter text's shingles found in the other: truncation keeps it high. Below
# COPY_CONTAINMENT nothing is a copy; below CLEAR_CONTAINMENT a copy must also agree on its
# names and figures (crawler.stories.is_copy): texts in one template differ only there.
COPY_CONTAINMENT = 0.6
CLEAR_CONTAINMENT = 0.8
# Stored band keys depend on every constant above: a change needs a new scheme name (and a
# re-fingerprinting of the archive), so old and new keys never meet by accident.
SCHEME = b"minhash-v1"
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: combines word hashes into a shingle hash
_CHUNK = 4096  # shingles per step, so a huge page never needs a huge matrix


def _constants(label: bytes) -> np.ndarray:
    """Fixed per-permutation constants derived from BLAKE2b, never from a random generator.

    Stored band keys must come out the same on every machine and every numpy version.
    """
    values = [
        int.from_bytes(hashlib.blake2b(SCHEME + label + bytes([i]), digest_size=8).digest())
        for i in range(PERMUTATIONS)
    ]
    array = np.array(values, dtype=np.uint64)
    array.setflags(write=False)
    return array


_MULTIPLIERS = _constants(b"a") | np.uint64(1)  # odd multipliers: multiply-shift hashing
_MULTIPLIERS.setflags(write=False)
_OFFSETS = _constants(b"b")


def normalize_text(text: str) -> str:
    """Text reduced to what a reader sees as the same: NFKC, case-folded, whitespace collapsed.

    NFKC makes compatibility forms (ligatures, full-width letters, non-breaking spaces) equal to
    their plain forms; casefold also equates "ß" with "ss", as German writing does.
    """
    # NFKC again after casefold, as Unicode's NFKC_Casefold does: folding can denormalise.
    folded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    # str.split() splits at exactly the characters \s matches: runs of them become one space
    return " ".join(unicodedata.normalize("NFKC", folded).split())


def content_hash(text: str) -> str:
    """SHA-256 hex digest of the normalised text: equal for exact copies of an article."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def shingles(text: str) -> np.ndarray:
    """Sorted unique 64-bit hashes of every run of SHINGLE_WORDS words of the normalised text.

    Punctuation is ignored, so a copy that only changed quotes or dashes shingles the same.
    A text shorter than one shingle is one shingle of all its words.
    """
    words = _WORD.findall(normalize_text(text))
    if not words:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.fromiter(
        map(zlib.crc32, map(str.encode, words)), dtype=np.uint64, count=len(words)
    )  # str.encode is UTF-8
    width = min(SHINGLE_WORDS, len(words))
    count = len(words) - width + 1
    combined = hashes[:count].copy()
    for offset in range(1, width):
        combined = combined * _MIX + hashes[offset : offset + count]  # wraps modulo 2**64
    return np.unique(combined)


def minhash(shingle_hashes: np.ndarray) -> np.ndarray:
    """The PERMUTATIONS minimum values of multiply-shift hashes over the shingles (uint32)."""
    signature = np.full(PERMUTATIONS, np.iinfo(np.uint32).max, dtype=np.uint64)
    for start in range(0, len(shingle_hashes), _CHUNK):
        chunk = shingle_hashes[start : start + _CHUNK]
        # (a·x + b) mod 2**64, top 32 bits: a universal family, no modulo by a prime needed.
        hashed = np.multiply.outer(_MULTIPLIERS, chunk)
        hashed += _OFFSETS[:, None]
        hashed >>= np.uint64(32)
        np.minimum(signature, hashed.min(axis=1), out=signature)
    return signature.astype(np.uint32)


def band_keys(signature: np.ndarray) -> tuple[int, ...]:
    """One key per band of ROWS_PER_BAND signature rows: texts sharing any key are candidates.

    42 bands of 3 rows: a pair with Jaccard similarity 0.5 shares a band with probability
    0.996, at 0.4 with 0.94 (a copy with a cut paragraph and a rewritten sentence), at 0.1
    with 0.04 and at 0.02 with 0.0003 — recall for copies, few candidates to verify.
    Keys are signed-63-bit so both SQLite and PostgreSQL store them as BIGINT.
    """
    rows = signature.astype("<u4").reshape(BANDS, ROWS_PER_BAND)
    return tuple(
        int.from_bytes(
            hashlib.blake2b(SCHEME + bytes([band]) + rows[band].tobytes(), digest_size=8).digest()
        )
        & 0x7FFF_FFFF_FFFF_FFFF
        for band in range(BANDS)
    )


def text_band_keys(text: str) -> tuple[int, ...]:
    """band_keys of the text's MinHash signature: what the near-duplicate index stores."""
    return band_keys(minhash(shingles(text)))


@dataclass(frozen=True)
class Overlap:
    """How much two texts share, measured exactly on their shingles."""

    containment: float  # shared shingles / shingles of the shorter text


def overlap(a: np.ndarray, b: np.ndarray) -> Overlap:
    """Overlap of two shingle sets (as returned by shingles)."""
    if len(a) == 0 or len(b) == 0:
        return Overlap(0.0)
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return Overlap(shared / min(len(a), len(b)))
