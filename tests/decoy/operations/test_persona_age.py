"""Rule 11: a profile's persona age lies in its authorization's range, on proposal and on approval; the
range and the age are shown, recorded in the audit log, covered by the row hashes (older rows hashing as
they always did) and verified in `decoy audit verify` and in the bundle's offline verifier."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from audit.bundle import verify_bundle
from audit.entry import canonical_json, format_time
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS, EVIDENCE_BUNDLE_NOTES
from audit.evidence_bundle.records import authorization_row_sha256, profile_row_sha256
from decoy.cli import main
from decoy.db import get_engine, session_scope
from decoy.evidence.fingerprint import authorization_fingerprint, columns, profile_fingerprint
from decoy.models import Authorization, Profile
from tests.decoy.evidence.support import entries_for
from tests.support import START, csrf_from, without_triggers

TERMS = {
    "kind": "court_ruling",
    "authority": "District Court",
    "legal_basis": "art. 126j Sv",
    "valid_from": "2026-03-01T00:00:00+01:00",
    "valid_until": "2026-06-01T00:00:00+02:00",
    "review_interval_days": 30,
    "platforms": ["chatapp"],
    "max_profiles": 5,
    "officers": ["dana"],
}


def _register(team: Any, reference: str, expect: int = 201, **extra: Any) -> dict[str, Any]:
    answer = team.api("POST", f"/operations/{team.operation_id}/authorizations", "lena",
                      json={**TERMS, "reference": reference, **extra})
    assert answer.status_code == expect, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def _propose(
    team: Any, authorization_id: int, handle: str, expect: int = 201, **extra: Any
) -> dict[str, Any]:
    answer = team.api("POST", f"/operations/{team.operation_id}/profiles", "sam",
                      json={"authorization_id": authorization_id, "platform": "chatapp", "handle": handle,
                            **extra})
    assert answer.status_code == expect, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def _approve(team: Any, profile_id: int) -> Any:
    return team.api("POST", f"/profiles/{profile_id}/approve", "sol")


def _form(client: Any, page: str, action: str, data: dict[str, Any]) -> Any:
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def test_a_range_is_registered_shown_and_recorded(team: Any, auth: Any) -> None:
    made = _register(team, "RB-2026-0011", persona_age_min=13, persona_age_max=15)
    assert (made["persona_age_min"], made["persona_age_max"]) == (13, 15)
    shown = team.api("GET", f"/authorizations/{made['id']}", "dana").get_json()
    assert (shown["persona_age_min"], shown["persona_age_max"]) == (13, 15)
    listed = team.api("GET", f"/operations/{team.operation_id}/authorizations", "dana").get_json()["items"]
    assert {(a["id"], a["persona_age_min"], a["persona_age_max"]) for a in listed} == {
        (team.authorization_id, None, None), (made["id"], 13, 15)
    }
    details = [e["details"] for e in entries_for(team.app, "authorization.register")]
    assert (details[-1]["persona_age_min"], details[-1]["persona_age_max"]) == (13, 15)
    one_sided = _register(team, "RB-2026-0012", persona_age_min=14)
    assert (one_sided["persona_age_min"], one_sided["persona_age_max"]) == (14, None)
    auth.login("dana")
    html = team.client.get(f"/operations/{team.operation_id}").get_data(as_text=True)
    assert "Persona age range" in html and "13–15" in html and "14 or older" in html
    auth.logout()
    auth.login("lena")
    export = team.client.get("/authorizations.csv").data.decode("utf-8-sig")
    assert "youngest persona age" in export and '"13","15"' in export


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"persona_age_min": -1}, "persona_age_min"),
        ({"persona_age_min": 121}, "persona_age_min"),
        ({"persona_age_max": 200}, "persona_age_max"),
        ({"persona_age_min": "13"}, "persona_age_min"),
        ({"persona_age_min": 13.5}, "persona_age_min"),
        ({"persona_age_max": True}, "persona_age_max"),
        ({"persona_age_min": 16, "persona_age_max": 15}, "persona_age_max"),
    ],
)
def test_a_bad_range_is_refused_naming_its_field(team: Any, extra: dict[str, Any], field: str) -> None:
    before = team.audit_size()
    answer = _register(team, "RB-2026-0020", expect=400, **extra)
    assert answer["error"]["field"] == field
    assert team.audit_size() == before


def test_a_bad_range_on_the_form_is_shown_beside_its_field(team: Any, auth: Any) -> None:
    auth.login("lena")
    page = f"/operations/{team.operation_id}/authorizations/new"
    fields = {"reference": "RB-2026-0021", "kind": "court_ruling", "authority": "Court",
              "legal_basis": "art. 126j Sv", "valid_from": "2026-03-01 00:00",
              "valid_until": "2026-06-01 00:00", "review_interval_days": "30", "platforms": "chatapp",
              "max_profiles": "2", "officers": "dana", "supersedes_id": ""}
    crossed = _form(team.client, page, page, {**fields, "persona_age_min": "16", "persona_age_max": "15"})
    assert crossed.status_code == 400
    assert "persona_age_max must not be below persona_age_min" in crossed.get_data(as_text=True)
    beyond = _form(team.client, page, page, {**fields, "persona_age_min": "130"})
    assert beyond.status_code == 400
    registered = _form(team.client, page, page, {**fields, "persona_age_min": "13", "persona_age_max": "15"})
    assert registered.status_code == 302, registered.get_data(as_text=True)
    with team.app.app_context(), session_scope(team.app) as session:
        stored = session.exec(select(Authorization).where(Authorization.reference == "RB-2026-0021")).one()
        assert (stored.persona_age_min, stored.persona_age_max) == (13, 15)
        stored_id = stored.id
    copy = team.client.get(f"{page}?supersedes={stored_id}").get_data(as_text=True)
    assert 'name="persona_age_min" type="number" value="13"' in copy
    assert 'name="persona_age_max" type="number" value="15"' in copy


def test_a_profile_inside_the_range_is_proposed_shown_and_recorded(team: Any, auth: Any) -> None:
    ranged = _register(team, "RB-2026-0030", persona_age_min=13, persona_age_max=15)
    proposed = _propose(team, ranged["id"], "sunny_day", persona_age=14)
    assert proposed["persona_age"] == 14
    shown = team.api("GET", f"/profiles/{proposed['id']}", "dana").get_json()
    assert shown["persona_age"] == 14
    assert entries_for(team.app, "profile.propose")[-1]["details"]["persona_age"] == 14
    assert _approve(team, proposed["id"]).status_code == 200
    unranged = _propose(team, team.authorization_id, "no_age_needed")
    assert unranged["persona_age"] is None
    auth.login("dana")
    html = team.client.get(f"/operations/{team.operation_id}").get_data(as_text=True)
    assert "Persona age: 14" in html


@pytest.mark.parametrize(("age", "shown"), [(12, "it is 12"), (16, "it is 16"), (None, "gives none")])
def test_a_profile_outside_the_range_is_refused_on_proposal(team: Any, age: int | None, shown: str) -> None:
    ranged = _register(team, "RB-2026-0040", persona_age_min=13, persona_age_max=15)
    before = team.audit_size()
    extra = {} if age is None else {"persona_age": age}
    error = _propose(team, ranged["id"], "too_old", expect=409, **extra)["error"]
    assert error["code"] == "rule_violation" and error["field"] == "persona_age"
    assert "persona age rule" in error["message"] and "13–15" in error["message"], error
    assert "RB-2026-0040" in error["message"] and shown in error["message"]
    assert team.audit_size() == before


def test_a_one_sided_range_bounds_one_side_only(team: Any) -> None:
    ranged = _register(team, "RB-2026-0041", persona_age_max=15)
    _propose(team, ranged["id"], "young_one", persona_age=9)
    error = _propose(team, ranged["id"], "old_one", expect=409, persona_age=16)["error"]
    assert "15 or younger" in error["message"]


@pytest.mark.parametrize("age", [-1, 121, "14", 14.5, True])
def test_a_malformed_persona_age_is_refused_naming_it(team: Any, age: Any) -> None:
    answer = _propose(team, team.authorization_id, "odd_age", expect=400, persona_age=age)
    assert answer["error"]["field"] == "persona_age"


def test_the_profile_form_takes_the_age_and_shows_the_rule(team: Any, auth: Any) -> None:
    ranged = _register(team, "RB-2026-0042", persona_age_min=13, persona_age_max=15)
    auth.login("sam")
    page = f"/operations/{team.operation_id}"
    fields = {"authorization_id": str(ranged["id"]), "platform": "chatapp", "persona": "a quiet reader"}
    action = f"{page}/profiles"
    refused = _form(team.client, page, action, {**fields, "handle": "too_old", "persona_age": "17"})
    assert refused.status_code == 409
    assert "persona age rule" in refused.get_data(as_text=True)
    proposed = _form(team.client, page, action, {**fields, "handle": "fits", "persona_age": "13"})
    assert proposed.status_code == 302, proposed.get_data(as_text=True)
    with team.app.app_context(), session_scope(team.app) as session:
        assert session.exec(select(Profile).where(Profile.handle == "fits")).one().persona_age == 13


def _extend(team: Any, previous: int, reference: str, **extra: Any) -> dict[str, Any]:
    """An extension valid from an hour before the test clock: it governs the chain at once."""
    return _register(team, reference, supersedes_id=previous,
                     valid_from=(START - timedelta(hours=1)).isoformat(), **extra)


def test_approval_is_refused_when_an_extension_narrowed_the_range(team: Any, auth: Any) -> None:
    wide = _register(team, "RB-2026-0050", persona_age_min=13, persona_age_max=17)
    sixteen = _propose(team, wide["id"], "sixteen", persona_age=16)
    fourteen = _propose(team, wide["id"], "fourteen", persona_age=14)
    _extend(team, wide["id"], "RB-2026-0051", persona_age_min=13, persona_age_max=15)
    refused = _approve(team, sixteen["id"])
    assert refused.status_code == 409, refused.get_json()
    error = refused.get_json()["error"]
    assert error["field"] == "persona_age"
    assert "persona age rule" in error["message"] and "13–15" in error["message"]
    assert "RB-2026-0051" in error["message"]
    assert team.api("GET", f"/profiles/{sixteen['id']}", "sam").get_json()["status"] == "pending_approval"
    assert _approve(team, fourteen["id"]).status_code == 200
    auth.login("sol")
    html = team.client.get(f"/operations/{team.operation_id}").get_data(as_text=True)
    assert "cannot approve" in html and "persona age rule" in html


def test_approval_is_refused_when_an_extension_set_a_range_the_profile_lacks(team: Any) -> None:
    ageless = _propose(team, team.authorization_id, "ageless")
    _extend(team, team.authorization_id, "RB-2026-0060", persona_age_min=13, persona_age_max=15)
    refused = _approve(team, ageless["id"])
    assert refused.status_code == 409
    assert "gives none" in refused.get_json()["error"]["message"]


def test_an_extension_that_lifts_the_range_lets_the_profile_be_approved(team: Any) -> None:
    ranged = _register(team, "RB-2026-0070", persona_age_min=13, persona_age_max=15)
    fits = _propose(team, ranged["id"], "fits", persona_age=15)
    _extend(team, ranged["id"], "RB-2026-0071")
    assert _approve(team, fits["id"]).status_code == 200


def _old_authorization_hash(row: dict[str, Any], officers: list[int]) -> str:
    """The row hash of an authorization as it was computed before rule 11 (no age range)."""
    names = ("reference", "kind", "authority", "issuer_name", "legal_basis", "offence", "suspect_description",
             "justification", "method", "persona_constraints", "conditions", "review_interval_days",
             "platforms", "may_initiate_contact", "max_profiles", "supersedes_id")
    moment = {name: None if row[name] is None else format_time(row[name])
              for name in ("valid_from", "valid_until", "written_order_due", "registered_at")}
    return hashlib.sha256(canonical_json({
        "id": row["id"], "operation_id": row["operation_id"], **{name: row[name] for name in names},
        "platforms": list(row["platforms"]),
        "issued_on": None if row["issued_on"] is None else row["issued_on"].isoformat(),
        **moment, "registered_by": row["registered_by"], "officers": sorted(officers),
    })).hexdigest()


def _old_profile_hash(row: dict[str, Any]) -> str:
    """The row hash of a profile as it was computed before rule 11 (no persona age)."""
    return hashlib.sha256(canonical_json({
        **{name: row[name] for name in ("id", "operation_id", "authorization_id", "platform", "handle",
                                        "persona", "proposed_by")},
        "proposed_at": format_time(row["proposed_at"]),
    })).hexdigest()


def test_rows_without_ages_hash_as_before_and_rows_with_them_differ(team: Any) -> None:
    plain = _propose(team, team.authorization_id, "plain")
    ranged = _register(team, "RB-2026-0080", persona_age_min=13, persona_age_max=15)
    aged = _propose(team, ranged["id"], "aged", persona_age=14)
    with team.app.app_context(), session_scope(team.app) as session:
        old_auth = columns(session.get(Authorization, team.authorization_id))
        new_auth = columns(session.get(Authorization, ranged["id"]))
        old_profile = columns(session.get(Profile, plain["id"]))
        new_profile = columns(session.get(Profile, aged["id"]))
    officers = [7, 3]
    assert authorization_fingerprint(old_auth, officers) == _old_authorization_hash(old_auth, officers)
    assert authorization_fingerprint(new_auth, officers) != _old_authorization_hash(new_auth, officers)
    assert profile_fingerprint(old_profile) == _old_profile_hash(old_profile)
    assert profile_fingerprint(new_profile) != _old_profile_hash(new_profile)
    registrations = entries_for(team.app, "authorization.register")
    recorded = {e["object"]["id"]: e["evidence"]["row_sha256"] for e in registrations}
    assert recorded[team.authorization_id] == _old_authorization_hash(
        old_auth, _officer_ids(team, team.authorization_id)
    )


def _officer_ids(team: Any, authorization_id: int) -> list[int]:
    with team.app.app_context(), get_engine().connect() as connection:
        query = text("SELECT user_id FROM authorization_officer WHERE authorization_id = :id")
        return list(connection.execute(query, {"id": authorization_id}).scalars())


def _everything(team: Any) -> dict[str, int]:
    """Old-style rows (no range, no age) beside ranged ones, proposals refused and approvals made."""
    ageless = _propose(team, team.authorization_id, "ageless")
    assert _approve(team, ageless["id"]).status_code == 200
    wide = _register(team, "RB-2026-0090", persona_age_min=13, persona_age_max=17)
    sixteen = _propose(team, wide["id"], "sixteen", persona_age=16)
    _propose(team, wide["id"], "eighteen", expect=409, persona_age=18)
    narrow = _extend(team, wide["id"], "RB-2026-0091", persona_age_min=13, persona_age_max=15)
    assert _approve(team, sixteen["id"]).status_code == 409
    fourteen = _propose(team, narrow["id"], "fourteen", persona_age=14)
    assert _approve(team, fourteen["id"]).status_code == 200
    return {"wide": wide["id"], "narrow": narrow["id"], "fourteen": fourteen["id"], "ageless": ageless["id"]}


def test_audit_verify_passes_with_old_and_new_rows(team: Any, runner: Any) -> None:
    _everything(team)
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output


def _tamper_age(connection: Any, ids: dict[str, int]) -> None:
    without_triggers(connection, "profile")
    connection.execute(text("UPDATE profile SET persona_age = 17 WHERE id = :id"), {"id": ids["fourteen"]})


def _tamper_range(connection: Any, ids: dict[str, int]) -> None:
    without_triggers(connection, "legal_authorization")
    connection.execute(text("UPDATE legal_authorization SET persona_age_max = 18 WHERE id = :id"),
                       {"id": ids["narrow"]})


def _tamper_added_range(connection: Any, ids: dict[str, int]) -> None:
    without_triggers(connection, "legal_authorization")
    connection.execute(text("UPDATE legal_authorization SET persona_age_min = 16 WHERE id = :id"),
                       {"id": ids["ageless_authorization"]})


TAMPERING = {
    "persona_age": (_tamper_age, "profile.propose", "fourteen", "profiles.json"),
    "persona_age_max": (_tamper_range, "authorization.register", "narrow", "authorizations.json"),
    "range_added_to_an_old_row": (
        _tamper_added_range, "authorization.register", "ageless_authorization", "authorizations.json"
    ),
}


@pytest.mark.parametrize("change", sorted(TAMPERING))
def test_a_changed_age_or_range_is_named_by_both_verifiers(team: Any, runner: Any, tmp_path: Path,
                                                           change: str) -> None:
    tamper, action, key, named = TAMPERING[change]
    ids = {**_everything(team), "ageless_authorization": team.authorization_id}
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    with team.app.app_context(), get_engine().begin() as connection:
        tamper(connection, ids)
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    index = next(e["index"] for e in entries_for(team.app, action) if e["object"]["id"] == ids[key])
    assert f"first bad entry: {index};" in result.output, result.output
    path = tmp_path / "bundle.zip"
    exported = runner.invoke(main, ["export", str(team.operation_id), "-o", str(path)])
    assert exported.exit_code == 0, exported.output
    report = verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS, notes=EVIDENCE_BUNDLE_NOTES)
    assert not report.ok and named in report.reason, report.reason


def test_a_bundle_with_a_ranged_authorization_verifies_offline(
    team: Any, runner: Any, tmp_path: Path
) -> None:
    ids = _everything(team)
    path = tmp_path / "bundle.zip"
    exported = runner.invoke(main, ["export", str(team.operation_id), "-o", str(path)])
    assert exported.exit_code == 0, exported.output
    report = verify_bundle(path, checks=EVIDENCE_BUNDLE_CHECKS, notes=EVIDENCE_BUNDLE_NOTES)
    assert report.ok and report.notes == (), report.reason
    assert runner.invoke(main, ["audit", "verify", str(path)]).exit_code == 0
    with zipfile.ZipFile(path) as bundle:
        authorizations = {a["id"]: a for a in json.loads(bundle.read("authorizations.json"))}
        profiles = {p["id"]: p for p in json.loads(bundle.read("profiles.json"))}
    narrow = authorizations[ids["narrow"]]
    assert (narrow["persona_age_min"], narrow["persona_age_max"]) == (13, 15)
    assert authorizations[team.authorization_id]["persona_age_min"] is None
    assert profiles[ids["fourteen"]]["persona_age"] == 14 and profiles[ids["ageless"]]["persona_age"] is None
    # The offline verifier's own copy of the row hashes agrees with Decoy's, with and without ages.
    with team.app.app_context(), session_scope(team.app) as session:
        for number in (ids["narrow"], team.authorization_id):
            row = columns(session.get(Authorization, number))
            assert authorization_row_sha256(authorizations[number]) == authorization_fingerprint(
                row, authorizations[number]["officer_ids"]
            )
        for number in (ids["fourteen"], ids["ageless"]):
            assert profile_row_sha256(profiles[number]) == profile_fingerprint(
                columns(session.get(Profile, number))
            )


def test_the_demo_shows_ranges_and_ages_and_verifies(app: Any, runner: Any) -> None:
    result = runner.invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context(), get_engine().connect() as connection:
        query = text("SELECT persona_age_min, persona_age_max FROM legal_authorization")
        ranges = {tuple(row) for row in connection.execute(query)}
        ages = list(connection.execute(text(
            "SELECT p.persona_age, a.persona_age_min, a.persona_age_max FROM profile p "
            "JOIN legal_authorization a ON a.id = p.authorization_id"
        )))
    assert ranges == {(13, 15)}
    assert ages and all(low <= age <= high for age, low, high in ages), ages
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
