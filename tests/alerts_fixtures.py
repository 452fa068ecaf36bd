"""Helpers for the alerts tests: stored articles as ORM rows, settings from a TOML-like dict."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from alerts.config import AlertSettings, parse_alert_settings
from crawler.storage.engine import sessions
from crawler.storage.models import Article, Source, Story

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def settings(document: dict, env: dict[str, str] | None = None) -> AlertSettings:
    parsed, problems = parse_alert_settings(document, env or {})
    assert problems == [], f"test settings have problems: {problems}"
    return parsed


def add_article(
    engine: Engine,
    title: str,
    text: str,
    *,
    source: str = "hln",
    tags: tuple[str, ...] = (),
    language: str | None = "nl",
    story_of: int | None = None,
    url: str | None = None,
    stored_at: datetime = T0,
    article_id: int | None = None,
) -> int:
    """Store one article (in the story of article `story_of`, or a new one); returns its id."""
    with sessions(engine)() as session, session.begin():
        found = session.scalar(select(Source).where(Source.name == source))
        if found is None:
            found = Source(
                name=source, kind="feed", url=f"https://{source}.example/feed", tags=list(tags)
            )
            session.add(found)
            session.flush()
        if story_of is None:
            story = Story(created_at=stored_at)
            session.add(story)
            session.flush()
            story_id = story.id
        else:
            story_id = session.get(Article, story_of).story_id
        digest = hashlib.sha256(text.encode()).hexdigest()
        address = url or f"https://{source}.example/{digest[:8]}-{title[:10]!r}"
        article = Article(
            id=article_id,
            source_id=found.id,
            url=address,
            link_key=address,
            title=title,
            text=text,
            language=language,
            content_hash=digest,
            story_id=story_id,
            duplicate_of_id=story_of,
            stored_at=stored_at,
            fetched_at=stored_at,
            published_at=stored_at,
        )
        session.add(article)
        session.flush()
        return article.id
