"""E-mail over SMTP.

SMTP has no idempotency: a mail server cannot refuse a message it already took. De-duplication
therefore rests on two things: the outbox sends a key again only when it does not know the
first attempt succeeded, and every attempt carries the same ``Message-ID`` (derived from the
key), which mail clients and many servers use to collapse repeats into one message.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from agent.clock import Clock, SystemClock
from agent.outreach.channels.base import ChannelError, ChannelName, Delivery, OutboundMessage

KEY_HEADER = "X-Santun-Idempotency-Key"
DEFAULT_SUBJECT = "Pemberitahuan untuk Bapak/Ibu"
_FALLBACK_DOMAIN = "santun.invalid"


def message_id(key: str, sender: str) -> str:
    """The ``Message-ID`` of every attempt to send ``key``: the same key, the same id."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or _FALLBACK_DOMAIN
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class EmailChannel:
    """Sends plain-text UTF-8 e-mail through one SMTP server."""

    name: ChannelName = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        """Configure the SMTP server.

        Args:
            host: The server's host name.
            port: Its port.
            sender: The ``From`` header, e.g. ``Bank Nusantara <pengingat@bank.example>``.
            username: Log in with these credentials when given.
            password: The password for ``username``.
            starttls: Upgrade the connection with STARTTLS before logging in.
            timeout: Seconds per SMTP operation.
            clock: Dates the ``Date`` header.
        """
        self.host, self.port, self.sender = host, port, sender
        self._username, self._password = username, password
        self._starttls = starttls
        self._timeout = timeout
        self._clock = clock or SystemClock()

    def compose(self, message: OutboundMessage) -> EmailMessage:
        """The e-mail for ``message``; identical headers for every attempt but ``Date``."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject or DEFAULT_SUBJECT
        mail["Date"] = format_datetime(self._clock.now())
        mail["Message-ID"] = message_id(message.key, self.sender)
        mail[KEY_HEADER] = message.key
        mail.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
        return mail

    def send(self, message: OutboundMessage) -> Delivery:
        """Hand the e-mail to the SMTP server; the provider id is its ``Message-ID``.

        Raises:
            ChannelError: Retryable on a network error or a 4xx reply, not on a 5xx reply.
        """
        mail = self.compose(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            temporary = bool(codes) and all(400 <= code < 500 for code in codes)
            raise ChannelError(f"recipient refused: {exc.recipients}", retryable=temporary) from exc
        except smtplib.SMTPResponseException as exc:
            temporary = 400 <= exc.smtp_code < 500
            raise ChannelError(f"SMTP {exc.smtp_code}: {_text(exc)}", retryable=temporary) from exc
        except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as exc:
            raise ChannelError(f"SMTP {self.host}:{self.port}: {exc}", retryable=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"SMTP {self.host}:{self.port}: {exc}", retryable=True) from exc
        return Delivery(provider_id=str(mail["Message-ID"]))


def _text(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)
