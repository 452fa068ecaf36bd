"""The email channel: one plain-text and HTML message per alert, over SMTP with STARTTLS or TLS.

SMTP replies decide what happens next (RFC 5321): 4xx is transient, 5xx permanent. A
connection that cannot be made or breaks is transient. The Message-ID is derived from the
delivery's message id, so a message resent after a crash can be recognised as the same.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING

from alerts.channels.options import Option
from alerts.errors import PermanentError, TransientError
from alerts.render import Rendered, one_line

if TYPE_CHECKING:  # alerts.config reads the channels' options: no import back at run time
    from alerts.config import Channel

SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}


def email_address(value: str) -> str | None:
    """A problem with an address written in the configuration, or None."""
    # Not RFC 5322: a typo's check, and no header injection (CR/LF) through the file.
    if "@" not in value or any(character in value for character in "\r\n"):
        return f"{value!r} is not an email address"
    return None


class EmailChannel:
    OPTIONS = (
        Option("host", "text", required=True),
        Option("security", "choice", "starttls", choices=tuple(SMTP_PORTS)),
        Option("port", "port", lambda read: SMTP_PORTS[read["security"]]),
        Option("username_env", "env", into="username"),
        Option("password_env", "env", into="password"),
        Option("sender", "text", required=True, check=email_address),
        Option("recipients", "strings", required=True, check=email_address),
        Option("timeout", "duration", 30.0),
    )

    def __init__(self, channel: Channel) -> None:
        self.name = channel.name
        self.options = channel.options
        self.username = channel.secrets.get("username")
        self.password = channel.secrets.get("password")

    def build(self, message: Rendered, now: datetime) -> EmailMessage:
        email = EmailMessage()
        # one_line again: a header must never carry CR/LF, whatever rendering produced.
        email["Subject"] = one_line(message.subject)
        email["From"] = self.options["sender"]
        email["To"] = ", ".join(self.options["recipients"])
        email["Date"] = format_datetime(now)
        domain = self.options["sender"].rpartition("@")[2] or "newswatch.invalid"
        email["Message-ID"] = f"<{message.message_id}@{domain}>"
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        return email

    def send(self, message: Rendered, now: datetime) -> str:
        email = self.build(message, now)
        options = self.options
        try:
            with self._connect() as smtp:
                if options["security"] == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(email)
                reply = "accepted"
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise _by_code(min(codes), f"all recipients refused: {error.recipients}") from None
        except smtplib.SMTPResponseException as error:
            text = (
                error.smtp_error.decode(errors="replace")
                if isinstance(error.smtp_error, bytes)
                else str(error.smtp_error)
            )
            raise _by_code(error.smtp_code, f"SMTP {error.smtp_code} {text}") from None
        except (smtplib.SMTPException, OSError) as error:  # refused, reset, timeout, TLS
            raise TransientError(f"SMTP {options['host']}:{options['port']}: {error}") from None
        if refused:
            reply = f"accepted, but refused for {sorted(refused)}"
        return f"SMTP {reply}"

    def _connect(self) -> smtplib.SMTP:
        options = self.options
        if options["security"] == "tls":
            return smtplib.SMTP_SSL(
                options["host"],
                options["port"],
                timeout=options["timeout"],
                context=ssl.create_default_context(),
            )
        return smtplib.SMTP(options["host"], options["port"], timeout=options["timeout"])


def _by_code(code: int, detail: str) -> TransientError | PermanentError:
    detail = one_line(detail, 500)
    return TransientError(detail) if 400 <= code < 500 else PermanentError(detail)
