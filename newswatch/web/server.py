"""Serving the app with uvicorn: in the foreground (`newswatch serve`) or in a thread.

The listening socket is bound before uvicorn starts, so a caller may connect at once
(the connection waits in the backlog) and port 0 picks a free port.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from newswatch.web.options import WebOptions


def listen(options: WebOptions) -> socket.socket:
    host = options.host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, options.port), family=family, backlog=128)


def _server(app: Starlette) -> uvicorn.Server:
    # No Server header; X-Forwarded-* is not trusted (the Host check must see the real one).
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", server_header=False, proxy_headers=False
    )
    return uvicorn.Server(config)


def serve_forever(app: Starlette, listener: socket.socket) -> None:
    """Serve until SIGINT or SIGTERM."""
    _server(app).run(sockets=[listener])


@dataclass
class Background:
    """A server running in a thread; `stop()` ends it."""

    server: uvicorn.Server
    thread: threading.Thread
    listener: socket.socket

    @property
    def base_url(self) -> str:
        host, port = self.listener.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.listener.close()


def serve_in_thread(app: Starlette, options: WebOptions) -> Background:
    """Serve beside other work (the scheduler of `newswatch run`, a browser test)."""
    listener = listen(options)
    server = _server(app)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="newswatch-web", daemon=True
    )
    thread.start()
    return Background(server, thread, listener)
