"""Legal holds (set and lifted by legal officers, on an operation or a contact, each with a reason), the
outcome of a suspect's case, and the retention schedule that lists what is due for disposal; every record
checked by `decoy audit verify`; a force's own schedule replaces the shipped rules and a broken one stops
Decoy from starting."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from decoy.cli import main
from decoy.config import ConfigurationError
from decoy.db import session_scope
from decoy.models import Contact
from decoy.retention.holds import require_no_hold
from decoy.retention.schedule import ScheduleError, load_schedule
from tests.decoy.disclosure.classes_support import tamper
from tests.decoy.evidence.support import entries_for
from tests.support import START, code_for


def _hold(world: Any, path: str, username: str = "lena", reason: str = "appeal pending") -> Any:
    return world.post(f"{path}/legal-holds", username, json={"reason": reason})


def _categorise(world: Any, contact: int, category: str) -> None:
    answer = world.post(f"/contacts/{contact}/category", "dana", json={"category": category, "reason": "r"})
    assert answer.status_code == 200, answer.get_json()


def _refusal(world: Any, contact: int) -> Any:
    """What a disposal of the contact would be told about holds (None when nothing holds it)."""
    with world.app.app_context(), session_scope(world.app) as session:
        operation_id = session.exec(select(Contact.operation_id).where(Contact.id == contact)).one()
        try:
            require_no_hold(session, operation_id, contact)
        except Exception as refusal:  # noqa: BLE001 - the refusal itself is what is checked
            return refusal
    return None


def test_holds_on_a_contact_and_an_operation_are_set_and_lifted_with_reasons(world: Any) -> None:
    contact = world.contact()
    other = world.contact(counterpart="other_one_5")
    assert _refusal(world, contact) is None
    on_contact = _hold(world, f"/contacts/{contact}")
    assert on_contact.status_code == 201, on_contact.get_json()
    body = on_contact.get_json()
    assert (body["contact_id"], body["active"], body["set_by"]) == (contact, True, code_for("lena"))
    refusal = _refusal(world, contact)
    assert refusal is not None and refusal.status == 409 and refusal.field == "hold"
    assert f"legal hold {body['id']}" in refusal.message and "the contact" in refusal.message
    assert _refusal(world, other) is None  # a neighbour is untouched
    on_operation = _hold(world, f"/operations/{world.operation_id}", reason="the prosecutor asked")
    assert _refusal(world, other).message.startswith("the operation is under legal hold")
    lifted = world.post(f"/legal-holds/{on_operation.get_json()['id']}/lift", "lena",
                        json={"reason": "appeal decided"})
    assert lifted.status_code == 200 and lifted.get_json()["active"] is False
    assert lifted.get_json()["lift_reason"] == "appeal decided"
    again = world.post(f"/legal-holds/{on_operation.get_json()['id']}/lift", "lena", json={"reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"]["field"] == "hold"
    assert _refusal(world, other) is None
    listed = world.get(f"/operations/{world.operation_id}/legal-holds", "lena").get_json()["items"]
    assert [(h["contact_id"], h["active"]) for h in listed] == [(None, False), (contact, True)]
    [entry] = entries_for(world.app, "legal_hold.set")[:1]
    assert "appeal pending" not in json.dumps(entry)  # the reason by its hash only


@pytest.mark.parametrize(
    ("username", "path", "body", "status", "field"),
    [
        ("dana", "contact", {"reason": "r"}, 403, None),
        ("sam", "operation", {"reason": "r"}, 403, None),
        ("nina", "contact", {"reason": "r"}, 404, None),
        ("adam", "operation", {"reason": "r"}, 404, None),
        ("lena", "contact", {"reason": " "}, 400, "reason"),
        ("lena", "operation", {"reason": "a\x00b"}, 400, "reason"),
    ],
)
def test_hold_refusals(world: Any, username: str, path: str, body: Any, status: int, field: Any) -> None:
    contact = world.contact()
    target = f"/contacts/{contact}" if path == "contact" else f"/operations/{world.operation_id}"
    answer = world.post(f"{target}/legal-holds", username, json=body)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"].get("field") == field


def test_the_schedule_lists_what_is_due_and_why(world: Any, clock: Any, factory: Any) -> None:
    bystander = world.contact(counterpart="by_stander_1")
    suspect = world.contact(counterpart="sus_pect_2")
    _categorise(world, bystander, "non_suspect")
    _categorise(world, suspect, "suspect")
    assert world.get("/retention/due", "dana").status_code == 403
    lines = world.get("/retention/due", "lena").get_json()["items"]
    assert [(line["contact_id"], line["rule"], line["due"]) for line in lines] == [
        (bystander, "non_suspect", False)
    ]
    assert lines[0]["due_at"] == (START.replace(month=9)).isoformat()  # six months after the change
    refused = world.post(f"/contacts/{bystander}/outcome", "lena",
                         json={"outcome": "acquitted", "reference": "R-1"})
    assert refused.status_code == 409 and refused.get_json()["error"]["field"] == "contact"
    assert world.post(f"/contacts/{suspect}/outcome", "sam",
                      json={"outcome": "acquitted", "reference": "R-1"}).status_code == 403
    decided = (START - timedelta(days=1)).isoformat()
    made = world.post(f"/contacts/{suspect}/outcome", "lena",
                      json={"outcome": "acquitted", "reference": "RB-2026-77", "decided_at": decided})
    assert made.status_code == 201, made.get_json()
    _hold(world, f"/contacts/{bystander}")
    clock.advance(timedelta(days=200))
    world.tokens["lena"] = factory.token("lena")  # the first one expired meanwhile
    lines = world.get("/retention/due", "lena").get_json()["items"]
    by_contact = {line["contact_id"]: line for line in lines}
    assert by_contact[bystander]["due"] is True and len(by_contact[bystander]["holds"]) == 1
    assert by_contact[suspect]["rule"] == "suspect:acquitted" and by_contact[suspect]["due"] is False
    assert by_contact[suspect]["outcome"] == "acquitted"
    clock.advance(timedelta(days=200))
    world.tokens["lena"] = factory.token("lena")
    assert {line["contact_id"] for line in world.get("/retention/due", "lena").get_json()["items"]
            if line["due"]} == {bystander, suspect}


def test_a_force_overrides_a_rule_and_a_broken_schedule_stops_decoy(app_factory: Any, tmp_path: Path) -> None:
    shipped = load_schedule(None)
    assert shipped["non_suspect"].months == 6 and "Wpg" in shipped["non_suspect"].source
    data_dir = tmp_path / "force"
    data_dir.mkdir()
    (data_dir / "retention-schedule.json").write_text(json.dumps({"rules": {
        "non_suspect": {"months": 3, "from": "categorised", "source": "force instruction 2026-4"}}}))
    ours = load_schedule(data_dir)
    assert ours["non_suspect"].months == 3 and ours["suspect:convicted"].months == 60
    for broken, named in [
        ({"rules": {"villain": {"months": 3, "from": "categorised", "source": "x"}}}, "villain"),
        ({"rules": {"non_suspect": {"months": 0, "from": "categorised", "source": "x"}}}, "months"),
        ({"rules": {"non_suspect": {"months": 3, "from": "outcome", "source": "x"}}}, "case outcome"),
        ({"rules": {"non_suspect": {"months": 3, "from": "categorised", "source": " "}}}, "source"),
        ({"rule": {}}, "'rules'"),
    ]:
        (data_dir / "retention-schedule.json").write_text(json.dumps(broken))
        with pytest.raises(ScheduleError, match=named):
            load_schedule(data_dir)
    instance = Path(app_factory().config["DATA_DIR"])
    (instance / "retention-schedule.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match="retention-schedule.json"):
        app_factory()


def test_verify_checks_holds_lifts_and_outcomes(world: Any, runner: Any) -> None:
    contact = world.contact()
    _categorise(world, contact, "suspect")
    hold = _hold(world, f"/contacts/{contact}").get_json()["id"]
    world.post(f"/legal-holds/{hold}/lift", "lena", json={"reason": "done"})
    world.post(f"/contacts/{contact}/outcome", "lena", json={"outcome": "convicted", "reference": "RB-1"})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    tamper(world.app, "contact_outcome", "UPDATE contact_outcome SET outcome = 'acquitted'")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code != 0 and "case outcome" in result.output


def test_the_pages_set_and_lift_holds_record_outcomes_and_list_what_is_due(
    world: Any, factory: Any, clock: Any
) -> None:
    from tests.support import AuthActions, csrf_from

    contact = world.contact()
    _categorise(world, contact, "suspect")
    bystander = world.contact(counterpart="by_stander_9")
    _categorise(world, bystander, "non_suspect")
    auth = AuthActions(world.client, factory, clock)
    auth.login("lena")
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert 'id="retention"' in page and "not recorded yet" in page
    answer = world.client.post(f"/contacts/{contact}/legal-holds",
                               data={"hold-csrf_token": csrf_from(page),
                                     "hold-reason": "<b>appeal</b> pending"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/contacts/{contact}#retention")
    answer = world.client.post(f"/contacts/{contact}/outcome", data={
        "outcome-csrf_token": csrf_from(page), "outcome-outcome": "convicted",
        "outcome-reference": "RB-2026-12",
        "outcome-decided_at": "2026-03-01 12:00"})
    assert answer.status_code == 302
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert "&lt;b&gt;appeal&lt;/b&gt; pending" in page and "RB-2026-12" in page and "convicted" in page
    operation = world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True)
    assert 'id="legal-holds"' in operation and f"/contacts/{contact}" in operation
    hold = world.get(f"/operations/{world.operation_id}/legal-holds", "lena").get_json()["items"][0]["id"]
    answer = world.client.post(f"/legal-holds/{hold}/lift",
                               data={"hold-csrf_token": csrf_from(page), "hold-reason": "appeal decided"})
    assert answer.status_code == 302
    assert world.get(f"/operations/{world.operation_id}/legal-holds", "lena").get_json()["items"][0][
        "active"] is False
    assert "Due for disposal" not in world.client.get("/").get_data(as_text=True)
    auth.logout()
    clock.advance(timedelta(days=190))
    auth.login("lena")
    home = world.client.get("/").get_data(as_text=True)
    assert "Due for disposal" in home and f"/contacts/{bystander}#retention" in home
    listing = world.client.get("/retention").get_data(as_text=True)
    assert "not a suspect" in listing and "suspect, convicted" in listing and "Wpg" in listing
    assert "non_suspect" not in listing and "suspect:convicted" not in listing
    auth.logout()
    auth.login("dana")
    assert world.client.get("/retention").status_code == 403
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert "Set a legal hold" not in page and "Record the outcome of the case" not in page
