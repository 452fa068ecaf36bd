"""The application object the commands share: settings loaded once, one database engine."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crawler.storage.engine import (
    UnusableDatabase,
    database_location,
    open_engine,
    sessions,
    url_problem,
)
from newswatch.settings import ConfigError, ConfigLocation, Settings, load_settings, locate_config

log = logging.getLogger(__name__)


class App:
    """Built by the command line from its options; nothing here is global.

    A `read_only` command only reads the archive: a missing SQLite file is then an error
    (MissingDatabase), never a new, empty database.
    """

    def __init__(
        self,
        config_path: Path | None = None,
        database_url: str | None = None,
        *,
        read_only: bool = False,
    ):
        self._config_path = config_path
        self.database_url = database_url
        self.read_only = read_only
        self._engine: Engine | None = None

    @property
    def config_path(self) -> Path | None:
        """The file given (--config), else the one found; None when there is none."""
        if self._config_path is not None:
            return self._config_path
        try:
            return locate_config().path
        except ConfigError:
            return None

    @config_path.setter
    def config_path(self, path: Path | None) -> None:
        self._config_path = path

    def config_location(self) -> ConfigLocation:
        """Which file is read and why; ConfigError when there is none."""
        return locate_config(self._config_path)

    @cached_property
    def settings(self) -> Settings:
        location = self.config_location()
        settings = load_settings(self._config_path)  # found again: errors say how it was
        if self.database_url:
            problem = url_problem(self.database_url)
            if problem:
                raise UnusableDatabase(self.database_url, f"--database: {problem}")
            settings = replace(settings, database_url=self.database_url)
        # Where the data is, said before anything is written there; review commands
        # say it only with -v, so their output stays what was asked for.
        log.log(
            logging.DEBUG if self.read_only else logging.INFO,
            "config %s (%s); database %s (%s)",
            location.path.absolute(),
            location.origin,
            database_location(settings.database_url),
            self.database_origin(),
        )
        return settings

    def database_origin(self) -> str:
        """Which setting chose the database, as a user would look it up."""
        if self.database_url:
            return "from --database"
        if os.environ.get("NEWSWATCH_DATABASE_URL"):
            return "from $NEWSWATCH_DATABASE_URL"
        where = f" of {self.config_path.absolute()}" if self.config_path else ""
        return f"from storage.database_url{where}"

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.settings.database_url, create=not self.read_only)
        return self._engine

    def sessions(self) -> sessionmaker[Session]:
        return sessions(self.engine())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
