"""Every route × method × caller: nothing is answered that the access matrix does not allow.

The matrix is data (EXPECTATIONS). A route that is not in it fails the test with a request to classify
it, so that routes added later are covered automatically.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from decoy.auth import services as accounts
from decoy.auth import tokens
from decoy.db import session_scope
from tests.factories import make_authorization, make_operation, make_profile
from tests.support import AuthActions

ROLES = ("detective", "supervisor", "legal", "admin")
#: Strings that appear only in the evidence of operation A; no denied caller may ever see one.
MARKERS = ("MarkerOpAlpha", "marker_counterpart_q7", "MarkerBodyZ9", "marker_handle_k3",
           "MARKER-ATTACHMENT-BYTES")


@dataclass(frozen=True)
class Rule:
    """Who may use a route: ``allow`` must get through, ``maybe`` may, everyone else is refused.

    ``scoped`` routes name an object of operation A: callers who are not its members get 404 (legal
    officers read every operation), or the very answer they get for an object that does not exist, so
    that nothing reveals the object. A refused caller gets 403 or 404, or a 400/409 when the request is
    refused before anything is done. ``public`` routes need no authentication. ``listing`` routes answer
    every role but filter: nothing of operation A reaches a non-member or an admin. A ``feed`` (the
    calendar) answers an anonymous caller 401 rather than a redirect to the sign-in page.
    """

    allow: frozenset[str] = frozenset()
    maybe: frozenset[str] = frozenset()
    scoped: bool = False
    public: bool = False
    listing: bool = False
    feed: bool = False


def rule(allow: str = "", maybe: str = "", **flags: bool) -> Rule:
    """A Rule from space-separated role names."""
    return Rule(frozenset(allow.split()), frozenset(maybe.split()), **flags)


PUBLIC = rule(public=True)
SIGNED_IN = rule("detective supervisor legal admin")
READ = rule("detective supervisor legal", scoped=True)
LOG = rule("detective", "supervisor", scoped=True)
SUPERVISE = rule("supervisor", "legal", scoped=True)
REGISTER = rule("legal", "supervisor", scoped=True)
EXPORT = rule("legal", "supervisor detective", scoped=True)
LISTING = rule("", "detective supervisor legal admin", listing=True)
CREATE_OPERATION = rule("supervisor", "legal")
LEGAL = rule("legal")
ADMIN = rule("admin")
DECIDE = rule("legal", scoped=True)
JOURNAL = rule("detective supervisor", scoped=True)

EXPECTATIONS: dict[str, Rule] = {
    # public and the sign-in flow
    "main.healthz GET": PUBLIC,
    "main.favicon GET": PUBLIC,
    "static GET": PUBLIC,
    "api.openapi GET": PUBLIC,
    "auth.login GET": PUBLIC,
    "auth.login POST": PUBLIC,
    "auth.second_factor GET": PUBLIC,
    "auth.second_factor POST": PUBLIC,
    "auth.enrol GET": PUBLIC,
    "auth.enrol POST": PUBLIC,
    "auth.language POST": PUBLIC,
    # any signed-in account
    "main.home GET": SIGNED_IN,
    "api.me GET": SIGNED_IN,
    "auth.tokens GET": SIGNED_IN,
    "auth.tokens POST": SIGNED_IN,
    "auth.revoke POST": rule("", "detective supervisor legal admin"),  # the owner's token only
    "auth.logout POST": SIGNED_IN,
    # account administration
    "admin.users GET": ADMIN,
    "admin.users POST": ADMIN,
    "admin.activate POST": ADMIN,
    "admin.deactivate GET": ADMIN,  # the confirmation page
    "admin.deactivate POST": ADMIN,
    "admin.reset_second_factor GET": ADMIN,  # the confirmation page
    "admin.reset_second_factor POST": ADMIN,
    "admin.set_code POST": ADMIN,
    "admin.verbalisant_codes GET": rule("legal admin"),
    "api.set_verbalisant_code PUT": ADMIN,
    "api.verbalisant_codes GET": rule("legal admin"),
    # the audit log and integrity
    "api.audit_public_key GET": SIGNED_IN,
    "api.audit_checkpoint GET": LEGAL,
    "api.audit_entries GET": LEGAL,
    "api.audit_inclusion_proof GET": LEGAL,
    "api.audit_consistency_proof GET": LEGAL,
    "integrity.overview GET": LEGAL,
    "integrity.checkpoint POST": LEGAL,
    "integrity.verify POST": LEGAL,
    # operations
    "api.list_operations GET": LISTING,
    "api.create_operation POST": CREATE_OPERATION,
    "api.get_operation GET": READ,
    "api.change_status POST": SUPERVISE,
    "api.add_member POST": SUPERVISE,
    "api.remove_member POST": SUPERVISE,
    "api.list_authorizations GET": READ,
    "api.register_authorization POST": REGISTER,
    "api.central_record GET": LISTING,
    "api.get_authorization GET": READ,
    "api.attach_document POST": REGISTER,
    "api.list_profiles GET": READ,
    "api.propose_profile POST": SUPERVISE,
    "api.get_profile GET": READ,
    "api.approve_profile POST": SUPERVISE,
    "api.suspend_profile POST": SUPERVISE,
    "api.retire_profile POST": SUPERVISE,
    # evidence
    "api.list_contacts GET": READ,
    "api.create_contact POST": LOG,
    "api.get_contact GET": READ,
    "api.list_messages GET": READ,
    "api.log_message POST": LOG,
    "api.get_message GET": READ,
    "api.download_attachment GET": READ,
    "api.search_evidence GET": LISTING,
    "api.api_download GET": EXPORT,
    "api.list_capture_sessions GET": READ,
    "api.get_capture_session GET": READ,
    "api.start_capture_session POST": LOG,
    "api.end_capture_session POST": LOG,  # its operator (dana) or a supervisor of the operation
    "api.annotate_message POST": READ,  # officers annotate; a legal officer's annotation is a review remark
    "api.list_annotations GET": READ,
    "api.dismiss_suggestion POST": LOG,
    "api.get_initiative GET": READ,
    "api.list_assessments GET": READ,
    # disclosure classes (legal officers decide) and the internal journal (the operation's officers write)
    "api.decide_contact_disclosure POST": DECIDE,
    "api.decide_message_disclosure POST": DECIDE,
    "api.decide_attachment_disclosure POST": DECIDE,
    "api.decide_note_disclosure POST": DECIDE,
    "api.contact_disclosure GET": READ,
    "api.message_disclosure GET": READ,
    "api.attachment_disclosure GET": READ,
    "api.note_disclosure GET": READ,
    "api.write_operation_note POST": JOURNAL,
    "api.write_contact_note POST": JOURNAL,
    "api.operation_journal GET": READ,
    "api.contact_journal GET": READ,
    "evidence.decide_contact POST": DECIDE,
    "evidence.decide_message POST": DECIDE,
    "evidence.decide_attachment POST": DECIDE,
    "evidence.decide_note POST": DECIDE,
    "evidence.write_contact_note POST": JOURNAL,
    "evidence.write_operation_note POST": JOURNAL,
    # the leads register: the operation's officers and legal officers record; the CSV filters
    "api.record_lead POST": READ,
    "api.list_leads GET": READ,
    "api.leads_csv GET": rule("", "detective supervisor legal", listing=True),
    "operations.record_lead POST": READ,
    # an order's withdrawal (legal officers), closing (the operation's supervisors and legal officers),
    # reopening (legal officers), the end reports and their deliveries, and the table of legal maxima
    "api.withdraw_authorization POST": DECIDE,
    "api.close_operation POST": rule("supervisor legal", scoped=True),
    "api.reopen_operation POST": DECIDE,
    "api.list_end_reports GET": READ,
    "api.download_end_report GET": READ,
    "api.record_delivery POST": rule("supervisor legal", scoped=True),
    "api.legal_maxima GET": SIGNED_IN,
    "operations.withdraw_authorization GET": DECIDE,
    "operations.withdraw_authorization POST": DECIDE,
    "operations.close_operation GET": rule("supervisor legal", scoped=True),
    "operations.close_operation POST": rule("supervisor legal", scoped=True),
    "operations.reopen_operation GET": DECIDE,
    "operations.reopen_operation POST": DECIDE,
    "operations.end_report GET": READ,
    "operations.record_delivery POST": rule("supervisor legal", scoped=True),
    "operations.legal_maxima GET": rule("detective supervisor legal"),
    # a contact's category (its officers and legal officers) and the notification register (legal officers)
    "api.list_notifications GET": SIGNED_IN,
    "api.read_notification POST": rule("", "detective supervisor legal admin"),  # the owner's notice only
    "api.get_category GET": READ,
    "api.change_category POST": READ,
    "api.record_notification POST": DECIDE,
    "api.notification_register_list GET": LISTING,
    "evidence.change_category POST": READ,
    "evidence.record_notification POST": DECIDE,
    # safeguarding (the operation's officers and legal officers; closing: supervisors and legal officers)
    # and sensitive material (opened by supervisors and legal officers; hashes exported by legal officers)
    "api.contact_safeguarding GET": READ,
    "api.contact_safeguarding_cases GET": READ,
    "api.open_safeguarding_cases GET": LISTING,
    "api.safeguarding_case GET": READ,
    "api.safeguarding_action POST": READ,
    "api.close_safeguarding_case POST": SUPERVISE,
    "api.trafficking_signal POST": READ,
    "api.open_sensitive POST": SUPERVISE,
    "api.sensitive_hashes_csv GET": DECIDE,
    "api.sensitive_hashes_vics GET": DECIDE,
    "evidence.record_safeguarding_action POST": READ,
    "evidence.close_safeguarding_case POST": SUPERVISE,
    "evidence.confirm_trafficking_signal POST": READ,
    "evidence.open_sensitive GET": SUPERVISE,
    "evidence.open_sensitive POST": SUPERVISE,
    "evidence.sensitive_hashes GET": DECIDE,
    # retention: legal holds and case outcomes (legal officers), the schedule (everyone signed in) and what
    # it says is due (legal officers)
    "api.hold_operation POST": DECIDE,
    "api.hold_contact POST": DECIDE,
    "api.operation_holds GET": READ,
    "api.lift_hold POST": DECIDE,
    "api.record_outcome POST": DECIDE,
    "api.retention_schedule GET": SIGNED_IN,
    "api.retention_due GET": rule("legal", "", listing=True),
    "api.request_disposal POST": DECIDE,
    "api.approve_disposal POST": DECIDE,
    "api.get_disposal GET": READ,
    "evidence.request_disposal POST": DECIDE,
    "evidence.approve_disposal GET": DECIDE,
    "evidence.approve_disposal POST": DECIDE,
    "evidence.hold_operation POST": DECIDE,
    "evidence.hold_contact POST": DECIDE,
    "evidence.lift_hold POST": DECIDE,
    "evidence.record_outcome POST": DECIDE,
    "evidence.retention_page GET": rule("legal", "", listing=True),
    # the proces-verbaal (drafts for every reader of the contact, signed copies kept by its officers) and
    # redacted copies of attachments (legal officers)
    "api.proces_verbaal GET": READ,
    "api.upload_signed_report POST": LOG,
    "api.list_signed_reports GET": READ,
    "api.download_signed_report GET": READ,
    "api.create_redaction POST": rule("legal", scoped=True),
    "api.list_redactions GET": READ,
    "evidence.proces_verbaal GET": READ,
    "evidence.upload_signed_report POST": LOG,
    "evidence.signed_report GET": READ,
    "capture.start_session POST": LOG,
    "capture.end_session POST": LOG,
    "api.import_export POST": LOG,
    "api.get_import GET": READ,
    "imports.upload GET": LOG,
    "imports.upload POST": LOG,
    "imports.confirm POST": rule("", "detective supervisor", scoped=True),  # the uploader's own preview only
    "imports.import_page GET": READ,
    "evidence.profile_contacts GET": READ,
    "evidence.profile_contacts POST": LOG,
    "evidence.contact GET": READ,
    "evidence.log_message POST": LOG,
    "evidence.contact POST": LOG,
    "evidence.annotate_message POST": READ,  # officers annotate; a legal officer's is a review remark
    "evidence.dismiss_suggestion POST": LOG,
    "evidence.message GET": READ,
    "evidence.attachment GET": READ,
    "evidence.search_page GET": LISTING,
    "export.download GET": EXPORT,
    "export.download POST": EXPORT,
    # operation pages
    "operations.operation_list GET": LISTING,
    "operations.operation_list POST": CREATE_OPERATION,
    "operations.overview GET": READ,
    "operations.activity GET": READ,
    "operations.register_authorization GET": REGISTER,
    "operations.register_authorization POST": REGISTER,
    "operations.add_member POST": SUPERVISE,
    "operations.remove_member GET": SUPERVISE,
    "operations.remove_member POST": SUPERVISE,
    "operations.propose_profile POST": SUPERVISE,
    "operations.change_status POST": SUPERVISE,
    "operations.approve_profile POST": SUPERVISE,
    "operations.retire_profile GET": SUPERVISE,  # the confirmation page, for those who may retire
    "operations.retire_profile POST": SUPERVISE,
    "operations.suspend_profile GET": SUPERVISE,  # the confirmation page, for those who may suspend
    "operations.suspend_profile POST": SUPERVISE,
    "operations.central_record GET": LISTING,
    "operations.central_record_csv GET": LISTING,
    "operations.attach_document POST": REGISTER,
    "operations.document GET": READ,
    # reviews, notifications and the calendar
    "api.operation_reviews GET": READ,
    "api.review GET": READ,
    "api.decide POST": REGISTER,
    "reviews.operation_reviews GET": READ,
    "reviews.review GET": READ,
    "reviews.review POST": REGISTER,
    "reviews.compliance GET": LEGAL,
    "reviews.notifications GET": SIGNED_IN,
    "reviews.mark_read POST": rule("", "detective supervisor legal admin"),  # the owner's notice only
    "reviews.mark_all_read POST": SIGNED_IN,
    "reviews.calendar_tokens GET": SIGNED_IN,
    "reviews.calendar_tokens POST": SIGNED_IN,
    "reviews.revoke_calendar_token POST": rule("", "detective supervisor legal admin"),
    "reviews.calendar_feed GET": rule("", "detective supervisor legal admin", feed=True),
}


@dataclass
class World:
    """Operation A (dana, sol) with evidence, operation B (dirk, sam), and the ids routes need."""

    arguments: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, Any] = field(default_factory=dict)


#: Callers: (name, username or None, role, member of operation A, how they authenticate).
CALLERS = [
    ("detective, member", "dana", "detective", True),
    ("detective, non-member", "dirk", "detective", False),
    ("supervisor, member", "sol", "supervisor", True),
    ("supervisor, non-member", "sam", "supervisor", False),
    ("legal officer", "lena", "legal", False),
    ("admin", "ada", "admin", False),
]
TOKENLESS = ["anonymous", "expired token", "revoked token"]


@pytest.fixture
def world(app: Any, factory: Any, clock: Any) -> World:
    """The two operations, evidence with markers, tokens and signed-in sessions."""
    for username, role in [("dana", "detective"), ("dirk", "detective"), ("sol", "supervisor"),
                           ("sue", "supervisor"), ("sam", "supervisor"), ("lena", "legal"), ("ada", "admin"),
                           ("vic", "detective")]:
        factory.user(username, role)
    alpha = make_operation(app, "sol", name="MarkerOpAlpha", members=["dana", "sue"])
    make_operation(app, "sam", name="Bravo", members=["dirk"])
    authorization = make_authorization(app, "lena", alpha, officers=["dana"])
    profile = make_profile(app, alpha, authorization, "sol", approver="sue", handle="marker_handle_k3")
    result = World()
    result.tokens = {username: factory.token(username) for _name, username, _role, _member in CALLERS}
    client = app.test_client()
    headers = {"Authorization": f"Bearer {result.tokens['dana']}"}
    answer = client.post(f"/api/v1/profiles/{profile}/contacts", headers=headers,
                         json={"counterpart": "marker_counterpart_q7"})
    assert answer.status_code == 201, answer.get_json()
    contact = answer.get_json()["id"]
    answer = client.post(f"/api/v1/contacts/{contact}/messages", headers=headers, data={
        "direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": "MarkerBodyZ9",
        "attachments": (io.BytesIO(b"MARKER-ATTACHMENT-BYTES"), "capture.txt")})
    assert answer.status_code == 201, answer.get_json()
    message = answer.get_json()["id"]
    answer = client.post(f"/api/v1/profiles/{profile}/capture-sessions", headers=headers,
                         json={"device": "MarkerOpAlpha laptop", "tool": "manual"})
    assert answer.status_code == 201, answer.get_json()
    capture_session = answer.get_json()["id"]
    chat = b"02-03-2026 10:00 - Alex: MarkerBodyZ9\n02-03-2026 10:01 - Sam: hello\n"
    answer = client.post(f"/api/v1/contacts/{contact}/imports", headers=headers, data={
        "format": "whatsapp", "decoy_name": "Sam", "file": (io.BytesIO(chat), "chat.txt")})
    assert answer.status_code == 201, answer.get_json()
    imported = answer.get_json()["id"]
    answer = client.post(f"/api/v1/contacts/{contact}/journal", headers=headers,
                         json={"body": "MarkerBodyZ9 note"})
    assert answer.status_code == 201, answer.get_json()
    note = answer.get_json()["id"]
    answer = client.post(f"/api/v1/operations/{alpha}/leads", headers=headers, json={
        "recipient": "Unit North", "legal_basis": "art. 126dd Sv", "tlp": "TLP:AMBER", "sha256": "a" * 64,
        "description": "MarkerBodyZ9 lead"})
    assert answer.status_code == 201, answer.get_json()
    answer = client.post(f"/api/v1/contacts/{contact}/category", headers=headers,
                         json={"category": "real_minor", "reason": "MarkerBodyZ9 age"})
    assert answer.status_code == 200, answer.get_json()
    case = client.get(f"/api/v1/contacts/{contact}/safeguarding", headers=headers).get_json()["id"]
    legal = {"Authorization": f"Bearer {result.tokens['lena']}"}
    answer = client.post(f"/api/v1/contacts/{contact}/legal-holds", headers=legal,
                         json={"reason": "MarkerBodyZ9 hold"})
    assert answer.status_code == 201, answer.get_json()
    hold = answer.get_json()["id"]
    answer = client.post(f"/api/v1/contacts/{contact}/disposals", headers=legal,
                         json={"reason": "MarkerBodyZ9 disposal", "decision_reference": "D-1"})
    assert answer.status_code == 409, answer.get_json()  # the contact is under the hold
    client.post(f"/api/v1/legal-holds/{hold}/lift", headers=legal, json={"reason": "lifted"})
    answer = client.post(f"/api/v1/contacts/{contact}/disposals", headers=legal,
                         json={"reason": "MarkerBodyZ9 disposal", "decision_reference": "D-1"})
    assert answer.status_code == 201, answer.get_json()
    disposal = answer.get_json()["id"]
    answer = client.post(f"/api/v1/contacts/{contact}/signed-reports", headers=headers,
                         data={"file": (io.BytesIO(b"%PDF-1.7 MarkerOpAlpha signed"), "signed.pdf")})
    assert answer.status_code == 201, answer.get_json()
    signed_report = answer.get_json()["id"]
    answer = client.post(f"/api/v1/authorizations/{authorization}/documents",
                         headers={"Authorization": f"Bearer {result.tokens['lena']}"},
                         data={"file": (io.BytesIO(b"%PDF-1.7 MarkerOpAlpha order"), "order.pdf")})
    assert answer.status_code == 201, answer.get_json()
    with app.app_context(), session_scope(app) as session:
        from decoy.models import Attachment, AuthorizationDocument

        attachment = session.exec(select(Attachment.id).where(Attachment.message_id == message)).one()
        document = session.exec(select(AuthorizationDocument.id)
                                .where(AuthorizationDocument.authorization_id == authorization)).one()
        dana = accounts.find_user(session, "dana")
        victim = accounts.find_user(session, "vic")
        end_report = _end_report(session, alpha, accounts.find_user(session, "lena"))
        spare, _clear = tokens.create_token(session=session, user=dana, name="spare", days=30)
        revoked, result.tokens["revoked token"] = tokens.create_token(session=session, user=dana,
                                                                       name="revoked", days=30)
        session.flush()
        tokens.revoke_token(session=session, user=dana, token_id=revoked.id)
        result.arguments = {"operation_id": alpha, "authorization_id": authorization, "profile_id": profile,
                            "contact_id": contact, "message_id": message, "attachment_id": attachment,
                            "user_id": victim.id, "token_id": spare.id, "filename": "css/decoy.css",
                            "document_id": document, "capture_session_id": capture_session,
                            "import_id": imported, "token": "A" * 43, "username": "vic",
                            "note_id": note, "report_id": signed_report, "end_report_id": end_report,
                            "case_id": case, "form": "csv", "hold_id": hold,
                            "disposal_id": disposal}
    from decoy.integrity.checkpoints import make_checkpoint
    from decoy.models.reviews import Review
    from decoy.reviews.passes import review_pass

    make_checkpoint(app)
    review_pass(app)
    with app.app_context(), session_scope(app) as session:
        review = session.exec(select(Review.id).where(Review.operation_id == alpha)).first()
        assert review is not None, "the review pass made no review for the authorization"
        result.arguments.update(review_id=review, notification_id=1)
    clock.advance(timedelta(days=-3))
    result.tokens["expired token"] = factory.token("dana", days=1)
    clock.advance(timedelta(days=3))
    for _name, username, _role, _member in CALLERS:
        session_client = app.test_client()
        AuthActions(session_client, factory, clock).login(username)
        result.sessions[username] = session_client
    return result


def _end_report(session: Any, operation_id: int, legal: Any) -> int:
    """An end report of operation A, as one closing made it (the operation itself stays open, so that
    every other route is tried on it as it is)."""
    from decoy import blobstore, clock
    from decoy.models import EndReport, OperationClosure

    closure = OperationClosure(operation_id=operation_id, action="close", reason="MarkerBodyZ9 closing",
                               decided_by=legal.id, decided_at=clock.now())
    session.add(closure)
    session.flush()
    stored = blobstore.store_stream(io.BytesIO(b"%PDF-1.7 MarkerOpAlpha end report"),
                                    connection=session.connection())
    report = EndReport(operation_id=operation_id, closure_id=closure.id, sha256=stored.sha256,
                       size=stored.size, created_by=legal.id, created_at=clock.now())
    session.add(report)
    session.flush()
    return int(report.id)  # type: ignore[arg-type]


def _key(endpoint: str, method: str) -> str:
    return f"{endpoint} {method}"


def _routes(app: Any) -> list[tuple[Any, str]]:
    return sorted(((rule_, method) for rule_ in app.url_map.iter_rules()
                   for method in rule_.methods - {"HEAD", "OPTIONS"}),
                  key=lambda pair: (pair[0].endpoint == "auth.logout", pair[0].rule, pair[1]))


def test_every_route_is_classified(app: Any) -> None:
    """A new route must be added to EXPECTATIONS before it ships."""
    unknown = sorted({_key(r.endpoint, m) for r, m in _routes(app)} - set(EXPECTATIONS))
    assert not unknown, ("classify these routes in tests/access/test_access_matrix.py EXPECTATIONS "
                         f"(who may call them): {unknown}")


def _request(app: Any, world: World, caller: str, username: str | None, path: str, method: str) -> Any:
    is_api = path.startswith("/api/")
    if username is not None and not is_api:
        client = world.sessions[username]
        data = {"csrf_token": _csrf(client)} if method == "POST" else None
        return client.open(path, method=method, data=data)
    client = app.test_client()
    headers = {}
    token = world.tokens.get(username or caller)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.open(path, method=method, headers=headers, json={} if method == "POST" else None)


def _csrf(client: Any) -> str:
    from tests.support import csrf_from

    return csrf_from(client.get("/account/tokens").get_data(as_text=True))


REFUSALS = (400, 403, 404, 409)
NOWHERE = 2_147_483_000  # an id no object has


def _verdict(rule_: Rule, caller: str, role: str | None, member: bool, path: str, method: str,
             answer: Any, nowhere: Any) -> str | None:
    """Why ``answer`` breaks the matrix, or None."""
    status = answer.status_code
    body = answer.get_data().decode("utf-8", errors="replace")
    leaked = [marker for marker in MARKERS if marker in body]
    if status >= 500:
        return f"server error {status}"
    if rule_.public:
        return None
    is_api = path.startswith("/api/")
    if role is None:  # anonymous, expired or revoked token
        if leaked:
            return f"leaks {leaked}"
        if is_api:
            return None if status == 401 else f"expected 401, got {status}"
        if rule_.feed:
            return None if status == 401 else f"expected 401, got {status}"
        if status == 302 and "/login" in answer.headers.get("Location", ""):
            return None
        if method == "POST" and status == 400:  # refused by CSRF protection before anything else
            return None
        return f"expected a redirect to /login, got {status}"
    denied = role not in rule_.allow | rule_.maybe
    non_member = rule_.scoped and not member and role in ("detective", "supervisor")
    if non_member:
        if status != 404 and status != nowhere().status_code:
            return f"non-member expected 404 (or the answer for a missing object), got {status}"
    elif denied:
        if status not in REFUSALS:
            return f"expected a refusal {REFUSALS}, got {status}"
    elif role in rule_.allow and status in (401, 403, 404):
        return f"expected to be let through, got {status}"
    elif status == 401:
        return "signed in, got 401"
    may_read_alpha = role == "legal" or (member and role in ("detective", "supervisor"))
    if leaked and not may_read_alpha:
        return f"leaks {leaked} (status {status})"
    return None


def test_access_matrix(app: Any, world: World) -> None:
    """Every route and method, for every role, member and non-member, anonymous, expired and revoked."""
    adapter = app.url_map.bind("localhost")
    failures: list[str] = []
    checked = 0
    callers = [(name, username, role, member) for name, username, role, member in CALLERS]
    callers += [(name, None, None, False) for name in TOKENLESS]
    for rule_object, method in _routes(app):
        expectation = EXPECTATIONS.get(_key(rule_object.endpoint, method))
        if expectation is None:
            continue  # reported by test_every_route_is_classified
        missing = [name for name in rule_object.arguments if name not in world.arguments]
        if missing:
            failures.append(f"{rule_object.rule}: no test value for {missing}; add it to the world fixture")
            continue
        values = {name: world.arguments[name] for name in rule_object.arguments}
        path = adapter.build(rule_object.endpoint, values, method=method)
        elsewhere = {name: NOWHERE if isinstance(value, int) else value for name, value in values.items()}
        missing_path = adapter.build(rule_object.endpoint, elsewhere, method=method)
        for caller, username, role, member in callers:
            answer = _request(app, world, caller, username, path, method)
            checked += 1
            nowhere = functools.partial(_request, app, world, caller, username, missing_path, method)
            problem = _verdict(expectation, caller, role, member, path, method, answer, nowhere)
            answer.close()
            if problem:
                failures.append(f"{method} {path} as {caller}: {problem}")
    assert checked > 300
    assert not failures, "\n".join(failures)
