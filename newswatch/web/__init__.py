"""The review web UI, Atom feeds, JSON API and exports; build it with `create_app`."""

from __future__ import annotations

from newswatch.web.app import create_app
from newswatch.web.options import TOKEN_ENV, UnsafeBind, WebOptions

__all__ = ["TOKEN_ENV", "UnsafeBind", "WebOptions", "create_app"]
