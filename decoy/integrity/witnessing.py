"""Showing each signed checkpoint to the witnesses of DECOY_WITNESSES (c2sp.org/tlog-witness) and keeping
their cosignatures, so that parties outside the police vouch that the log only ever grew.

For each witness, Decoy sends the checkpoint with a consistency proof from the size that witness last
cosigned (from size 0 the first time; when the witness answers 409 with another size, once more from
that size). A valid cosignature, checked against the witness's key, is stored with the checkpoint; the
published signed note and a bundle's ``audit/checkpoint.txt`` carry the checkpoint with its cosignature
lines merged. A witness that is unreachable or failing delays its cosignature (the scheduler tries again
every minute), never the evidence. A witness that refuses (its view does not extend to this checkpoint,
or it does not accept the log's signature) is recorded and raises an alarm to every legal officer and
admin: it means the log forked, or the witness holds another log's view.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from flask import Flask, current_app
from sqlmodel import Session, col, func, select

from audit.checkpoint import publish
from audit.errors import CheckpointError
from audit.store import StoredCheckpoint
from audit.witness import SIZE_TYPE, CosignatureVerifier, add_checkpoint_body, merge_signatures

from .. import audit_bridge, clock
from ..db import session_scope
from ..models import CheckpointCosignature, Role, WitnessRefusal

log = logging.getLogger(__name__)

#: Statuses by which a witness refuses a checkpoint (anything else is a failure to answer, tried again).
REFUSALS = (400, 403, 404, 409, 422)


@dataclass(frozen=True)
class Outcome:
    """What one witness did with a checkpoint: ``cosigned``, ``refused`` or ``unreachable``."""

    witness: str
    result: str
    detail: str = ""


def witnesses(app: Flask | None = None) -> list[tuple[str, CosignatureVerifier]]:
    """The configured witnesses: (URL, verifier)."""
    app = app or current_app
    return [(url, CosignatureVerifier.from_key_text(key)) for url, key in app.config["WITNESSES"]]


def _post(url: str, body: bytes, timeout: float) -> tuple[int, str, bytes]:
    call = urllib.request.Request(  # noqa: S310 - the URL is an http(s) one from the configuration
        f"{url}/add-checkpoint", data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    try:
        with urllib.request.urlopen(call, timeout=timeout) as answer:  # noqa: S310  # nosec B310
            return answer.status, answer.headers.get("Content-Type", ""), answer.read(64 * 1024)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read(64 * 1024)


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


def _refused(session: Session, stored: StoredCheckpoint, verifier: CosignatureVerifier, status: int,
             answer: bytes) -> Outcome:
    text = answer.decode("utf-8", errors="replace")[:2000]
    session.add(WitnessRefusal(checkpoint_id=stored.id, witness=verifier.key_text(), size=stored.size,
                               status=status, answer=text, at=clock.now()))
    audit_bridge.record(
        session, actor=audit_bridge.SYSTEM_ACTOR, action="witness.refuse", object_type="checkpoint",
        object_id=stored.id, details={"witness": verifier.name, "size": stored.size, "status": status},
    )
    from ..reviews.notifications import active_with_role, notify

    notify(
        session,
        key=f"witness_refused:{verifier.key_id:08x}:{stored.id}",
        kind="witness_refused",
        users=active_with_role(session, Role.legal.value, Role.admin.value),
        params={"witness": verifier.name, "size": stored.size, "status": status, "link": "/integrity/"},
        link="/integrity/",
    )
    log.error("witness %s refused checkpoint %s (size %s): %s %s", verifier.name, stored.id, stored.size,
              status, text)
    return Outcome(verifier.key_text(), "refused", f"{status} {text.strip()}")


def _cosigned(session: Session, stored: StoredCheckpoint, verifier: CosignatureVerifier,
              answer: bytes) -> Outcome:
    try:
        line = verifier.line_in(answer.decode("utf-8").splitlines())
        timestamp = None if line is None else verifier.cosigned_at(merge_signatures(stored.note, [line]))
    except (UnicodeDecodeError, CheckpointError) as exc:
        return Outcome(verifier.key_text(), "unreachable", f"an answer that is not its cosignature: {exc}")
    if line is None or timestamp is None:
        return Outcome(verifier.key_text(), "unreachable", "an answer without its cosignature")
    session.add(CheckpointCosignature(
        checkpoint_id=stored.id, witness=verifier.key_text(), size=stored.size,
        cosigned_at=datetime.fromtimestamp(timestamp, UTC), line=line, received_at=clock.now(),
    ))
    return Outcome(verifier.key_text(), "cosigned")


def show_to_witness(session: Session, stored: StoredCheckpoint, url: str, verifier: CosignatureVerifier,
                    timeout: float) -> Outcome:
    """Send the checkpoint to one witness and record what it did; the caller commits."""
    store = audit_bridge.get_store()
    old = last_cosigned_size(session, verifier.key_text())
    for _attempt in range(2):
        if old > stored.size:
            # The witness cosigned a larger tree than Decoy's latest checkpoint: another log, or a fork.
            message = f"the witness holds a view of size {old}, larger than this log's {stored.size}"
            return _refused(session, stored, verifier, 409, message.encode())
        proof = []
        if 0 < old < stored.size:
            proof = store.consistency_proof(session.connection(), old, stored.size)
        try:
            status, content_type, answer = _post(url, add_checkpoint_body(old, proof, stored.note), timeout)
        except (OSError, ValueError) as exc:
            return Outcome(verifier.key_text(), "unreachable", str(exc))
        if status == 200:
            return _cosigned(session, stored, verifier, answer)
        if status == 409 and content_type.split(";")[0].strip() == SIZE_TYPE:
            try:
                old = int(answer.decode("ascii").strip())
            except (UnicodeDecodeError, ValueError):
                return Outcome(verifier.key_text(), "unreachable", "a size answer that is not a number")
            continue
        if status in REFUSALS:
            return _refused(session, stored, verifier, status, answer)
        return Outcome(verifier.key_text(), "unreachable", f"HTTP {status}")
    return Outcome(verifier.key_text(), "unreachable", "the witness's size changed twice")


def witness_checkpoint(app: Flask, stored: StoredCheckpoint) -> list[Outcome]:
    """Show a committed checkpoint to every configured witness that has not cosigned it yet."""
    outcomes = []
    timeout = float(app.config["WITNESS_TIMEOUT_SECONDS"])
    for url, verifier in witnesses(app):
        with session_scope(app) as session:
            done = {row.witness for row in cosignatures_of(session, stored.id)}
            refused = session.exec(
                select(WitnessRefusal.id).where(WitnessRefusal.checkpoint_id == stored.id,
                                                WitnessRefusal.witness == verifier.key_text())
            ).first()
            if verifier.key_text() in done or refused is not None:
                continue
            outcome = show_to_witness(session, stored, url, verifier, timeout)
            if outcome.result == "unreachable":
                log.warning("witness %s did not cosign checkpoint %s: %s", verifier.name, stored.id,
                            outcome.detail)
        outcomes.append(outcome)
    return outcomes


def publish_cosigned(app: Flask, stored: StoredCheckpoint) -> StoredCheckpoint:
    """The checkpoint with the cosignatures it has, published again (appended to the checkpoint file) when
    it has any."""
    from .checkpoints import checkpoint_file

    with session_scope(app) as session:
        note = cosigned_note(session, stored)
    if note != stored.note:
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
