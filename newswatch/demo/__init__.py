"""The project's own sample news site, served on loopback for `newswatch demo` and the tests."""

from __future__ import annotations

from newswatch.demo.site import NewsSite

__all__ = ["NewsSite"]
