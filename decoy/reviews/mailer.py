"""The e-mail outbox: sent to DECOY_SMTP_URL (``smtp://host:port``) with retries and backoff.

A pass claims the due rows in a short transaction (a lease, so that a second scheduler skips them),
talks to the SMTP server with no transaction open (a slow or dead server never holds a database lock),
then records each outcome. A failure counts an attempt, keeps the error and schedules the next attempt
with exponential backoff (1 minute doubling up to 6 hours); nothing is lost.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from flask import Flask
from sqlmodel import col, select

from .. import clock
from ..db import session_scope
from ..models import OutboxEmail
from ..operations.guards import breaks_a_line

LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=6)
BATCH = 200


@dataclass
class Outgoing:
    """One claimed e-mail."""

    id: int
    recipient: str
    subject: str
    body: str


def smtp_address(url: str) -> tuple[str, int]:
    """Host and port of ``smtp://host:port`` (port 25 when omitted)."""
    parts = urlsplit(url)
    if parts.scheme != "smtp" or not parts.hostname:
        raise ValueError(f"DECOY_SMTP_URL must look like smtp://host:port, not {url!r}")
    return parts.hostname, parts.port or 25


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim(app: Flask) -> list[Outgoing]:
    """Lease the e-mails due now, in a transaction of their own."""
    now = clock.now()
    with session_scope(app) as session:
        query = (
            select(OutboxEmail)
            .where(
                col(OutboxEmail.sent_at).is_(None),
                col(OutboxEmail.next_attempt_at) <= now,
                col(OutboxEmail.attempts) < int(app.config["OUTBOX_MAX_ATTEMPTS"]),
            )
            .order_by(col(OutboxEmail.id))
            .limit(BATCH)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.exec(query).all())
        for row in rows:
            row.next_attempt_at = now + LEASE
            session.add(row)
        return [Outgoing(row.id, row.recipient, row.subject, row.body) for row in rows]  # type: ignore[arg-type]


def one_line(value: str) -> str:
    """A header value on one line: control characters and line separators become spaces.

    Names are refused with a line break when they are entered; this keeps a mail queued before that rule,
    or a value from elsewhere, from ending its header early.
    """
    return " ".join("".join(" " if breaks_a_line(c) else c for c in value).split())


def _message(app: Flask, item: Outgoing) -> EmailMessage:
    message = EmailMessage()
    message["From"] = app.config["MAIL_FROM"]
    message["To"] = one_line(item.recipient)
    message["Subject"] = one_line(item.subject)
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(idstring=f"decoy-outbox-{item.id}", domain="decoy.invalid")
    message.set_content(item.body)
    return message


def send(app: Flask, items: list[Outgoing]) -> dict[int, str | None]:
    """Send ``items`` over one SMTP connection; the error text of each failure, None for success."""
    outcome: dict[int, str | None] = {}
    try:
        host, port = smtp_address(app.config["SMTP_URL"] or "")
        smtp = smtplib.SMTP(host, port, timeout=float(app.config["SMTP_TIMEOUT_SECONDS"]))
    except (OSError, ValueError, smtplib.SMTPException) as error:
        return {item.id: f"connect: {error}" for item in items}
    try:
        for item in items:
            try:
                message = _message(app, item)
            except Exception as error:  # noqa: BLE001 - one mail that cannot be built never stops the others
                outcome[item.id] = f"message: {error}"
                continue
            try:
                smtp.send_message(message)
                outcome[item.id] = None
            except (OSError, smtplib.SMTPException) as error:
                outcome[item.id] = f"send: {error}"
            except Exception as error:  # noqa: BLE001 - every mail's outcome is recorded, whatever was raised
                outcome[item.id] = f"send: {error!r}"
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    for item in items:
        outcome.setdefault(item.id, "connection lost")
    return outcome


def record(app: Flask, outcome: dict[int, str | None]) -> None:
    """Write each outcome: sent, or one more attempt with its error and the next attempt time."""
    now = clock.now()
    with session_scope(app) as session:
        for email_id, error in outcome.items():
            row = session.get(OutboxEmail, email_id)
            if row is None:
                continue
            row.attempts += 1
            if error is None:
                row.sent_at = now
                row.last_error = ""
            else:
                row.last_error = error[:1000]
                row.next_attempt_at = now + backoff(row.attempts)
            session.add(row)


def deliver_outbox(app: Flask) -> tuple[int, int]:
    """Send what is due; return (sent, failed). Without DECOY_SMTP_URL nothing is attempted."""
    if not app.config.get("SMTP_URL"):
        return 0, 0
    items = claim(app)
    if not items:
        return 0, 0
    outcome = send(app, items)
    record(app, outcome)
    failed = sum(1 for error in outcome.values() if error is not None)
    return len(outcome) - failed, failed
