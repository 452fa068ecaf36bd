"""A small stored feed for the web tests: sources, stories, a hostile article, alert history.

Built once per test module and backend (the pages only read it), so the web tests cost
one database per backend, not one per test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from crawler.storage.engine import open_engine, sessions
from crawler.storage.models import Article, Source, Story
from crawler.storage.models.alerts import AlertDelivery, AlertMatch
from newswatch.settings import Settings, parse_settings
from newswatch.web import WebOptions, create_app
from tests.databases import fresh_postgres, postgres_unreachable, skip_without_postgres

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
# Every way a crawled page has tried to run script in a reader (see FIELD-NOTES.md).
XSS_TITLE = '<script>window.__xss = "title"</script><img src=x onerror="window.__xss=1"> Razzia'
XSS_TEXT = (
    '<script>window.__xss = "text"</script>\n\n'
    '<img src=x onerror="window.__xss = 2"> <a href="javascript:window.__xss=3">klik</a>\n'
    "javascript:alert(document.cookie) <svg onload=alert(1)> de razzia in Antwerpen."
)
XSS_URL = "javascript:window.__xss=4"
TOKEN = "s3cret-token-0123456789"
# A server reached from the network: every read needs the token, a session or a feed key.
PUBLIC = {
    "host": "0.0.0.0",
    "token": TOKEN,
    "hosts": ("news.example.org",),
    "base_url": "https://news.example.org",
}
SETTINGS = {
    "topics": [{"name": "be-ma-security", "title": "Belgium–Morocco security"}],
    "sources": [
        {"name": name, "kind": "feed", "url": f"https://{name}.example/feed"}
        for name in ("hln", "le-soir", "tagesschau", "hespress", "rtbf")
    ],
    "alerts": {"timezone": "Europe/Brussels"},
    "rules": [
        {"name": "mocro-maffia", "query": "Mocro*"},
        {"name": "dgst", "query": "DGST"},
        {"name": "quiet", "query": "Eupen"},
    ],
}


@dataclass(frozen=True)
class Site:
    engine: Engine
    settings: Settings
    ids: dict[str, int]

    def app(self, **options):
        return create_app(self.engine, self.settings, WebOptions(**options))


def database_url(backend: str, folder: Path) -> Iterator[str]:
    """A fresh database; PostgreSQL skips (or fails under NEWSWATCH_REQUIRE_POSTGRES) if down."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'web.db'}"
        return
    skip_without_postgres(postgres_unreachable())
    with fresh_postgres("newswatch_web") as url:
        yield url


def site(backend: str, folder: Path) -> Iterator[Site]:
    for url in database_url(backend, folder):
        engine = open_engine(url)
        try:
            yield Site(engine, settings(), populate(engine))
        finally:
            engine.dispose()


def settings() -> Settings:
    return parse_settings(SETTINGS, Path("web-test.toml"), {})


def populate(engine: Engine) -> dict[str, int]:
    ids: dict[str, int] = {}
    with sessions(engine)() as session, session.begin():
        sources = {}
        for name, language, tags in [
            ("hln", "nl", ["be", "be-ma-security"]),
            ("le-soir", "fr", ["be"]),
            ("tagesschau", "de", ["de"]),
            ("hespress", "ar", ["ma", "be-ma-security"]),
        ]:
            sources[name] = Source(
                name=name,
                kind="feed",
                url=f"https://{name}.example/feed",
                language=language,
                tags=tags,
            )
        session.add_all(sources.values())
        session.flush()

        def add(key, source, title, body, story=None, hours=0.0, reason="first", **extra):
            if story is None:
                story = Story(created_at=T0)
                session.add(story)
                session.flush()
                story = story.id
            when = T0 + timedelta(hours=hours)
            row = Article(
                source_id=sources[source].id,
                url=extra.pop("url", f"https://{source}.example/{key}"),
                link_key=f"https://{source}.example/{key}",
                title=title,
                text=body,
                language=sources[source].language,
                content_hash=hashlib.sha256(body.encode()).hexdigest(),
                story_id=story,
                story_reason=reason,
                stored_at=when,
                fetched_at=when,
                published_at=extra.pop("published_at", when),
                site_name=extra.pop("site_name", None),
                **extra,
            )
            session.add(row)
            session.flush()
            ids[key] = row.id
            return row

        mocro = add(
            "mocro",
            "hln",
            "Mocro-Maffia: nieuwe arrestaties in Antwerpen",
            "De politie heeft de Mocro-Maffia opnieuw getroffen.\n\nDrie verdachten "
            "werden opgepakt in Antwerpen en Brussel.",
            hours=1,
            site_name="HLN",
        )
        ids["story_mocro"] = mocro.story_id
        add(
            "mocro_copy",
            "le-soir",
            "Mocro-Maffia: nouvelles arrestations à Anvers",
            "De politie heeft de Mocro-Maffia opnieuw getroffen.\n\nDrie verdachten "
            "werden opgepakt in Antwerpen en Brussel.",
            story=mocro.story_id,
            hours=2,
            reason=f"same text as article #{mocro.id}",
            duplicate_of_id=mocro.id,
        )
        add(
            "mocro_near",
            "tagesschau",
            "Mocromaffia: Festnahmen in Antwerpen",
            "Die Polizei hat die Mocromaffia erneut getroffen. Drei Verdächtige.",
            story=mocro.story_id,
            hours=3,
            reason=f"near-duplicate of article #{mocro.id}",
        )
        plan = add(
            "aktionsplan",
            "tagesschau",
            "Aktionsplan zwischen Belgien und Marokko",
            "Der Aktionsplan gegen Drogenhandel wurde in Rabat unterzeichnet.",
            hours=4,
        )
        ids["story_plan"] = plan.story_id
        surete = add(
            "surete",
            "le-soir",
            "La Sûreté de l'État et la DGST coopèrent",
            "La Sûreté de l'État belge et la DGST marocaine renforcent leur "
            "coopération contre le terrorisme.",
            hours=5,
        )
        ids["story_surete"] = surete.story_id
        add(
            "arabic",
            "hespress",
            "تعاون أمني بين المغرب وبلجيكا",
            "وقع المغرب وبلجيكا خطة عمل مشتركة لمكافحة تهريب المخدرات.",
            hours=6,
        )
        add("xss", "hln", XSS_TITLE, XSS_TEXT, hours=7, url=XSS_URL, author='"><script>x</script>')
        add(
            "undated",
            "hln",
            "Undated background piece",
            "A piece without a date about Eupen.",
            hours=-48,
            published_at=None,
        )

        deliveries = []
        for rule, key in [("mocro-maffia", "mocro"), ("dgst", "surete")]:
            article = session.get(Article, ids[key])
            match = AlertMatch(
                rule=rule,
                story_id=article.story_id,
                article_id=article.id,
                query=rule,
                terms=[rule],
                matched_at=T0 + timedelta(hours=8),
                snippets=[{"text": f"snippet of {key}", "highlights": [[0, 7]]}],
                title_highlights=[],
            )
            session.add(match)
            session.flush()
            ids[f"match_{rule}"] = match.id
            deliveries.append((match.id, rule))
        for key, (match_id, rule), channel, state, error in [
            ("sent", deliveries[0], "console", "sent", None),
            ("dead", deliveries[0], "ops-webhook", "dead", "HTTP 500 <b>boom</b>"),
            ("pending", deliveries[1], "console", "pending", None),
        ]:
            row = AlertDelivery(
                match_id=match_id,
                rule=rule,
                channel=channel,
                mode="instant",
                state=state,
                due_at=T0,
                next_attempt_at=T0,
                attempts=3,
                message_id=f"msg_{key}",
                last_error=error,
                sent_at=T0 if state == "sent" else None,
            )
            session.add(row)
            session.flush()
            ids[f"delivery_{key}"] = row.id
    return ids


@dataclass(frozen=True)
class Html:
    """A page as a browser would build it: its elements with attributes, and its text."""

    elements: tuple[tuple[str, dict[str, str | None]], ...]
    text: str

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attributes for tag, attributes in self.elements if tag == name]

    @property
    def links(self) -> list[str]:
        return [a["href"] or "" for a in self.tags("a") if "href" in a]


def parse_html(document: str) -> Html:
    from html.parser import HTMLParser

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.elements: list = []
            self.text: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.elements.append((tag, dict(attrs)))

        def handle_data(self, data):
            self.text.append(data)

    collector = Collector()
    collector.feed(document)
    return Html(tuple(collector.elements), " ".join(" ".join(collector.text).split()))
