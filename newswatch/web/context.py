"""What every handler needs, built once per app by the factory and kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from newswatch.settings import Settings
from newswatch.web.options import WebOptions


@dataclass(frozen=True)
class Web:
    engine: Engine
    sessions: sessionmaker[Session]
    settings: Settings | None
    options: WebOptions
    templates: Jinja2Templates
    zone: ZoneInfo

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def configured_rules(self) -> dict[str, str]:
        """Configured rule names and their query text."""
        rules = self.settings.alerts.rules if self.settings else ()
        return {rule.name: rule.query.text for rule in rules}

    def topics(self) -> dict[str, str]:
        """Topic names (they are tags of sources) and their titles."""
        return {t.name: t.title for t in self.settings.topics} if self.settings else {}

    def base(self, request: Request) -> str:
        """Where absolute links start: [web] base_url.

        Without it (only on a server that is not exposed) the request's own address, whose
        Host header is then one of the loopback names.
        """
        return self.options.base_url or str(request.base_url).rstrip("/")

    def absolute(self, request: Request, name: str, **params) -> str:
        """The absolute URL of the route `name`."""
        return str(request.app.url_path_for(name, **params).make_absolute_url(self.base(request)))


def web(request: Request) -> Web:
    return request.app.state.web
