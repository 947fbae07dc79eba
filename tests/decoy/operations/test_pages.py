"""Browser-free HTTP tests of the operations pages and their forms, with real CSRF tokens."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlmodel import select

from decoy.db import session_scope
from decoy.models import Authorization, AuthorizationDocument, Operation, Profile
from tests.factories import make_authorization, make_profile
from tests.support import csrf_from

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _form(client, page, action, data, **kwargs):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data}, **kwargs)


def test_a_supervisor_opens_an_operation_and_assigns_a_detective(team, auth):
    auth.login("sam")
    response = _form(
        team.client,
        "/operations",
        "/operations",
        {"name": "Operation Harbour", "team": "Vice North", "timezone": "Europe/Amsterdam"},
    )
    assert response.status_code == 302
    with team.app.app_context(), session_scope(team.app) as session:
        operation = session.exec(select(Operation).where(Operation.name == "Operation Harbour")).one()
    page = f"/operations/{operation.id}"
    assert _form(team.client, page, f"{page}/members", {"username": "nina"}).status_code == 302
    html = team.client.get(page).get_data(as_text=True)
    assert "nina" in html and "Operation Harbour" in html
    unknown = _form(team.client, page, f"{page}/members", {"username": "nobody"})
    assert unknown.status_code == 400 and "no account named nobody" in unknown.get_data(as_text=True)


def test_an_operation_with_a_taken_name_is_refused_on_the_form(team, auth):
    auth.login("sam")
    response = _form(team.client, "/operations", "/operations", {"name": "Operation Lantern"})
    assert response.status_code == 400
    assert "an operation with this name exists" in response.get_data(as_text=True)


def test_a_legal_officer_registers_an_order_with_its_pdf_in_the_operations_zone(team, auth):
    auth.login("lena")
    page = f"/operations/{team.operation_id}/authorizations/new"
    response = _form(
        team.client,
        page,
        page,
        {
            "reference": "OvJ-2026-0100",
            "kind": "urgent_oral_order",
            "oral_order_given_at": "2026-03-02 08:00",
            "authority": "Public Prosecution Service",
            "issuer_name": "Prosecutor B",
            "legal_basis": "art. 126j Sv",
            "valid_from": "2026-03-02 08:00",
            "valid_until": "2026-04-01 08:00",
            "review_interval_days": "14",
            "platforms": "chatapp, otherchat",
            "max_profiles": "2",
            "officers": "dana, sam",
            "supersedes_id": "",
            "document": (io.BytesIO(PDF), "order.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with team.app.app_context(), session_scope(team.app) as session:
        authorization = session.exec(
            select(Authorization).where(Authorization.reference == "OvJ-2026-0100")
        ).one()
        documents = session.exec(
            select(AuthorizationDocument).where(AuthorizationDocument.authorization_id == authorization.id)
        ).all()
    assert authorization.valid_from.isoformat() == "2026-03-02T07:00:00+00:00"  # 08:00 in Amsterdam (CET)
    assert authorization.platforms == ["chatapp", "otherchat"]
    assert authorization.written_order_due is not None
    assert len(documents) == 1 and documents[0].media_type == "application/pdf"
    html = team.client.get(f"/operations/{team.operation_id}").get_data(as_text=True)
    assert "OvJ-2026-0100" in html and documents[0].sha256 in html
    download = team.client.get(f"/authorization-documents/{documents[0].id}")
    assert download.status_code == 200 and download.data == PDF


def test_a_document_that_is_not_a_pdf_is_refused(team, auth):
    auth.login("lena")
    page = f"/operations/{team.operation_id}"
    response = _form(
        team.client,
        page,
        f"/authorizations/{team.authorization_id}/documents",
        {"kind": "order", "file": (io.BytesIO(b"\x89PNG\r\n\x1a\n-----"), "order.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "only PDF documents are accepted" in response.get_data(as_text=True)


def test_an_extension_form_starts_as_a_copy_and_supersedes(team, auth, clock):
    auth.login("lena")
    page = f"/operations/{team.operation_id}/authorizations/new?supersedes={team.authorization_id}"
    html = team.client.get(page).get_data(as_text=True)
    assert 'value="chatapp"' in html and "dana" in html
    response = _form(
        team.client,
        page,
        f"/operations/{team.operation_id}/authorizations/new",
        {
            "reference": "OvJ-2026-0101",
            "kind": "ovj_order",
            "authority": "Public Prosecution Service",
            "legal_basis": "art. 126j Sv",
            "valid_from": "2026-05-01 00:00",
            "valid_until": "2026-08-01 00:00",
            "review_interval_days": "30",
            "platforms": "chatapp",
            "max_profiles": "5",
            "officers": "dana",
            "supersedes_id": str(team.authorization_id),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    html = team.client.get(f"/operations/{team.operation_id}").get_data(as_text=True)
    assert "Superseded by" in html and "superseded" in html


def test_a_bad_period_on_the_form_names_the_field(team, auth):
    auth.login("lena")
    page = f"/operations/{team.operation_id}/authorizations/new"
    response = _form(
        team.client,
        page,
        page,
        {
            "reference": "OvJ-2026-0102",
            "kind": "ovj_order",
            "authority": "Court",
            "legal_basis": "art. 126j Sv",
            "valid_from": "2026-05-01 00:00",
            "valid_until": "2026-04-01 00:00",
            "review_interval_days": "30",
            "platforms": "chatapp",
            "max_profiles": "1",
            "officers": "",
        },
    )
    assert response.status_code == 400
    assert "valid_until must be after valid_from" in response.get_data(as_text=True)


def test_propose_approve_suspend_and_retire_through_the_forms(team, auth):
    auth.login("sam")
    page = f"/operations/{team.operation_id}"
    proposed = _form(
        team.client,
        page,
        f"{page}/profiles",
        {
            "authorization_id": str(team.authorization_id),
            "platform": "chatapp",
            "handle": "sunny_day",
            "persona": "a quiet reader",
        },
    )
    assert proposed.status_code == 302
    with team.app.app_context(), session_scope(team.app) as session:
        profile_id = session.exec(select(Profile.id)).one()
    self_approval = _form(team.client, page, f"/profiles/{profile_id}/approve", {})
    assert self_approval.status_code == 409
    assert "four-eyes" in self_approval.get_data(as_text=True)
    auth.logout()
    auth.login("sol")
    assert _form(team.client, page, f"/profiles/{profile_id}/approve", {}).status_code == 302
    no_reason = _form(team.client, page, f"/profiles/{profile_id}/suspend", {"reason": ""})
    assert no_reason.status_code == 400
    assert (
        _form(team.client, page, f"/profiles/{profile_id}/suspend", {"reason": "cover at risk"}).status_code
        == 302
    )
    assert _form(team.client, page, f"/profiles/{profile_id}/retire", {"reason": "done"}).status_code == 302
    html = team.client.get(page).get_data(as_text=True)
    assert "cover at risk" in html and "retired" in html


def test_a_pending_profile_shows_why_it_cannot_be_approved(team, auth):
    profile_id = make_profile(team.app, team.operation_id, team.authorization_id, "sam", platform="chatapp")
    make_authorization(team.app, "lena", team.operation_id, supersedes_id=team.authorization_id,
                       platforms=["otherchat"])
    auth.login("sol")
    html = team.client.get(f"/operations/{team.operation_id}").get_data(as_text=True)
    assert f'id="profile-{profile_id}"' in html
    assert "platform rule" in html and "cannot approve" in html


def test_a_form_without_a_csrf_token_is_refused(team, auth):
    auth.login("sam")
    response = team.client.post(f"/operations/{team.operation_id}/members", data={"username": "nina"})
    assert response.status_code == 400


def test_the_central_record_lists_searches_and_exports_every_authorization(team, auth, clock, factory):
    from tests.factories import make_operation

    other = make_operation(team.app, "otto", name="Operation Harbour")
    make_authorization(
        team.app,
        "lena",
        other,
        reference="=HYPERLINK(1)",
        authority="Court of Example",
        valid_until=clock.now() + timedelta(days=10),
    )
    make_authorization(
        team.app,
        "lena",
        other,
        reference="OLD-1",
        valid_from=clock.now() - timedelta(days=40),
        valid_until=clock.now() - timedelta(days=10),
    )
    auth.login("lena")
    html = team.client.get("/authorizations").get_data(as_text=True)
    assert "Operation Harbour" in html and "Operation Lantern" in html
    assert "expiring within 14 days" in html and "lapsed" in html
    found = team.client.get("/authorizations?q=court+of+example").get_data(as_text=True)
    assert "=HYPERLINK(1)" in found and "OLD-1" not in found
    lapsed = team.client.get("/authorizations?status=lapsed").get_data(as_text=True)
    assert "OLD-1" in lapsed and "=HYPERLINK(1)" not in lapsed
    export = team.client.get("/authorizations.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    text = export.data.decode("utf-8-sig")
    assert '"\'=HYPERLINK(1)"' in text and "Operation Lantern" in text
    assert "+01:00" not in text or "CET" in text


def test_the_central_record_is_for_legal_officers_only(team, auth):
    auth.login("sam")
    assert team.client.get("/authorizations").status_code == 403
    assert team.client.get("/authorizations.csv").status_code == 403


def test_home_pages_list_operations_approvals_and_the_records_alarms(team, auth, clock):
    make_profile(team.app, team.operation_id, team.authorization_id, "sam", handle="waiting_one")
    make_authorization(team.app, "lena", team.operation_id, reference="SOON-1",
                       valid_until=clock.now() + timedelta(days=3))
    auth.login("sol")
    html = team.client.get("/").get_data(as_text=True)
    assert "Operation Lantern" in html and "waiting_one" in html
    auth.logout()
    auth.login("sam")
    assert "waiting_one" not in team.client.get("/").get_data(as_text=True)  # one's own proposal
    auth.logout()
    auth.login("lena")
    html = team.client.get("/").get_data(as_text=True)
    assert "SOON-1" in html and "expiring within 14 days" in html and "/authorizations" in html
