"""What `decoy audit verify` asks of disposal: whether removed content is covered by a disposal.

Content may be missing (an empty text, a deleted file) only where a tombstone of an approved disposal
names the item with the SHA-256 the record still carries; the disposal's request and approval are
themselves checked against their audit entries (decoy.retention.disposal), so a tombstone cannot be
added behind the log's back without the verification naming it. Anything else missing is still
tampering and named as such by the checks that call this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from ..evidence.fingerprint import text_problem
from ..models import Disposal, DisposalApproval, DisposalTombstone

_disposals: Table = Disposal.__table__  # type: ignore[attr-defined]
_approvals: Table = DisposalApproval.__table__  # type: ignore[attr-defined]
_tombstones: Table = DisposalTombstone.__table__  # type: ignore[attr-defined]


def disposed_under(session: Session, kind: str, item_id: object, sha256: str) -> str | None:
    """The decision reference of the approved disposal whose tombstone names the item with this SHA-256,
    or None when no approved disposal covers it."""
    if type(item_id) is not int:
        return None
    query = (
        select(_disposals.c.id, _disposals.c.decision_reference)
        .join(_tombstones, _tombstones.c.disposal_id == _disposals.c.id)
        .join(_approvals, _approvals.c.disposal_id == _disposals.c.id)
        .where(
            _tombstones.c.item_kind == kind, _tombstones.c.item_id == item_id, _tombstones.c.sha256 == sha256
        )
        .limit(1)
    )
    found = session.connection().execute(query).first()
    return None if found is None else f"{found[1]} (disposal {found[0]})"


def text_state(session: Session, kind: str, row: Mapping[str, Any]) -> str | None:
    """What is wrong with the text of a message or journal note row (``kind`` as tombstones name it), or
    None: the text is intact, or it was removed and an approved disposal's tombstone names the row with
    the commitment (or, recorded before commitments, the SHA-256) the row still holds."""
    problem = text_problem(row)
    if row["body"] != "" or problem is None:
        return problem
    committed = row.get("body_commitment") is not None
    held = row["body_commitment"] if committed else row["body_sha256"]
    if disposed_under(session, kind, row["id"], held) is None:
        return "the text is missing and no disposal covers it"
    if committed and (row["body_salt"] != "" or row["body_sha256"] != ""):
        # A disposal removes the key and the SHA-256 with the text: either would let a short text be guessed.
        return "the text was disposed of but its key or SHA-256 remains"
    return None


def disposal_summary(session: Session) -> list[str]:
    """One line per approved disposal, for the verification's report: what was removed under which
    decision."""
    query = (
        select(
            _disposals.c.id, _disposals.c.contact_id, _disposals.c.decision_reference, _tombstones.c.item_kind
        )
        .join(_approvals, _approvals.c.disposal_id == _disposals.c.id)
        .join(_tombstones, _tombstones.c.disposal_id == _disposals.c.id, isouter=True)
        .order_by(_disposals.c.id)
    )
    counts: dict[tuple[int, int, str], dict[str, int]] = {}
    for disposal_id, contact_id, reference, kind in session.connection().execute(query):
        found = counts.setdefault((disposal_id, contact_id, reference), {})
        if kind is not None:
            found[kind] = found.get(kind, 0) + 1
    lines = []
    for (disposal_id, contact_id, reference), found in counts.items():
        removed = ", ".join(
            f"{count} {kind}{'s' if count != 1 else ''}" for kind, count in sorted(found.items())
        )
        lines.append(
            f"contact {contact_id}: content disposed under decision {reference} (disposal {disposal_id}): "
            f"{removed or 'nothing left to remove'}"
        )
    return lines
