"""Coverage, the other direction of `decoy audit verify`: every evidence and legal-record row has its entry.

The entry checks prove that each row an entry names is as recorded; a row written straight into the
database names no entry and would pass them. While the verifier checks the entries, ``Coverage.note``
gathers the rows they name; afterwards ``Coverage.problem`` reads each table once (its key and the key
of what it hangs on, in the verification's snapshot) and names every row no entry accounts for. It
also checks what a profile row derives from its recorded changes (its status and its approval).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from ..models import (
    Annotation,
    Attachment,
    Authorization,
    AuthorizationDocument,
    AuthorizationOfficer,
    AuthorizationWithdrawal,
    CaptureSession,
    CaptureSessionEnd,
    Contact,
    ContactAssessment,
    ContactCategoryChange,
    ContactOutcome,
    DisclosureDecision,
    Disposal,
    DisposalApproval,
    EndReport,
    EndReportDelivery,
    ExportReconciliation,
    JournalNote,
    Lead,
    LegalHold,
    LegalHoldLift,
    Message,
    MessageImport,
    MessageImportResult,
    OperationClosure,
    Profile,
    ProfileTransition,
    Redaction,
    ReviewDecision,
    SafeguardingAction,
    SafeguardingCase,
    SafeguardingClosure,
    SensitiveOpening,
    SignedReport,
    SuggestionDismissal,
    SuspectNotification,
    User,
    VerbalisantAssignment,
)

_contact = Contact.__table__  # type: ignore[attr-defined]
_message = Message.__table__  # type: ignore[attr-defined]
_attachment = Attachment.__table__  # type: ignore[attr-defined]
_authorization = Authorization.__table__  # type: ignore[attr-defined]
_officer = AuthorizationOfficer.__table__  # type: ignore[attr-defined]
_document = AuthorizationDocument.__table__  # type: ignore[attr-defined]
_decision = ReviewDecision.__table__  # type: ignore[attr-defined]
_profile = Profile.__table__  # type: ignore[attr-defined]
_transition = ProfileTransition.__table__  # type: ignore[attr-defined]
_user = User.__table__  # type: ignore[attr-defined]
_assignment = VerbalisantAssignment.__table__  # type: ignore[attr-defined]
_session = CaptureSession.__table__  # type: ignore[attr-defined]
_session_end = CaptureSessionEnd.__table__  # type: ignore[attr-defined]
_import = MessageImport.__table__  # type: ignore[attr-defined]
_import_result = MessageImportResult.__table__  # type: ignore[attr-defined]
_reconciliation = ExportReconciliation.__table__  # type: ignore[attr-defined]
_annotation = Annotation.__table__  # type: ignore[attr-defined]
_dismissal = SuggestionDismissal.__table__  # type: ignore[attr-defined]
_assessment = ContactAssessment.__table__  # type: ignore[attr-defined]
_disclosure = DisclosureDecision.__table__  # type: ignore[attr-defined]
_note = JournalNote.__table__  # type: ignore[attr-defined]
_signed_report = SignedReport.__table__  # type: ignore[attr-defined]
_redaction = Redaction.__table__  # type: ignore[attr-defined]
_lead = Lead.__table__  # type: ignore[attr-defined]
_withdrawal = AuthorizationWithdrawal.__table__  # type: ignore[attr-defined]
_closure = OperationClosure.__table__  # type: ignore[attr-defined]
_end_report = EndReport.__table__  # type: ignore[attr-defined]
_delivery = EndReportDelivery.__table__  # type: ignore[attr-defined]
_category = ContactCategoryChange.__table__  # type: ignore[attr-defined]
_notification = SuspectNotification.__table__  # type: ignore[attr-defined]
_case = SafeguardingCase.__table__  # type: ignore[attr-defined]
_case_action = SafeguardingAction.__table__  # type: ignore[attr-defined]
_case_closure = SafeguardingClosure.__table__  # type: ignore[attr-defined]
_opening = SensitiveOpening.__table__  # type: ignore[attr-defined]
_hold = LegalHold.__table__  # type: ignore[attr-defined]
_hold_lift = LegalHoldLift.__table__  # type: ignore[attr-defined]
_outcome = ContactOutcome.__table__  # type: ignore[attr-defined]
_disposal = Disposal.__table__  # type: ignore[attr-defined]
_disposal_approval = DisposalApproval.__table__  # type: ignore[attr-defined]

PROFILE_ACTIONS = ("profile.propose", "profile.approve", "profile.suspend", "profile.retire")
#: The entry whose object names a row, by action: the table (by the object's id).
_NAMES_ITS_OBJECT = {
    "account.create": _user.name,
    "account.verbalisant_code": _assignment.name,
    "contact.create": _contact.name,
    "message.create": _message.name,
    "authorization.register": _authorization.name,
    "review.decide": _decision.name,  # by the review's id: one decision per review
    "profile.propose": _profile.name,
    "capture_session.start": _session.name,
    "capture_session.end": _session_end.name,  # by the session's id: one end per session
    "import.create": _import.name,
    "import.complete": _import_result.name,  # by the import's id: one result per import
    "annotation.create": _annotation.name,
    "suggestion.dismiss": _dismissal.name,
    "contact.assess": _assessment.name,
    "disclosure.decide": _disclosure.name,
    "journal.write": _note.name,
    "report.signed_upload": _signed_report.name,
    "attachment.redact": _redaction.name,
    "lead.record": _lead.name,
    "authorization.withdraw": _withdrawal.name,
    "operation.close": _closure.name,
    "operation.reopen": _closure.name,
    "end_report.create": _end_report.name,
    "end_report.deliver": _delivery.name,
    "contact.categorise": _category.name,
    "suspect.notification": _notification.name,
    "safeguarding.open": _case.name,
    "safeguarding.act": _case_action.name,
    "safeguarding.close": _case_closure.name,
    "attachment.open_sensitive": _opening.name,
    "legal_hold.set": _hold.name,
    "legal_hold.lift": _hold_lift.name,
    "contact.outcome": _outcome.name,
    "disposal.request": _disposal.name,
    "disposal.approve": _disposal_approval.name,
}
#: Actions whose entries carry a row hash from now on; older ones are counted as recorded before them.
ROW_HASHED_ACTIONS = frozenset(
    {"account.create", "authorization.register", "review.decide", *PROFILE_ACTIONS}
)
_SHOWN = 10


class Coverage:
    """The rows the checked entries name, and the entries recorded before row hashes."""

    def __init__(self) -> None:
        self.named: dict[str, set[int]] = {table: set() for table in _NAMES_ITS_OBJECT.values()}
        self.documents: set[int] = set()
        self.reconciliations: set[int] = set()
        self.changes: set[int] = set()
        # Changes of a profile recorded by entries that name no row (before row hashes): their first
        # unnamed changes, in id order, are the ones those entries recorded.
        self.unnamed_changes: Counter[int] = Counter()
        self.without_row_hash: list[int] = []

    def note(self, index: int, entry: dict[str, Any]) -> None:
        """Note the rows a checked entry names."""
        action = entry.get("action")
        object_id = (entry.get("object") or {}).get("id")
        details = entry.get("details") or {}
        if action in ROW_HASHED_ACTIONS and "row_sha256" not in (entry.get("evidence") or {}):
            self.without_row_hash.append(index)
        table = _NAMES_ITS_OBJECT.get(str(action))
        if table is not None and type(object_id) is int:
            self.named[table].add(object_id)
        if action == "authorization.document_attach" and type(details.get("document_id")) is int:
            self.documents.add(details["document_id"])
        if action == "message.reconcile" and type(details.get("reconciliation")) is int:
            self.reconciliations.add(details["reconciliation"])
        if action in PROFILE_ACTIONS and type(object_id) is int:
            if type(details.get("transition")) is int:
                self.changes.add(details["transition"])
            else:
                self.unnamed_changes[object_id] += 1

    def note_text(self) -> str | None:
        """How many entries were recorded before row hashes (checked for the fields they carry)."""
        found = self.without_row_hash
        if not found:
            return None
        shown = ", ".join(map(str, found[:_SHOWN])) + (", …" if len(found) > _SHOWN else "")
        counted = f"{len(found)} ({shown})"
        return f"entries recorded before row hashes, checked for the fields they carry: {counted}"

    def problem(self, connection: Connection) -> str | None:
        """The rows no entry names (table and id), or a profile whose state is not its history's."""
        uncovered = list(self._uncovered(connection))
        if uncovered:
            shown = ", ".join(uncovered[:_SHOWN]) + (", …" if len(uncovered) > _SHOWN else "")
            return f"rows without an audit entry: {len(uncovered)} ({shown})"
        return self._profile_state(connection)

    def _uncovered(self, connection: Connection) -> Iterable[str]:
        named = self.named
        for table in (
            _user, _contact, _message, _authorization, _profile, _session, _import, _annotation, _dismissal,
            _assessment, _disclosure, _note, _signed_report, _redaction, _assignment, _lead, _withdrawal,
            _closure, _end_report, _delivery, _category, _notification, _case, _case_action, _case_closure,
            _opening, _hold, _hold_lift, _outcome, _disposal, _disposal_approval,
        ):
            for (row_id,) in connection.execute(select(table.c.id).order_by(table.c.id)):
                if row_id not in named[table.name]:
                    yield f"{table.name} {row_id}"
        for table, key in (
            (_session_end, _session_end.c.capture_session_id),
            (_import_result, _import_result.c.import_id),
        ):
            for (row_id,) in connection.execute(select(key).order_by(key)):
                if row_id not in named[table.name]:
                    yield f"{table.name} ({key.name} {row_id})"
        query = select(_reconciliation.c.id).order_by(_reconciliation.c.id)
        for (row_id,) in connection.execute(query):
            if row_id not in self.reconciliations:
                yield f"{_reconciliation.name} {row_id}"
        messages = named[_message.name]
        query = select(_attachment.c.id, _attachment.c.message_id).order_by(_attachment.c.id)
        for row_id, message_id in connection.execute(query):
            if message_id not in messages:
                yield f"{_attachment.name} {row_id}"
        authorizations = named[_authorization.name]
        query = select(_officer.c.authorization_id, _officer.c.user_id).order_by(
            _officer.c.authorization_id, _officer.c.user_id
        )
        for authorization_id, user_id in connection.execute(query):
            if authorization_id not in authorizations:
                yield f"{_officer.name} (authorization {authorization_id}, user {user_id})"
        for (row_id,) in connection.execute(select(_document.c.id).order_by(_document.c.id)):
            if row_id not in self.documents:
                yield f"{_document.name} {row_id}"
        reviews = named[_decision.name]
        query = select(_decision.c.id, _decision.c.review_id).order_by(_decision.c.id)
        for row_id, review_id in connection.execute(query):
            if review_id not in reviews:
                yield f"{_decision.name} {row_id} (review {review_id})"
        unnamed = Counter(self.unnamed_changes)
        query = select(_transition.c.id, _transition.c.profile_id).order_by(_transition.c.id)
        for row_id, profile_id in connection.execute(query):
            if row_id in self.changes:
                continue
            if unnamed[profile_id] > 0:
                unnamed[profile_id] -= 1
                continue
            yield f"{_transition.name} {row_id} (profile {profile_id})"

    def _profile_state(self, connection: Connection) -> str | None:
        """Each profile's status is its last change's, and its approval its last activation's."""
        last: dict[int, Any] = {}
        activated: dict[int, Any] = {}
        query = select(
            _transition.c.profile_id, _transition.c.to_status, _transition.c.actor, _transition.c.at
        ).order_by(_transition.c.id)
        for change in connection.execute(query):
            last[change.profile_id] = change
            if change.to_status == "active":
                activated[change.profile_id] = change
        names = _acted_as(connection)
        query = select(_profile.c.id, _profile.c.status, _profile.c.approved_by, _profile.c.approved_at)
        for profile in connection.execute(query.order_by(_profile.c.id)):
            where = f"profile {profile.id}"
            latest = last.get(profile.id)
            if latest is None or profile.status != latest.to_status:
                shown = None if latest is None else latest.to_status
                return f"{where}: its status {profile.status!r} is not its last recorded change's ({shown!r})"
            approval = activated.get(profile.id)
            approver = profile.approved_by
            if approval is None:
                if (approver, profile.approved_at) != (None, None):
                    return f"{where}: approved by account {approver!r} though no recorded change approved it"
            elif approver is None or approval.actor not in names.get(approver, ()) or (
                profile.approved_at != approval.at
            ):
                return (
                    f"{where}: its approval (account {approver!r} at {profile.approved_at}) is not its last "
                    f"recorded approval ({approval.actor!r} at {approval.at})"
                )
        return None


def _acted_as(connection: Connection) -> dict[int, set[str]]:
    """The names each account acts under: its username and every verbalisant code it had."""
    names = {user_id: {name} for user_id, name in connection.execute(select(_user.c.id, _user.c.username))}
    for user_id, code in connection.execute(select(_assignment.c.user_id, _assignment.c.code)):
        names.setdefault(user_id, set()).add(code)
    return names
