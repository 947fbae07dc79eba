"""Evidence checkers for `decoy audit verify`: re-hash stored contacts, messages, files and legal records.

Each checker compares what is stored now (rows read with Core queries, so that a long verification
does not fill the session's identity map, and files re-hashed from whichever store holds them, a file
or database chunks) with the hashes the signed audit entry recorded when the row was written, and the
name of the account the row holds with the entry's actor. An entry recorded before row hashes (no
``row_sha256``) is checked for the fields it carries. What one verification remembers between entries
(the accounts' names, how many changes of each profile were met) lives in its session's ``info``: the
verification's snapshot session lives for that verification alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from audit.evidence_bundle.kinds import kind_problem

from .. import blobstore
from ..models import (
    Attachment,
    Authorization,
    AuthorizationDocument,
    AuthorizationOfficer,
    CaptureSession,
    CaptureSessionEnd,
    Contact,
    Message,
    Profile,
    ProfileTransition,
    ReviewDecision,
    User,
    VerbalisantAssignment,
)
from ..retention.verification import disposed_under, text_state
from .fingerprint import (
    AUTHORIZATION_REFERENCES,
    AUTHORIZATION_TERMS,
    account_fingerprint,
    authorization_fingerprint,
    capture_session_end_fingerprint,
    capture_session_fingerprint,
    contact_fingerprint,
    decision_fingerprint,
    message_fingerprint,
    profile_fingerprint,
    text_evidence,
    text_sha256,
    transition_fingerprint,
)

_contact = Contact.__table__  # type: ignore[attr-defined]
_message = Message.__table__  # type: ignore[attr-defined]
_attachment = Attachment.__table__  # type: ignore[attr-defined]
_document = AuthorizationDocument.__table__  # type: ignore[attr-defined]
_authorization = Authorization.__table__  # type: ignore[attr-defined]
_officer = AuthorizationOfficer.__table__  # type: ignore[attr-defined]
_decision = ReviewDecision.__table__  # type: ignore[attr-defined]
_profile = Profile.__table__  # type: ignore[attr-defined]
_transition = ProfileTransition.__table__  # type: ignore[attr-defined]
_user = User.__table__  # type: ignore[attr-defined]
_assignment = VerbalisantAssignment.__table__  # type: ignore[attr-defined]

_USERNAMES = "decoy.verify.usernames"
_ACTED_AS = "decoy.verify.acted_as"
_PROFILE_CHANGES = "decoy.verify.profile_changes"
_AUTHORIZATION_TIMES = ("valid_from", "valid_until", "written_order_due", "oral_order_given_at")
#: A profile entry's details, by the column of the change it records.
_CHANGE_FIELDS = (("from", "from_status"), ("to", "to_status"), ("reason", "reason"))


def _object_id(entry: dict[str, Any]) -> int | None:
    object_id = (entry.get("object") or {}).get("id")
    return object_id if type(object_id) is int else None


def usernames(session: Session) -> dict[int, str]:
    """Every account's username by id, read once per verification (in its snapshot)."""
    names: dict[int, str] | None = session.info.get(_USERNAMES)
    if names is None:
        rows = session.connection().execute(select(_user.c.id, _user.c.username))
        names = {user_id: name for user_id, name in rows}
        session.info[_USERNAMES] = names
    return names


def acted_as(session: Session) -> dict[int, frozenset[str]]:
    """Every name each account's entries may carry as ``actor``: its verbalisant codes (what an officer's
    entries name) and its username (an admin's, or an officer's before codes), read once per verification."""
    names: dict[int, frozenset[str]] | None = session.info.get(_ACTED_AS)
    if names is None:
        found: dict[int, set[str]] = {user_id: {name} for user_id, name in usernames(session).items()}
        rows = session.connection().execute(select(_assignment.c.user_id, _assignment.c.code))
        for user_id, code in rows:
            found.setdefault(user_id, set()).add(code)
        names = {user_id: frozenset(codes) for user_id, codes in found.items()}
        session.info[_ACTED_AS] = names
    return names


def is_actor(session: Session, user_id: int | None, entry: dict[str, Any]) -> bool:
    """Whether the entry's actor is a name the account acts under."""
    return user_id is not None and entry.get("actor") in acted_as(session).get(user_id, frozenset())


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _differs(where: str, field: str, stored: Any, recorded: Any) -> str | None:
    if stored == recorded:
        return None
    return f"{where}: {field} is {_shown(stored)}, its entry recorded {_shown(recorded)}"


def _by(session: Session, where: str, field: str, user_id: int | None, entry: dict[str, Any]) -> str | None:
    """The account a row names is the entry's actor (by its code, or its username before codes)."""
    if user_id is not None and is_actor(session, user_id, entry):
        return None
    name = usernames(session).get(user_id) if user_id is not None else None
    return f"{where}: {field} is account {_shown(name)}, its entry recorded {_shown(entry.get('actor'))}"


def _row(where: str, fingerprint: str, evidence: dict[str, Any], key: str = "row_sha256") -> str | None:
    """The row's fingerprint is the one its entry recorded (an entry from before row hashes has none)."""
    recorded = evidence.get(key)
    if recorded is None or recorded == fingerprint:
        return None
    return f"{where}: the stored row differs from the recorded one"


def _instant(value: Any) -> datetime | None:
    """A recorded RFC 3339 time as an aware datetime (compared as instants)."""
    return None if value is None else datetime.fromisoformat(value)


def check_contact(session: Session, entry: dict[str, Any]) -> str | None:
    """The contact row still exists and matches the hashes of its audit entry."""
    contact_id = _object_id(entry)
    evidence = entry.get("evidence") or {}
    row = session.connection().execute(select(_contact).where(_contact.c.id == contact_id)).mappings().first()
    if row is None:
        return f"contact {contact_id} is missing"
    if text_sha256(row["counterpart"]) != evidence.get("counterpart_sha256"):
        return f"contact {contact_id}: the counterpart differs from the recorded hash"
    if contact_fingerprint(row) != evidence.get("row_sha256"):
        return f"contact {contact_id}: the stored row differs from the recorded one"
    return _by(session, f"contact {contact_id}", "recorded_by", row["recorded_by"], entry)


def check_message(session: Session, entry: dict[str, Any]) -> str | None:
    """The message row, its attachment rows and their files match the hashes of its audit entry."""
    message_id = _object_id(entry)
    evidence = entry.get("evidence") or {}
    connection = session.connection()
    row = connection.execute(select(_message).where(_message.c.id == message_id)).mappings().first()
    if row is None:
        return f"message {message_id} is missing"
    problem = text_state(session, "message", row)
    if problem is not None:
        return f"message {message_id}: {problem}"
    # The text's commitment (or, recorded before commitments, its SHA-256) is the one the entry recorded.
    ((field, held),) = text_evidence(row).items()
    if evidence.get(field) != held:
        return f"message {message_id}: the text differs from the recorded hash"
    attachments = (
        connection.execute(
            select(_attachment).where(_attachment.c.message_id == message_id).order_by(_attachment.c.id)
        )
        .mappings()
        .all()
    )
    recorded = list(evidence.get("attachments", []))
    if [a["sha256"] for a in attachments] != recorded:
        extra = [a for a in attachments if a["sha256"] not in recorded]
        if extra:
            return f"message {message_id}: attachment {extra[0]['id']} is not among the recorded attachments"
        return f"message {message_id}: the attachments differ from the recorded ones"
    for attachment in attachments:
        problem = check_file(attachment["sha256"], session)
        if problem and not disposed_under(session, "attachment", attachment["id"], attachment["sha256"]):
            return f"message {message_id}, attachment {attachment['id']}: {problem}"
    if message_fingerprint(row, attachments) != evidence.get("row_sha256"):
        return f"message {message_id}: the stored row differs from the recorded one"
    return _by(session, f"message {message_id}", "recorded_by", row["recorded_by"], entry)


def check_file(sha256: str, session: Session | None = None) -> str | None:
    """Whether the stored file with this name still has this content, in whichever store holds it.

    With a session, database chunks are re-hashed in its transaction (the verification's snapshot).
    """
    try:
        return blobstore.problem(sha256, connection=session.connection() if session is not None else None)
    except ValueError:
        return f"file name {sha256!r} is not a SHA-256"


def check_document(session: Session, entry: dict[str, Any]) -> str | None:
    """An attached order document's row is the one its audit entry recorded, and its file still has
    the content the entry recorded."""
    authorization_id, details = _object_id(entry), entry.get("details") or {}
    evidence = entry.get("evidence") or {}
    document_id = details.get("document_id")
    if type(document_id) is int:
        row = (
            session.connection()
            .execute(select(_document).where(_document.c.id == document_id))
            .mappings()
            .first()
        )
        where = f"authorization {authorization_id}, document {document_id}"
        if row is None:
            return f"{where} is missing"
        problem = (
            _differs(where, "authorization", row["authorization_id"], authorization_id)
            or _differs(where, "file", {row["filename"]: row["sha256"]}, evidence)
            or next(
                filter(None, (_differs(where, name, row[name], details[name])
                              for name in ("kind", "size", "media_type") if name in details)),
                None,
            )
            or _by(session, where, "uploaded_by", row["uploaded_by"], entry)
        )
        if problem:
            return problem
    for name, sha256 in sorted(evidence.items()):
        problem = check_file(str(sha256), session)
        if problem:
            return f"authorization {authorization_id}, document {name!r}: {problem}"
    return None


def check_document_read(session: Session, entry: dict[str, Any]) -> str | None:
    """The document a read entry names is attached to its authorization with the content it recorded
    (the file itself is re-hashed by the check of the entry that attached it)."""
    authorization_id = _object_id(entry)
    connection = session.connection()
    for name, sha256 in sorted((entry.get("evidence") or {}).items()):
        attached = connection.execute(
            select(_document.c.id)
            .where(
                _document.c.authorization_id == authorization_id,
                _document.c.filename == name,
                _document.c.sha256 == sha256,
            )
            .limit(1)
        ).first()
        if attached is None:
            return f"authorization {authorization_id}: document {name!r} read is not the one attached"
    return None


def check_account(session: Session, entry: dict[str, Any]) -> str | None:
    """The account's row (id, username, creation time) is the one its creation entry recorded."""
    user_id = _object_id(entry)
    row = (
        session.connection()
        .execute(select(_user.c.id, _user.c.username, _user.c.created_at).where(_user.c.id == user_id))
        .mappings()
        .first()
    )
    where = f"account {user_id}"
    if row is None:
        return f"{where} is missing"
    details = entry.get("details") or {}
    if "username" in details and row["username"] != details["username"]:
        return _differs(where, "username", row["username"], details["username"])
    return _row(where, account_fingerprint(row), entry.get("evidence") or {})


def check_authorization(session: Session, entry: dict[str, Any]) -> str | None:
    """The authorization row and the officers it names are the ones its registration recorded."""
    authorization_id = _object_id(entry)
    connection = session.connection()
    row = (
        connection.execute(select(_authorization).where(_authorization.c.id == authorization_id))
        .mappings()
        .first()
    )
    where = f"authorization {authorization_id}"
    if row is None:
        return f"{where} is missing"
    officers = list(
        connection.execute(select(_officer.c.user_id).where(_officer.c.authorization_id == authorization_id))
        .scalars()
    )
    details = entry.get("details") or {}
    # An order registered as written_order may show the kind migration 0015 gave it by its authority.
    registered_kind = details["kind"] if isinstance(details.get("kind"), str) else row["kind"]
    changed = kind_problem(registered_kind, row["kind"], row["authority"])
    if changed:
        return f"{where}: {changed}"
    row = {**row, "kind": registered_kind}
    names = acted_as(session)
    if isinstance(details.get("officers"), list):
        recorded = set(details["officers"])
        extra = [user_id for user_id in sorted(officers) if not names.get(user_id, frozenset()) & recorded]
        if extra:
            return (
                f"{where}: {_officer.name} (authorization {authorization_id}, user {extra[0]}) names an "
                "officer its entry did not record"
            )
        if len(officers) != len(recorded):
            return _differs(where, "number of officers", len(officers), len(recorded))
    stored = {
        **{name: row[name] for name in (*AUTHORIZATION_TERMS, *AUTHORIZATION_REFERENCES)},
        "platforms": list(row["platforms"]),
        "issued_on": None if row["issued_on"] is None else row["issued_on"].isoformat(),
    }
    for name, value in stored.items():
        if name in details:
            problem = _differs(where, name, value, details[name])
            if problem:
                return problem
    for name in _AUTHORIZATION_TIMES:
        if name in details and row[name] != _instant(details[name]):
            return _differs(where, name, row[name].isoformat() if row[name] else None, details[name])
    return _by(session, where, "registered_by", row["registered_by"], entry) or _row(
        where, authorization_fingerprint(row, officers), entry.get("evidence") or {}
    )


def check_decision(session: Session, entry: dict[str, Any]) -> str | None:
    """The decision on the review is the one its entry recorded."""
    review_id = _object_id(entry)
    row = (
        session.connection()
        .execute(select(_decision).where(_decision.c.review_id == review_id))
        .mappings()
        .first()
    )
    where = f"review {review_id}"
    if row is None:
        return f"{where}: its decision is missing"
    details = entry.get("details") or {}
    stored = {"decision": row["decision"], "rationale": row["rationale"], "profiles": list(row["profiles"])}
    for name, value in stored.items():
        if name in details:
            problem = _differs(f"{where}, decision {row['id']}", name, value, details[name])
            if problem:
                return problem
    return _by(session, where, "decided_by", row["decided_by"], entry) or _row(
        f"{where}, decision {row['id']}", decision_fingerprint(row), entry.get("evidence") or {}
    )


def check_profile_change(session: Session, entry: dict[str, Any]) -> str | None:
    """The profile and the change of its status that the entry records are as it recorded them.

    An entry names its change's row (``details.transition``); one recorded before row hashes is the
    n-th change of its profile, n counting the entries of that profile met so far, in index order.
    """
    profile_id = _object_id(entry)
    connection = session.connection()
    profile = connection.execute(select(_profile).where(_profile.c.id == profile_id)).mappings().first()
    where = f"profile {profile_id}"
    if profile is None:
        return f"{where} is missing"
    details, evidence = entry.get("details") or {}, entry.get("evidence") or {}
    met: dict[int, int] = session.info.setdefault(_PROFILE_CHANGES, {})
    position = met.get(profile_id or 0, 0)
    met[profile_id or 0] = position + 1
    named = details.get("transition")
    query = select(_transition).where(_transition.c.profile_id == profile_id)
    if type(named) is int:
        query = query.where(_transition.c.id == named)
    else:
        query = query.order_by(_transition.c.id).offset(position).limit(1)
    change = connection.execute(query).mappings().first()
    if change is None:
        return f"{where}: the change its entry records is missing" + (
            f" (profile_transition {named})" if type(named) is int else ""
        )
    at = f"{where}, change {change['id']}"
    compared = [(where, name, profile[name], name) for name in ("platform", "handle")]
    compared += [(at, column, change[column], name) for name, column in _CHANGE_FIELDS]
    if entry.get("action") == "profile.propose":
        compared += [(where, name, profile[name], name) for name in ("persona", "authorization_id")]
    checks = [_differs(place, field, value, details[name]) for place, field, value, name in compared
              if name in details]
    checks += [
        _differs(at, "actor", change["actor"], entry.get("actor")),
        _row(at, transition_fingerprint(change), evidence),
    ]
    if entry.get("action") == "profile.propose":
        checks += [
            _by(session, where, "proposed_by", profile["proposed_by"], entry),
            _row(where, profile_fingerprint(profile), evidence, "profile_row_sha256"),
        ]
    return next(filter(None, checks), None)


_capture = CaptureSession.__table__  # type: ignore[attr-defined]
_capture_end = CaptureSessionEnd.__table__  # type: ignore[attr-defined]


def check_capture_session(session: Session, entry: dict[str, Any]) -> str | None:
    """The capture session started is the one its entry recorded, operated by the entry's actor."""
    capture_session_id = _object_id(entry)
    row = (
        session.connection()
        .execute(select(_capture).where(_capture.c.id == capture_session_id))
        .mappings()
        .first()
    )
    where = f"capture session {capture_session_id}"
    if row is None:
        return f"{where} is missing"
    details = entry.get("details") or {}
    checks = [
        _differs(where, name, row[name], details[name]) for name in ("device", "tool") if name in details
    ]
    if "profile" in details:
        checks.append(_differs(where, "profile", row["profile_id"], details["profile"]))
    checks += [
        _by(session, where, "operated_by", row["operated_by"], entry),
        _row(where, capture_session_fingerprint(row), entry.get("evidence") or {}),
    ]
    return next(filter(None, checks), None)


def check_capture_session_end(session: Session, entry: dict[str, Any]) -> str | None:
    """The end of the capture session (statement and gaps included) is the one its entry recorded, made by
    the entry's actor."""
    capture_session_id = _object_id(entry)
    row = (
        session.connection()
        .execute(select(_capture_end).where(_capture_end.c.capture_session_id == capture_session_id))
        .mappings()
        .first()
    )
    where = f"capture session {capture_session_id}"
    if row is None:
        return f"{where}: its end is missing"
    return _by(session, where, "ended_by", row["ended_by"], entry) or _row(
        f"{where}, end", capture_session_end_fingerprint(row), entry.get("evidence") or {}
    )
