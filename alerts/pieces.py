"""Cut an alert's text into pieces a chat service takes: pure, for channels with limits.

The text is alerts.render's plain text: the rule line, then one block per article
(headline, details, snippets, link last), blocks apart by an empty line. Each piece holds
whole articles, the link right after its headline; an article too long alone loses the
tail of its snippets, then its details, then the end of its headline, never its link.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.render import one_line


def article_blocks(text: str, count: int) -> tuple[str, list[list[str]]] | None:
    """The rule line and each article's lines, link second, of alerts.render's text.

    render_text writes the rule line, then one block per article (headline, details,
    snippets, link last), blocks apart by an empty line; None when the text has another
    shape, and then it goes as one piece (Apprise's split cuts it).
    """
    blocks = text.strip("\n").split("\n\n")
    if len(blocks) != count + 1:
        return None
    articles = []
    for block in blocks[1:]:
        lines = block.split("\n")
        articles.append([lines[0], lines[-1], *lines[1:-1]] if len(lines) > 1 else lines)
    return blocks[0], articles


@dataclass(frozen=True)
class Room:
    """What one piece of a message may hold: characters, and lines (0: any number)."""

    characters: int
    lines: int = 0

    def holds(self, text: str) -> bool:
        lines_ok = self.lines <= 0 or text.count("\n") + 1 <= self.lines
        return len(text) <= self.characters and lines_ok


def fit_article(lines: list[str], room: Room) -> str:
    """One article in `room`: its tail lines go first, then the headline's end; never the link."""
    kept = list(lines)
    while len(kept) > 2 and not room.holds("\n".join(kept)):
        kept.pop()  # snippets from the last, then the details line
    text = "\n".join(kept)
    if room.holds(text) or len(kept) < 2:
        return text
    headline, link = kept
    space = room.characters - len(link) - 1
    if space < 2 or room.lines == 1:
        return link  # the link alone; too long still, it goes whole and Apprise splits it
    return one_line(headline, space) + "\n" + link


def pieces(text: str, count: int, room: Room) -> list[str]:
    """The text of a message of `count` articles, links second, in pieces that fit `room`.

    The link follows its headline even when nothing is cut: chat services unfurl it there.
    """
    found = article_blocks(text, count)
    if found is None:
        return [text]
    head, articles = found
    out: list[str] = []
    current = ""
    for number, lines in enumerate(articles):
        block = fit_article(lines, room)
        if number == 0 and room.holds(f"{head}\n\n{block}"):
            block = f"{head}\n\n{block}"  # the rule line only when it fits with the first
        joined = f"{current}\n\n{block}" if current else block
        if current and not room.holds(joined):
            out.append(current)
            joined = block
        current = joined
    out.append(current)
    return out
