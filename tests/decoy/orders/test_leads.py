"""The leads register: an operation's supervisors and detectives, and legal officers, record what was
passed on to another unit or agency (to whom, on what legal basis, under which TLP label, the SHA-256 of
what was sent, when and by whom); each lead has its audit entry under the officer's code with the
description by hash only, `decoy audit verify` checks every lead both ways, and the central register's
CSV names officers by code and cannot run as a spreadsheet formula."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from decoy.cli import main
from decoy.db import session_scope
from decoy.evidence.fingerprint import columns, text_sha256
from decoy.models import Lead, Operation
from decoy.orders.leads import lead_row_sha256
from tests.decoy.disclosure.classes_support import run_sql, tamper
from tests.decoy.evidence.support import entries_for
from tests.factories import actor_for, make_operation
from tests.support import code_for, csrf_from

SENT = hashlib.sha256(b"the summary that was sent").hexdigest()
USERNAMES = ("sam", "sol", "dana", "dirk", "nina", "lena", "adam", "sue")


def lead_body(**overrides: Any) -> dict[str, Any]:
    """A valid lead, ``overrides`` applied (a value of None leaves the field out)."""
    body = {
        "recipient": "Regional unit North",
        "legal_basis": "art. 126dd Sv",
        "tlp": "TLP:AMBER",
        "sha256": SENT,
        "description": "hello, how are you: the summary of one conversation",
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


def record(world: Any, username: str = "dana", expect: int = 201, operation_id: int | None = None,
           **overrides: Any) -> Any:
    """Record a lead through the API as ``username``."""
    answer = world.post(f"/operations/{operation_id or world.operation_id}/leads", username,
                        json=lead_body(**overrides))
    assert answer.status_code == expect, answer.get_json()
    return answer.get_json()


# --- who records ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["sam", "dana", "lena"])
def test_supervisors_detectives_of_the_operation_and_legal_officers_record_leads(
    world: Any, username: str
) -> None:
    made = record(world, username)
    assert set(made) == {"id", "operation_id", "recipient", "legal_basis", "tlp", "sha256", "description",
                         "passed_at", "by", "recorded_at"}
    assert made["operation_id"] == world.operation_id
    assert (made["recipient"], made["legal_basis"], made["tlp"]) == (
        "Regional unit North", "art. 126dd Sv", "TLP:AMBER")
    assert made["sha256"] == SENT
    assert made["by"] == code_for(username)
    assert made["passed_at"] == made["recorded_at"] == "2026-03-02T09:00:00+00:00"


def test_outsiders_and_admins_get_404_and_nothing_is_stored(world: Any, factory: Any) -> None:
    factory.user("sue", "supervisor")
    world.tokens["sue"] = factory.token("sue")
    for username in ("nina", "sue", "adam"):
        answer = world.post(f"/operations/{world.operation_id}/leads", username, json=lead_body())
        assert answer.status_code == 404, (username, answer.get_json())
        assert world.get(f"/operations/{world.operation_id}/leads", username).status_code == 404
    assert world.post("/operations/2147483000/leads", json=lead_body()).status_code == 404
    assert world.get("/operations/2147483000/leads").status_code == 404
    with world.app.app_context(), session_scope(world.app) as session:
        assert session.exec(select(Lead)).all() == []


def test_a_lead_may_be_recorded_after_the_operation_closed(world: Any) -> None:
    # However it was closed: the register reads only the operation's status.
    with world.app.app_context(), session_scope(world.app) as session:
        operation = session.get(Operation, world.operation_id)
        operation.status = "closed"
        session.add(operation)
    assert record(world, "dana")["operation_id"] == world.operation_id


def test_an_officer_without_a_verbalisant_code_is_refused(world: Any, factory: Any) -> None:
    factory.user("vera", "legal", code=None)
    world.tokens["vera"] = factory.token("vera")
    answer = world.post(f"/operations/{world.operation_id}/leads", "vera", json=lead_body())
    assert answer.status_code == 409
    assert answer.get_json()["error"]["field"] == "verbalisant_code"


# --- what is accepted ----------------------------------------------------------------------------------


def test_the_label_and_the_hash_are_stored_in_their_canonical_form(world: Any) -> None:
    made = record(world, tlp="tlp:amber+strict", sha256=SENT.upper(), recipient="  Unit East  ",
                  passed_at="2026-03-01T18:30:00+01:00")
    assert (made["tlp"], made["sha256"], made["recipient"]) == ("TLP:AMBER+STRICT", SENT, "Unit East")
    assert made["passed_at"] == "2026-03-01T17:30:00+00:00"
    for label in ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:RED"):
        assert record(world, tlp=label.lower())["tlp"] == label


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recipient": None}, "recipient"),
        ({"recipient": "   "}, "recipient"),
        ({"recipient": "first line\nsecond line"}, "recipient"),
        ({"recipient": "x" * 201}, "recipient"),
        ({"recipient": 5}, "recipient"),
        ({"legal_basis": None}, "legal_basis"),
        ({"legal_basis": ""}, "legal_basis"),
        ({"legal_basis": "art. 1\u2028art. 2"}, "legal_basis"),
        ({"legal_basis": "x" * 201}, "legal_basis"),
        ({"tlp": None}, "tlp"),
        ({"tlp": "TLP:BLUE"}, "tlp"),
        ({"tlp": "AMBER"}, "tlp"),
        ({"tlp": ["TLP:RED"]}, "tlp"),
        ({"sha256": None}, "sha256"),
        ({"sha256": "abc123"}, "sha256"),
        ({"sha256": "g" * 64}, "sha256"),
        ({"sha256": SENT + "0"}, "sha256"),
        ({"description": None}, "description"),
        ({"description": "  \n "}, "description"),
        ({"description": "x" * 20_001}, "description"),
        ({"description": "nul \x00 byte"}, "description"),
        ({"passed_at": "2026-03-01T18:30:00"}, "passed_at"),
        ({"passed_at": "2026-03-01 18:30"}, "passed_at"),
        ({"passed_at": "yesterday"}, "passed_at"),
        ({"passed_at": "2026-03-03T09:00:00+00:00"}, "passed_at"),  # a day ahead of the clock
        ({"passed_at": 1772442000}, "passed_at"),
    ],
)
def test_each_malformed_field_is_a_400_naming_it(world: Any, overrides: dict[str, Any], field: str) -> None:
    answer = world.post(f"/operations/{world.operation_id}/leads", json=lead_body(**overrides))
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["error"]["field"] == field
    with world.app.app_context(), session_scope(world.app) as session:
        assert session.exec(select(Lead)).all() == []


def test_a_body_that_is_no_json_object_is_a_400_naming_the_body(world: Any) -> None:
    for raw in (b"not json", b"[1, 2]"):
        answer = world.post(f"/operations/{world.operation_id}/leads", data=raw,
                            content_type="application/json")
        assert answer.status_code == 400
        assert answer.get_json()["error"]["field"] == "body"


def test_the_operations_readers_list_its_leads_in_the_order_recorded(world: Any, app: Any) -> None:
    first = record(world, "dana")
    second = record(world, "lena", recipient="Unit East", tlp="TLP:RED")
    other = make_operation(app, "sam", name="Operation Harbour", members=("dirk",))
    record(world, "dirk", operation_id=other, description="see you later")
    for username in ("dana", "sam", "lena"):
        listed = world.get(f"/operations/{world.operation_id}/leads", username).get_json()
        assert [lead["id"] for lead in listed["items"]] == [first["id"], second["id"]]
        assert listed["next"] is None
    assert listed["items"][1]["by"] == code_for("lena")


# --- the audit log and its verification ---------------------------------------------------------------


def test_each_lead_has_its_audit_entry_under_the_officers_code_with_the_description_by_hash(
    world: Any, app: Any
) -> None:
    made = record(world, "dana", description="hello, how are you")
    [entry] = entries_for(app, "lead.record")
    assert entry["actor"] == code_for("dana")
    assert entry["object"] == {"type": "lead", "id": made["id"]}
    assert entry["operation"] == world.operation_id
    assert entry["details"] == {
        "recipient": "Regional unit North",
        "legal_basis": "art. 126dd Sv",
        "tlp": "TLP:AMBER",
        "sha256": SENT,
        "passed_at": "2026-03-02T09:00:00.000000Z",
        "description_sha256": text_sha256("hello, how are you"),
    }
    shown = json.dumps(entry)
    assert "hello, how are you" not in shown and not re.search(r"\bdana\b", shown)
    with app.app_context(), session_scope(app) as session:
        row = session.get(Lead, made["id"])
        assert entry["evidence"] == {"row_sha256": lead_row_sha256(columns(row))}


def test_leads_are_append_only(world: Any, app: Any) -> None:
    record(world)
    with pytest.raises(DBAPIError):
        run_sql(app, "UPDATE lead SET recipient = 'someone else'")
    with pytest.raises(DBAPIError):
        run_sql(app, "DELETE FROM lead")
    with app.app_context(), session_scope(app) as session:
        assert [row.recipient for row in session.exec(select(Lead)).all()] == ["Regional unit North"]


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE lead SET recipient = 'Unit West' WHERE id = :id",
        "UPDATE lead SET description = 'something else' WHERE id = :id",
        "UPDATE lead SET tlp = 'TLP:CLEAR' WHERE id = :id",
        "UPDATE lead SET sha256 = '" + "0" * 64 + "' WHERE id = :id",
    ],
)
def test_verify_passes_and_names_a_lead_changed_behind_the_triggers(
    world: Any, app: Any, runner: Any, change: str
) -> None:
    record(world, "sam")
    made = record(world, "lena")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    tamper(app, "lead", change, id=made["id"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"lead {made['id']}: the stored row differs from the recorded one" in result.output


def test_a_lead_passed_by_someone_else_is_named(world: Any, app: Any, runner: Any) -> None:
    made = record(world, "dana")
    with app.app_context(), session_scope(app) as session:
        other = actor_for(session, "dirk").id
    tamper(app, "lead", "UPDATE lead SET passed_by = :other WHERE id = :id", other=other, id=made["id"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"lead {made['id']}: the stored row differs from the recorded one" in result.output


def test_a_lead_written_straight_into_the_database_is_named(world: Any, app: Any, runner: Any) -> None:
    made = record(world)
    with app.app_context(), session_scope(app) as session:
        planted = Lead(**{**columns(session.get(Lead, made["id"])), "id": None, "recipient": "Unit South"})
        session.add(planted)
        session.flush()
        planted_id = planted.id
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "rows without an audit entry" in result.output and f"lead {planted_id}" in result.output


# --- the central register as CSV ------------------------------------------------------------------------


def _csv(world: Any, username: str) -> list[list[str]]:
    answer = world.get("/leads.csv", username)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_csv_neutralises_formulas_and_names_officers_by_code_only(world: Any, app: Any) -> None:
    record(world, "dana", recipient="=cmd|' /C calc'!A0", description="=HYPERLINK(\"http://x\")")
    record(world, "lena", recipient="+31 unit", legal_basis="@SUM(1)", description="-2+3")
    header, *rows = _csv(world, "lena")
    assert header[:3] == ["lead", "operation", "recipient"]
    assert [row[2] for row in rows] == ["'=cmd|' /C calc'!A0", "'+31 unit"]
    assert [row[6] for row in rows] == ["'=HYPERLINK(\"http://x\")", "'-2+3"]
    assert rows[1][3] == "'@SUM(1)"
    assert [row[header.index("passed by")] for row in rows] == [code_for("dana"), code_for("lena")]
    assert rows[0][header.index("passed at")] == "2026-03-02T10:00:00+01:00"  # the operation's zone
    text = "\n".join(",".join(row) for row in [header, *rows])
    for username in USERNAMES:
        assert not re.search(rf"\b{username}\b", text), username


def test_the_csv_holds_the_leads_of_the_operations_the_caller_may_see(world: Any, app: Any) -> None:
    record(world, "dana")
    other = make_operation(app, "sam", name="Operation Harbour", members=("nina",))
    record(world, "nina", operation_id=other, description="see you later")
    assert [row[1] for row in _csv(world, "lena")[1:]] == ["Operation Lantern", "Operation Harbour"]
    assert [row[1] for row in _csv(world, "dana")[1:]] == ["Operation Lantern"]
    assert [row[1] for row in _csv(world, "nina")[1:]] == ["Operation Harbour"]
    assert world.get("/leads.csv", "adam").status_code == 403


# --- the pages ------------------------------------------------------------------------------------------


def _section(html: str) -> str:
    start = html.index('<section id="leads"')
    return html[start : html.index("</section>", start)]


def test_the_operation_page_lists_leads_escaped_and_records_one(world: Any, auth: Any) -> None:
    record(world, "sam", recipient="<b>Unit</b> North", description="<script>x</script>")
    auth.login("dana")
    html = world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True)
    section = _section(html)
    assert "&lt;b&gt;Unit&lt;/b&gt; North" in section and "&lt;script&gt;x&lt;/script&gt;" in section
    assert "<script>x</script>" not in html and "<b>Unit</b>" not in html
    assert code_for("sam") in section
    assert f'action="/operations/{world.operation_id}/leads"' in section

    token = csrf_from(html)
    form = {"csrf_token": token, "recipient": "Unit East", "legal_basis": "art. 126dd Sv", "tlp": "TLP:GREEN",
            "sha256": SENT.upper(), "description": "see you later", "passed_at": "2026-03-02 08:15"}
    answer = world.client.post(f"/operations/{world.operation_id}/leads", data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = world.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Unit East" in _section(page) and "see you later" in _section(page)
    [listed] = [lead for lead in world.get(f"/operations/{world.operation_id}/leads").get_json()["items"]
                if lead["recipient"] == "Unit East"]
    assert (listed["sha256"], listed["passed_at"]) == (SENT, "2026-03-02T07:15:00+00:00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"sha256": "abc"}, "sha256"), ({"passed_at": "tomorrow"}, "passed_at"),
     ({"passed_at": "2026-03-05 10:00"}, "passed_at"), ({"recipient": ""}, "recipient"),
     # The hour the end of summer time repeats, and the hour its start skips: the offset must be given.
     ({"passed_at": "2025-10-26 02:30"}, "passed_at"), ({"passed_at": "2025-03-30 02:30"}, "passed_at")],
)
def test_a_refused_lead_form_shows_the_error_at_its_field(
    world: Any, auth: Any, changes: dict[str, str], field: str
) -> None:
    auth.login("dana")
    token = csrf_from(world.client.get(f"/operations/{world.operation_id}").get_data(as_text=True))
    form = {"csrf_token": token, "recipient": "Unit East", "legal_basis": "art. 126dd Sv", "tlp": "TLP:GREEN",
            "sha256": SENT, "description": "see you later", **changes}
    answer = world.client.post(f"/operations/{world.operation_id}/leads", data=form)
    assert answer.status_code == 400
    section = _section(answer.get_data(as_text=True))
    error = re.search(rf'<div class="field has-error">\s*<label for="{field}"', section)
    assert error, section
    assert 'class="field-error"' in section[error.start():]
    with world.app.app_context(), session_scope(world.app) as session:
        assert session.exec(select(Lead)).all() == []


def test_legal_officers_see_every_lead_on_the_central_record(world: Any, auth: Any) -> None:
    record(world, "dana", recipient="Unit <North>")
    auth.login("lena")
    html = world.client.get("/authorizations").get_data(as_text=True)
    section = _section(html)
    assert "Unit &lt;North&gt;" in section and "Operation Lantern" in section
    assert 'href="/api/v1/leads.csv"' in section
    answer = world.client.get("/api/v1/leads.csv")
    assert answer.status_code == 200 and "Unit <North>" in answer.get_data(as_text=True)
