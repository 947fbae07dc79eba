"""Decisions: only a legal officer decides; suspend and terminate act on the profiles at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from decoy.db import get_engine
from decoy.reviews.passes import review_pass
from tests.decoy.reviews.test_enforcement import audit_entries
from tests.support import code_for, csrf_from


def review_ids(team: Any) -> list[int]:
    """The operation's reviews by due time, after the scheduler's pass has created them."""
    review_pass(team.app)
    answer = team.api("GET", f"/operations/{team.operation_id}/reviews")
    assert answer.status_code == 200, answer.get_json()
    return [item["id"] for item in answer.get_json()["items"]]


def decide(team: Any, review_id: int, username: str = "lena", **body: Any) -> Any:
    """POST a decision as ``username``."""
    return team.api("POST", f"/reviews/{review_id}/decision", username, json=body)


def test_suspend_decision_suspends_the_active_profiles(team: Any) -> None:
    review_id = review_ids(team)[0]
    answer = decide(team, review_id, decision="suspend", rationale="Conditions are not met.")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "done"
    assert body["decision"]["decision"] == "suspend" and body["decision"]["decided_by"] == "lena"
    assert body["decision"]["profiles"] == team.profile_ids
    assert set(team.statuses().values()) == {"suspended"}
    reasons = [entry["details"]["reason"] for entry in audit_entries(team.app, "profile.suspend")]
    assert reasons and all(
        f"review {review_id}" in reason and code_for("lena") in reason for reason in reasons
    )
    assert audit_entries(team.app, "review.decide")[0]["details"]["decision"] == "suspend"


def test_terminate_decision_retires_every_profile(team: Any) -> None:
    review_id = review_ids(team)[0]
    answer = decide(team, review_id, decision="terminate", rationale="The investigation ends.")
    assert answer.status_code == 200, answer.get_json()
    assert set(team.statuses().values()) == {"retired"}
    assert {entry["actor"] for entry in audit_entries(team.app, "profile.retire")} == {code_for("lena")}


def test_continue_decision_leaves_the_profiles(team: Any) -> None:
    review_id = review_ids(team)[0]
    assert decide(team, review_id, decision="continue", rationale="Within the order.").status_code == 200
    assert set(team.statuses().values()) == {"active"}
    again = decide(team, review_id, decision="suspend", rationale="Second thoughts.")
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("sam", 403),  # supervisor, member
        ("dana", 403),  # detective, member
        ("nina", 404),  # detective, not a member
        ("adam", 404),  # admin: sees no evidence
        ("lars", 200),  # legal officer, not a member: legal officers read every operation
    ],
)
def test_only_a_legal_officer_decides(team: Any, username: str, status: int) -> None:
    review_id = review_ids(team)[0]
    answer = decide(team, review_id, username, decision="continue", rationale="Fine.")
    assert answer.status_code == status, answer.get_json()
    read = team.api("GET", f"/reviews/{review_id}", username)
    assert read.status_code == (404 if status == 404 else 200)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rationale": "no decision"}, "decision"),
        ({"decision": "approve", "rationale": "x"}, "decision"),
        ({"decision": 3, "rationale": "x"}, "decision"),
        ({"decision": "continue"}, "rationale"),
        ({"decision": "continue", "rationale": "   "}, "rationale"),
        ({"decision": "continue", "rationale": ["a"]}, "rationale"),
        ({"decision": "continue", "rationale": "x" * 10_001}, "rationale"),
    ],
)
def test_bad_decision_input_names_the_field(team: Any, body: dict[str, Any], field: str) -> None:
    review_id = review_ids(team)[0]
    answer = decide(team, review_id, **body)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == field


def test_malformed_bodies_and_unknown_ids(team: Any) -> None:
    review_id = review_ids(team)[0]
    answer = team.api("POST", f"/reviews/{review_id}/decision", data="not json", content_type="text/plain")
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "body"
    assert team.api("POST", "/reviews/99999/decision", json={}).status_code == 404
    assert team.api("GET", "/reviews/99999999999999").status_code == 404
    assert team.api("GET", f"/operations/{team.operation_id}/reviews?limit=0").status_code == 400
    assert team.api("GET", f"/operations/{team.operation_id}/reviews?after=x").status_code == 400


def test_decision_form_with_csrf(team: Any, auth: Any) -> None:
    review_id = review_ids(team)[0]
    auth.login("lena")
    page = team.client.get(f"/reviews/{review_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Record the decision" in html
    missing = team.client.post(f"/reviews/{review_id}", data={"decision": "continue", "rationale": "x"})
    assert missing.status_code == 400  # no CSRF token
    answer = team.client.post(
        f"/reviews/{review_id}",
        data={"decision": "suspend", "rationale": "Stop now.", "csrf_token": csrf_from(html)},
    )
    assert answer.status_code == 302
    assert set(team.statuses().values()) == {"suspended"}
    shown = team.client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "Stop now." in shown and "Record the decision" not in shown


def test_supervisor_sees_the_review_page_without_the_form(team: Any, auth: Any) -> None:
    review_id = review_ids(team)[0]
    auth.login("sam")
    page = team.client.get(f"/reviews/{review_id}")
    assert page.status_code == 200
    assert "Only a legal officer decides" in page.get_data(as_text=True)
    token = csrf_from(team.client.get("/notifications").get_data(as_text=True))
    posted = team.client.post(
        f"/reviews/{review_id}", data={"decision": "continue", "rationale": "x", "csrf_token": token}
    )
    assert posted.status_code == 403


def test_decisions_are_append_only(team: Any) -> None:
    review_id = review_ids(team)[0]
    assert decide(team, review_id, decision="continue", rationale="Fine.").status_code == 200
    with get_engine(team.app).connect() as connection, pytest.raises(Exception, match="append-only"):
        connection.execute(text("UPDATE review_decision SET decision = 'terminate'"))


def test_operation_records_carry_the_decisions_for_bundles(team: Any) -> None:
    from decoy.db import session_scope
    from decoy.reviews.services import operation_records

    review_id = review_ids(team)[0]
    assert decide(team, review_id, decision="amend", rationale="Platforms to be added.").status_code == 200
    with team.app.app_context(), session_scope(team.app) as session:
        records = operation_records(session, team.operation_id)
    assert [record["id"] for record in records][0] == review_id
    assert records[0]["decision"]["decision"] == "amend" and records[0]["status"] == "done"
    assert {record["status"] for record in records[1:]} == {"pending"}
