"""The Apprise channel: Slack, Teams, Telegram, Matrix, Discord, ntfy and a hundred more.

`urls_env` names the environment variable holding one or more Apprise URLs (separated by
white space or commas), each a target. They carry credentials, so they are never written
in the file, and a target is shown only as its position and scheme ("target 2 (tgram)");
every word of its URL is cut from Apprise's own messages before they are kept or shown,
and Apprise's log is not passed on to newswatch's.

A delivery is sent when every target accepted it. Apprise reports success or failure per
target with the plugin's log, and the HTTP status that log states (``error=404``) decides,
as for webhooks: 5xx, 408 and 429 are transient, and so are no connection, a timeout and a
failure that states no status (nothing is lost); a redirect (not followed) and other 4xx
are permanent. Apprise gives no Retry-After.

What each target accepted is remembered by the channel object, which the service and the
dispatcher keep across rounds, so a retry goes only to the targets (and message pieces,
known by their text) that have not taken it yet. After a restart, or when another
dispatcher retries it, every target gets the message again (same title and text).

Long messages are cut here into pieces that each target takes (Apprise's ``body_maxlen``,
``title_maxlen``, ``body_max_line_count`` of its plugin): whole articles each, headline
then link first; an article too long alone loses the tail of its snippets, then its
details, then the end of its headline, never its link. Pieces go out in order, "(2/3)" in
the title. Apprise's ``overflow=split`` stays on behind that (the text grows when a plugin
converts it to HTML or Markdown) unless a URL names another ``overflow=``.

Like the webhook's address, targets are the operator's choice, outside the crawler's
private-address guard; as for webhooks, redirects are not followed unless a URL says
``redirect=yes``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote

from alerts.channels.options import Option
from alerts.errors import PermanentError, TransientError
from alerts.pieces import Room, pieces
from alerts.render import Rendered, one_line

if TYPE_CHECKING:  # alerts.config reads the channels' options: no import back at run time
    import apprise

    from alerts.config import Channel

RETRYABLE = {408, 429}
_STATUS = re.compile(r"\berror=(\d{3})\b")
_URL_WORDS = re.compile(r"[/:@?&=#,;+\s]+")
_ADDRESS = re.compile(r"\b([a-z][a-z0-9+.-]*)://\S*", re.IGNORECASE)
# Apprise's own options, the same for every service: their values are no secret
_OPTIONS = {"overflow", "format", "emojis", "store", "tz", "retry", "wait", "optional"}
_OPTIONS |= {"rto", "cto", "verify", "redirect", "method"}
_OVERFLOW_GIVEN = re.compile(r"[?&]overflow=", re.IGNORECASE)
_REMEMBERED = 10_000  # messages whose accepted pieces are kept; the oldest are forgotten


@functools.cache
def _apprise():
    """Apprise, imported when first needed: it loads its hundred plugins (about 0.2 s of
    CPU), which every command reading the configuration would pay for otherwise."""
    import apprise

    return apprise


def _asset() -> apprise.AppriseAsset:
    return _apprise().AppriseAsset(app_id="newswatch", http_redirects=False)


def target_urls(value: str) -> list[str]:
    """The Apprise URLs an environment variable holds, as Apprise itself splits them."""
    from apprise.utils.parse import parse_urls

    return [url.strip() for url in parse_urls(value) if url.strip()]


def scheme(url: str) -> str:
    return url.partition("://")[0].lower() if "://" in url else "(no scheme)"


def scrub(text: str, url: str) -> str:
    """`text` with no word of `url` but its scheme, option names and values (for Slack,
    Telegram or Discord the host and path are the credentials), and addresses cut to
    their scheme ("tgram://…", not Apprise's own "tgram://1...9/")."""
    rest = url.partition("://")[2] if "://" in url else url
    address, _, query = rest.partition("?")
    words = set(_URL_WORDS.split(address))
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key.lower() not in _OPTIONS:
            words.update(_URL_WORDS.split(value))
    words |= {unquote(word) for word in words}
    for word in sorted((w for w in words if len(w) >= 3), key=len, reverse=True):
        text = re.sub(re.escape(word), "…", text, flags=re.IGNORECASE)
    return _ADDRESS.sub(r"\1://…", text)


def _keep_apprise_log_inside() -> None:
    """Apprise's log lines can quote a URL (ntfy's topic, a Telegram chat): they are not
    passed on to newswatch's log. What they say of a failure reaches the delivery's error,
    scrubbed; Apprise's own captures hang on its logger and still get them."""
    logging.getLogger(_apprise().LOGGER_NAME).propagate = False


def _load(url: str) -> tuple[apprise.plugins.NotifyBase | None, list[str]]:
    """The plugin for `url` and Apprise's warnings while reading it (scrubbed)."""
    _keep_apprise_log_inside()
    with _apprise().LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        try:
            service = _apprise().Apprise.instantiate(url, asset=_asset(), suppress_exceptions=False)
        except Exception as error:  # the plugin refused its arguments
            logging.getLogger(_apprise().LOGGER_NAME).warning("%s", error)
            service = None
        said = captured.getvalue().splitlines()
    return service, [scrub(line, url) for line in said if line.strip()]


def apprise_targets(value: str) -> str | None:
    """A problem with the URLs an environment variable holds, or None (for alerts.config).

    Apprise warns of what it ignores (an unknown `overflow=` value, say): that is a
    problem too, found now rather than by a message sent otherwise than meant.
    """
    urls = target_urls(value)
    if not urls:
        return "holds no Apprise URL"
    for position, url in enumerate(urls, 1):
        where = f"URL {position}, {scheme(url)}://" if "://" in url else f"URL {position}"
        service, said = _load(url)
        if service is None or said:
            reason = "; ".join(said) or "Apprise cannot read it"
            return f"holds a URL Apprise cannot use ({where}): {reason}"
        if url in urls[: position - 1]:
            return f"holds the same URL twice ({where}, as URL {urls.index(url) + 1})"
    return None


class Target:
    """One Apprise URL: its plugin, its limits, and the sending of one piece to it."""

    def __init__(self, number: int, url: str, timeout: float) -> None:
        self.number = number
        self.scheme = scheme(url)
        self._url = url
        self.timeout = timeout
        service, said = _load(url)
        self.service = service
        self._apprise = _apprise().Apprise(asset=_asset())
        # The configuration refuses such a URL when it loads; a Channel built some other
        # way may still hold one, and then every send to it fails for good.
        self.problem = None if service else f"{self}: Apprise cannot use it: {'; '.join(said)}"
        if service is not None:
            if not _OVERFLOW_GIVEN.search(url):
                service.overflow_mode = _apprise().OverflowMode.SPLIT
            self._apprise.add(service)

    def __str__(self) -> str:
        return f"target {self.number} ({self.scheme})"

    def messages(self, message: Rendered, count: int) -> list[tuple[str, str]]:
        """(title, body) of each piece of `message` for this target."""
        service = self.service
        if service is None:
            return [(message.subject, message.text)]
        title_room = service.title_maxlen
        title = one_line(message.subject, max(title_room, 0) or 250)
        characters = service.body_maxlen
        lines = service.body_max_line_count
        if title_room <= 0:  # the plugin writes the title, and its "(2/3)", as a first line
            characters -= len(title) + 2 + len(" (99/99)")
            lines = lines - 1 if lines > 0 else 0
        bodies = pieces(message.text, count, Room(max(characters, 1), max(lines, 0)))
        if len(bodies) == 1:
            return [(title, bodies[0])]
        total = len(bodies)
        titled = []
        for index, body in enumerate(bodies, 1):
            suffix = f" ({index}/{total})"
            room = (title_room if title_room > 0 else 250) - len(suffix)
            titled.append((one_line(message.subject, max(room, 1)) + suffix, body))
        return titled

    def send(self, title: str, body: str) -> tuple[bool, bool, str]:
        """Whether the piece was accepted; if not, whether that is transient, and why."""
        if self.problem:
            return False, False, self.problem
        result = self._apprise.notify(
            body=body, title=title, body_format=_apprise().NotifyFormat.TEXT, timeout=self.timeout
        )
        with result:
            if result:
                return True, False, ""
            said = [entry.message for entry in result.logs() if entry.message.strip()]
            timed_out = result.status == _apprise().AppriseResultStatus.TIMEOUT
        codes = [int(code) for line in said for code in _STATUS.findall(line)]
        reason = scrub(said[-1], self._url) if said else "Apprise reported a failure"
        if timed_out:
            return False, True, f"{self}: no answer within {self.timeout:g}s"
        code = codes[-1] if codes else None
        # As for webhooks: 5xx, 408 and 429 are retried; a redirect (not followed) or another
        # 4xx would be answered again
        permanent = code is not None and 300 <= code < 500 and code not in RETRYABLE
        status = f"HTTP {code}: " if code is not None else ""
        return False, not permanent, f"{self}: {status}{one_line(reason, 300)}"


class AppriseChannel:
    OPTIONS = (
        Option("urls_env", "env", required=True, check=apprise_targets, into="urls"),
        Option("timeout", "duration", 30.0),
    )

    def __init__(self, channel: Channel) -> None:
        self.name = channel.name
        timeout = channel.options["timeout"]
        urls = target_urls(channel.secrets["urls"])
        self.targets = [Target(number, url, timeout) for number, url in enumerate(urls, 1)]
        # message id → (target, digest of a piece) accepted: a retry skips them. By content,
        # not position: a digest rendered again may cut its articles otherwise, and a piece
        # that differs in any way goes again (a copy at worst, never a gap).
        self._accepted: OrderedDict[str, set[tuple[int, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def send(self, message: Rendered, now: datetime) -> str:
        count = len(message.payload.get("matches", ()))
        done = self._recall(message.message_id)
        before = len(done)
        failures: list[tuple[bool, str]] = []
        sent = 0
        for target in self.targets:
            for title, body in target.messages(message, count):
                key = (target.number, hashlib.sha256(f"{title}\n{body}".encode()).hexdigest())
                if key in done:
                    continue
                accepted, transient, reason = target.send(title, body)
                if not accepted:
                    failures.append((transient, reason))
                    break  # the next pieces wait for this one: they arrive in order
                sent += 1
                done.add(key)
                self._remember(message.message_id, done)
        if failures:
            detail = "; ".join(reason for _, reason in failures)
            if any(transient for transient, _ in failures):
                raise TransientError(detail)
            raise PermanentError(detail)
        self._forget(message.message_id)
        schemes = ", ".join(target.scheme for target in self.targets)
        targets = f"{len(self.targets)} target(s) ({schemes})"
        again = f", {before} accepted before" if before else ""
        return f"Apprise: {sent} message(s) accepted by {targets}{again}"

    def _recall(self, message_id: str) -> set[tuple[int, str]]:
        with self._lock:
            return set(self._accepted.get(message_id, ()))

    def _remember(self, message_id: str, done: set[tuple[int, str]]) -> None:
        with self._lock:
            self._accepted[message_id] = set(done)
            self._accepted.move_to_end(message_id)
            while len(self._accepted) > _REMEMBERED:
                self._accepted.popitem(last=False)

    def _forget(self, message_id: str) -> None:
        with self._lock:
            self._accepted.pop(message_id, None)
