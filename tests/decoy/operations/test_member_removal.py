"""Removing a member: a supervisor of the operation removes a person with a reason; the removal is
recorded, the person loses access at once (API and web session), and the last supervisor stays."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select

from decoy.db import session_scope
from decoy.models import OperationMember
from tests.decoy.evidence.support import entries_for
from tests.factories import actor_for
from tests.support import code_for, csrf_from

REASON = "moved to another team"


def remove(team: Any, username: str, by: str = "sam", reason: Any = REASON, expect: int = 200) -> Any:
    """Remove ``username`` from the team's operation through the API."""
    body = {} if reason is None else {"reason": reason}
    answer = team.api("POST", f"/operations/{team.operation_id}/members/{username}/remove", by, json=body)
    assert answer.status_code == expect, answer.get_json()
    return answer.get_json()


def _members(team: Any) -> set[str]:
    answer = team.api("GET", f"/operations/{team.operation_id}", "sam")
    return {member["username"] for member in answer.get_json()["members"]}


def test_a_removed_member_loses_access_at_once_by_token_and_by_session(team: Any, auth: Any) -> None:
    auth.login("dana")
    assert team.client.get(f"/operations/{team.operation_id}").status_code == 200
    assert team.api("GET", f"/operations/{team.operation_id}", "dana").status_code == 200

    removed = remove(team, "dana")
    assert removed == {"operation_id": team.operation_id, "username": "dana", "reason": REASON}
    assert team.api("GET", f"/operations/{team.operation_id}", "dana").status_code == 404
    assert team.api("GET", f"/operations/{team.operation_id}/authorizations", "dana").status_code == 404
    assert team.client.get(f"/operations/{team.operation_id}").status_code == 404
    operations = team.api("GET", "/operations", "dana").get_json()["items"]
    assert team.operation_id not in [operation["id"] for operation in operations]
    assert _members(team) == {"sam", "sol"}


def test_the_removal_is_recorded_with_the_persons_code_and_the_reason(team: Any) -> None:
    remove(team, "dana")
    [entry] = entries_for(team.app, "operation.member_remove")
    with team.app.app_context(), session_scope(team.app) as session:
        dana = actor_for(session, "dana").id
    assert entry["actor"] == code_for("sam")
    assert entry["object"] == {"type": "operation", "id": team.operation_id}
    assert entry["operation"] == team.operation_id
    assert entry["details"] == {"user": dana, "code": code_for("dana"), "reason": REASON}


def test_the_last_supervisor_cannot_be_removed(team: Any) -> None:
    remove(team, "sol")
    answer = team.api("POST", f"/operations/{team.operation_id}/members/sam/remove", "sam",
                      json={"reason": REASON})
    assert answer.status_code == 409
    assert _members(team) == {"sam", "dana"}
    assert len(entries_for(team.app, "operation.member_remove")) == 1


def test_a_supervisor_may_leave_while_another_stays(team: Any) -> None:
    remove(team, "sam", by="sam")
    assert team.api("GET", f"/operations/{team.operation_id}", "sam").status_code == 404
    assert team.api("GET", f"/operations/{team.operation_id}", "sol").status_code == 200


@pytest.mark.parametrize(("reason", "field"), [(None, "reason"), ("", "reason"), ("   ", "reason"),
                                               (7, "reason"), ("x" * 2001, "reason")])
def test_a_reason_is_required(team: Any, reason: Any, field: str) -> None:
    answer = remove(team, "dana", reason=reason, expect=400)
    assert answer["error"]["field"] == field
    assert _members(team) == {"sam", "sol", "dana"}


@pytest.mark.parametrize("username", ["nina", "nobody", "lena"])
def test_an_unknown_or_non_member_username_is_a_400_naming_it(team: Any, username: str) -> None:
    assert remove(team, username, expect=400)["error"]["field"] == "username"


@pytest.mark.parametrize(("username", "status"), [("dana", 403), ("lena", 403), ("otto", 404), ("adam", 404)])
def test_only_a_supervisor_of_the_operation_removes(team: Any, username: str, status: int) -> None:
    remove(team, "sol", by=username, expect=status)
    assert _members(team) == {"sam", "sol", "dana"}
    assert entries_for(team.app, "operation.member_remove") == []


def test_the_page_confirms_with_a_reason_and_removes(team: Any, auth: Any) -> None:
    auth.login("sam")
    page = team.client.get(f"/operations/{team.operation_id}").get_data(as_text=True)
    link = f"/operations/{team.operation_id}/members/dana/remove"
    assert f'href="{link}"' in page
    confirm = team.client.get(link)
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert 'name="reason"' in html
    token = csrf_from(html)

    refused = team.client.post(link, data={"csrf_token": token, "reason": "  "})
    assert refused.status_code == 400
    assert re.search(r'<div class="field has-error">\s*<label for="reason"', refused.get_data(as_text=True))
    assert _members(team) == {"sam", "sol", "dana"}

    answer = team.client.post(link, data={"csrf_token": token, "reason": REASON})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/operations/{team.operation_id}#members")
    assert _members(team) == {"sam", "sol"}
    assert "dana removed from the operation" in team.client.get(answer.headers["Location"]).get_data(
        as_text=True)


def test_the_page_refuses_the_last_supervisor_and_others_than_supervisors(team: Any, auth: Any) -> None:
    remove(team, "sol")
    auth.login("sam")
    link = f"/operations/{team.operation_id}/members/sam/remove"
    token = csrf_from(team.client.get(link).get_data(as_text=True))
    answer = team.client.post(link, data={"csrf_token": token, "reason": REASON})
    assert answer.status_code == 409
    assert "last supervisor" in answer.get_data(as_text=True)
    assert team.client.get(f"/operations/{team.operation_id}/members/nina/remove").status_code == 400
    with team.app.app_context(), session_scope(team.app) as session:
        assert len(session.exec(select(OperationMember)).all()) == 2


def test_a_detective_sees_no_remove_action_and_may_not_open_it(team: Any, auth: Any) -> None:
    auth.login("dana")
    page = team.client.get(f"/operations/{team.operation_id}").get_data(as_text=True)
    assert "/members/sol/remove" not in page
    assert team.client.get(f"/operations/{team.operation_id}/members/sol/remove").status_code == 403


def test_a_too_long_reason_on_the_page_is_shown_at_its_field(team: Any, auth: Any) -> None:
    auth.login("sam")
    link = f"/operations/{team.operation_id}/members/dana/remove"
    token = csrf_from(team.client.get(link).get_data(as_text=True))
    answer = team.client.post(link, data={"csrf_token": token, "reason": "x" * 2001})
    assert answer.status_code == 400
    assert re.search(r'<div class="field has-error">\s*<label for="reason"', answer.get_data(as_text=True))
    expired = team.client.post(link, data={"csrf_token": "stale", "reason": REASON})
    assert expired.status_code == 400 and "The form expired" in expired.get_data(as_text=True)
    assert _members(team) == {"sam", "sol", "dana"}
