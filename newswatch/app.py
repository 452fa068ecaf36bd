"""The application object the commands share: settings loaded once, one database engine."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crawler.storage.engine import open_engine, sessions
from newswatch.settings import Settings, load_settings


class App:
    """Built by the command line from its options; nothing here is global."""

    def __init__(self, config_path: Path | None = None, database_url: str | None = None):
        self.config_path = config_path
        self.database_url = database_url
        self._engine: Engine | None = None

    @cached_property
    def settings(self) -> Settings:
        settings = load_settings(self.config_path)
        if self.database_url:
            settings = replace(settings, database_url=self.database_url)
        return settings

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.settings.database_url)
        return self._engine

    def sessions(self) -> sessionmaker[Session]:
        return sessions(self.engine())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
