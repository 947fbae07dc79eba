"""Rule 1: a profile becomes active only under a valid authorization, on a permitted platform, within the
maximum, after approval by a supervisor who did not propose it. Each refusal is 409 and leaves it pending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from decoy.db import session_scope
from decoy.models import Profile, ProfileTransition
from tests.factories import make_authorization, make_profile
from tests.support import START, code_for


def _status(app, profile_id):
    with app.app_context(), session_scope(app) as session:
        return session.get(Profile, profile_id).status


def _approve(team, profile_id, username="sol"):
    return team.api("POST", f"/profiles/{profile_id}/approve", username)


def _refused(team, profile_id, words, username="sol"):
    before = team.audit_size()
    response = _approve(team, profile_id, username)
    assert response.status_code == 409, response.get_json()
    message = response.get_json()["error"]["message"]
    assert words in message
    assert _status(team.app, profile_id) == "pending_approval"
    assert team.audit_size() == before
    return message


def test_four_eyes_approval_by_a_colleague_activates_the_profile(team):
    profile_id = make_profile(team.app, team.operation_id, team.authorization_id, "sam")
    response = _approve(team, profile_id)
    assert response.status_code == 200
    assert response.get_json() == {"id": profile_id, "status": "active"}
    with team.app.app_context(), session_scope(team.app) as session:
        steps = session.exec(
            select(ProfileTransition)
            .where(ProfileTransition.profile_id == profile_id)
            .order_by(ProfileTransition.id)
        ).all()
        assert [(step.from_status, step.to_status, step.actor) for step in steps] == [
            (None, "pending_approval", code_for("sam")),
            ("pending_approval", "active", code_for("sol")),
        ]


def test_self_approval_is_refused(team):
    profile_id = make_profile(team.app, team.operation_id, team.authorization_id, "sam")
    assert "four-eyes" in _refused(team, profile_id, "proposed", username="sam")


def test_approval_by_a_detective_is_refused(team):
    profile_id = make_profile(team.app, team.operation_id, team.authorization_id, "sam")
    assert "four-eyes" in _refused(team, profile_id, "supervisor", username="dana")


def test_approval_under_an_expired_authorization_is_refused(team, clock):
    expired = make_authorization(
        team.app,
        "lena",
        team.operation_id,
        valid_from=START - timedelta(days=60),
        valid_until=START - timedelta(days=1),
    )
    profile_id = make_profile(team.app, team.operation_id, expired, "sam")
    assert "lapsed" in _refused(team, profile_id, "authorization rule")


def test_approval_under_a_not_yet_valid_authorization_is_refused(team):
    future = make_authorization(
        team.app,
        "lena",
        team.operation_id,
        valid_from=START + timedelta(days=2),
        valid_until=START + timedelta(days=30),
    )
    profile_id = make_profile(team.app, team.operation_id, future, "sam")
    assert "not yet valid" in _refused(team, profile_id, "authorization rule")


def test_approval_on_a_platform_not_permitted_is_refused(team):
    """An amendment that drops the platform stops a profile proposed while it was permitted."""
    profile_id = make_profile(team.app, team.operation_id, team.authorization_id, "sam", platform="chatapp")
    make_authorization(team.app, "lena", team.operation_id, supersedes_id=team.authorization_id,
                       platforms=["otherchat"])
    message = _refused(team, profile_id, "platform rule")
    assert "chatapp" in message and "it permits otherchat" in message
    assert _approve(team, profile_id).get_json()["error"]["field"] == "platform"


def test_a_proposal_on_a_platform_not_permitted_is_refused_naming_the_rule_and_the_field(team):
    before = team.audit_size()
    response = team.api("POST", f"/operations/{team.operation_id}/profiles", "sam", json={
        "authorization_id": team.authorization_id, "platform": "otherchat", "handle": "far_away"})
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == "platform"
    assert error["message"].startswith("platform rule: authorization ")
    assert "does not permit the platform otherchat; it permits chatapp" in error["message"]
    assert team.audit_size() == before
    with team.app.app_context(), session_scope(team.app) as session:
        assert session.exec(select(Profile.id)).first() is None
    same = team.api("POST", f"/operations/{team.operation_id}/profiles", "sam", json={
        "authorization_id": team.authorization_id, "platform": " ChatApp ", "handle": "near_by"})
    assert same.status_code == 201, same.get_json()


def test_a_proposal_is_held_to_the_platforms_of_the_authorization_valid_now(team):
    """A future amendment that adds a platform does not permit it before it starts; the order in force
    does."""
    future = make_authorization(team.app, "lena", team.operation_id, supersedes_id=team.authorization_id,
                                platforms=["chatapp", "otherchat"],
                                valid_from=START + timedelta(days=2), valid_until=START + timedelta(days=40))
    early = team.api("POST", f"/operations/{team.operation_id}/profiles", "sam", json={
        "authorization_id": future, "platform": "otherchat", "handle": "too_early"})
    assert early.status_code == 409 and early.get_json()["error"]["field"] == "platform"
    fine = team.api("POST", f"/operations/{team.operation_id}/profiles", "sam", json={
        "authorization_id": future, "platform": "chatapp", "handle": "in_time"})
    assert fine.status_code == 201, fine.get_json()


def test_one_profile_over_the_maximum_is_refused(team):
    small = make_authorization(team.app, "lena", team.operation_id, max_profiles=2)
    for handle in ("first_one", "second_one"):
        make_profile(team.app, team.operation_id, small, "sam", approver="sol", handle=handle)
    third = make_profile(team.app, team.operation_id, small, "sam", handle="third_one")
    assert "at most 2" in _refused(team, third, "maximum rule")


def test_a_retired_profile_frees_its_place_under_the_maximum(team):
    small = make_authorization(team.app, "lena", team.operation_id, max_profiles=1)
    first = make_profile(team.app, team.operation_id, small, "sam", approver="sol", handle="first_one")
    second = make_profile(team.app, team.operation_id, small, "sam", handle="second_one")
    _refused(team, second, "maximum rule")
    assert (
        team.api("POST", f"/profiles/{first}/retire", "sam", json={"reason": "cover burnt"}).status_code
        == 200
    )
    assert _approve(team, second).status_code == 200


def test_an_extension_makes_profiles_valid_again_under_the_new_authorization(team, clock):
    first = make_authorization(
        team.app, "lena", team.operation_id, valid_until=START + timedelta(days=5), platforms=["chatapp"]
    )
    profile_id = make_profile(team.app, team.operation_id, first, "sam", approver="sol", handle="lasting_one")
    clock.advance(timedelta(days=6))
    suspended = team.api(
        "POST", f"/profiles/{profile_id}/suspend", "lena", json={"reason": "authorization lapsed"}
    )
    assert suspended.get_json() == {"id": profile_id, "status": "suspended"}
    response = _approve(team, profile_id)
    assert response.status_code == 409 and "lapsed" in response.get_json()["error"]["message"]
    extension = make_authorization(
        team.app,
        "lena",
        team.operation_id,
        supersedes_id=first,
        valid_from=clock.now() - timedelta(hours=1),
        valid_until=clock.now() + timedelta(days=60),
    )
    assert _approve(team, profile_id).get_json() == {"id": profile_id, "status": "active"}
    detail = team.api("GET", f"/authorizations/{first}", "lena").get_json()
    assert detail["status"] == "superseded" and detail["superseded_by"] == extension


def test_an_authorization_can_be_superseded_only_once(team):
    make_authorization(team.app, "lena", team.operation_id, supersedes_id=team.authorization_id)
    with pytest.raises(Exception, match="already superseded"):
        make_authorization(team.app, "lena", team.operation_id, supersedes_id=team.authorization_id)


def test_a_suspension_needs_a_reason_and_an_active_profile(team):
    profile_id = make_profile(team.app, team.operation_id, team.authorization_id, "sam")
    pending = team.api("POST", f"/profiles/{profile_id}/suspend", "sam", json={"reason": "checking"})
    assert pending.status_code == 409
    _approve(team, profile_id)
    missing = team.api("POST", f"/profiles/{profile_id}/suspend", "sam", json={})
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "reason"


def test_an_urgent_oral_order_needs_its_written_order_not_just_any_document(team, clock):
    import io

    from decoy.operations import services
    from tests.factories import actor_for

    oral = make_authorization(
        team.app,
        "lena",
        team.operation_id,
        reference="OvJ-ORAL-1",
        kind="urgent_oral_order",
        written_order_days=3,
    )
    pdf = b"%PDF-1.4\n% neutral test document\n"

    def attach(kind):
        with team.app.app_context(), session_scope(team.app) as session:
            services.attach_order_document(
                session=session,
                actor=actor_for(session, "lena"),
                authorization_id=oral,
                stream=io.BytesIO(pdf + kind.encode()),
                filename=f"{kind}.pdf",
                kind=kind,
            )

    attach("order")
    clock.advance(days=4)
    profile_id = make_profile(team.app, team.operation_id, oral, "sam")
    _refused(team, profile_id, "written order")
    attach("written_order")
    assert _approve(team, profile_id).status_code == 200
