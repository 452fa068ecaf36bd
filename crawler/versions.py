"""Pure: when a re-fetched article counts as changed, its content hash, and a readable diff.

Pages change on every request in ways nobody edited: a rotating advert, a cache-busting
token in a script address, a "generated at" footer. Versions therefore compare what
extraction kept (trafilatura drops navigation, scripts and most advert blocks), normalised:
Unicode NFC, whitespace collapsed, blank lines dropped, and lines that are labelled as
advertising left out (advertising in editorial pages must carry such a label, and
trafilatura keeps an advert block whose markup does not say it is one). Dates compare to
the minute, or to the day when either side only knows the day.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

FIELDS = ("title", "text", "published_at", "author")
EDITED, REMOVED, REDIRECTED = "edited", "removed", "redirected"

# Labels that mark advertising in the languages of the monitored press; a line starting
# with one is an advert, and a line that is only the label makes the next line one too.
_AD_LABELS = (
    "advertisement",
    "advertising",
    "sponsored",
    "sponsored content",
    "paid content",
    "anzeige",
    "werbung",
    "publicité",
    "publicite",
    "publi-reportage",
    "advertentie",
    "gesponsord",
    "publicidad",
    "pubblicità",
    "reklame",
    "إعلان",
)
_AD_LINE = re.compile(
    r"^\W*(?:" + "|".join(re.escape(label) for label in _AD_LABELS) + r")\b\W*(.*)$",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Snapshot:
    """What one fetch of an article said; text None when the page is gone."""

    title: str | None
    author: str | None
    published_at: datetime | None
    text: str | None
    final_url: str | None = None


def clean_line(value: str | None) -> str:
    """A one-line field as compared: NFC, whitespace collapsed and trimmed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", value or "")).strip()


def text_lines(text: str | None) -> list[str]:
    """The lines of an article's text as compared: cleaned, blank and advert lines dropped."""
    kept: list[str] = []
    label_alone = False
    for raw in (text or "").splitlines():
        line = clean_line(raw)
        if not line:
            continue
        if label_alone:  # the advert under a label that stood on its own line
            label_alone = False
            continue
        advert = _AD_LINE.match(line)
        if advert:
            label_alone = not advert[1]
            continue
        kept.append(line)
    return kept


def _minute(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(second=0, microsecond=0)


def _day_only(moment: datetime) -> bool:
    return moment.time() == time()


def same_date(before: datetime | None, after: datetime | None) -> bool:
    """Equal to the minute, or on the same day when either side is a bare day (midnight)."""
    first, second = _minute(before), _minute(after)
    if first is None or second is None:
        return first is second
    if _day_only(first) or _day_only(second):
        return first.date() == second.date()
    return first == second


def changed_fields(before: Snapshot, after: Snapshot) -> list[str]:
    """Which of FIELDS differ between two snapshots, as compared (normalised)."""
    changed = []
    if clean_line(before.title) != clean_line(after.title):
        changed.append("title")
    if text_lines(before.text) != text_lines(after.text):
        changed.append("text")
    if not same_date(before.published_at, after.published_at):
        changed.append("published_at")
    if clean_line(before.author) != clean_line(after.author):
        changed.append("author")
    return changed


def content_hash(snapshot: Snapshot, change: str = EDITED) -> str:
    """SHA-256 of the normalised fields (and, for a redirect or removal, of that fact)."""
    moment = _minute(snapshot.published_at)
    parts = [
        change if change != EDITED else "",
        clean_line(snapshot.title),
        "\n".join(text_lines(snapshot.text)),
        moment.isoformat() if moment else "",
        clean_line(snapshot.author),
        snapshot.final_url or "" if change == REDIRECTED else "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Change:
    """A version to record: its kind and the fields that differ from the one before."""

    change: str  # edited | removed | redirected
    changed: tuple[str, ...]


def compare(
    previous: Snapshot, previous_change: str, current: Snapshot, current_change: str
) -> Change | None:
    """The version `current` makes after `previous`, or None when nothing material changed.

    `*_change` is how each came about: edited (a page was read), removed or redirected.
    A page that is still gone, or still redirected to the same place with the same text,
    is no new version.
    """
    fields = tuple(changed_fields(previous, current)) if current_change != REMOVED else ()
    if current_change == REMOVED:
        return None if previous_change == REMOVED else Change(REMOVED, ())
    if current_change == REDIRECTED:
        same_place = previous_change == REDIRECTED and previous.final_url == current.final_url
        return None if same_place and not fields else Change(REDIRECTED, fields)
    if previous_change != EDITED:  # back at its address after a removal or a redirect
        return Change(EDITED, fields)
    return Change(EDITED, fields) if fields else None


@dataclass(frozen=True)
class FieldDiff:
    """How one field changed: unified diff lines ("-old", "+new", " same"; the text's hunks
    start with "@@ …")."""

    field: str
    lines: tuple[str, ...]


def _shown(snapshot: Snapshot, field: str) -> list[str]:
    if field == "text":
        return text_lines(snapshot.text)
    if field == "published_at":
        moment = _minute(snapshot.published_at)
        return [moment.strftime("%Y-%m-%d %H:%M UTC")] if moment else []
    value = clean_line(getattr(snapshot, field))
    return [value] if value else []


def diff(before: Snapshot, after: Snapshot, context: int = 1) -> list[FieldDiff]:
    """A unified diff of each field that differs (the text's with `context` lines around)."""
    found = []
    for field in FIELDS:
        old, new = _shown(before, field), _shown(after, field)
        if old == new:
            continue
        lines = list(difflib.unified_diff(old, new, lineterm="", n=context))[2:]  # no ---/+++
        if field != "text":  # one line each: no hunks to tell apart
            lines = [line for line in lines if not line.startswith("@@")]
        found.append(FieldDiff(field, tuple(lines)))
    return found


def next_check(
    first_fetch: datetime, after: tuple[float, ...], done: int, now: datetime
) -> tuple[int, datetime | None]:
    """The re-check schedule after a check at `now`: steps done, and when the next is due.

    `after` holds the delays from the first fetch (`[crawl] recheck_after`). A check that
    ran late also stands for the steps whose time has passed meanwhile, so a backlog of
    late checks never turns into a burst; None: the schedule is done.
    """
    done += 1
    while done < len(after) and first_fetch + timedelta(seconds=after[done]) <= now:
        done += 1
    if done >= len(after):
        return done, None
    return done, first_fetch + timedelta(seconds=after[done])


@dataclass(frozen=True)
class Version:
    """One version of an article for display: number 1 is the article row as first stored."""

    number: int
    seen_at: datetime
    change: str  # first | edited | removed | redirected
    changed: tuple[str, ...]
    status: int | None
    final_url: str | None
    snapshot: Snapshot


def with_diffs(history: list[Version]) -> list[tuple[Version, list[FieldDiff]]]:
    """Each version with its diff against the last one that had a page (none for the first
    and for a removal: there is nothing to compare)."""
    shown: list[tuple[Version, list[FieldDiff]]] = []
    page: Snapshot | None = None
    for version in history:
        if version.change == REMOVED:
            shown.append((version, []))
            continue
        shown.append((version, diff(page, version.snapshot) if page is not None else []))
        page = version.snapshot
    return shown
