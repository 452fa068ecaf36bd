"""What SQLAlchemy spells per backend: INSERT with ON CONFLICT, and which backend it is."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def is_postgresql(session: Session) -> bool:
    """Whether the session's backend is PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def insert(session: Session, model: Any) -> Any:
    """The backend's INSERT for `model`, which knows ON CONFLICT (SQLite or PostgreSQL)."""
    make = postgresql.insert if is_postgresql(session) else sqlite.insert
    return make(model)


def insert_ignore(session: Session, model: Any, conflict: list[str] | None = None) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, on either backend."""
    return insert(session, model).on_conflict_do_nothing(index_elements=conflict)
