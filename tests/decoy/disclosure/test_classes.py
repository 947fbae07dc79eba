"""Disclosure classes: only a legal officer's recorded decision with a reason changes an item's class,
``withheld`` needs its legal ground and the decision's reference, the latest decision is the class and
the history is kept (append-only), every decision has its audit entry under the officer's code, and
`decoy audit verify` recomputes the decisions' row hashes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from decoy.cli import main
from decoy.db import session_scope
from decoy.disclosure import classes
from decoy.disclosure.rows import decision_row_sha256
from decoy.evidence.fingerprint import columns
from decoy.models import DisclosureDecision
from tests.decoy.evidence.support import entries_for
from tests.support import code_for, csrf_from

from .classes_support import REASON, decide, message_with_file, note, run_sql, tamper

WITHHELD = {"ground": "art. 149b Sv", "decision_reference": "RC-2026-17"}


def test_a_legal_officer_decides_and_the_latest_decision_is_the_class(world: Any, app: Any) -> None:
    contact = world.contact()
    message = world.message(contact)["id"]
    decided = decide(world, "messages", message, "sensitive")
    assert decided["kind"] == "message" and decided["item_id"] == message
    assert (decided["class"], decided["ground"], decided["decision_reference"]) == ("sensitive", None, None)
    assert (decided["reason"], decided["by"]) == (REASON, "lena")
    assert decided["at"].endswith("+00:00") or decided["at"].endswith("Z")
    assert set(decided) == {
        "id", "kind", "item_id", "class", "ground", "decision_reference", "reason", "by", "at",
    }

    state = world.get(f"/messages/{message}/disclosure").get_json()
    assert (state["class"], state["default"]) == ("sensitive", False)
    assert [d["id"] for d in state["history"]] == [decided["id"]]

    again = decide(world, "messages", message, "case_file")
    state = world.get(f"/messages/{message}/disclosure").get_json()
    assert state["class"] == "case_file"
    assert [(d["id"], d["class"]) for d in state["history"]] == [
        (decided["id"], "sensitive"),
        (again["id"], "case_file"),
    ]
    with app.app_context(), session_scope(app) as session:
        assert classes.class_of(session, "message", message) == "case_file"
        assert classes.class_of(session, "contact", contact) == "case_file"
        latest = classes.classes_of(session, "message", [message, message + 1000])
        assert list(latest) == [message] and latest[message].id == again["id"]
        assert [d.id for d in classes.decisions_of_operation(session, world.operation_id)] == [again["id"]]


def test_an_item_without_a_decision_has_its_kinds_default(world: Any, app: Any) -> None:
    contact = world.contact()
    written = note(world, f"/contacts/{contact}")
    assert world.get(f"/contacts/{contact}/disclosure").get_json() == {
        "kind": "contact", "item_id": contact, "class": "case_file", "default": True, "history": [],
    }
    assert world.get(f"/notes/{written['id']}/disclosure").get_json()["class"] == "journal"
    with app.app_context(), session_scope(app) as session:
        assert classes.class_of(session, "note", written["id"]) == "journal"
        assert classes.classes_of(session, "note", [written["id"]]) == {}


def test_every_kind_of_item_can_be_decided(world: Any, app: Any) -> None:
    contact = world.contact()
    message, attachment = message_with_file(world, contact)
    written = note(world, f"/contacts/{contact}")
    for kind, item_id, cls in [
        ("contacts", contact, "withheld"),
        ("messages", message, "journal"),
        ("attachments", attachment, "sensitive"),
        ("notes", written["id"], "case_file"),
    ]:
        extra = WITHHELD if cls == "withheld" else {}
        assert decide(world, kind, item_id, cls, **extra)["class"] == cls
        assert world.get(f"/{kind}/{item_id}/disclosure", "dana").get_json()["class"] == cls
    with app.app_context(), session_scope(app) as session:
        latest = classes.decisions_of_operation(session, world.operation_id)
        assert sorted((d.item_kind, d.disclosure_class) for d in latest) == [
            ("attachment", "sensitive"),
            ("contact", "withheld"),
            ("message", "journal"),
            ("note", "case_file"),
        ]


def test_withheld_needs_its_ground_and_the_decisions_reference(world: Any) -> None:
    contact = world.contact()
    message = world.message(contact)["id"]
    refused = decide(world, "messages", message, "withheld", expect=400)
    assert refused["error"]["field"] == "ground"
    refused = decide(world, "messages", message, "withheld", expect=400, ground="art. 149b Sv")
    assert refused["error"]["field"] == "decision_reference"
    refused = decide(world, "messages", message, "withheld", expect=400, ground="  ", decision_reference="R")
    assert refused["error"]["field"] == "ground"
    decided = decide(world, "messages", message, "withheld", **WITHHELD)
    assert (decided["ground"], decided["decision_reference"]) == ("art. 149b Sv", "RC-2026-17")
    # The same decision again changes nothing: refused. Another reference is a new decision.
    refused = decide(world, "messages", message, "withheld", expect=409, **WITHHELD)
    assert refused["error"]["message"] == "already withheld"
    decide(world, "messages", message, "withheld", ground="art. 149b Sv", decision_reference="RC-2026-18")
    # The default class of an item without a decision counts as its current class.
    assert decide(world, "contacts", contact, "case_file", expect=409)["error"]["code"] == "rule_violation"
    assert len(world.get(f"/messages/{message}/disclosure").get_json()["history"]) == 2


@pytest.mark.parametrize("username", ["dana", "dirk", "sam", "sol"])
def test_officers_of_the_operation_may_not_decide(world: Any, username: str) -> None:
    contact = world.contact()
    refused = decide(world, "contacts", contact, "sensitive", username=username, expect=403)
    assert refused["error"]["code"] == "forbidden"
    assert world.get(f"/contacts/{contact}/disclosure").get_json()["history"] == []


@pytest.mark.parametrize("username", ["nina", "adam"])
def test_whoever_may_not_see_the_item_gets_404(world: Any, username: str) -> None:
    contact = world.contact()
    decide(world, "contacts", contact, "sensitive", username=username, expect=404)
    assert world.get(f"/contacts/{contact}/disclosure", username).status_code == 404
    # An item that does not exist answers the same.
    decide(world, "messages", 2_147_483_000, "sensitive", username=username, expect=404)
    decide(world, "notes", 99, "sensitive", expect=404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": REASON}, "class"),
        ({"class": 5, "reason": REASON}, "class"),
        ({"class": "public", "reason": REASON}, "class"),
        ({"class": ["withheld"], "reason": REASON}, "class"),
        ({"class": "sensitive"}, "reason"),
        ({"class": "sensitive", "reason": "   "}, "reason"),
        ({"class": "sensitive", "reason": 7}, "reason"),
        ({"class": "sensitive", "reason": "x" * 5001}, "reason"),
        ({"class": "sensitive", "reason": "nul \x00 byte"}, "reason"),
        ({"class": "sensitive", "reason": "half \ud800 pair"}, "reason"),
        ({"class": "withheld", "reason": REASON, "ground": 149}, "ground"),
        ({"class": "withheld", "reason": REASON, "ground": "g" * 201}, "ground"),
        ({"class": "withheld", "reason": REASON, "ground": "g", "decision_reference": {"a": 1}},
         "decision_reference"),
    ],
)
def test_a_malformed_decision_is_a_400_naming_the_field(world: Any, body: dict[str, Any], field: str) -> None:
    contact = world.contact()
    raw = json.dumps(body, ensure_ascii=True).encode()
    answer = world.post(f"/contacts/{contact}/disclosure", "lena", data=raw, content_type="application/json")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["field"] == field


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b'"withheld"', b"{" * 5000])
def test_a_body_that_is_no_json_object_is_a_400_naming_the_body(world: Any, raw: bytes) -> None:
    contact = world.contact()
    answer = world.post(f"/contacts/{contact}/disclosure", "lena", data=raw, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "body"


def test_each_decision_has_its_audit_entry_under_the_officers_code(world: Any, app: Any) -> None:
    contact = world.contact()
    decided = decide(world, "contacts", contact, "withheld", **WITHHELD)
    [entry] = entries_for(app, "disclosure.decide")
    assert entry["actor"] == code_for("lena")
    assert "lena" not in json.dumps(entry)
    assert entry["object"] == {"type": "disclosure_decision", "id": decided["id"]}
    assert entry["operation"] == world.operation_id
    assert entry["details"]["item"] == {"kind": "contact", "id": contact}
    assert (entry["details"]["class"], entry["details"]["previous"]) == ("withheld", "case_file")
    with app.app_context(), session_scope(app) as session:
        row = session.get(DisclosureDecision, decided["id"])
        assert entry["evidence"]["row_sha256"] == decision_row_sha256(columns(row))


def test_an_officer_without_a_code_cannot_decide(world: Any, factory: Any) -> None:
    factory.user("lars", "legal", code=None)
    world.tokens["lars"] = factory.token("lars")
    contact = world.contact()
    refused = decide(world, "contacts", contact, "sensitive", username="lars", expect=409)
    assert refused["error"]["code"] == "verbalisant_code_required"


def test_decisions_are_append_only(world: Any, app: Any) -> None:
    contact = world.contact()
    decide(world, "contacts", contact, "sensitive")
    with pytest.raises(DBAPIError):
        run_sql(app, "UPDATE disclosure_decision SET disclosure_class = 'case_file'")
    with pytest.raises(DBAPIError):
        run_sql(app, "DELETE FROM disclosure_decision")
    with app.app_context(), session_scope(app) as session:
        rows = session.exec(select(DisclosureDecision)).all()
        assert [row.disclosure_class for row in rows] == ["sensitive"]


def test_verify_recomputes_the_decisions_and_fails_for_an_altered_one(
    world: Any, app: Any, runner: Any
) -> None:
    contact = world.contact()
    message = world.message(contact)["id"]
    decide(world, "messages", message, "withheld", **WITHHELD)
    decided = decide(world, "contacts", contact, "sensitive")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    tamper(app, "disclosure_decision", "UPDATE disclosure_decision SET disclosure_class = 'case_file' "
           "WHERE id = :id", id=decided["id"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"disclosure decision {decided['id']}: the stored row differs" in result.output


# --- the contact page -----------------------------------------------------------------------------------


def _page(world: Any, contact: int) -> str:
    response = world.client.get(f"/contacts/{contact}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _item(html: str, message_id: int) -> str:
    """The transcript's item of one message, up to the next message or the end of the transcript."""
    match = re.search(
        rf'<li id="m{message_id}" class="message.*?(?=<li id="m\d+" class="message|</ol>)', html, re.S
    )
    assert match, f"message {message_id} is not on the page"
    return match.group(0)


def test_the_page_shows_classes_in_words_and_legal_officers_decide_there(world: Any, auth: Any) -> None:
    contact = world.contact()
    first = world.message(contact)["id"]
    second = world.message(contact, body="fine thanks", sent_at="2026-03-02T10:01:00+01:00")["id"]
    decide(world, "messages", first, "withheld", **WITHHELD)
    auth.login("lena")
    html = _page(world, contact)
    assert "withheld (art. 149b Sv, ref RC-2026-17)" in _item(html, first)
    assert 'class="badge disclosure-class' not in _item(html, second)
    assert f'action="/messages/{second}/disclosure"' in html
    assert f'action="/contacts/{contact}/disclosure"' in html

    token = csrf_from(html)
    # A refusal is shown on the page, beside the message, with what was sent.
    answer = world.client.post(f"/messages/{second}/disclosure", data={
        "csrf_token": token, "disclosure_class": "withheld", "ground": "art. 149b Sv",
        "reason": "a <b>reason</b>",
    })
    assert answer.status_code == 400
    refused = answer.get_data(as_text=True)
    assert "decision_reference: withholding needs the reference of the decision" in refused
    assert "a &lt;b&gt;reason&lt;/b&gt;" in refused and "a <b>reason</b>" not in refused

    answer = world.client.post(f"/messages/{second}/disclosure", data={
        "csrf_token": token, "disclosure_class": "sensitive", "ground": "", "decision_reference": "",
        "reason": "a third party's photo",
    })
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"#m{second}")
    assert "sensitive" in _item(_page(world, contact), second)
    assert world.get(f"/messages/{second}/disclosure").get_json()["class"] == "sensitive"


def test_officers_see_the_class_but_no_form(world: Any, auth: Any) -> None:
    contact = world.contact()
    decide(world, "contacts", contact, "sensitive")
    auth.login("dana")
    html = _page(world, contact)
    block = html[html.index('id="disclosure-contact"') :]
    assert "sensitive" in block[: block.index("</div>")]
    assert "/disclosure" not in html
    token = csrf_from(html)
    answer = world.client.post(f"/contacts/{contact}/disclosure", data={
        "csrf_token": token, "disclosure_class": "case_file", "reason": "no longer sensitive",
    })
    assert answer.status_code == 403
