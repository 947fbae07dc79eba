"""One scheduler pass over reviews: generate what is due, enforce rule 2, send the notices.

Each step runs in a transaction of its own, so that a failure in one (say, a notice that cannot be
rendered) neither undoes nor blocks the others; every step derives its work from the database and is
idempotent, so the next pass simply continues.
"""

from __future__ import annotations

from flask import Flask

from ..db import session_scope
from ..safeguarding.notices import overdue_notices
from .enforcement import enforce
from .generation import generate_reviews
from .mailer import deliver_outbox
from .notifications import send_notices


def review_pass(app: Flask) -> str:
    """Generate reviews, enforce and notify; a one-line summary."""
    with app.app_context():
        with session_scope(app) as session:
            created = len(generate_reviews(session))
        with session_scope(app) as session:
            actions = enforce(session)
            suspended = sum(len(action.profiles) for action in actions)
        with session_scope(app) as session:
            notices = send_notices(session)
        with session_scope(app) as session:
            notices += overdue_notices(session)
    return (
        f"{created} reviews created, {len(actions)} enforcement actions "
        f"({suspended} profiles suspended), {notices} notifications"
    )


def outbox_pass(app: Flask) -> str:
    """Send the e-mails that are due; a one-line summary."""
    with app.app_context():
        sent, failed = deliver_outbox(app)
    return f"{sent} e-mails sent, {failed} failed (retried later)"


def alarm_pass(app: Flask) -> int:
    """Raise the verification alarm (and any other notice due) right after a verification."""
    with app.app_context(), session_scope(app) as session:
        return send_notices(session)
