"""Evidence is never refused: each flag of the specification is computed and stored (rule 3)."""

from __future__ import annotations

from datetime import timedelta

from tests.support import START

from .support import authorization_terms


def test_a_contact_and_message_within_the_authorization_carry_no_flags(world):
    contact_id = world.contact()
    answer = world.message(contact_id)
    assert answer["flags"] == []
    assert world.get(f"/contacts/{contact_id}").get_json()["flags"] == []


def test_a_message_before_the_authorization_is_stored_and_flagged_outside_authorization(world):
    contact_id = world.contact()
    answer = world.message(contact_id, sent_at="2026-02-20T12:00:00+01:00")
    assert answer["flags"] == ["outside_authorization"]
    stored = world.get(f"/messages/{answer['id']}").get_json()
    assert stored["flags"] == ["outside_authorization"]
    assert stored["body"] == "hello, how are you"


def test_a_message_after_the_authorization_lapsed_is_flagged(world):
    contact_id = world.contact()
    late = (START + timedelta(days=31)).isoformat()
    assert world.message(contact_id, sent_at=late)["flags"] == ["outside_authorization"]


def test_a_contact_first_seen_outside_the_authorization_is_flagged(world):
    response = world.post(
        f"/profiles/{world.profile_id}/contacts",
        json={"counterpart": "early_bird", "first_seen_at": "2026-01-05T08:00:00Z"},
    )
    assert response.status_code == 201
    assert response.get_json()["flags"] == ["outside_authorization"]


def test_an_extension_covers_its_own_period_and_the_old_one_covers_its_own(world):
    extension = world.authorization(
        **authorization_terms(
            reference="EXT-1",
            supersedes_id=world.authorization_id,
            valid_from=START + timedelta(days=30),
            valid_until=START + timedelta(days=60),
        )
    )
    assert extension
    contact_id = world.contact()
    assert world.message(contact_id, sent_at="2026-03-05T10:00:00+01:00")["flags"] == []
    assert world.message(contact_id, sent_at=(START + timedelta(days=45)).isoformat())["flags"] == []
    late = (START + timedelta(days=61)).isoformat()
    assert world.message(contact_id, sent_at=late)["flags"] == ["outside_authorization"]


def test_a_contact_with_a_profile_never_approved_is_stored_and_flagged(world):
    pending = world.profile(approved=False, handle="decoy_pending")
    response = world.post(f"/profiles/{pending}/contacts", json={"counterpart": "someone_new"})
    assert response.status_code == 201
    assert response.get_json()["flags"] == ["profile_not_active"]
    contact_id = response.get_json()["id"]
    assert world.message(contact_id)["flags"] == ["profile_not_active"]


def test_the_first_message_written_by_the_decoy_is_flagged_decoy_initiated(world):
    contact_id = world.contact()
    first = world.message(contact_id, direction="out", body="hi there", sent_at="2026-03-02T10:00:00+01:00")
    assert first["flags"] == ["decoy_initiated"]
    reply = world.message(contact_id, direction="in", body="hello", sent_at="2026-03-02T10:01:00+01:00")
    assert reply["flags"] == []
    after_reply = world.message(
        contact_id, direction="out", body="how are you", sent_at="2026-03-02T10:02:00+01:00"
    )
    assert after_reply["flags"] == []


def test_an_outgoing_message_after_an_incoming_one_is_not_decoy_initiated(world):
    contact_id = world.contact()
    world.message(contact_id, direction="in", sent_at="2026-03-02T10:00:00+01:00")
    assert world.message(contact_id, direction="out", sent_at="2026-03-02T10:05:00+01:00")["flags"] == []


def test_decoy_initiated_is_not_flagged_when_the_authorization_allows_it(world):
    allowing = world.authorization(**authorization_terms(reference="INIT-OK", may_initiate_contact=True))
    profile_id = world.profile(authorization_id=allowing, handle="decoy_initiator")
    contact_id = world.contact(profile_id)
    assert world.message(contact_id, direction="out")["flags"] == []


def test_an_outgoing_message_by_an_officer_not_named_is_flagged(world):
    contact_id = world.contact()
    world.message(contact_id, direction="in", sent_at="2026-03-02T10:00:00+01:00")
    answer = world.message(contact_id, direction="out", username="dirk", sent_at="2026-03-02T10:01:00+01:00")
    assert answer["flags"] == ["officer_not_named"]
    incoming = world.message(contact_id, direction="in", username="dirk", sent_at="2026-03-02T10:02:00+01:00")
    assert incoming["flags"] == []


def test_a_profile_on_a_platform_not_permitted_is_flagged(world):
    # Proposed while its platform was permitted; the amendment in force now no longer permits it.
    elsewhere = world.profile(approved=False, handle="decoy_elsewhere")
    world.authorization(**authorization_terms(supersedes_id=world.authorization_id, platforms=["otherchat"]))
    response = world.post(f"/profiles/{elsewhere}/contacts", json={"counterpart": "far_away"})
    assert set(response.get_json()["flags"]) == {"platform_not_permitted", "profile_not_active"}
    contact_id = response.get_json()["id"]
    answer = world.message(contact_id, direction="out", username="dirk", sent_at="2026-02-01T10:00:00Z")
    assert answer["flags"] == [
        "outside_authorization",
        "profile_not_active",
        "decoy_initiated",
        "officer_not_named",
        "platform_not_permitted",
    ]


def test_flags_are_shown_on_the_page(world, auth):
    contact_id = world.contact()
    world.message(contact_id, direction="out", body="hi there")
    auth.login("dana")
    page = world.client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert '<strong class="flag">Decoy wrote first</strong>' in page
    assert "the decoy wrote first and the authorization does not allow it" in page
    assert "decoy_initiated" not in page  # the key belongs to the API and the exports
