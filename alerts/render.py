"""Pure rendering of an alert: subject, plain text, HTML and the versioned JSON payload.

Titles, snippets and URLs come from crawled pages and are untrusted: the subject is one
line with control characters removed (no header injection), the HTML escapes every piece
of text and links only http(s) addresses (no script, no ``javascript:`` links).

Webhook payload, version 1::

    {"version": 1, "type": "alert" | "edit" | "digest",
     "id": "<message id, stable across retries>",
     "rule": {"name": ..., "query": ...}, "delivery": "instant" | "hourly" | "daily",
     "period": null | {"start": iso, "end": iso},
     "matches": [{"match_id", "story_id", "matched_at", "terms": [...],
                  "snippets": [{"text", "highlights": [[start, end], ...]}],
                  "story": {"id", "articles", "outlets", "languages": [...]},
                  "article": {"id", "url", "title", "source", "site_name", "language",
                              "published_at"},
                  "edit": {"version", "change": "edited" | "removed" | "redirected",
                           "changed": ["title", "text", "published_at", "author"],
                           "seen_at", "status", "final_url",
                           "title": {"previous", "new"}, "author": {"previous", "new"},
                           "published_at": {"previous", "new"},
                           "diff": {"title": [{"op": "same" | "removed" | "added",
                                               "text"}], "text": [...]}}
                  # "edit" only in an entry about a later version of the matched article
                 }]}

An instant message about an edit of a matched article has the type "edit"; a digest marks
each such entry with its "edit" object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from alerts.diffs import Piece, text_diff, word_diff
from alerts.snippets import Snippet
from crawler.storage.deliveries import AlertItem  # one match as a message shows it
from crawler.storage.edits import ArticleEdit

PAYLOAD_VERSION = 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
SUBJECT_LENGTH = 180


@dataclass(frozen=True)
class AlertMessage:
    message_id: str
    rule: str
    query: str
    mode: str  # instant | hourly | daily
    items: tuple[AlertItem, ...]
    period: tuple[datetime, datetime] | None = None  # digests: [start, end)
    # [alerts] timezone: the period is cut there, so its times are shown there (labelled)
    timezone: str = "UTC"


@dataclass(frozen=True)
class Rendered:
    message_id: str
    subject: str
    text: str
    html: str
    payload: dict

    @property
    def body(self) -> bytes:
        """The payload as sent: compact JSON, the same bytes on every retry."""
        return json.dumps(self.payload, ensure_ascii=False, separators=(",", ":")).encode()


def one_line(value: str | None, limit: int = SUBJECT_LENGTH) -> str:
    """Text safe for a header: no CR, LF or other control characters, bounded length."""
    flat = " ".join(_CONTROL.sub(" ", value or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def local_time(moment: datetime | None, zone: ZoneInfo | str, *, seconds: bool = False) -> str:
    """`moment` in `zone`, labelled with the zone's abbreviation: "2026-12-05 16:20 CET".

    The one format for every time shown: alert messages, the command line and the web.
    The label is per value, so a summer time stays "CEST" in a winter listing.
    """
    if moment is None:
        return "—"
    local = moment.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else "")) + f" {local.tzname()}"


def _marked(text: str, spans, before: str, after: str, escape_text) -> str:
    out, position = [], 0
    for start, end in spans:
        out.append(escape_text(text[position:start]))
        out.append(before + escape_text(text[start:end]) + after)
        position = end
    out.append(escape_text(text[position:]))
    return "".join(out)


def _plain(text: str) -> str:
    return _CONTROL.sub(" ", text)


def _safe_url(url: str) -> str | None:
    return url if url.lower().startswith(("https://", "http://")) else None


def _snippets(item: AlertItem) -> list[Snippet]:
    return [Snippet.from_json(value) for value in item.snippets]


def story_note(item: AlertItem) -> str:
    """ " · also in 3 more outlets (de, fr)" when the story has other articles, else ""."""
    if item.story_articles <= 1:
        return ""
    more = item.story_outlets - 1
    languages = f" ({', '.join(item.story_languages)})" if item.story_languages else ""
    if more > 0:
        noun = "outlet" if more == 1 else "outlets"
        return f" · +{more} {noun}, {item.story_articles} articles{languages}"
    return f" · {item.story_articles} articles{languages}"


def subject(message: AlertMessage) -> str:
    if message.period is None and len(message.items) == 1:
        only = message.items[0]
        if only.edit is not None:
            return one_line(f"[newswatch] {message.rule}: {edit_heading(only)}")
        return one_line(f"[newswatch] {message.rule}: {one_line(only.title or only.url)}")
    changed = sum(1 for item in message.items if item.edit is not None)
    count = len(message.items) - changed
    noun = "article" if count == 1 else "articles"
    counted = [f"{count} new {noun}"] if count or not changed else []
    if changed:
        counted.append(f"{changed} edit{'' if changed == 1 else 's'}")
    when = f" until {local_time(message.period[1], message.timezone)}" if message.period else ""
    return one_line(f"[newswatch] {message.rule}: {', '.join(counted)}{when}")


def render_text(message: AlertMessage) -> str:
    lines = [f"Rule {message.rule}: {message.query}", ""]
    for item in message.items:
        if item.edit is not None:
            lines.extend(_edit_text(item, message.timezone))
            continue
        title = _marked(item.title or item.url, item.title_highlights, "*", "*", _plain)
        lines.append(one_line(title, 500))
        source = item.site_name or item.source
        when = local_time(item.published_at or item.matched_at, message.timezone)
        lines.append(
            f"{one_line(source)} · {when} · matched {', '.join(item.terms)}{story_note(item)}"
        )
        for snippet in _snippets(item):
            marked = _marked(snippet.text, snippet.highlights, "*", "*", _plain)
            lines.append("  … " + one_line(marked, 1000))
        lines.append(one_line(item.url, 2000))
        lines.append("")
    return "\n".join(lines)


def render_html(message: AlertMessage) -> str:
    parts = [
        '<!doctype html><html><body style="font-family: sans-serif">',
        f"<p>Rule <b>{escape(message.rule)}</b>: <code>{escape(message.query)}</code></p>",
    ]
    for item in message.items:
        if item.edit is not None:
            parts.append(_edit_html(item, message.timezone))
            continue
        title = _marked(item.title or item.url, item.title_highlights, "<mark>", "</mark>", escape)
        url = _safe_url(item.url)
        heading = f'<a href="{escape(url, quote=True)}">{title}</a>' if url else title
        source = escape(item.site_name or item.source)
        when = escape(local_time(item.published_at or item.matched_at, message.timezone))
        terms = escape(", ".join(item.terms)) + escape(story_note(item))
        parts.append(f"<h3>{heading}</h3><p><small>{source} · {when} · matched {terms}</small></p>")
        for snippet in _snippets(item):
            marked = _marked(snippet.text, snippet.highlights, "<mark>", "</mark>", escape)
            parts.append(f"<blockquote>… {marked} …</blockquote>")
        if not url:
            parts.append(f"<p><small>{escape(item.url)}</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def payload(message: AlertMessage) -> dict:
    kind = "alert"
    if message.period is not None:
        kind = "digest"
    elif any(item.edit is not None for item in message.items):
        kind = "edit"
    return {
        "version": PAYLOAD_VERSION,
        "type": kind,
        "id": message.message_id,
        "rule": {"name": message.rule, "query": message.query},
        "delivery": message.mode,
        "period": (
            {"start": message.period[0].isoformat(), "end": message.period[1].isoformat()}
            if message.period
            else None
        ),
        "matches": [_item_json(item) for item in message.items],
    }


def _item_json(item: AlertItem) -> dict:
    found = {
        "match_id": item.match_id,
        "story_id": item.story_id,
        "matched_at": item.matched_at.isoformat(),
        "terms": list(item.terms),
        "snippets": [snippet.as_json() for snippet in _snippets(item)],
        "story": {
            "id": item.story_id,
            "articles": item.story_articles,
            "outlets": item.story_outlets,
            "languages": list(item.story_languages),
        },
        "article": {
            "id": item.article_id,
            "url": item.url,
            "title": item.title,
            "source": item.source,
            "site_name": item.site_name,
            "language": item.language,
            "published_at": item.published_at.isoformat() if item.published_at else None,
        },
    }
    if item.edit is not None:
        found["edit"] = _edit_json(item.edit)
    return found


CHANGES = {"edited": "Edited", "removed": "Removed", "redirected": "Redirected"}
FIELD_NAMES = {"title": "headline", "text": "text", "published_at": "date", "author": "author"}


def edit_heading(item: AlertItem) -> str:
    """ "Edited: <headline>", "Removed: …", "Redirected: …": one line, the newest headline."""
    edit = item.edit
    title = (edit.title if edit.change != "removed" else None) or edit.previous_title or item.url
    return one_line(f"{CHANGES.get(edit.change, 'Changed')}: {one_line(title)}")


def _edit_diffs(edit: ArticleEdit) -> dict[str, tuple[Piece, ...]]:
    """The headline's word diff and the first changed paragraph's, when they changed."""
    found = {}
    if edit.change == "removed":
        return found  # nothing new to compare: the page is gone
    if "title" in edit.changed:
        found["title"] = word_diff(edit.previous_title, edit.title)
    if "text" in edit.changed:
        found["text"] = text_diff(edit.previous_text, edit.text)
    return {name: pieces for name, pieces in found.items() if pieces}


def _edit_facts(item: AlertItem, zone: str) -> list[tuple[str, str]]:
    """The plain facts of an edit beside the diffs: date, author, where it went, the answer."""
    edit, facts = item.edit, []
    if "published_at" in edit.changed:
        before, after = (
            local_time(edit.previous_published_at, zone),
            local_time(edit.published_at, zone),
        )
        facts.append(("date", f"{before} → {after}"))
    if "author" in edit.changed:
        facts.append(("author", f"{edit.previous_author or '—'} → {edit.author or '—'}"))
    if edit.change == "redirected" and edit.final_url:
        facts.append(("now at", edit.final_url))
    if edit.change == "removed" and edit.status:
        facts.append(("answer", f"HTTP {edit.status}"))
    return facts


def _edit_summary(item: AlertItem, zone: str) -> str:
    edit = item.edit
    changed = ", ".join(FIELD_NAMES.get(name, name) for name in edit.changed)
    seen = local_time(edit.seen_at, zone)
    note = f" · changed: {changed}" if changed else ""
    return f"{item.site_name or item.source} · version {edit.number} · seen {seen}{note}"


def _plain_diff(pieces: tuple[Piece, ...]) -> str:
    marks = {"same": "{}", "removed": "[-{}-]", "added": "{{+{}+}}"}
    return " ".join(marks[piece.kind].format(_plain(piece.text)) for piece in pieces)


def _edit_text(item: AlertItem, zone: str) -> list[str]:
    lines = [edit_heading(item), one_line(_edit_summary(item, zone), 500)]
    for name, pieces in _edit_diffs(item.edit).items():
        lines.append(f"  {FIELD_NAMES[name]}: " + one_line(_plain_diff(pieces), 2000))
    for label, value in _edit_facts(item, zone):
        lines.append(f"  {label}: " + one_line(value, 2000))
    lines.extend([one_line(item.url, 2000), ""])
    return lines


def _html_diff(pieces: tuple[Piece, ...]) -> str:
    tags = {
        "same": "{}",
        "removed": '<del style="background:#fdd">{}</del>',
        "added": '<ins style="background:#dfd">{}</ins>',
    }
    return " ".join(tags[piece.kind].format(escape(piece.text)) for piece in pieces)


def _edit_html(item: AlertItem, zone: str) -> str:
    url = _safe_url(item.url)
    heading = escape(edit_heading(item))
    if url:
        heading = f'<a href="{escape(url, quote=True)}">{heading}</a>'
    parts = [f"<h3>{heading}</h3><p><small>{escape(_edit_summary(item, zone))}</small></p>"]
    for name, pieces in _edit_diffs(item.edit).items():
        parts.append(f"<p><b>{FIELD_NAMES[name]}</b>: {_html_diff(pieces)}</p>")
    for label, value in _edit_facts(item, zone):
        parts.append(f"<p><b>{escape(label)}</b>: {escape(value)}</p>")
    if not url:
        parts.append(f"<p><small>{escape(item.url)}</small></p>")
    return "\n".join(parts)


def _edit_json(edit: ArticleEdit) -> dict:
    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    diffs = _edit_diffs(edit)
    return {
        "version": edit.number,
        "change": edit.change,
        "changed": list(edit.changed),
        "seen_at": edit.seen_at.isoformat(),
        "status": edit.status,
        "final_url": edit.final_url,
        "title": {"previous": edit.previous_title, "new": edit.title},
        "author": {"previous": edit.previous_author, "new": edit.author},
        "published_at": {
            "previous": moment(edit.previous_published_at),
            "new": moment(edit.published_at),
        },
        "diff": {name: [piece.as_json() for piece in pieces] for name, pieces in diffs.items()},
    }


def render(message: AlertMessage) -> Rendered:
    return Rendered(
        message.message_id,
        subject(message),
        render_text(message),
        render_html(message),
        payload(message),
    )
