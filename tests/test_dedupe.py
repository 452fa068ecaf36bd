"""Tests for crawler.dedupe: text normalisation and exact-duplicate content hashes."""

from __future__ import annotations

import hashlib

from crawler.dedupe import content_hash, normalize_text


def test_normalize_text_folds_case_width_and_whitespace() -> None:
    assert normalize_text("  Die  STRASSE\n\tist\u00a0gesperrt. ") == "die strasse ist gesperrt."
    assert normalize_text("Straße") == normalize_text("STRASSE")  # casefold, not lower()
    assert normalize_text("ﬁnance") == "finance"  # ligature (NFKC)
    assert normalize_text("ＡＢＣ１２３") == "abc123"  # full-width forms (NFKC)


def test_normalize_text_collapses_every_kind_of_white_space() -> None:
    spaced = "\u2003Die\u3000Straße\x1c\x85ist \r\n gesperrt.\u2028"
    assert normalize_text(spaced) == "die strasse ist gesperrt."


def test_normalize_text_composes_accents() -> None:
    decomposed = "Cafe\u0301 Mu\u0308ller"  # e + combining acute, u + combining diaeresis
    assert normalize_text(decomposed) == "café müller"


def test_normalize_text_drops_invisible_characters() -> None:
    assert normalize_text("Bürger\u00admeister\u200b") == "bürgermeister"


def test_content_hash_equal_for_copies_differing_only_in_form() -> None:
    original = "Le président a annoncé hier à Paris une réforme des retraites."
    copy = "  LE PRÉSIDENT a annoncé hier\nà Paris une réforme des retraites.  "
    assert content_hash(original) == content_hash(copy)


def test_content_hash_differs_for_different_text() -> None:
    assert content_hash("De minister is afgetreden.") != content_hash("De minister is gebleven.")


def test_content_hash_is_sha256_hex_of_normalized_text() -> None:
    text = "  Das Wetter:  sonnig "
    expected = hashlib.sha256(b"das wetter: sonnig").hexdigest()
    assert content_hash(text) == expected
    assert len(content_hash("")) == 64
