"""The app factory: one Starlette app per call, wired from an engine, settings and options."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from crawler.storage.engine import sessions
from newswatch.settings import Settings, local_zone
from newswatch.web import present
from newswatch.web.access import ReadGate, keyed_link
from newswatch.web.context import Web
from newswatch.web.options import WebOptions
from newswatch.web.params import BadRequest, FeedView
from newswatch.web.routes import routes
from newswatch.web.security import SecurityMiddleware

HERE = Path(__file__).parent
MAX_BODY = 16 * 1024  # the only form posted is a delivery id and a token


def create_app(
    engine: Engine, settings: Settings | None = None, options: WebOptions | None = None
) -> Starlette:
    """The review app over `engine`; `settings` adds configured rules, topics and sources."""
    options = options or WebOptions()
    # [display] timezone, as on the command line; without settings, its default
    zone = settings.display.zone if settings else local_zone()
    app = Starlette(
        routes=routes(HERE / "static"),
        # outermost first: headers on every answer; then the Host check; then the reader check
        middleware=[
            Middleware(SecurityMiddleware),
            Middleware(
                TrustedHostMiddleware, allowed_hosts=options.allowed_hosts, www_redirect=False
            ),
            Middleware(ReadGate, options=options),
        ],
        exception_handlers={BadRequest: _bad_request, HTTPException: _http_error},
        max_body_size=MAX_BODY,
    )
    templates = _templates(zone, options)
    app.state.web = Web(engine, sessions(engine), settings, options, templates, zone)
    return app


def _templates(zone: ZoneInfo, options: WebOptions) -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        # every template, whatever its name: all text shown is untrusted
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        safe_href=present.safe_href,
        when=partial(present.local_time, zone=zone),
        paragraphs=present.paragraphs,
        clean=present.clean,
        keyed=partial(keyed_link, options),
        zone_name=str(zone),
    )
    return Jinja2Templates(env=environment)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _bad_request(request: Request, error: Exception) -> Response:
    return _error(request, 400, str(error))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return _error(request, error.status_code, error.detail, error.headers)


def _error(request: Request, status: int, message: str, headers=None) -> Response:
    if _wants_json(request) or request.url.path.startswith("/feeds/"):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    templates = request.app.state.web.templates
    context = {
        "status": status,
        "message": message,
        "title": f"{status}",
        "view": FeedView(),
        "path": request.url.path,
        "options": request.app.state.web.options,
    }
    return templates.TemplateResponse(request, "error.html", context, status, headers)
