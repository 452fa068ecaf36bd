"""Pure rendering of an alert: subject, plain text, HTML and the versioned JSON payload.

Titles, snippets and URLs come from crawled pages and are untrusted: the subject is one
line with control characters removed (no header injection), the HTML escapes every piece
of text and links only http(s) addresses (no script, no ``javascript:`` links).

Webhook payload, version 1::

    {"version": 1, "type": "alert" | "digest", "id": "<message id, stable across retries>",
     "rule": {"name": ..., "query": ...}, "delivery": "instant" | "hourly" | "daily",
     "period": null | {"start": iso, "end": iso},
     "matches": [{"match_id", "story_id", "matched_at", "terms": [...],
                  "snippets": [{"text", "highlights": [[start, end], ...]}],
                  "story": {"id", "articles", "outlets", "languages": [...]},
                  "article": {"id", "url", "title", "source", "site_name", "language",
                              "published_at"}}]}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from alerts.snippets import Snippet
from crawler.storage.deliveries import AlertItem  # one match as a message shows it

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
        title = message.items[0].title or message.items[0].url
        return one_line(f"[newswatch] {message.rule}: {one_line(title)}")
    count = len(message.items)
    noun = "article" if count == 1 else "articles"
    when = f" until {local_time(message.period[1], message.timezone)}" if message.period else ""
    return one_line(f"[newswatch] {message.rule}: {count} new {noun}{when}")


def render_text(message: AlertMessage) -> str:
    lines = [f"Rule {message.rule}: {message.query}", ""]
    for item in message.items:
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
    return {
        "version": PAYLOAD_VERSION,
        "type": "alert" if message.period is None else "digest",
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
    return {
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


def render(message: AlertMessage) -> Rendered:
    return Rendered(
        message.message_id,
        subject(message),
        render_text(message),
        render_html(message),
        payload(message),
    )
