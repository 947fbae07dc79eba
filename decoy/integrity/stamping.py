"""Trusted timestamps (RFC 3161) for every signed checkpoint, from the time-stamp authorities of
DECOY_TSA_URL, so that a party outside the police dates each checkpoint.

Each authority is sent a request for the SHA-256 of the checkpoint's note text, with a fresh nonce. Its
answer is kept only when it verifies on receipt: granted, stamping that hash, carrying that nonce, and
signed by a time-stamping certificate that chains to DECOY_TSA_CERTS. An authority that is down or
answers something else delays the stamp, never the evidence: the scheduler stamps every checkpoint still
without a token (the most recent first, a bounded number per pass), and the integrity page lists them.
No database transaction stays open while an authority is asked.
"""

from __future__ import annotations

import http.client
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from audit.checkpoint import split_note
from audit.store import StoredCheckpoint
from audit.timestamp import QUERY_TYPE, StampError, check_stamp, load_certificates, stamp_request

from .. import audit_bridge, clock
from ..db import session_scope
from ..models import CheckpointTimestamp
from .outbound import post

log = logging.getLogger(__name__)

#: The most checkpoints one pass of the scheduler stamps (per authority).
PER_PASS = 20
#: How far back the scheduler looks for checkpoints without a stamp.
LOOK_BACK = 200


@dataclass(frozen=True)
class Outcome:
    """What one authority did with one checkpoint: ``stamped``, ``refused`` (an answer that does not
    verify) or ``unreachable``."""

    authority: str
    checkpoint_id: int
    result: str
    detail: str = ""


def stamped_text(stored: StoredCheckpoint) -> bytes:
    """What is stamped: the checkpoint's note text (no signature line), UTF-8."""
    text, _signatures = split_note(stored.note)
    return text.encode("utf-8")


@dataclass(frozen=True)
class Trusted:
    """The certificates of DECOY_TSA_CERTS a token must chain to, read once for a round of stamps (so a
    replaced file counts from the next round on)."""

    roots: list[x509.Certificate]
    intermediates: list[x509.Certificate]

    @classmethod
    def read(cls, app: Flask) -> Trusted | None:
        """The certificates, or None (logged) when the file can no longer be read: nothing is stamped."""
        try:
            return cls(*load_certificates(Path(app.config["TSA_CERTS"]).read_bytes()))
        except (OSError, StampError) as exc:
            path = app.config["TSA_CERTS"]
            log.error("DECOY_TSA_CERTS %s cannot be read; nothing is stamped: %s", path, exc)
            return None


def stamp(app: Flask, stored: StoredCheckpoint, authority: str, trusted: Trusted) -> Outcome:
    """Ask one authority to stamp a checkpoint; keep the token when it verifies."""
    message = stamped_text(stored)
    request, nonce = stamp_request(message)
    timeout = float(app.config["WITNESS_TIMEOUT_SECONDS"])
    try:
        status, _content_type, answer = post(authority, request, QUERY_TYPE, timeout)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Outcome(authority, stored.id, "unreachable", str(exc) or type(exc).__name__)
    if status != 200:
        return Outcome(authority, stored.id, "unreachable", f"HTTP {status}")
    try:
        checked = check_stamp(answer, message, trusted.roots, trusted.intermediates, nonce=nonce)
    except StampError as exc:
        log.error("time-stamp authority %s answered a token that does not verify: %s", authority, exc)
        return Outcome(authority, stored.id, "refused", str(exc))
    try:
        with session_scope(app) as session:
            session.add(CheckpointTimestamp(checkpoint_id=stored.id, authority=authority, token=answer,
                                            stamped_at=checked.at, received_at=clock.now()))
    except IntegrityError:
        pass  # another pass stamped it first
    return Outcome(authority, stored.id, "stamped")


def stamp_checkpoint(app: Flask, stored: StoredCheckpoint) -> list[Outcome]:
    """Stamp a committed checkpoint by every authority that has not stamped it yet."""
    outcomes: list[Outcome] = []
    if not app.config["TSA_URLS"]:
        return outcomes
    trusted = Trusted.read(app)
    if trusted is None:
        return outcomes
    with app.app_context():
        for authority in app.config["TSA_URLS"]:
            with session_scope(app) as session:
                done = session.exec(select(CheckpointTimestamp.id).where(
                    CheckpointTimestamp.checkpoint_id == stored.id, CheckpointTimestamp.authority == authority
                )).first()
            if done is None:
                outcomes.append(_safely(app, stored, authority, trusted))
    return outcomes


def _safely(app: Flask, stored: StoredCheckpoint, authority: str, trusted: Trusted) -> Outcome:
    try:
        outcome = stamp(app, stored, authority, trusted)
    except Exception as exc:  # one authority's failure never keeps the others from being asked
        log.exception("stamping checkpoint %s by %s failed", stored.id, authority)
        outcome = Outcome(authority, stored.id, "unreachable", repr(exc))
    if outcome.result == "unreachable":
        log.warning("time-stamp authority %s did not stamp checkpoint %s: %s", authority, stored.id,
                    outcome.detail)
    return outcome


def unstamped(session: Session, authority: str, limit: int = LOOK_BACK) -> list[StoredCheckpoint]:
    """The recent checkpoints ``authority`` has not stamped, newest first."""
    stamped = set(session.exec(
        select(CheckpointTimestamp.checkpoint_id).where(CheckpointTimestamp.authority == authority)
    ).all())
    recent = audit_bridge.get_store().recent_checkpoints(session.connection(), limit)
    return [stored for stored in recent if stored.id not in stamped]


def stamp_pending(app: Flask) -> list[Outcome]:
    """Stamp the checkpoints still without a token (the scheduler's, every minute), newest first."""
    outcomes: list[Outcome] = []
    if not app.config["TSA_URLS"]:
        return outcomes
    trusted = Trusted.read(app)
    if trusted is None:
        return outcomes
    with app.app_context():
        for authority in app.config["TSA_URLS"]:
            with session_scope(app) as session:
                waiting = unstamped(session, authority)[:PER_PASS]
            for stored in waiting:
                outcome = _safely(app, stored, authority, trusted)
                outcomes.append(outcome)
                if outcome.result == "unreachable":
                    break  # the authority is down: the next pass tries again
    return outcomes


def token_of(session: Session, checkpoint_id: int) -> bytes | None:
    """The first token stored for a checkpoint (a bundle carries it as audit/checkpoint.tsr)."""
    row = session.exec(
        select(CheckpointTimestamp).where(CheckpointTimestamp.checkpoint_id == checkpoint_id)
        .order_by(col(CheckpointTimestamp.id)).limit(1)
    ).first()
    return None if row is None else bytes(row.token)


@dataclass(frozen=True)
class StampStatus:
    """What the integrity page shows of one authority."""

    authority: str
    waiting: int
    latest: CheckpointTimestamp | None


def stamp_statuses(session: Session) -> list[StampStatus]:
    """Each configured authority: how many recent checkpoints still lack its stamp, and its latest stamp."""
    from flask import current_app

    found = []
    for authority in current_app.config["TSA_URLS"]:
        latest = session.exec(
            select(CheckpointTimestamp).where(CheckpointTimestamp.authority == authority)
            .order_by(col(CheckpointTimestamp.checkpoint_id).desc()).limit(1)
        ).first()
        found.append(StampStatus(authority, len(unstamped(session, authority)), latest))
    return found
