"""The signing key, checkpoints and verification of the audit log, as the application uses them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app
from sqlmodel import Session, col, select

from audit.checkpoint import KeyFileError, Signer, Verifier, load_signer, publish, write_private_key
from audit.store import StoredCheckpoint

from .. import audit_bridge, clock
from ..config import ConfigurationError
from ..db import session_scope, snapshot_session
from ..models import VerificationRun
from . import keys

if TYPE_CHECKING:
    from audit.verify import VerifyReport

CHECKPOINT_FILE = "checkpoints.txt"


def signing_key_path(app: Flask | None = None) -> Path:
    """Where the Ed25519 checkpoint key lives."""
    return keys.keys_dir(app) / keys.CHECKPOINT_KEY


def checkpoint_file(app: Flask | None = None) -> Path:
    """The append-only file every signed checkpoint is published to."""
    return Path((app or current_app).config["DATA_DIR"]) / CHECKPOINT_FILE


def ensure_signing_key(app: Flask) -> bool:
    """Create the checkpoint signing key if missing; return whether one was created."""
    path = signing_key_path(app)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private_key(path, Signer.generate(app.config["ORIGIN"]))
    return True


def get_signer(app: Flask | None = None) -> Signer:
    """The loaded signing key; a missing or unreadable key refuses with a clear message."""
    app = app or current_app
    cached = app.extensions.get("audit.signer")
    if cached is None:
        try:
            cached = load_signer(signing_key_path(app))
        except KeyFileError as error:
            raise ConfigurationError(f"checkpoint signing key unusable: {error}") from error
        app.extensions["audit.signer"] = cached
    return cached  # type: ignore[no-any-return]


def check_signing_key(app: Flask) -> None:
    """Refuse to start when the signing key is missing or unreadable."""
    get_signer(app)


def get_verifier(app: Flask | None = None) -> Verifier:
    """The public half of the signing key."""
    return Verifier.from_key_text(get_signer(app).verifier_key_text())


def sign_checkpoint(session: Session) -> tuple[StoredCheckpoint, bool]:
    """Sign a checkpoint in the session's transaction if the log grew; return it and whether it is new.

    The caller commits, then publishes a new checkpoint with :func:`publish_checkpoint`.
    """
    store = audit_bridge.get_store()
    latest = store.latest_checkpoint(session.connection())
    stored = store.checkpoint(session.connection(), get_signer(), current_app.config["ORIGIN"], clock.now())
    return stored, latest is None or stored.id != latest.id


def publish_checkpoint(stored: StoredCheckpoint) -> None:
    """Publish a committed checkpoint outside the database (the append-only file)."""
    publish(stored.note, checkpoint_file())


def make_checkpoint(app: Flask | None = None) -> StoredCheckpoint:
    """Sign a checkpoint of the log now (if it grew), commit it and publish it outside the database."""
    app = app or current_app
    with app.app_context():
        with session_scope(app) as session:
            stored, new = sign_checkpoint(session)
        if new:
            publish_checkpoint(stored)
    return stored


def verify_log() -> VerifyReport:
    """Recompute the whole log from the stored rows and evidence, and check every checkpoint.

    It reads one read-only snapshot (rows, head, checkpoints and evidence as of one moment), so that
    writers go on meanwhile and what they append is neither counted nor mistaken for tampering.
    """
    from audit.verify import verify_store

    from ..retention.verification import disposal_summary
    from .coverage import Coverage
    from .evidence_checks import entry_checks

    store = audit_bridge.get_store()
    coverage = Coverage()
    with snapshot_session() as snapshot:
        report = verify_store(
            snapshot.connection(),
            get_verifier(),
            store,
            checks=entry_checks(snapshot, coverage),
            read_only=True,
        )
        if not report.ok:
            return report
        # The other direction, on the same snapshot: every row has the entry that recorded it.
        problem = coverage.problem(snapshot.connection())
        disposed = disposal_summary(snapshot)
    if problem is not None:
        return replace(report, ok=False, reason=problem)
    note = coverage.note_text()
    reason = f"{report.reason}; every evidence and legal-record row has its audit entry"
    notes = ((note,) if note else ()) + tuple(disposed)
    return replace(report, reason=f"{reason}; {note}" if note else reason, notes=notes)


def verify_bundle_file(path: Path) -> VerifyReport:
    """Verify an evidence bundle against this server's own key (not the key the bundle carries)."""
    from audit.bundle import verify_bundle
    from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS, EVIDENCE_BUNDLE_NOTES

    return verify_bundle(
        path,
        expected_key=get_signer().verifier_key_text(),
        checks=EVIDENCE_BUNDLE_CHECKS,
        notes=EVIDENCE_BUNDLE_NOTES,
    )


def record_verification(session: Session, *, trigger: str, actor: str) -> VerificationRun:
    """Verify the log (on a snapshot of its own), keep the result and record the run in the log."""
    started = clock.now()
    report = verify_log()
    run = VerificationRun(
        started_at=started, finished_at=clock.now(), ok=report.ok, entries=report.entries,
        checkpoints=report.checkpoints, first_bad_index=report.first_bad_index,
        reason=report.reason[:2000], trigger=trigger, actor=actor,
    )
    session.add(run)
    session.flush()
    audit_bridge.record(
        session, actor=actor, action="audit.verify", object_type="verification", object_id=run.id,
        details={"ok": report.ok, "entries": report.entries, "first_bad_index": report.first_bad_index,
                 "trigger": trigger},
    )
    return run


def run_verification(app: Flask, *, trigger: str, actor: str) -> VerificationRun:
    """Verify the log in a transaction of its own (command line and scheduler)."""
    with app.app_context(), session_scope(app) as session:
        return record_verification(session, trigger=trigger, actor=actor)


def latest_verification(session: Session) -> VerificationRun | None:
    """The most recent verification run."""
    return session.exec(select(VerificationRun).order_by(col(VerificationRun.id).desc())).first()
