"""A contact's category with its history, and the notification register of suspects (art. 126bb Sv):
recorded by legal officers, due a configurable time after the closing or at the end of a postponement,
shown on the legal officer's home page, and checked by `decoy audit verify`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from decoy.cli import main
from tests.decoy.disclosure.classes_support import tamper
from tests.decoy.evidence.support import entries_for
from tests.support import START, code_for, csrf_from


def _categorise(world: Any, contact: int, category: str, username: str = "dana", reason: str = "r") -> Any:
    return world.post(
        f"/contacts/{contact}/category", username, json={"category": category, "reason": reason}
    )


def _notify(world: Any, contact: int, kind: str, at: Any, username: str = "lena", note: str = "n") -> Any:
    return world.post(
        f"/contacts/{contact}/suspect-notifications",
        username,
        json={"kind": kind, "at": at.isoformat(), "note": note},
    )


def test_a_category_changes_with_a_reason_and_keeps_its_history(world: Any) -> None:
    contact = world.contact()
    assert world.get(f"/contacts/{contact}/category").get_json()["category"] == "unknown"
    first = _categorise(world, contact, "suspect", reason="asked for a meeting twice")
    assert first.status_code == 200, first.get_json()
    second = _categorise(world, contact, "non_suspect", "lena", reason="a colleague's test account")
    body = second.get_json()
    assert body["category"] == "non_suspect"
    assert [(c["from_category"], c["category"], c["by"]) for c in body["history"]] == [
        ("unknown", "suspect", code_for("dana")),
        ("suspect", "non_suspect", code_for("lena")),
    ]
    [entry, _second] = entries_for(world.app, "contact.categorise")
    assert entry["details"] == {
        "contact": contact,
        "from": "unknown",
        "to": "suspect",
        "reason_sha256": entry["details"]["reason_sha256"],
    }


@pytest.mark.parametrize(
    ("username", "body", "status", "field"),
    [
        ("nina", {"category": "suspect", "reason": "r"}, 404, None),
        ("dana", {"category": "villain", "reason": "r"}, 400, "category"),
        ("dana", {"category": "suspect", "reason": " "}, 400, "reason"),
        ("dana", {"category": "unknown", "reason": "r"}, 409, "category"),
    ],
)
def test_category_refusals(world: Any, username: str, body: Any, status: int, field: Any) -> None:
    contact = world.contact()
    answer = world.post(f"/contacts/{contact}/category", username, json=body)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"].get("field") == field


def test_only_legal_officers_record_notifications_and_only_of_suspects(world: Any) -> None:
    contact = world.contact()
    past = START - timedelta(hours=1)
    assert _notify(world, contact, "notified", past).status_code == 409  # not a suspect
    _categorise(world, contact, "suspect")
    assert _notify(world, contact, "notified", past, "sam").status_code == 403
    future = _notify(world, contact, "notified", START + timedelta(days=1))
    assert future.status_code == 400 and future.get_json()["error"]["field"] == "at"
    past_postponement = _notify(world, contact, "postponed", past)
    assert past_postponement.status_code == 400 and past_postponement.get_json()["error"]["field"] == "at"
    made = _notify(world, contact, "notified", past, note="letter handed over by the prosecutor's office")
    assert made.status_code == 201 and made.get_json()["by"] == code_for("lena")


def test_notification_is_due_after_the_closing_and_after_a_postponement(world: Any, clock: Any) -> None:
    world.app.config["NOTIFICATION_DUE_DAYS"] = 10
    suspect = world.contact()
    other = world.contact(counterpart="other_one")
    _categorise(world, suspect, "suspect")

    def register() -> dict[int, Any]:
        return {
            item["contact_id"]: item
            for item in world.get("/suspect-notifications", "lena").get_json()["items"]
        }

    assert register()[suspect]["state"] == "open" and register()[suspect]["due_at"] is None
    assert other not in register()
    assert (
        world.post(f"/operations/{world.operation_id}/close", "sam", json={"reason": "ended"}).status_code
        == 200
    )
    line = register()[suspect]
    assert line["due_at"] == (START + timedelta(days=10)).isoformat() and line["due"] is False
    clock.advance(days=11)
    assert register()[suspect]["due"] is True
    until = clock.now() + timedelta(days=5)
    assert (
        _notify(
            world, suspect, "postponed", until, note="the investigation of a co-suspect continues"
        ).status_code
        == 201
    )
    line = register()[suspect]
    assert line["state"] == "postponed" and line["due"] is False
    clock.advance(days=6)
    assert register()[suspect]["due"] is True
    assert _notify(world, suspect, "notified", clock.now() - timedelta(hours=1)).status_code == 201
    line = register()[suspect]
    assert line["state"] == "notified" and line["due_at"] is None and line["due"] is False
    # Only what the caller may see: a detective outside the operation sees nothing.
    assert world.get("/suspect-notifications", "nina").get_json()["items"] == []


def test_the_pages_change_the_category_and_show_what_is_due(world: Any, auth: Any, clock: Any) -> None:
    contact = world.contact()
    auth.login("dana")
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert 'id="category-form"' in page
    answer = world.client.post(
        f"/contacts/{contact}/category",
        data={"csrf_token": csrf_from(page), "category": "suspect", "reason": "asked <b>twice</b>"},
    )
    assert answer.status_code == 302
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    assert "asked &lt;b&gt;twice&lt;/b&gt;" in page and 'id="notification-form"' not in page
    auth.logout()
    world.post(f"/operations/{world.operation_id}/close", "sam", json={"reason": "ended"})
    clock.advance(days=31)
    auth.login("lena")
    home = world.client.get("/").get_data(as_text=True)
    assert "Suspects to notify" in home and f"/contacts/{contact}#notification-register" in home
    page = world.client.get(f"/contacts/{contact}").get_data(as_text=True)
    answer = world.client.post(
        f"/contacts/{contact}/suspect-notifications",
        data={
            "csrf_token": csrf_from(page),
            "kind": "notified",
            "at": "2026-04-01 10:00",
            "note": "by letter",
        },
    )
    assert answer.status_code == 302
    assert "Suspects to notify" not in world.client.get("/").get_data(as_text=True)


def test_verify_checks_categories_and_notifications(world: Any, runner: Any) -> None:
    contact = world.contact()
    _categorise(world, contact, "suspect")
    _notify(world, contact, "notified", START - timedelta(hours=1))
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    tamper(
        world.app, "contact_category_change", "UPDATE contact_category_change SET category = 'non_suspect'"
    )
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code != 0 and "contact category change" in result.output
