"""Showing each signed checkpoint to the witnesses of DECOY_WITNESSES (c2sp.org/tlog-witness) and keeping
their cosignatures, so that parties outside the police vouch that the log only ever grew.

For each witness, Decoy sends the checkpoint with a consistency proof from the size that witness last
cosigned (from size 0 the first time; when the witness answers 409 with another size, once more from
that size). A valid cosignature, checked against the witness's key, is stored with the checkpoint; the
published signed note and a bundle's ``audit/checkpoint.txt`` carry the checkpoint with its cosignature
lines merged. A witness that is unreachable, slow (every request has one deadline) or answers nonsense
delays its cosignature (the scheduler tries again every minute), never the evidence. A witness that
refuses (its view does not extend to this checkpoint, or it does not accept the log's signature), or
whose view went back to a size smaller than one it cosigned, is recorded and raises one alarm to every
legal officer and admin: the log forked, or the witness lost or holds another log's view. A witness that
refused is shown checkpoints again at most once an hour. No database transaction stays open while a
witness is asked.
"""

from __future__ import annotations

import http.client
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from audit.checkpoint import publish
from audit.cosignature import CosignatureVerifier, merge_signatures
from audit.errors import CheckpointError
from audit.store import StoredCheckpoint
from audit.witness import SIZE_TYPE, add_checkpoint_body

from .. import audit_bridge, clock
from ..db import session_scope
from ..models import CheckpointCosignature, Role, WitnessRefusal
from .outbound import post

log = logging.getLogger(__name__)

#: Statuses by which a witness refuses a checkpoint (anything else is a failure to answer, tried again).
REFUSALS = (400, 403, 404, 409, 422)
#: How long a witness that refused is left alone before it is shown a checkpoint again.
REFUSED_PAUSE = timedelta(hours=1)
_SIZE = re.compile(r"(0|[1-9][0-9]{0,18})\n?\Z")


@dataclass(frozen=True)
class Outcome:
    """What one witness did with a checkpoint: ``cosigned``, ``refused``, ``superseded`` (it holds a later
    checkpoint of this log already) or ``unreachable``."""

    witness: str
    result: str
    detail: str = ""


def witnesses(app: Flask | None = None) -> list[tuple[str, CosignatureVerifier]]:
    """The configured witnesses: (URL, verifier)."""
    app = app or current_app
    return [(url, CosignatureVerifier.from_key_text(key)) for url, key in app.config["WITNESSES"]]


def last_cosigned_size(session: Session, witness: str) -> int:
    """The largest checkpoint size ``witness`` cosigned (0 before its first)."""
    found = session.exec(
        select(func.max(CheckpointCosignature.size)).where(CheckpointCosignature.witness == witness)
    ).one()
    return int(found or 0)


def cosignatures_of(session: Session, checkpoint_id: int) -> list[CheckpointCosignature]:
    """The cosignatures stored for a checkpoint, oldest first."""
    return list(session.exec(
        select(CheckpointCosignature).where(CheckpointCosignature.checkpoint_id == checkpoint_id)
        .order_by(col(CheckpointCosignature.id))
    ).all())


def cosigned_note(session: Session, stored: StoredCheckpoint) -> str:
    """The checkpoint's signed note with the cosignature lines of its witnesses merged in."""
    return merge_signatures(stored.note, [row.line for row in cosignatures_of(session, stored.id)])


def _refused(app: Flask, stored: StoredCheckpoint, verifier: CosignatureVerifier, status: int,
             answer: str) -> Outcome:
    """Record the refusal, note it in the log and alarm every legal officer and admin (once per witness)."""
    text = answer[:2000]
    with session_scope(app) as session:
        session.add(WitnessRefusal(checkpoint_id=stored.id, witness=verifier.key_text(), size=stored.size,
                                   status=status, answer=text, at=clock.now()))
        audit_bridge.record(
            session, actor=audit_bridge.SYSTEM_ACTOR, action="witness.refuse", object_type="checkpoint",
            object_id=stored.id, details={"witness": verifier.name, "size": stored.size, "status": status},
        )
        from ..reviews.notifications import active_with_role, notify

        notify(
            session,
            key=f"witness_refused:{verifier.key_id:08x}",
            kind="witness_refused",
            users=active_with_role(session, Role.legal.value, Role.admin.value),
            params={"witness": verifier.name, "size": stored.size, "status": status, "link": "/integrity/"},
            link="/integrity/",
        )
    log.error("witness %s refused checkpoint %s (size %s): %s %s", verifier.name, stored.id, stored.size,
              status, text)
    return Outcome(verifier.key_text(), "refused", f"{status} {text.strip()}")


def _cosigned(app: Flask, stored: StoredCheckpoint, verifier: CosignatureVerifier, answer: bytes) -> Outcome:
    """Store the witness's cosignature once it verifies against the witness's key."""
    try:
        line = verifier.line_in(answer.decode("utf-8").splitlines())
        timestamp = None if line is None else verifier.cosigned_at(merge_signatures(stored.note, [line]))
        at = None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    except (UnicodeDecodeError, CheckpointError, OverflowError, OSError, ValueError) as exc:
        return Outcome(verifier.key_text(), "unreachable", f"an answer that is not its cosignature: {exc}")
    if line is None or at is None:
        return Outcome(verifier.key_text(), "unreachable", "an answer without its cosignature")
    try:
        with session_scope(app) as session:
            session.add(CheckpointCosignature(checkpoint_id=stored.id, witness=verifier.key_text(),
                                              size=stored.size, cosigned_at=at, line=line,
                                              received_at=clock.now()))
    except IntegrityError:
        pass  # another showing of the same checkpoint stored this witness's cosignature first
    return Outcome(verifier.key_text(), "cosigned")


def show_to_witness(app: Flask, stored: StoredCheckpoint, url: str, verifier: CosignatureVerifier,
                    timeout: float) -> Outcome:
    """Send the checkpoint to one witness and record what it did (each record in its own transaction)."""
    store = audit_bridge.get_store()
    key = verifier.key_text()
    with session_scope(app) as session:
        cosigned = old = last_cosigned_size(session, key)
        head = store.size(session.connection())
    for _attempt in range(2):
        if old > stored.size:
            if old <= head:
                return Outcome(key, "superseded", f"it cosigned size {old} already")
            message = f"the witness holds a view of size {old}, larger than this log ({head} entries)"
            return _refused(app, stored, verifier, 409, message)
        proof: list[bytes] = []
        if 0 < old < stored.size:
            with session_scope(app) as session:
                proof = store.consistency_proof(session.connection(), old, stored.size)
        try:
            request = add_checkpoint_body(old, proof, stored.note)
            status, content_type, answer = post(f"{url}/add-checkpoint", request, "text/plain", timeout)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return Outcome(key, "unreachable", str(exc) or type(exc).__name__)
        if status == 200:
            return _cosigned(app, stored, verifier, answer)
        text = answer.decode("utf-8", errors="replace")
        if status == 409 and content_type.split(";")[0].strip() == SIZE_TYPE:
            size = _SIZE.match(text)
            if size is None:
                return Outcome(key, "unreachable", "a size answer that is not a size")
            old = int(size.group(1))
            if old < cosigned:
                message = f"the witness's view went back to size {old}; it cosigned size {cosigned} before"
                return _refused(app, stored, verifier, 409, message)
            continue
        if status in REFUSALS:
            return _refused(app, stored, verifier, status, text)
        return Outcome(key, "unreachable", f"HTTP {status}")
    return Outcome(key, "unreachable", "the witness's size changed twice")


def _due(app: Flask, stored: StoredCheckpoint, key: str) -> bool:
    """Whether to show the checkpoint to this witness: it has not cosigned it, and has not refused it or
    any checkpoint in the last hour."""
    with session_scope(app) as session:
        done = session.exec(select(CheckpointCosignature.id).where(
            CheckpointCosignature.checkpoint_id == stored.id, CheckpointCosignature.witness == key)).first()
        recently = col(WitnessRefusal.at) > clock.now() - REFUSED_PAUSE
        refused = session.exec(select(WitnessRefusal.id).where(
            WitnessRefusal.witness == key, (WitnessRefusal.checkpoint_id == stored.id) | recently,
        )).first()
    return done is None and refused is None


def witness_checkpoint(app: Flask, stored: StoredCheckpoint) -> list[Outcome]:
    """Show a committed checkpoint to every configured witness that is due to see it; one witness's
    failure never keeps the others from being asked."""
    outcomes = []
    timeout = float(app.config["WITNESS_TIMEOUT_SECONDS"])
    with app.app_context():
        for url, verifier in witnesses(app):
            if not _due(app, stored, verifier.key_text()):
                continue
            try:
                outcome = show_to_witness(app, stored, url, verifier, timeout)
            except Exception as exc:  # a witness's failure is logged; the next witness is still asked
                log.exception("showing checkpoint %s to witness %s failed", stored.id, verifier.name)
                outcome = Outcome(verifier.key_text(), "unreachable", repr(exc))
            if outcome.result == "unreachable":
                log.warning("witness %s did not cosign checkpoint %s: %s", verifier.name, stored.id,
                            outcome.detail)
            outcomes.append(outcome)
    return outcomes


def publish_cosigned(app: Flask, stored: StoredCheckpoint) -> StoredCheckpoint:
    """The checkpoint with the cosignatures it has. When it has any and is still the log's latest
    checkpoint, the cosigned note is appended to the published file (never after a later checkpoint)."""
    from .checkpoints import checkpoint_file

    with session_scope(app) as session:
        note = cosigned_note(session, stored)
        latest = audit_bridge.get_store().latest_checkpoint(session.connection())
    if note != stored.note and latest is not None and latest.id == stored.id:
        publish(note, checkpoint_file(app))
    return replace(stored, note=note)


def with_cosignatures(app: Flask, stored: StoredCheckpoint) -> StoredCheckpoint:
    """Show a committed checkpoint to the witnesses now (an export's) and answer it with the cosignatures
    it got merged into its note; a witness that does not answer leaves its line out."""
    if not app.config["WITNESSES"]:
        return stored
    witness_checkpoint(app, stored)
    return publish_cosigned(app, stored)


def witness_latest(app: Flask) -> list[Outcome]:
    """Show the latest checkpoint to the witnesses that lack it (the scheduler's, every minute)."""
    if not app.config["WITNESSES"]:
        return []
    with app.app_context():
        with session_scope(app) as session:
            stored = audit_bridge.get_store().latest_checkpoint(session.connection())
        if stored is None:
            return []
        outcomes = witness_checkpoint(app, stored)
        if any(outcome.result == "cosigned" for outcome in outcomes):
            publish_cosigned(app, stored)
        return outcomes


@dataclass(frozen=True)
class WitnessStatus:
    """What the integrity page shows of one configured witness."""

    name: str
    url: str
    key: str
    last_size: int
    last_at: datetime | None
    has_latest: bool


def witness_statuses(session: Session, latest: StoredCheckpoint | None) -> list[WitnessStatus]:
    """Each configured witness: the largest checkpoint it cosigned, when, and whether it cosigned the
    latest one."""
    found = []
    for url, verifier in witnesses():
        key = verifier.key_text()
        last = session.exec(
            select(CheckpointCosignature).where(CheckpointCosignature.witness == key)
            .order_by(col(CheckpointCosignature.size).desc(), col(CheckpointCosignature.id).desc()).limit(1)
        ).first()
        has_latest = latest is not None and session.exec(
            select(CheckpointCosignature.id).where(CheckpointCosignature.witness == key,
                                                   CheckpointCosignature.checkpoint_id == latest.id)
        ).first() is not None
        found.append(WitnessStatus(verifier.name, url, key, last.size if last else 0,
                                   last.cosigned_at if last else None, has_latest))
    return found


def recent_refusals(session: Session, limit: int = 20) -> list[WitnessRefusal]:
    """The latest refusals, newest first."""
    newest = select(WitnessRefusal).order_by(col(WitnessRefusal.id).desc()).limit(limit)
    return list(session.exec(newest).all())
