"""The end report for the public prosecutor, read as a person reads it: the text pdftotext extracts and the
first page rendered. Every section with its values, officers by verbalisant code only (rule 9), hostile
counterpart text shown literally, and the same bytes from the same database and arguments."""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text

from decoy.db import session_scope
from decoy.models import AuthorizationWithdrawal, Lead, ProfileTransition
from decoy.orders.end_report import build_end_report
from decoy.reviews.passes import review_pass
from tests.factories import make_authorization, make_operation, make_profile
from tests.support import START, ApiClient, code_for

USERNAMES = ("quentin", "rosalind", "theodora", "ferdinand", "leopold")
COUNTERPART = "<b>x</b> =cmd()"
CLOSED_AT = START + timedelta(days=3)
REASON = "The investigation has ended; the profile is no longer needed."
LEAD_SHA256 = hashlib.sha256(b"an invented summary passed on").hexdigest()


def display_name(username: str) -> str:
    """An invented real name for each officer (what no report may show)."""
    return f"{username.capitalize()} Oosterhout-Lindqvist"


@dataclass
class Closed:
    """The ids of the operation about to be closed, and its caller."""

    app: Any
    api: ApiClient
    operation_id: int
    first_order: int
    extension: int
    profile_id: int
    contact_id: int
    review_id: int
    legal_officer_id: int


@pytest.fixture
def closed(app: Any, client: Any, factory: Any) -> Closed:
    """An operation with an order and its extension (withdrawn), a retired profile, a contact with messages
    (one by an officer the order does not name), a decided review and a lead passed on."""
    roles = {"quentin": "supervisor", "rosalind": "supervisor", "theodora": "detective",
             "ferdinand": "detective", "leopold": "legal"}
    users = {name: factory.user(name, role) for name, role in roles.items()}
    api = ApiClient(client, {name: factory.token(name) for name in roles})
    with app.app_context(), session_scope(app) as session:
        for username in USERNAMES:
            session.execute(text("UPDATE user_account SET display_name = :name WHERE username = :username"),
                            {"name": display_name(username), "username": username})
    operation_id = make_operation(app, "quentin", name="Operation Lantern", team="Vice team North",
                                  members=("rosalind", "theodora", "ferdinand"))
    terms = {"legal_basis": "art. 126j Sv", "platforms": ["chatsite"], "officers": ["theodora", "quentin"],
             "valid_from": START - timedelta(days=1), "valid_until": START + timedelta(days=30)}
    first_order = make_authorization(app, "leopold", operation_id, kind="ovj_order",
                                     reference="OvJ-2026-0101", **terms)
    extension = make_authorization(app, "leopold", operation_id, kind="rc_authorisation",
                                   reference="RC-2026-0202", supersedes_id=first_order,
                                   **{**terms, "valid_from": START - timedelta(hours=12)})
    profile_id = make_profile(app, operation_id, extension, "quentin", approver="rosalind",
                              platform="chatsite", handle="sunny_day")
    answer = api.call("POST", f"/profiles/{profile_id}/contacts", "theodora",
                      json={"counterpart": COUNTERPART})
    assert answer.status_code == 201, answer.get_json()
    contact_id = answer.get_json()["id"]
    for body, direction, minute, username in (
        ("hello, how are you", "in", "10:30", "theodora"),
        ("fine, thanks", "out", "10:35", "theodora"),
        ("what are you reading?", "in", "10:40", "theodora"),
        ("a book about birds", "out", "10:45", "ferdinand"),
    ):
        answer = api.call("POST", f"/contacts/{contact_id}/messages", username, json={
            "direction": direction, "sent_at": f"2026-03-02T{minute}:00+01:00", "body": body})
        assert answer.status_code == 201, answer.get_json()
    review_pass(app)
    listed = api.call("GET", f"/operations/{operation_id}/reviews", "leopold")
    assert listed.status_code == 200, listed.get_json()
    review_id = listed.get_json()["items"][0]["id"]
    decided = api.call("POST", f"/reviews/{review_id}/decision", "leopold",
                       json={"decision": "continue", "rationale": "The conditions of the order are met."})
    assert decided.status_code == 200, decided.get_json()
    retired = api.call("POST", f"/profiles/{profile_id}/retire", "quentin",
                       json={"reason": "No longer needed."})
    assert retired.status_code == 200, retired.get_json()
    legal = int(users["leopold"].id)
    with app.app_context(), session_scope(app) as session:
        # Written directly: the leads and withdrawal services are not this test's subject.
        session.add(AuthorizationWithdrawal(
            authorization_id=extension, operation_id=operation_id, effective_at=START + timedelta(days=2),
            reason="The examining judge ended the authorisation early.", withdrawn_by=legal,
            recorded_at=START + timedelta(days=2, hours=1)))
        session.add(Lead(
            operation_id=operation_id, recipient="Regional unit East, team digital crime",
            legal_basis="art. 126dd Sv", tlp="TLP:AMBER", sha256=LEAD_SHA256,
            description="A summary of contact for follow-up by the receiving unit.",
            passed_at=START + timedelta(days=1), passed_by=legal, recorded_at=START + timedelta(days=1)))
    return Closed(app, api, operation_id, first_order, extension, profile_id, contact_id, review_id, legal)


def build(closed: Closed, **changes: Any) -> bytes:
    """The end report as the closing service asks for it."""
    arguments = {"closed_at": CLOSED_AT, "closed_by": code_for("leopold"), "reason": REASON, **changes}
    with closed.app.app_context(), session_scope(closed.app) as session:
        return build_end_report(session, closed.operation_id, **arguments)


def extracted(pdf: bytes, tmp_path: Path) -> tuple[str, int]:
    """The PDF's text as pdftotext gives it (runs of white space as one space) and its number of pages."""
    source = tmp_path / "end-report.pdf"
    source.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(source)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    done = subprocess.run(["pdftotext", str(source), "-"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split()), pages


def test_the_end_report_holds_every_section_with_its_values(closed: Closed, tmp_path: Path) -> None:
    pdf = build(closed)
    assert pdf.startswith(b"%PDF-")
    shown, pages = extracted(pdf, tmp_path)
    legal, detective, unnamed, supervisor = (code_for(name) for name in ("leopold", "theodora", "ferdinand",
                                                                          "quentin"))
    for expected in (
        "End report",
        "Operation Operation Lantern (id", "Team Vice team North", "Time zone Europe/Amsterdam",
        # The period runs from the earliest order's start until the closing, in the operation's zone.
        "Period 2026-03-01 10:00:00 CET (UTC+0100) until 2026-03-05 10:00:00 CET (UTC+0100)",
        "Closed at 2026-03-05 10:00:00 CET (UTC+0100)", f"Closed by {legal}", f"Reason {REASON}",
        "Authorizations",
        "Reference OvJ-2026-0101 Kind order of the public prosecutor",
        "Legal basis art. 126j Sv", "Valid from 2026-03-01 10:00:00 CET (UTC+0100)",
        "Valid until 2026-04-01 11:00:00 CEST (UTC+0200)",
        "Superseded yes, by RC-2026-0202", "Withdrawn no",
        "Reference RC-2026-0202 Kind authorisation of the examining judge",
        "Superseded no",
        f"Withdrawn yes, effective 2026-03-04 10:00:00 CET (UTC+0100); recorded 2026-03-04 11:00:00 CET "
        f"(UTC+0100) by {legal}",
        "Reason of withdrawal The examining judge ended the authorisation early.",
        "Decoy profiles",
        f"Profile {closed.profile_id}: chatsite / sunny_day — status retired; "
        "under authorization RC-2026-0202",
        f"— pending approval 2026-03-02 10:00:00 CET (UTC+0100) {supervisor}",
        f"active retired 2026-03-02 10:00:00 CET (UTC+0100) {supervisor} No longer needed.",
        "Contacts",
        f"{closed.contact_id}: {COUNTERPART}", f"{closed.profile_id}: chatsite / sunny_day",
        "in 2 out 2",
        "1 message: FLAGGED: Officer not named in the order (recorded by an officer the authorization",
        "Reviews",
        f"1: triggered (flagged 2026-03-04 10:00:00 CET message) (UTC+0100) order RC-2026-0202 continue, "
        f"2026-03-02 10:00:00 CET (UTC+0100), by {legal} The conditions of the order are met.",
        "3: before expiry order RC-2026-0202 2026-03-18 10:00:00 CET (UTC+0100) "
        "not decided: due after the closing",
        "Leads passed on",
        f"passed 2026-03-03 10:00:00 CET (UTC+0100) by {legal}",
        "Recipient Regional unit East, team digital crime", "Legal basis art. 126dd Sv",
        "TLP label TLP:AMBER",
        f"SHA-256 {LEAD_SHA256}", "Description A summary of contact for follow-up by the receiving unit.",
        f"Decoy end report, operation {closed.operation_id} — page 1 of {pages}",
        "generated 2026-03-05 10:00:00 CET (UTC+0100)",
    ):
        assert expected in shown, expected
    assert f"page {pages} of {pages}" in shown
    assert "officer without a code" not in shown
    assert detective not in shown and unnamed not in shown  # messages are counted, not transcribed
    assert "hello, how are you" not in shown


def test_no_officer_is_named_and_hostile_text_stays_text(closed: Closed, tmp_path: Path) -> None:
    shown, _pages = extracted(build(closed), tmp_path)
    for username in USERNAMES:
        assert not re.search(rf"\b{username}\b", shown, re.IGNORECASE), username
        assert display_name(username) not in shown
    assert "Oosterhout" not in shown
    # The counterpart's markup is shown as it was typed: nothing bolded it or dropped its tags.
    assert f"{closed.contact_id}: {COUNTERPART}" in shown
    assert re.search(r"\b(TEST-[0-9A-F]{6}|system)\b", shown)


def test_a_username_recorded_as_actor_before_codes_is_shown_as_the_code(
    closed: Closed, tmp_path: Path
) -> None:
    with closed.app.app_context(), session_scope(closed.app) as session:
        # A transition recorded before verbalisant codes existed names its actor by username.
        session.add(ProfileTransition(
            profile_id=closed.profile_id, from_status="retired", to_status="retired", actor="quentin",
            reason="an older record", at=START + timedelta(hours=2)))
    shown, _pages = extracted(build(closed), tmp_path)
    code = code_for("quentin")
    assert f"retired retired 2026-03-02 12:00:00 CET (UTC+0100) {code} an older record" in shown
    assert not re.search(r"\bquentin\b", shown, re.IGNORECASE)


def test_the_same_database_and_arguments_give_the_same_bytes(closed: Closed) -> None:
    first = build(closed)
    assert build(closed) == first
    assert build(closed, generated_at=CLOSED_AT) == first
    assert build(closed, reason="Another reason.") != first


def test_the_first_page_renders(closed: Closed, tmp_path: Path) -> None:
    source = tmp_path / "end-report.pdf"
    source.write_bytes(build(closed))
    first_page = ["-f", "1", "-l", "1"]
    subprocess.run(["pdftoppm", "-png", "-r", "60", *first_page, str(source), str(tmp_path / "page")],
                   check=True)
    [image] = sorted(tmp_path.glob("page-*.png"))
    with Image.open(image) as page:
        page.load()
        assert page.size[0] > 400 and page.size[1] > 600
        darkest, lightest = page.convert("L").getextrema()
        assert darkest < 128 and lightest > 200, "the page is blank or unreadable"


def test_an_operation_that_never_started_reports_its_empty_sections(
    app: Any, factory: Any, tmp_path: Path
) -> None:
    factory.user("quentin", "supervisor")
    operation_id = make_operation(app, "quentin", name="Operation Quiet")
    with app.app_context(), session_scope(app) as session:
        pdf = build_end_report(session, operation_id, closed_at=CLOSED_AT, closed_by="quentin",
                               reason="Never started.")
    shown, pages = extracted(pdf, tmp_path)
    assert pages == 1
    # The period starts at the operation's creation; a username given as closer is shown as its code.
    assert "Period 2026-03-02 10:00:00 CET (UTC+0100) until 2026-03-05 10:00:00 CET (UTC+0100)" in shown
    assert f"Closed by {code_for('quentin')}" in shown and "quentin" not in shown
    for empty in ("No authorizations recorded.", "No profiles recorded.", "No contacts recorded.",
                  "No reviews recorded.", "No leads passed on."):
        assert empty in shown, empty


def test_a_long_reason_continues_over_pages_and_every_page_says_of_how_many(
    closed: Closed, tmp_path: Path
) -> None:
    reason = "the order was fulfilled and " * 400 + "x" * 3000
    shown, pages = extracted(build(closed, reason=reason), tmp_path)
    assert pages > 2
    for page in range(1, pages + 1):
        assert f"page {page} of {pages}" in shown
    # Nothing is lost where the text is cut into pieces or pages (a cut may fall inside a word).
    footer = r"Decoy end report, operation \d+ — page \d+ of \d+ generated [^)]*\)"
    joined = re.sub(footer, "", shown).replace(" ", "")
    assert joined.count("theorderwasfulfilledand") == 400 and joined.count("x" * 3000) == 1


def test_a_naive_closing_time_is_refused(closed: Closed) -> None:
    with pytest.raises(ValueError, match="aware"):
        build(closed, closed_at=CLOSED_AT.replace(tzinfo=None))


def test_an_unknown_operation_is_not_found(closed: Closed) -> None:
    with closed.app.app_context(), session_scope(closed.app) as session, pytest.raises(LookupError):
        build_end_report(session, closed.operation_id + 1000, closed_at=CLOSED_AT, closed_by="AB-1",
                         reason="r")
