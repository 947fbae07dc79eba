"""``withheld.json``: the items of a disclosure bundle that are listed, never shown (rule 10).

A contact, message or attachment of class ``withheld`` (with its legal ground and the decision's
reference) or ``sensitive`` (with the viewing arrangement) is listed by the SHA-256 its audit entry
recorded (a text by its commitment, where it was recorded with one) and a description; its content is
not in the bundle. A listed message keeps its direction and platform time, so that the initiative sheet
still verifies.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from ..clock import with_offset
from ..disclosure.codes import Officers
from ..disclosure.reports import signed_report_json
from ..evidence.fingerprint import text_sha256
from ..models import Attachment, Contact, Message
from ..models.disclosure import DisclosureDecision, JournalNote, Redaction, SignedReport

WITHHELD_PATH = "withheld.json"
#: What a bundle says of how sensitive material may be seen.
VIEWING_ARRANGEMENT = (
    "Not copied into any disclosure. It may be viewed only at the police premises, by arrangement with "
    "the public prosecutor, in the presence of a legal officer."
)


def _decision(decision: DisclosureDecision, names: Officers) -> dict[str, Any]:
    listed: dict[str, Any] = {
        "class": decision.disclosure_class,
        "decision": decision.id,
        "decided_by": names(decision.decided_by, decision.decided_at),
        "decided_at": decision.decided_at.isoformat(),
    }
    if decision.disclosure_class == "withheld":
        listed.update(ground=decision.ground, decision_reference=decision.decision_reference)
    else:
        listed.update(viewing_arrangement=VIEWING_ARRANGEMENT)
    return listed


def listed_text(row: Message | JournalNote) -> dict[str, Any]:
    """How a withheld or disposed text is listed: by its commitment (which reveals nothing of it, however
    short), or by its SHA-256 when it was recorded before commitments."""
    if row.body_commitment is not None:
        return {"commitment": row.body_commitment}
    return {"sha256": row.body_sha256}


def listed_contact(contact: Contact, decision: DisclosureDecision, names: Officers) -> dict[str, Any]:
    """A contact listed by the SHA-256 of its counterpart's name."""
    return {
        "kind": "contact",
        "id": contact.id,
        "contact_id": contact.id,
        "sha256": text_sha256(contact.counterpart),
        "description": f"contact {contact.id} and its whole conversation",
        **_decision(decision, names),
    }


def listed_message(message: Message, decision: DisclosureDecision, names: Officers) -> dict[str, Any]:
    """A message listed by the commitment (or SHA-256) of its text, with its direction and platform time."""
    direction = {"in": "incoming", "out": "outgoing"}.get(message.direction, message.direction)
    return {
        "kind": "message",
        "id": message.id,
        "contact_id": message.contact_id,
        **listed_text(message),
        "description": f"{direction} message {message.id} of contact {message.contact_id}",
        "direction": message.direction,
        "sent_at": with_offset(message.sent_at, message.sent_offset_minutes).isoformat(),
        **_decision(decision, names),
    }


def listed_attachment(
    attachment: Attachment, message: Message, decision: DisclosureDecision, names: Officers
) -> dict[str, Any]:
    """An attachment listed by the SHA-256 of its bytes."""
    return {
        "kind": "attachment",
        "id": attachment.id,
        "contact_id": message.contact_id,
        "message_id": message.id,
        "sha256": attachment.sha256,
        "size": attachment.size,
        "media_type": attachment.media_type,
        "description": f"{attachment.media_type} file attached to message {message.id}",
        **_decision(decision, names),
    }


def listed_import(found: dict[str, Any], contact_id: int, disposed: Any = None) -> dict[str, Any]:
    """An import whose original export file holds sensitive material (a chat exported with its media), or
    was disposed of (``disposed``: the decision's reference, when, the disposal's id), listed by the file's
    SHA-256 instead of copied."""
    listed = {
        "kind": "import",
        "id": found["id"],
        "contact_id": contact_id,
        "sha256": found["sha256"],
        "size": found["size"],
        "description": f"original export file of import {found['id']}: it holds sensitive material",
        "class": "sensitive",
        "decision": None,
        "viewing_arrangement": VIEWING_ARRANGEMENT,
    }
    if disposed is not None:
        listed.update(description=f"original export file of import {found['id']}: disposed of")
        listed.pop("viewing_arrangement")
        listed.update(_disposal(disposed))
    return listed


def _disposal(disposed: Any) -> dict[str, Any]:
    reference, at, disposal_id = disposed
    return {"class": "disposed", "decision": None, "disposal": disposal_id, "decision_reference": reference,
            "disposed_at": at.isoformat()}


def listed_disposed_message(message: Message, disposed: Any) -> dict[str, Any]:
    """A message whose text a disposal removed: by the commitment (or SHA-256) its entry recorded, with its
    direction and platform time, and the disposal (decision reference, when)."""
    direction = {"in": "incoming", "out": "outgoing"}.get(message.direction, message.direction)
    return {
        "kind": "message",
        "id": message.id,
        "contact_id": message.contact_id,
        **listed_text(message),
        "description": f"{direction} message {message.id} of contact {message.contact_id}: disposed of",
        "direction": message.direction,
        "sent_at": with_offset(message.sent_at, message.sent_offset_minutes).isoformat(),
        **_disposal(disposed),
    }


def listed_disposed_note(note: JournalNote, disposed: Any) -> dict[str, Any]:
    """A disclosed journal note whose text a disposal removed, by the commitment (or SHA-256) its entry
    recorded."""
    return {
        "kind": "note",
        "id": note.id,
        "contact_id": note.contact_id,
        **listed_text(note),
        "description": f"journal note {note.id} on contact {note.contact_id}: disposed of",
        **_disposal(disposed),
    }


def note_record(note: JournalNote, names: Officers, zone: ZoneInfo) -> dict[str, Any]:
    """A journal note a legal officer disclosed, as ``notes.json`` shows it."""
    return {
        "id": note.id,
        "contact_id": note.contact_id,
        "body": note.body,
        "body_sha256": note.body_sha256,
        **_committed(note),
        "written_by": names(note.written_by, note.written_at),
        "written_at": note.written_at.isoformat(),
        "written_at_local": note.written_at.astimezone(zone).isoformat(),
    }


def _committed(row: JournalNote) -> dict[str, Any]:
    """The key and commitment of a shown note (a reader checks the text against its entry with them);
    nothing for a note written before commitments."""
    if row.body_commitment is None:
        return {}
    return {"body_salt": row.body_salt, "body_commitment": row.body_commitment}


def listed_note(note: JournalNote, decision: DisclosureDecision, names: Officers) -> dict[str, Any]:
    """A journal note listed by the commitment (or SHA-256) of its text."""
    where = "the operation" if note.contact_id is None else f"contact {note.contact_id}"
    return {
        "kind": "note",
        "id": note.id,
        "contact_id": note.contact_id,
        **listed_text(note),
        "description": f"journal note {note.id} on {where}",
        **_decision(decision, names),
    }


def redacted_copy(redaction: Redaction, names: Officers) -> dict[str, Any]:
    """The redacted copy a bundle carries in place of an attachment: its file, what was redacted, by whom."""
    return {
        "sha256": redaction.sha256,
        "size": redaction.size,
        "media_type": redaction.media_type,
        "filename": redaction.filename,
        "path": f"attachments/{redaction.sha256}",
        "statement": redaction.statement,
        "by": names(redaction.made_by, redaction.made_at),
        "at": redaction.made_at.isoformat(),
        "note": "a redacted copy: the original (its SHA-256 above) is not in this bundle",
    }


def signed_copy(report: SignedReport, names: Officers) -> dict[str, Any]:
    """A signed proces-verbaal of the contact, as ``contacts/<id>/signed_reports.json`` lists it: the API's
    answer with its time in text and the file's place in the bundle."""
    return {
        **signed_report_json(report, names),
        "at": report.uploaded_at.isoformat(),
        "path": f"signed_reports/{report.sha256}.pdf",
    }
