"""An order's terms as the law sets them: kinds, legal maxima with their sources (shipped and overridden),
the advice and consent references, and urgent oral orders counted from when they were given."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from decoy.cli import main
from decoy.db import session_scope
from decoy.models import Review
from decoy.orders import maxima
from tests.decoy.evidence.support import entries_for
from tests.factories import authorization_defaults
from tests.support import START


def _terms(**overrides: Any) -> dict[str, Any]:
    terms = authorization_defaults()
    terms.update(
        valid_from=(START - timedelta(days=1)).isoformat(),
        valid_until=(START + timedelta(days=60)).isoformat(),
        officers=["dana"],
    )
    terms.update(overrides)
    return terms


def _register(world: Any, **overrides: Any) -> Any:
    return world.post(f"/operations/{world.operation_id}/authorizations", "lena", json=_terms(**overrides))


def _error(response: Any) -> dict[str, Any]:
    return response.get_json()["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["ovj_order", "rc_authorisation", "court_ruling"])
def test_the_law_s_kinds_are_registered(world: Any, kind: str) -> None:
    response = _register(world, kind=kind)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["kind"] == kind and response.get_json()["registered_kind"] is None


def test_the_old_kind_is_no_longer_registered(world: Any) -> None:
    response = _register(world, kind="written_order")
    assert response.status_code == 400 and _error(response)["field"] == "kind"


def test_an_order_longer_than_its_basis_allows_is_refused_naming_the_rule(world: Any) -> None:
    start = START - timedelta(days=1)
    response = _register(
        world, valid_from=start.isoformat(), valid_until=(start + timedelta(days=93)).isoformat()
    )
    assert response.status_code == 409
    error = _error(response)
    assert error["field"] == "valid_until"
    assert "3 months" in error["message"] and "art. 126j Sv" in error["message"]
    # Three calendar months to the minute are allowed.
    allowed = maxima.add_months(start, 3)
    assert _register(world, valid_from=start.isoformat(), valid_until=allowed.isoformat()).status_code == 201


def test_an_extension_is_held_to_the_extension_rule(world: Any) -> None:
    first = _register(world).get_json()
    start = START + timedelta(days=80)
    too_long = _register(
        world, supersedes_id=first["id"], valid_from=start.isoformat(),
        valid_until=(start + timedelta(days=100)).isoformat(),
    )
    assert too_long.status_code == 409 and "an extension" in _error(too_long)["message"]
    fine = _register(
        world, supersedes_id=first["id"], valid_from=start.isoformat(),
        valid_until=(start + timedelta(days=80)).isoformat(),
    )
    assert fine.status_code == 201


def test_a_basis_without_a_maximum_runs_as_the_order_says(world: Any) -> None:
    start = START - timedelta(days=1)
    response = _register(
        world, legal_basis="art. 126i Sv", valid_from=start.isoformat(),
        valid_until=(start + timedelta(days=365)).isoformat(),
    )
    assert response.status_code == 201


def test_infiltration_needs_the_advice_and_the_consent_references(world: Any) -> None:
    missing_advice = _register(world, legal_basis="art. 126h Sv")
    assert missing_advice.status_code == 400 and _error(missing_advice)["field"] == "advice_reference"
    missing_consent = _register(world, legal_basis="art. 126h Sv", advice_reference="CTC-2026-004")
    assert missing_consent.status_code == 400 and _error(missing_consent)["field"] == "consent_reference"
    made = _register(
        world, legal_basis="art. 126h Sv", advice_reference="CTC-2026-004", consent_reference="CPG-2026-011"
    )
    assert made.status_code == 201
    body = made.get_json()
    assert (body["advice_reference"], body["consent_reference"]) == ("CTC-2026-004", "CPG-2026-011")
    entry = entries_for(world.app, "authorization.register")[-1]
    assert entry["details"]["advice_reference"] == "CTC-2026-004"
    assert entry["details"]["maximum"]["basis"] == "126h" and entry["details"]["maximum"]["consent_required"]


def test_several_bases_are_held_to_the_strictest(world: Any) -> None:
    response = _register(world, legal_basis="art. 126i and 126h Sv")
    assert response.status_code == 400 and _error(response)["field"] == "advice_reference"


def test_a_force_overrides_a_basis_in_its_data_directory(world: Any) -> None:
    path = Path(world.app.config["DATA_DIR"]) / maxima.OVERRIDE_NAME
    path.write_text(json.dumps({"bases": {"126j": {
        "title": "a force's own reading", "max_months": 1, "extension_months": 1, "written_order_days": 2,
        "advice_required": False, "consent_required": False, "source": "force instruction 12 (invented)",
    }}}), encoding="utf-8")
    start = START - timedelta(days=1)
    until = start + timedelta(days=40)
    response = _register(world, valid_from=start.isoformat(), valid_until=until.isoformat())
    assert response.status_code == 409 and "force instruction 12" in _error(response)["message"]
    table = {item["basis"]: item for item in world.get("/legal-maxima", "lena").get_json()["items"]}
    assert table["126j"]["max_months"] == 1 and table["126h"]["advice_required"] is True


def test_a_broken_override_is_named(tmp_path: Any) -> None:
    broken = '{"bases": {"126j": {"max_months": "three", "source": "s"}}}'
    (tmp_path / maxima.OVERRIDE_NAME).write_text(broken)
    with pytest.raises(maxima.MaximaError, match="126j.max_months"):
        maxima.load_table(tmp_path)
    (tmp_path / maxima.OVERRIDE_NAME).write_text('{"bases": {"126j": {"max_months": 3}}}')
    with pytest.raises(maxima.MaximaError, match="source"):
        maxima.load_table(tmp_path)


def test_the_legal_maxima_page_shows_each_rule_with_its_source(world: Any, auth: Any) -> None:
    auth.login("lena")
    html = world.client.get("/legal-maxima").get_data(as_text=True)
    assert "art. 126h Sv" in html and "Centrale Toetsingscommissie" in html


def test_an_urgent_oral_order_is_due_counted_from_when_it_was_given(world: Any) -> None:
    given = START - timedelta(hours=30)
    response = _register(world, kind="urgent_oral_order", oral_order_given_at=given.isoformat())
    assert response.status_code == 201
    body = response.get_json()
    assert body["oral_order_given_at"] == "2026-03-01T03:00:00+00:00"
    # 126j: three days from the oral order, not from its registration.
    assert body["written_order_due"] == "2026-03-04T03:00:00+00:00"
    assert body["written_order_overdue"] is False


def test_an_oral_order_registered_late_is_overdue_and_reviewed_at_once(world: Any) -> None:
    given = START - timedelta(days=5)
    response = _register(world, kind="urgent_oral_order", oral_order_given_at=given.isoformat())
    assert response.status_code == 201
    body = response.get_json()
    assert body["written_order_overdue"] is True
    with world.app.app_context(), session_scope(world.app) as session:
        review = session.exec(select(Review).where(Review.key == f"written_order:{body['id']}")).one()
    assert review.trigger == "written_order_overdue"
    assert [e for e in entries_for(world.app, "review.schedule") if e["object"]["id"] == review.id]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "urgent_oral_order"}, "oral_order_given_at"),
        ({"kind": "urgent_oral_order", "oral_order_given_at": "yesterday"}, "oral_order_given_at"),
        ({"kind": "urgent_oral_order", "oral_order_given_at": "2026-03-09T10:00:00+01:00"},
         "oral_order_given_at"),
        ({"kind": "ovj_order", "oral_order_given_at": "2026-03-01T10:00:00+01:00"}, "oral_order_given_at"),
        ({"advice_reference": "x" * 201}, "advice_reference"),
    ],
)
def test_bad_oral_order_terms_are_400_naming_the_field(world: Any, overrides: Any, field: str) -> None:
    response = _register(world, **overrides)
    assert response.status_code == 400 and _error(response)["field"] == field


def test_the_form_registers_an_urgent_oral_order_with_its_moment(world: Any, auth: Any) -> None:
    from tests.support import csrf_from

    auth.login("lena")
    page = f"/operations/{world.operation_id}/authorizations/new"
    token = csrf_from(world.client.get(page).get_data(as_text=True))
    response = world.client.post(page, data={
        "csrf_token": token, "reference": "OvJ-ORAL-9", "kind": "urgent_oral_order",
        "authority": "Public Prosecution Service", "legal_basis": "art. 126j Sv",
        "oral_order_given_at": "2026-03-01 12:00", "valid_from": "2026-03-01 12:00",
        "valid_until": "2026-04-01 12:00", "review_interval_days": "14", "platforms": "chatsite",
        "max_profiles": "1", "officers": "dana", "supersedes_id": "",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    html = world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True)
    assert "OvJ-ORAL-9" in html and "Given orally" in html and "Urgent oral order" in html


def test_verify_checks_the_new_terms(world: Any, runner: Any) -> None:
    made = _register(
        world, legal_basis="art. 126h Sv", advice_reference="CTC-1", consent_reference="CPG-1"
    ).get_json()
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    from tests.decoy.disclosure.classes_support import tamper

    tamper(world.app, "legal_authorization",
           "UPDATE legal_authorization SET consent_reference = 'CPG-2' WHERE id = :id", id=made["id"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code != 0 and f"authorization {made['id']}" in result.output
