"""Disposal: two legal officers' decision to remove a contact's content, keeping tombstones and every
audit entry, so that the log still verifies and says what was removed under which decision.

One legal officer requests the disposal of a contact's content with the reason and the decision's
reference; another approves it (the same person cannot do both). A contact under an active legal hold is
refused (409 naming the hold), at the request and again at the approval. The approval removes, in one
transaction: the text of the contact's messages and journal notes (emptied, by the one UPDATE the
database's triggers let through: an empty text with a tombstone of an approved disposal naming the row),
and the files of its attachments, of their redacted copies and of its imports' original exports (the
database store's copies in the same transaction; the file store's copies right after the commit, by
``remove_files``). A file that another, undisposed record still holds is kept. Each removed item leaves
a tombstone: its kind, its id and the SHA-256 of what was removed.

Every row has its audit entry: ``disposal.request`` and ``disposal.approve`` (with the SHA-256 of the
tombstones' canonical list), so that `decoy audit verify` accepts removed content only where a tombstone
of an approved, recorded disposal covers it (decoy.retention.verification).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import Table, func, select, update
from sqlmodel import Session, col
from sqlmodel import select as select_model

from audit.entry import format_time

from .. import access, audit_bridge, blobstore, clock
from ..access import Actor
from ..blobstore import database as database_store
from ..disclosure import codes
from ..errors import Forbidden, RuleViolation
from ..evidence import transcript
from ..evidence.fingerprint import columns, text_sha256
from ..evidence.reading import visible_contact
from ..models import (
    Attachment,
    AuthorizationDocument,
    Contact,
    Disposal,
    DisposalApproval,
    DisposalTombstone,
    EndReport,
    JournalNote,
    Message,
    MessageImport,
    Redaction,
    Role,
    SignedReport,
)
from ..operations.guards import clean, storable
from ..orders.rows import row_check, row_hash
from .holds import require_no_hold

log = logging.getLogger(__name__)

MAX_REASON = 20_000
MAX_REFERENCE = 200
#: The kinds of item a disposal removes, in the order its tombstones are written.
KINDS = ("message", "note", "attachment", "redaction", "import")
_disposals: Table = Disposal.__table__  # type: ignore[attr-defined]
_approvals: Table = DisposalApproval.__table__  # type: ignore[attr-defined]
_tombstones: Table = DisposalTombstone.__table__  # type: ignore[attr-defined]
_messages: Table = Message.__table__  # type: ignore[attr-defined]
_notes: Table = JournalNote.__table__  # type: ignore[attr-defined]


def disposal_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a disposal's request (its reason by SHA-256)."""
    return row_hash({
        "id": row["id"], "operation_id": row["operation_id"], "contact_id": row["contact_id"],
        "reason_sha256": text_sha256(row["reason"]), "decision_reference": row["decision_reference"],
        "requested_by": row["requested_by"], "requested_at": format_time(row["requested_at"]),
    })


def approval_row_sha256(row: Mapping[str, Any]) -> str:
    """The row hash of a disposal's approval."""
    return row_hash({
        "id": row["id"], "disposal_id": row["disposal_id"], "operation_id": row["operation_id"],
        "approved_by": row["approved_by"], "approved_at": format_time(row["approved_at"]),
    })


def tombstones_sha256(rows: Sequence[Mapping[str, Any]]) -> str:
    """The SHA-256 of a disposal's tombstones as a canonical list (in id order) of kind, id and SHA-256."""
    return row_hash([{"kind": r["item_kind"], "id": r["item_id"], "sha256": r["sha256"]} for r in rows])


_request_check = row_check(_disposals, "disposal", disposal_row_sha256, "requested_by")
_approval_check = row_check(_approvals, "disposal approval", approval_row_sha256, "approved_by")


def check_request(session: Session, entry: dict[str, Any]) -> str | None:
    """The disposal is the row its entry recorded, requested by the entry's actor."""
    return _request_check(session, entry)[0]


def check_approval(session: Session, entry: dict[str, Any]) -> str | None:
    """The approval is the row its entry recorded, by its actor, and the disposal's tombstones are the
    ones it recorded."""
    problem, row = _approval_check(session, entry)
    if problem is not None:
        return problem
    stones = session.connection().execute(
        select(_tombstones).where(_tombstones.c.disposal_id == row["disposal_id"]).order_by(_tombstones.c.id)
    ).mappings().all()
    if tombstones_sha256(stones) != (entry.get("evidence") or {}).get("tombstones_sha256"):
        return f"disposal {row['disposal_id']}: its tombstones differ from the recorded ones"
    return None


@dataclass(frozen=True)
class State:
    """A disposal and, once approved, its approval and tombstones."""

    disposal: Disposal
    approval: DisposalApproval | None
    tombstones: list[DisposalTombstone]

    @property
    def status(self) -> str:
        """``pending`` until approved, then ``done``."""
        return "pending" if self.approval is None else "done"


def _require_legal(actor: Actor) -> None:
    if not actor.has_role(Role.legal.value):
        raise Forbidden(_("only legal officers request and approve disposals"))


def visible_disposal(session: Session, actor: Actor, disposal_id: int, *, lock: bool = False) -> Disposal:
    """The disposal, or NotFound when it does not exist or ``actor`` may not see its operation."""
    found = transcript.by_id(session, Disposal, disposal_id, lock=lock)
    return access.require_visible(session, actor, found, "disposal")  # type: ignore[no-any-return]


def state_of(session: Session, disposal: Disposal) -> State:
    """The disposal with its approval and tombstones."""
    approval = session.exec(
        select_model(DisposalApproval).where(DisposalApproval.disposal_id == disposal.id)
    ).first()
    stones = list(session.exec(
        select_model(DisposalTombstone).where(DisposalTombstone.disposal_id == disposal.id)
        .order_by(col(DisposalTombstone.id))
    ).all())
    return State(disposal, approval, stones)


def contact_disposals(session: Session, contact_id: int) -> list[State]:
    """The contact's disposals, newest first."""
    found = session.exec(
        select_model(Disposal).where(Disposal.contact_id == contact_id).order_by(col(Disposal.id).desc())
    ).all()
    return [state_of(session, disposal) for disposal in found]


def request_disposal(
    *, session: Session, actor: Actor, contact_id: int, reason: str, decision_reference: str
) -> Disposal:
    """Request the disposal of the contact's content (a legal officer); the caller commits."""
    contact = visible_contact(session, actor, contact_id)
    _require_legal(actor)
    text = storable(clean(reason, "reason", max_length=MAX_REASON, required=True), "reason")
    reference = storable(clean(decision_reference, "decision_reference", max_length=MAX_REFERENCE,
                               required=True, single_line=True), "decision_reference")
    session.exec(select_model(Contact).where(Contact.id == contact_id).with_for_update()).one()
    require_no_hold(session, contact.operation_id, contact_id)
    for earlier in contact_disposals(session, contact_id):
        if earlier.approval is None:
            raise RuleViolation(_("disposal %(id)s of this contact awaits approval", id=earlier.disposal.id),
                                field="contact")
    row = Disposal(operation_id=contact.operation_id, contact_id=contact_id, reason=text,
                   decision_reference=reference, requested_by=actor.id,  # type: ignore[attr-defined]
                   requested_at=clock.now())
    session.add(row)
    session.flush()
    audit_bridge.record(
        session, actor=codes.officer_name(actor), action="disposal.request",  # type: ignore[arg-type]
        object_type="disposal", object_id=row.id, operation_id=row.operation_id,
        evidence={"row_sha256": disposal_row_sha256(columns(row))},
        details={"contact": contact_id, "decision_reference": reference, "reason_sha256": text_sha256(text)},
    )
    return row


def _items(session: Session, contact_id: int) -> list[tuple[str, int, str]]:
    """What of the contact still holds content: (kind, id, SHA-256 of the content), in KINDS order."""
    found: list[tuple[str, int, str]] = []
    # A text is named by its commitment (by its SHA-256 when recorded before commitments).
    messages = session.exec(
        select_model(Message.id, func.coalesce(Message.body_commitment, Message.body_sha256))
        .where(Message.contact_id == contact_id, Message.body != "").order_by(col(Message.id))
    ).all()
    found += [("message", int(i), sha) for i, sha in messages]
    notes = session.exec(
        select_model(JournalNote.id, func.coalesce(JournalNote.body_commitment, JournalNote.body_sha256))
        .where(JournalNote.contact_id == contact_id, JournalNote.body != "").order_by(col(JournalNote.id))
    ).all()
    found += [("note", int(i), sha) for i, sha in notes]
    attachments = session.exec(
        select_model(Attachment.id, Attachment.sha256)
        .join(Message, col(Message.id) == Attachment.message_id)
        .where(Message.contact_id == contact_id).order_by(col(Attachment.id))
    ).all()
    found += [("attachment", int(i), sha) for i, sha in attachments]
    redactions = session.exec(
        select_model(Redaction.id, Redaction.sha256)
        .where(col(Redaction.attachment_id).in_([i for i, _sha in attachments] or [0]))
        .order_by(col(Redaction.id))
    ).all()
    found += [("redaction", int(i), sha) for i, sha in redactions]
    imports = session.exec(
        select_model(MessageImport.id, MessageImport.sha256).where(MessageImport.contact_id == contact_id)
        .order_by(col(MessageImport.id))
    ).all()
    found += [("import", int(i), sha) for i, sha in imports]
    done = {
        (kind, item_id)
        for kind, item_id in session.exec(
            select_model(DisposalTombstone.item_kind, DisposalTombstone.item_id)
            .join(Disposal, col(Disposal.id) == DisposalTombstone.disposal_id)
            .where(Disposal.contact_id == contact_id)
        ).all()
    }
    return [item for item in found if (item[0], item[1]) not in done]


def still_held(session: Session, sha256s: set[str]) -> set[str]:
    """Those of ``sha256s`` that a record not disposed of still holds (another contact's attachment, an
    order's document, a report): their files stay."""
    if not sha256s:
        return set()
    wanted = sorted(sha256s)
    removed = select_model(DisposalTombstone.item_id)
    held: set[str] = set()
    for model, kind in ((Attachment, "attachment"), (Redaction, "redaction"), (MessageImport, "import")):
        gone = removed.where(DisposalTombstone.item_kind == kind)
        held |= set(session.exec(
            select_model(model.sha256).where(col(model.sha256).in_(wanted), ~col(model.id).in_(gone))
        ).all())
    for model in (AuthorizationDocument, SignedReport, EndReport):
        held |= set(session.exec(select_model(model.sha256).where(col(model.sha256).in_(wanted))).all())
    return held


def approve_disposal(*, session: Session, actor: Actor, disposal_id: int) -> tuple[State, set[str]]:
    """Approve the disposal (another legal officer) and remove the content; answer its state and the
    SHA-256 of the files to delete from the file store once the caller has committed (``remove_files``)."""
    disposal = visible_disposal(session, actor, disposal_id, lock=True)
    _require_legal(actor)
    if disposal.requested_by == actor.id:  # type: ignore[attr-defined]
        raise RuleViolation(
            _("a disposal needs two legal officers: another one than who requested it approves"),
            field="approved_by",
        )
    approved = select_model(DisposalApproval.id).where(DisposalApproval.disposal_id == disposal.id)
    if session.exec(approved).first() is not None:
        raise RuleViolation(_("disposal %(id)s was approved already", id=disposal.id), field="disposal")
    session.exec(select_model(Contact).where(Contact.id == disposal.contact_id).with_for_update()).one()
    require_no_hold(session, disposal.operation_id, disposal.contact_id)
    now = clock.now()
    approval = DisposalApproval(disposal_id=disposal.id, operation_id=disposal.operation_id,  # type: ignore[arg-type]
                                approved_by=actor.id, approved_at=now)  # type: ignore[attr-defined]
    session.add(approval)
    session.flush()
    items = _items(session, disposal.contact_id)
    if items:
        session.connection().execute(_tombstones.insert(), [
            {"disposal_id": disposal.id, "item_kind": kind, "item_id": item_id, "sha256": sha}
            for kind, item_id, sha in items
        ])
    for kind, table in (("message", _messages), ("note", _notes)):
        emptied = [item_id for k, item_id, _sha in items if k == kind]
        if emptied:
            _empty_texts(session, table, emptied)
    files = {sha for kind, _i, sha in items if kind in ("attachment", "redaction", "import")}
    unheld = files - still_held(session, files)
    for sha in sorted(unheld):
        database_store.release(session.connection(), sha, actor="disposal", now=now, destination="disposal")
    state = state_of(session, disposal)
    counts = {kind: sum(1 for k, _i, _s in items if k == kind) for kind in KINDS}
    audit_bridge.record(
        session, actor=codes.officer_name(actor), action="disposal.approve",  # type: ignore[arg-type]
        object_type="disposal_approval", object_id=approval.id, operation_id=disposal.operation_id,
        evidence={
            "row_sha256": approval_row_sha256(columns(approval)),
            "tombstones_sha256": tombstones_sha256([columns(t) for t in state.tombstones]),
        },
        details={"disposal": disposal.id, "contact": disposal.contact_id,
                 "decision_reference": disposal.decision_reference, "removed": counts,
                 "files_deleted": len(unheld)},
    )
    return state, unheld


def _empty_texts(session: Session, table: Table, ids: list[int]) -> None:
    """Empty the texts of these rows: with a commitment, its key and the text's SHA-256 too (what is left,
    the commitment, reveals nothing of the text); before commitments, the text alone."""
    chosen = table.c.id.in_(ids)
    connection = session.connection()
    committed = table.c.body_commitment.is_not(None)
    connection.execute(update(table).where(chosen, committed).values(body="", body_salt="", body_sha256=""))
    connection.execute(update(table).where(chosen, table.c.body_commitment.is_(None)).values(body=""))


def remove_files(app: Flask, sha256s: set[str]) -> int:
    """Delete the file store's copies of disposed files (after the disposal committed); how many."""
    removed = 0
    for sha in sorted(sha256s):
        path = blobstore.path_for(sha, app)
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError:
            log.exception("disposed file %s could not be deleted; `decoy attachments sweep` retries", sha)
    return removed


def disposed_messages(session: Session, message_ids: Sequence[int]) -> dict[int, tuple[str, Any]]:
    """Of ``message_ids``, those whose content was disposed of: the decision's reference and when."""
    found: dict[int, tuple[str, Any]] = {}
    if not message_ids:
        return found
    query = (
        select_model(DisposalTombstone.item_id, Disposal.decision_reference, DisposalApproval.approved_at)
        .join(Disposal, col(Disposal.id) == DisposalTombstone.disposal_id)
        .join(DisposalApproval, col(DisposalApproval.disposal_id) == Disposal.id)
        .where(DisposalTombstone.item_kind == "message",
               col(DisposalTombstone.item_id).in_(list(message_ids)))
    )
    for item_id, reference, at in session.exec(query).all():
        found[int(item_id)] = (reference, at)
    return found


def disposed_of_contact(session: Session, contact_id: int) -> dict[tuple[str, int], tuple[str, Any, int]]:
    """Everything of the contact an approved disposal removed, by (kind, id): the decision's reference,
    when it was approved, and the disposal's id."""
    query = (
        select_model(DisposalTombstone.item_kind, DisposalTombstone.item_id, Disposal.decision_reference,
                     DisposalApproval.approved_at, Disposal.id)
        .join(Disposal, col(Disposal.id) == DisposalTombstone.disposal_id)
        .join(DisposalApproval, col(DisposalApproval.disposal_id) == Disposal.id)
        .where(Disposal.contact_id == contact_id)
    )
    return {
        (kind, int(item_id)): (reference, at, int(disposal_id))
        for kind, item_id, reference, at, disposal_id in session.exec(query).all()
    }


def pending_items(session: Session, contact_id: int) -> dict[str, int]:
    """How many items of each kind a disposal of the contact would remove now."""
    found = _items(session, contact_id)
    return {kind: sum(1 for k, _i, _s in found if k == kind) for kind in KINDS}


def leftover_files(session: Session) -> set[str]:
    """The files approved disposals removed that no record holds any more: those the file store may still
    have (a deletion interrupted after its disposal committed)."""
    disposed = set(session.exec(
        select_model(DisposalTombstone.sha256)
        .join(DisposalApproval, col(DisposalApproval.disposal_id) == DisposalTombstone.disposal_id)
        .where(col(DisposalTombstone.item_kind).in_(("attachment", "redaction", "import")))
    ).all())
    return disposed - still_held(session, disposed)
