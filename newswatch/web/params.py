"""Query parameters of the feed views: parsed once, validated, and written back into links."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request

from alerts.archive import ORDERS, Position, Search, compile_search
from alerts.normalize import words
from crawler.storage.feed import Cursor, FeedFilter
from crawler.storage.search import Ranked

if TYPE_CHECKING:
    from newswatch.settings import Settings

MAX_QUERY = 300  # characters of search text: longer input is refused, not truncated
MAX_LIMIT = 200  # articles or stories per API page
_CURSOR = re.compile(r"^(?:(?P<when>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)|-)~(?P<id>\d{1,18})$")
# relevance order: the rank key as Python writes a float (repr round-trips it), then the id
_RANKED = re.compile(r"^r(?P<key>-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)~(?P<id>\d{1,18})$")


class BadRequest(ValueError):
    """A parameter that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class FeedView:
    """The filters of a feed view as typed, so forms and links can show them again."""

    q: str = ""
    rule: str = ""
    tag: str = ""
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    collapse: bool = False
    order: str = ""  # "relevance"; empty: newest first

    @classmethod
    def from_query(cls, params: QueryParams) -> FeedView:
        q = params.get("q", "").strip()
        if len(q) > MAX_QUERY:
            raise BadRequest(f"q: the search is longer than {MAX_QUERY} characters")
        order = choice(params, "order", ORDERS)
        view = cls(
            q=q,
            rule=params.get("rule", "").strip(),
            tag=params.get("tag", "").strip(),
            sources=tuple(v for v in params.getlist("source") if v),
            languages=tuple(v for v in params.getlist("lang") if v),
            since=params.get("since", "").strip(),
            until=params.get("until", "").strip(),
            collapse=params.get("collapse", "") in ("1", "on", "true"),
            order="" if order == ORDERS[0] else order or "",
        )
        view.filter()  # validate now: a bad date is a 400 wherever it is used
        return view

    @property
    def searchable(self) -> bool:
        """Does the search hold a letter or digit? ("!!!" finds nothing, and says so.)"""
        return bool(words(self.q))

    def search(self, default_operator: str = "AND") -> Search | None:
        """The search in the rule language (None: none asked); raises QueryError."""
        return compile_search(self.q, default_operator) if self.searchable else None

    def filter(self) -> FeedFilter:
        """The filters, as `newswatch export` builds them from the same options.

        The search is not among them: alerts.archive applies `search()` (the index narrows,
        the matcher decides). A search with no word to search for ("!!!") finds nothing;
        collapse keeps one row per story.
        """
        return FeedFilter(
            sources=self.sources,
            languages=self.languages,
            tag=self.tag or None,
            rule=self.rule or None,
            since=parse_date("since", self.since),
            until=parse_date("until", self.until),
            searching=bool(self.q) and not self.searchable,
            per_story=self.collapse,
        )

    def params(self) -> list[tuple[str, str]]:
        pairs = [("q", self.q), ("rule", self.rule), ("tag", self.tag)]
        pairs += [("source", s) for s in self.sources] + [("lang", s) for s in self.languages]
        pairs += [("since", self.since), ("until", self.until)]
        pairs += [("collapse", "1" if self.collapse else ""), ("order", self.order)]
        return [(key, value) for key, value in pairs if value]

    def link(self, path: str, **extra: str | None) -> str:
        """`path` with these filters (and `extra` parameters) as its query string."""
        pairs = self.params() + [(k, v) for k, v in extra.items() if v]
        return path + ("?" + urlencode(pairs) if pairs else "")

    def without(self, name: str) -> FeedView:
        return replace(self, **{name: () if name in ("sources", "languages") else ""})

    @property
    def active(self) -> bool:
        return bool(self.params())


def parse_date(name: str, value: str) -> datetime | None:
    """A day (2026-11-29, UTC midnight) or a moment (2026-11-29T08:00+01:00)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name}: {value!r} is not a date like 2026-11-29") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_cursor(value: str | None, ranked: bool = False) -> Position | None:
    """A cursor this server handed out; `ranked`: one of relevance order."""
    if not value:
        return None
    if ranked:
        found = _RANKED.match(value)
        if not found:
            raise BadRequest("after: not a cursor of relevance order this server handed out")
        return Ranked(float(found["key"]), int(found["id"]))
    found = _CURSOR.match(value)
    if not found:
        raise BadRequest("after: not a cursor this server handed out")
    when = found["when"]
    moment = datetime.strptime(when, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) if when else None
    return Cursor(moment, int(found["id"]))


def format_cursor(cursor: Position | None) -> str | None:
    if cursor is None:
        return None
    if isinstance(cursor, Ranked):
        return f"r{cursor.key!r}~{cursor.id}"
    when = cursor.published_at
    return f"{when.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}~{cursor.id}" if when else f"-~{cursor.id}"


def rule_operator(settings: Settings | None) -> str:
    """Between words with no operator: the rules' ([alerts] default_operator)."""
    return settings.alerts.default_operator if settings else "AND"


def page_limit(params: QueryParams, default: int) -> int:
    """`limit`: how many items a page of the API holds, 1 to MAX_LIMIT."""
    value = positive_int(params, "limit", default)
    if not value or value > MAX_LIMIT:
        raise BadRequest(f"limit: expected a whole number from 1 to {MAX_LIMIT}")
    return value


def positive_int(params: QueryParams, name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return default
    if not value.isdigit() or len(value) > 18:
        raise BadRequest(f"{name}: expected a positive whole number")
    return int(value)


def choice(params: QueryParams, name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(name) or None
    if value is not None and value not in allowed:
        raise BadRequest(f"{name}: expected one of {', '.join(allowed)}")
    return value


async def form_fields(request: Request) -> dict[str, str]:
    """A small url-encoded form (the body is capped by the app): each field's first value."""
    try:
        form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    except ValueError:
        raise BadRequest("too many form fields") from None
    return {name: values[0] for name, values in form.items()}
