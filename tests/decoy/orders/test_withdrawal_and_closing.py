"""Withdrawing an order and closing an operation (rule 11): profiles suspended or retired at once, later
evidence flagged, the end report kept with its SHA-256 and deliveries, reopening a legal officer's
recorded decision, and every record checked by `decoy audit verify`."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from audit.bundle import verify_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS, EVIDENCE_BUNDLE_NOTES
from decoy.cli import main
from decoy.db import session_scope
from decoy.models import EndReport, Profile
from decoy.reviews.enforcement import enforce
from tests.decoy.disclosure.classes_support import tamper
from tests.decoy.evidence.support import entries_for
from tests.support import START, code_for, csrf_from


def _status(world: Any, profile_id: int) -> str:
    with world.app.app_context(), session_scope(world.app) as session:
        return session.get(Profile, profile_id).status  # type: ignore[union-attr]


def _withdraw(world: Any, username: str = "lena", **body: Any) -> Any:
    body.setdefault("reason", "the public prosecutor withdrew the order (decision W-1)")
    return world.post(f"/authorizations/{world.authorization_id}/withdraw", username, json=body)


def test_a_withdrawal_suspends_at_once_and_flags_what_comes_after(world: Any, clock: Any) -> None:
    contact = world.contact()
    world.message(contact, sent_at="2026-03-02T09:30:00+01:00")
    response = _withdraw(world)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["authorization_id"] == world.authorization_id and body["by"] == "lena"
    assert _status(world, world.profile_id) == "suspended"
    authorization = world.get(f"/authorizations/{world.authorization_id}", "lena").get_json()
    assert authorization["status"] == "withdrawn" and authorization["withdrawal"]["reason"].startswith("the")
    clock.advance(hours=1)
    before = world.message(contact, sent_at="2026-03-02T09:45:00+01:00")  # sent before the withdrawal
    after = world.message(contact, sent_at="2026-03-02T11:00:00+01:00")
    assert "outside_authorization" not in before["flags"]
    assert "outside_authorization" in after["flags"]
    [entry] = entries_for(world.app, "authorization.withdraw")
    assert entry["actor"] == code_for("lena") and "reason" not in entry["details"]
    [suspension] = entries_for(world.app, "enforcement.suspend")
    assert suspension["details"]["rule"] == "authorization_withdrawn"


def test_a_withdrawal_from_a_later_moment_suspends_when_it_comes(world: Any, clock: Any) -> None:
    later = START + timedelta(days=2)
    assert _withdraw(world, effective_at=later.isoformat()).status_code == 200
    assert _status(world, world.profile_id) == "active"
    with world.app.app_context(), session_scope(world.app) as session:
        assert enforce(session) == []
    clock.set(later + timedelta(minutes=1))
    with world.app.app_context(), session_scope(world.app) as session:
        [action] = enforce(session)
    assert action.rule == "authorization_withdrawn"
    assert _status(world, world.profile_id) == "suspended"


@pytest.mark.parametrize(
    ("username", "body", "status", "field"),
    [
        ("sam", {}, 403, None),
        ("dana", {}, 403, None),
        ("nina", {}, 404, None),
        ("lena", {"reason": " "}, 400, "reason"),
        ("lena", {"effective_at": "soon"}, 400, "effective_at"),
        ("lena", {"effective_at": "2026-01-01T00:00:00Z"}, 400, "effective_at"),
        ("lena", {"effective_at": "2027-01-01T00:00:00Z"}, 409, "effective_at"),
    ],
)
def test_withdrawal_refusals(world: Any, username: str, body: Any, status: int, field: Any) -> None:
    response = _withdraw(world, username, **body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"].get("field") == field
    assert _status(world, world.profile_id) == "active"


def test_only_the_current_order_is_withdrawn_and_only_once(world: Any) -> None:
    assert _withdraw(world).status_code == 200
    again = _withdraw(world)
    assert again.status_code == 409 and "already withdrawn" in again.get_json()["error"]["message"]
    newer = world.authorization(supersedes_id=world.authorization_id, reference="OvJ-NEW-1")
    other = world.authorization(reference="OvJ-OTHER-1")
    extension = world.authorization(supersedes_id=other, reference="OvJ-OTHER-2")
    assert newer and extension
    superseded = world.post(f"/authorizations/{other}/withdraw", "lena", json={"reason": "r"})
    assert superseded.status_code == 409 and "OvJ-OTHER-2" in superseded.get_json()["error"]["message"]


def test_the_withdraw_page_confirms_with_a_reason(world: Any, auth: Any) -> None:
    auth.login("lena")
    page = f"/authorizations/{world.authorization_id}/withdraw"
    html = world.client.get(page).get_data(as_text=True)
    assert "decoy_one" in html  # the active profile that will be suspended
    empty = world.client.post(page, data={"csrf_token": csrf_from(html), "reason": ""})
    assert empty.status_code == 400 and "reason" in empty.get_data(as_text=True)
    done = world.client.post(page, data={"csrf_token": csrf_from(html), "reason": "decision W-2"})
    assert done.status_code == 302
    overview = world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True)
    assert "decision W-2" in overview and "withdrawn" in overview


def _close(world: Any, username: str = "sam", reason: str = "the investigation ended") -> Any:
    return world.post(f"/operations/{world.operation_id}/close", username, json={"reason": reason})


def test_closing_retires_every_profile_and_makes_the_end_report(
    world: Any, clock: Any, tmp_path: Any
) -> None:
    pending = world.profile(approved=False, handle="decoy_pending")
    contact = world.contact()
    world.message(contact)
    response = _close(world)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "closed"
    assert _status(world, world.profile_id) == "retired" and _status(world, pending) == "retired"
    report = body["end_report"]
    pdf = world.get(f"/end-reports/{report['id']}.pdf", "lena")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == report["sha256"] == pdf.headers["X-Content-SHA256"]
    path = tmp_path / "end.pdf"
    path.write_bytes(pdf.data)
    words = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "End report" in words and "Operation Lantern" in words and "the investigation ended" in words
    assert "sam" not in words.split() and code_for("sam") in words
    [close] = entries_for(world.app, "operation.close")
    assert close["details"]["profiles_retired"] == sorted([world.profile_id, pending])
    [made] = entries_for(world.app, "end_report.create")
    assert made["evidence"]["sha256"] == report["sha256"]
    # Evidence keeps arriving after the closing: recorded, and flagged.
    clock.advance(hours=2)
    late = world.message(contact, sent_at="2026-03-02T11:30:00+01:00")
    assert {"operation_closed", "profile_not_active"} <= set(late["flags"])


def test_a_closed_operation_is_closed_with_a_reason_and_only_once(world: Any) -> None:
    status = world.post(f"/operations/{world.operation_id}/status", "sam", json={"status": "closed"})
    assert status.status_code == 409 and status.get_json()["error"]["field"] == "status"
    missing = world.post(f"/operations/{world.operation_id}/close", "sam", json={"reason": ""})
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "reason"
    assert _close(world, "dana").status_code == 403
    assert _close(world, "nina").status_code == 404
    assert _close(world, "lena").status_code == 200  # a legal officer may close too
    again = _close(world)
    assert again.status_code == 409


def test_reopening_is_a_legal_officer_s_recorded_decision(world: Any) -> None:
    assert _close(world).status_code == 200
    path = f"/operations/{world.operation_id}/reopen"
    assert world.post(path, "sam", json={"reason": "more to do"}).status_code == 403
    assert world.post(path, "lena", json={"reason": ""}).status_code == 400
    reopened = world.post(path, "lena", json={"reason": "the prosecutor asked for more"})
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "suspended"
    assert _status(world, world.profile_id) == "retired"
    [entry] = entries_for(world.app, "operation.reopen")
    assert entry["actor"] == code_for("lena") and entry["details"]["to"] == "suspended"
    assert world.post(path, "lena", json={"reason": "again"}).status_code == 409
    second = _close(world, reason="done for good")
    assert second.status_code == 200
    reports = world.get(f"/operations/{world.operation_id}/end-reports", "lena").get_json()["items"]
    assert len(reports) == 2 and reports[0]["id"] == second.get_json()["end_report"]["id"]


def test_deliveries_of_the_end_report_are_recorded(world: Any) -> None:
    report = _close(world).get_json()["end_report"]
    path = f"/end-reports/{report['id']}/deliveries"
    response = world.post(path, "lena", json={"recipient": "Public prosecutor's office, district of Example"})
    assert response.status_code == 201 and response.get_json()["recorded_by"] == "lena"
    assert world.post(path, "lena", json={"recipient": ""}).status_code == 400
    future = world.post(path, "lena", json={"recipient": "x", "delivered_at": "2027-01-01T00:00:00Z"})
    assert future.status_code == 400 and future.get_json()["error"]["field"] == "delivered_at"
    assert world.post(path, "dana", json={"recipient": "x"}).status_code == 403
    assert world.post(path, "nina", json={"recipient": "x"}).status_code == 404
    [listed] = world.get(f"/operations/{world.operation_id}/end-reports", "sam").get_json()["items"]
    recipients = [d["recipient"] for d in listed["deliveries"]]
    assert recipients == ["Public prosecutor's office, district of Example"]
    [entry] = entries_for(world.app, "end_report.deliver")
    assert entry["details"]["sha256"] == report["sha256"]


def test_the_pages_close_deliver_and_reopen(world: Any, auth: Any) -> None:
    auth.login("sam")
    overview = f"/operations/{world.operation_id}"
    assert "close-operation" in world.client.get(overview).get_data(as_text=True)
    page = f"/operations/{world.operation_id}/close"
    html = world.client.get(page).get_data(as_text=True)
    assert "decoy_one" in html
    done = world.client.post(page, data={"csrf_token": csrf_from(html), "reason": "ended <b>now</b>"})
    assert done.status_code == 302
    shown = world.client.get(overview).get_data(as_text=True)
    assert "ended &lt;b&gt;now&lt;/b&gt;" in shown and "end-report-" in shown
    with world.app.app_context(), session_scope(world.app) as session:
        report = session.exec(select(EndReport)).one()
    deliver = world.client.post(f"/end-reports/{report.id}/deliveries", data={
        "csrf_token": csrf_from(shown), "recipient": "Prosecutor's office", "delivered_at": "",
    })
    assert deliver.status_code == 302
    assert "Prosecutor&#39;s office" in world.client.get(overview).get_data(as_text=True)
    auth.logout()
    auth.login("lena")
    reopen = f"/operations/{world.operation_id}/reopen"
    html = world.client.get(reopen).get_data(as_text=True)
    answer = world.client.post(reopen, data={"csrf_token": csrf_from(html), "reason": "asked"})
    assert answer.status_code == 302


def test_verify_checks_withdrawals_closings_and_end_reports(world: Any, runner: Any) -> None:
    assert _withdraw(world).status_code == 200
    report = _close(world).get_json()["end_report"]
    world.post(f"/end-reports/{report['id']}/deliveries", "lena", json={"recipient": "the prosecutor"})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    tamper(world.app, "authorization_withdrawal", "UPDATE authorization_withdrawal SET reason = 'other'")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code != 0 and "withdrawal" in result.output


def test_verify_names_an_altered_closing_and_delivery(world: Any, runner: Any) -> None:
    report = _close(world).get_json()["end_report"]
    world.post(f"/end-reports/{report['id']}/deliveries", "lena", json={"recipient": "the prosecutor"})
    tamper(world.app, "end_report_delivery", "UPDATE end_report_delivery SET recipient = 'someone else'")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code != 0 and "end report delivery" in result.output


def _exported(runner: Any, world: Any, path: Any) -> Any:
    exported = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path)])
    assert exported.exit_code == 0, exported.output
    return verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS, notes=EVIDENCE_BUNDLE_NOTES)


def test_the_bundle_carries_the_withdrawal_and_verifies_offline(
    world: Any, runner: Any, tmp_path: Any
) -> None:
    contact = world.contact()
    world.message(contact)
    assert _withdraw(world).status_code == 200
    path = tmp_path / "bundle.zip"
    report = _exported(runner, world, path)
    assert report.ok, report.reason
    with zipfile.ZipFile(path) as bundle:
        records = json.loads(bundle.read("authorizations.json"))
    [record] = [a for a in records if a["id"] == world.authorization_id]
    assert record["withdrawal"]["withdrawn_by"] == code_for("lena")
    # A withdrawal changed behind the triggers travels into the next bundle, and is named there.
    tamper(world.app, "authorization_withdrawal", "UPDATE authorization_withdrawal SET reason = 'other'")
    report = _exported(runner, world, tmp_path / "altered.zip")
    assert not report.ok and "withdrawal" in report.reason, report.reason


def _summary(html: str) -> str:
    start = html.index('<dl class="summary')
    return html[start:html.index("</dl>", start)]


def test_the_withdraw_page_is_a_confirmation_with_a_summary_a_danger_button_and_cancel(
    world: Any, auth: Any
) -> None:
    auth.login("lena")
    page = f"/authorizations/{world.authorization_id}/withdraw"
    html = world.client.get(page).get_data(as_text=True)
    summary = _summary(html)
    assert "decoy_one" in summary and "valid" in summary and "Operation Lantern" in summary
    assert "order of the public prosecutor" in summary.lower()
    assert "What happens" in html and "cannot be undone" in html
    assert '<button type="submit" class="danger">Withdraw the order</button>' in html
    back = f'<a href="/operations/{world.operation_id}#authorization-{world.authorization_id}">Cancel</a>'
    assert back in html
    assert "Without an offset it is read in Europe/Amsterdam" in html
    empty = world.client.post(page, data={"csrf_token": csrf_from(html), "reason": ""})
    shown = empty.get_data(as_text=True)
    assert empty.status_code == 400 and shown.index("There is a problem") < shown.index("<h1>")
    assert '<a href="#reason">reason is required</a>' in shown and 'id="reason-error"' in shown
    soon = world.client.post(page, data={"csrf_token": csrf_from(html), "reason": "W-3",
                                         "effective_at": "soon"})
    assert soon.status_code == 400
    assert '<a href="#effective_at">Enter the time as on the platform' in soon.get_data(as_text=True)
    later = world.client.post(page, data={"csrf_token": csrf_from(html), "reason": "W-3",
                                          "effective_at": "2026-03-04 10:00"})
    assert later.status_code == 302
    answer = world.get(f"/authorizations/{world.authorization_id}", "lena").get_json()
    assert answer["withdrawal"]["effective_at"].startswith("2026-03-04T09:00:00")  # 10:00 CET


def test_the_close_page_is_a_confirmation_with_a_summary_a_danger_button_and_cancel(
    world: Any, auth: Any
) -> None:
    auth.login("sam")
    page = f"/operations/{world.operation_id}/close"
    html = world.client.get(page).get_data(as_text=True)
    summary = _summary(html)
    assert "Profiles that will be retired" in summary and "decoy_one" in summary
    assert "End report" in summary and "<dt>Status</dt>" in summary
    assert '<button type="submit" class="danger">Close the operation</button>' in html
    assert f'<a href="/operations/{world.operation_id}#closing">Cancel</a>' in html
    empty = world.client.post(page, data={"csrf_token": csrf_from(html), "reason": " "})
    shown = empty.get_data(as_text=True)
    assert empty.status_code == 400 and shown.index("There is a problem") < shown.index("<h1>")
    assert 'id="reason-error"' in shown
