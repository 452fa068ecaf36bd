"""INSERT with ON CONFLICT, which SQLAlchemy spells per backend: one place chooses."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert(session: Session, model: Any) -> Any:
    """The backend's INSERT for `model`, which knows ON CONFLICT (SQLite or PostgreSQL)."""
    make = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return make(model)


def insert_ignore(session: Session, model: Any, conflict: list[str] | None = None) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, on either backend."""
    return insert(session, model).on_conflict_do_nothing(index_elements=conflict)
