"""Pure, bounded word diffs for edit alerts: the headline and the first changed paragraph.

A diff is a tuple of pieces, each kept, removed or added words. Long runs of unchanged
words are cut to a few words of context around each change, and the whole is bounded, so
an alert about a rewritten article stays short.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

CONTEXT_WORDS = 8  # unchanged words kept on each side of a change
DIFF_LENGTH = 600  # characters of changed or kept text, at most, in one diff
ELLIPSIS = "…"


@dataclass(frozen=True)
class Piece:
    kind: str  # same | removed | added
    text: str

    def as_json(self) -> dict:
        return {"op": self.kind, "text": self.text}


def word_diff(before: str | None, after: str | None, limit: int = DIFF_LENGTH) -> tuple[Piece, ...]:
    """What changed between two texts, word by word, with little context and bounded."""
    old, new = (before or "").split(), (after or "").split()
    pieces: list[Piece] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            pieces.append(Piece("same", _context(old[i1:i2], index, len(opcodes))))
            continue
        if i2 > i1:
            pieces.append(Piece("removed", " ".join(old[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("added", " ".join(new[j1:j2])))
    return _bounded(tuple(piece for piece in pieces if piece.text), limit)


def _context(words: list[str], index: int, count: int) -> str:
    """Unchanged words: the ones next to a change, an ellipsis for the rest."""
    if len(words) <= 2 * CONTEXT_WORDS:
        return " ".join(words)
    first, last = index == 0, index == count - 1
    if first and last:  # nothing changed: a short reminder of the text
        return " ".join(words[:CONTEXT_WORDS]) + " " + ELLIPSIS
    if first:
        return ELLIPSIS + " " + " ".join(words[-CONTEXT_WORDS:])
    if last:
        return " ".join(words[:CONTEXT_WORDS]) + " " + ELLIPSIS
    head, tail = words[:CONTEXT_WORDS], words[-CONTEXT_WORDS:]
    return " ".join(head) + f" {ELLIPSIS} " + " ".join(tail)


def _bounded(pieces: tuple[Piece, ...], limit: int) -> tuple[Piece, ...]:
    kept: list[Piece] = []
    left = limit
    for piece in pieces:
        if left <= 0:
            kept.append(Piece("same", ELLIPSIS))
            break
        text = piece.text if len(piece.text) <= left else piece.text[:left].rstrip() + ELLIPSIS
        kept.append(Piece(piece.kind, text))
        left -= len(text)
    return tuple(kept)


def paragraphs(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def first_changed_paragraph(before: str | None, after: str | None) -> tuple[str, str] | None:
    """The first paragraph that differs, before and after ("" when added or removed)."""
    old, new = paragraphs(before), paragraphs(after)
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            return (old[i1] if i2 > i1 else "", new[j1] if j2 > j1 else "")
    return None


def text_diff(before: str | None, after: str | None, limit: int = DIFF_LENGTH) -> tuple[Piece, ...]:
    """The word diff of the first changed paragraph; () when the paragraphs are the same."""
    changed = first_changed_paragraph(before, after)
    return word_diff(*changed, limit=limit) if changed else ()
