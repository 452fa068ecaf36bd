"""Schema objects made by hand in migrations, which have no model.

Alembic's models-versus-database comparison (autogenerate, and the migration test) must
leave them out, or it would propose dropping them: the search index of 0005 and the story
token index of 0010.
"""

from __future__ import annotations

from crawler.storage import search, stories


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return search.include_name(name, type_, parent_names) and stories.include_name(
        name, type_, parent_names
    )
