"""The OpenAPI 3.1 description of the JSON API (a test checks it covers every API route)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

# crawler.storage.sources.judge, worst first, and a source not run yet
HEALTH = ["failing", "degraded", "quiet", "flaky", "ok", "never run"]


def _version() -> str:
    try:
        return version("newswatch")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


def _query(name: str, description: str, kind: str = "string", **extra) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": kind, **extra},
    }


def _path(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": 1},
    }


def _ok(schema: str, description: str) -> dict:
    return {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


def _object(properties: dict) -> dict:
    return {"type": "object", "properties": properties}


def _list_of(properties: dict) -> dict:
    """An `items` list of objects with these properties, as every listing answers."""
    return {"type": "array", "items": _object(properties)}


def _get(summary: str, responses: dict, parameters: list | None = None, **extra) -> dict:
    operation = {"summary": summary, **extra, "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


PARTIAL = {
    "type": "boolean",
    "description": (
        "The search stopped after judging its share of articles before the page was full "
        "(a query the index cannot narrow, such as NOT x alone): `next` searches on."
    ),
}
ERROR = {
    "description": "The error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
FILTERS = [
    _query(
        "q",
        "Search in the alert rules' language, matched as a rule would match it: "
        "words (all must occur, in any spelling: Mocro-Maffia = mocromaffia, accents "
        'and case ignored), "a phrase", prefix*, AND, OR, NOT or -, parentheses, '
        '"words near"~5, and the fields title:, text:, lang:, source: and tag:.',
        maxLength=300,
    ),
    _query("rule", "Only stories this alert rule matched."),
    _query("tag", "Only articles from sources with this tag (topics are tags)."),
    {**_query("source", "Only this source (repeatable)."), "explode": True},
    {**_query("lang", "Only this language code, e.g. de (repeatable)."), "explode": True},
    _query("since", "Published (undated: fetched) on or after this date or moment.", format="date"),
    _query("until", "Published (undated: fetched) before this date or moment.", format="date"),
    _query(
        "collapse",
        "1 keeps one article per story: its first stored article among those "
        "the other filters keep (as `newswatch export --collapse`).",
        enum=["1"],
    ),
]
PAGING = [
    _query(
        "order",
        "newest (the default) or relevance: best match first (bm25 on SQLite, "
        "ts_rank of title and lead on PostgreSQL); without words to rank, newest.",
        enum=["newest", "relevance"],
    ),
    _query(
        "limit",
        "How many items a page holds (the server's page size if absent).",
        "integer",
        minimum=1,
        maximum=200,
    ),
    _query("after", "The `next` of the previous page (of the same order)."),
]
DATE = {"type": "string", "format": "date-time"}
ARTICLE = {
    "type": "object",
    "required": ["id", "story_id", "url", "source", "story_reason", "story_size", "html_url"],
    "properties": {
        "id": {"type": "integer"},
        "story_id": {"type": "integer"},
        "url": {"type": "string"},
        "title": _nullable("string"),
        "author": _nullable("string"),
        "published_at": _nullable("string", format="date-time"),
        "fetched_at": DATE,
        "language": _nullable("string"),
        "source": {"type": "string"},
        "site_name": _nullable("string"),
        "lead": _nullable("string"),
        "duplicate_of_id": _nullable("integer"),
        "story_reason": {"type": "string", "description": "Why the article joined its story."},
        "story_size": {"type": "integer"},
        "html_url": {"type": "string"},
        "title_highlights": {
            "type": "array",
            "description": "With q: [start, end) of hits.",
            "items": {"type": "array", "items": {"type": "integer"}},
        },
        "snippet": {
            "type": "object",
            "properties": {"text": {"type": "string"}, "highlights": {"type": "array"}},
        },
    },
}
SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "position": _nullable("integer", description="Where in q a query error is (from 1)."),
        },
    },
    "Article": ARTICLE,
    "ArticleDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Article"},
            {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "image_url": _nullable("string"),
                    "story_members": {"type": "array", "items": {"type": "integer"}},
                },
            },
        ]
    },
    "ArticlePage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Article"}},
            "next": _nullable("string", description="Pass as `after` for the next page."),
            "next_url": _nullable("string"),
            "partial": PARTIAL,
        },
    },
    "StoryPage": _object(
        {
            "items": _list_of(
                {
                    "id": {"type": "integer"},
                    "size": {"type": "integer"},
                    "outlets": {"type": "array", "items": {"type": "string"}},
                    "title": _nullable("string", description="The title of its first article."),
                    "html_url": {"type": "string"},
                    "api_url": {"type": "string"},
                    "article": {"$ref": "#/components/schemas/Article"},
                }
            ),
            "next": _nullable("string", description="Pass as `after` for the next page."),
            "next_url": _nullable("string"),
            "partial": PARTIAL,
        }
    ),
    "Index": _object(
        {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "openapi_url": {"type": "string"},
            "endpoints": _list_of(
                {
                    "method": {"type": "string"},
                    "path": {"type": "string"},
                    "url": {"type": "string"},
                    "summary": {"type": "string"},
                }
            ),
        }
    ),
    "Story": _object(
        {
            "id": {"type": "integer"},
            "size": {"type": "integer"},
            "title": _nullable("string"),
            "outlets": {"type": "array", "items": {"type": "string"}},
            "html_url": {"type": "string"},
            "members": {"type": "array", "items": {"$ref": "#/components/schemas/Article"}},
        }
    ),
    "Rules": _object(
        {
            "items": _list_of(
                {
                    "name": {"type": "string"},
                    "query": _nullable("string"),
                    "matches": {"type": "integer"},
                    "last_matched_at": _nullable("string", format="date-time"),
                    "feed_url": {"type": "string"},
                }
            )
        }
    ),
    "Deliveries": _object(
        {
            "items": _list_of(
                {
                    "id": {"type": "integer"},
                    "rule": {"type": "string"},
                    "channel": {"type": "string"},
                    "mode": {"type": "string"},
                    "state": {"type": "string", "enum": ["pending", "sent", "dead"]},
                    "attempts": {"type": "integer"},
                    "last_error": _nullable("string"),
                    "next_attempt_at": DATE,
                    "sent_at": _nullable("string", format="date-time"),
                    "story_id": {"type": "integer"},
                    "article_id": {"type": "integer"},
                    "title": _nullable("string"),
                    "url": {"type": "string"},
                }
            ),
            "next_before": _nullable("integer"),
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        }
    ),
    "Requeued": _object({"requeued": {"type": "integer"}}),
    "Sources": _object(
        {
            "items": _list_of(
                {
                    "name": {"type": "string"},
                    "kind": {"type": "string"},
                    "url": {"type": "string"},
                    "health": {"type": "string", "enum": HEALTH},
                    "articles": {"type": "integer"},
                    "last_run_at": _nullable("string", format="date-time"),
                    "last_status": _nullable("string"),
                    "last_error": _nullable("string"),
                    "consecutive_failures": {"type": "integer"},
                }
            )
        }
    ),
}
NOT_FOUND = {"404": ERROR}
PATHS = {
    "/api/": _get(
        "This list of endpoints", _ok("Index", "Every endpoint, with its method and summary")
    ),
    "/api/articles": _get(
        "Stored articles, filtered and searched, newest or best first",
        {**_ok("ArticlePage", "One page of articles"), "400": ERROR},
        [*FILTERS, *PAGING],
    ),
    "/api/stories": _get(
        "Stories with an article in the view, each once, at its first",
        {**_ok("StoryPage", "One page of stories"), "400": ERROR},
        [*FILTERS, *PAGING],
        description="A story is listed at its first article in the order asked; "
        "`article` is that article, with the search's highlights.",
    ),
    "/api/articles/{article_id}": _get(
        "One article with its extracted text",
        {**_ok("ArticleDetail", "The article"), **NOT_FOUND},
        [_path("article_id", "Article id")],
    ),
    "/api/stories/{story_id}": _get(
        "One story: every member, its outlet and why it joined",
        {**_ok("Story", "The story"), **NOT_FOUND},
        [_path("story_id", "Story id")],
    ),
    "/api/rules": _get(
        "Alert rules with their match counts",
        _ok("Rules", "Configured rules, then rules only history knows"),
    ),
    "/api/deliveries": _get(
        "Alert deliveries, newest first",
        {**_ok("Deliveries", "One page of deliveries"), "400": ERROR},
        [
            _query("state", "Only this state.", enum=["pending", "sent", "dead"]),
            _query("rule", "Only this rule."),
            _query("before", "The `next_before` of the previous page.", "integer"),
        ],
    ),
    "/api/deliveries/{delivery_id}/retry": {
        "post": {
            "summary": "Re-queue a dead delivery for the next alerts run",
            "description": "Needs `Authorization: Bearer <token>` when the server has a "
            "token ($NEWSWATCH_WEB_TOKEN).",
            "parameters": [_path("delivery_id", "Delivery id")],
            "responses": {
                **_ok("Requeued", "Re-queued"),
                "403": ERROR,
                **NOT_FOUND,
                "409": ERROR,
            },
        }
    },
    "/api/sources": _get("Sources and their health", _ok("Sources", "Every source")),
    "/api/openapi.json": _get("This description", {"200": {"description": "OpenAPI 3.1 document"}}),
}
TOKEN = {
    "type": "http",
    "scheme": "bearer",
    "description": "$NEWSWATCH_WEB_TOKEN. Needed for every call when the server is "
    "reached from the network, and to retry a delivery when set.",
}


def document(server: str) -> dict:
    """The description, with `server` (this server's base URL) as its only server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newswatch",
            "version": _version(),
            "description": "The stored feed of newswatch: articles, stories, alert rules, "
            "deliveries and sources. Read-only, except retrying a dead delivery.",
        },
        "servers": [{"url": server}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"token": TOKEN}},
        # {}: a server on loopback answers reads without it
        "security": [{"token": []}, {}],
    }
