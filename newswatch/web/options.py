"""How the web server is exposed: address, the action token, and whether actions are allowed."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

TOKEN_ENV = "NEWSWATCH_WEB_TOKEN"  # noqa: S105  the variable's name, not a secret
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class UnsafeBind(ValueError):
    """Serving beyond loopback without a token would let anyone on the network act."""


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses; any other name might reach a network."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WebOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None  # from $NEWSWATCH_WEB_TOKEN; required beyond loopback
    read_only: bool = False  # no state-changing action at all
    page_size: int = 50

    def __post_init__(self) -> None:
        if not self.loopback and not self.token:
            raise UnsafeBind(
                f"refusing to serve on {self.host}, which is not a loopback address, without "
                f"a token: set {TOKEN_ENV} (actions then need it), or serve on 127.0.0.1"
            )
        if self.token is not None and len(self.token) < 16:
            raise UnsafeBind(f"{TOKEN_ENV} is too short: use at least 16 random characters")

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def allowed_hosts(self) -> tuple[str, ...] | None:
        """Host headers accepted; None accepts any.

        On loopback only local names are accepted, so a web page cannot reach this server
        through a DNS name it rebinds to 127.0.0.1 (DNS rebinding).
        """
        return LOOPBACK_NAMES if self.loopback else None

    @property
    def actions_need_token(self) -> bool:
        return self.token is not None
