"""The evidence checks of `decoy audit verify`: for every audit action whose entries carry ``evidence``
hashes, the check that re-hashes what is stored now (decoy.evidence.checks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from sqlmodel import Session

from audit.verify import EntryCheck

from ..disclosure.codes import check_code_assignment
from ..disclosure.redactions import check_redaction
from ..disclosure.reports import check_signed_report
from ..disclosure.rows import check_disclosure_decision, check_journal_note
from ..evidence.categories import check_category_change
from ..evidence.checks import (
    check_account,
    check_authorization,
    check_capture_session,
    check_capture_session_end,
    check_contact,
    check_decision,
    check_document,
    check_document_read,
    check_message,
    check_profile_change,
)
from ..imports.records import check_import, check_import_result, check_reconciliation
from ..initiative.checks import check_annotation, check_assessment, check_dismissal
from ..orders.leads import check_lead
from ..orders.notification_register import check_notification
from ..orders.rows import check_closure, check_delivery, check_end_report, check_withdrawal
from ..retention.disposal import check_approval, check_request
from ..retention.holds import check_hold, check_lift
from ..retention.outcomes import check_outcome
from ..safeguarding.rows import check_action, check_case, check_opening
from ..safeguarding.rows import check_closure as check_safeguarding_closure
from .coverage import Coverage

#: A check of one entry's evidence, read in a session: a failure reason, or None.
SessionCheck = Callable[[Session, dict[str, Any]], str | None]

#: Every action whose entries carry ``evidence`` hashes of stored content, with its check. An action
#: recorded with evidence and in neither mapping fails tests/decoy/integrity/test_evidence_checks.py.
EVIDENCE_CHECKS: Mapping[str, SessionCheck] = MappingProxyType(
    {
        "account.create": check_account,
        "account.verbalisant_code": check_code_assignment,
        "contact.create": check_contact,
        "message.create": check_message,
        "authorization.register": check_authorization,
        "authorization.document_attach": check_document,
        "authorization.document_read": check_document_read,
        "review.decide": check_decision,
        "profile.propose": check_profile_change,
        "profile.approve": check_profile_change,
        "profile.suspend": check_profile_change,
        "profile.retire": check_profile_change,
        "capture_session.start": check_capture_session,
        "capture_session.end": check_capture_session_end,
        "import.create": check_import,
        "import.complete": check_import_result,
        "message.reconcile": check_reconciliation,
        "annotation.create": check_annotation,
        "suggestion.dismiss": check_dismissal,
        "contact.assess": check_assessment,
        "disclosure.decide": check_disclosure_decision,
        "journal.write": check_journal_note,
        "report.signed_upload": check_signed_report,
        "attachment.redact": check_redaction,
        "lead.record": check_lead,
        "authorization.withdraw": check_withdrawal,
        "operation.close": check_closure,
        "operation.reopen": check_closure,
        "end_report.create": check_end_report,
        "end_report.deliver": check_delivery,
        "contact.categorise": check_category_change,
        "suspect.notification": check_notification,
        "safeguarding.open": check_case,
        "safeguarding.act": check_action,
        "safeguarding.close": check_safeguarding_closure,
        "attachment.open_sensitive": check_opening,
        "legal_hold.set": check_hold,
        "legal_hold.lift": check_lift,
        "contact.outcome": check_outcome,
        "disposal.request": check_request,
        "disposal.approve": check_approval,
    }
)
#: Actions whose ``evidence`` hashes name nothing that is stored, so nothing can be re-hashed; why.
EVIDENCE_NOT_STORED: Mapping[str, str] = MappingProxyType(
    {
        "attachments.move": "hashes of the lists of files a move verified and removed (the lists are not "
        "kept); every file is re-hashed by the check of the entry that recorded it",
    }
)


def entry_checks(session: Session, coverage: Coverage | None = None) -> dict[str, EntryCheck]:
    """The verifier's checks (``checks=`` of audit.verify.verify_store), each reading in ``session``;
    with ``coverage``, every checked entry is also noted as naming its rows."""

    def bound(check: SessionCheck) -> EntryCheck:
        def run(index: int, entry: dict[str, Any]) -> str | None:
            if coverage is not None:
                coverage.note(index, entry)
            try:
                return check(session, entry)
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                # A malformed field of a valid entry (a time that is no time): a failure, not a crash.
                return f"its record cannot be checked: {error!r}"

        return run

    return {action: bound(check) for action, check in EVIDENCE_CHECKS.items()}
