"""Verbalisant codes (rule 9): set at creation, by an admin on the API and the web, unique, recorded with
who had which code when, required before an officer acts on an operation, and the ``actor`` of the
operation's audit entries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from decoy.cli import main
from decoy.db import session_scope
from decoy.errors import RuleViolation
from tests.decoy.evidence.support import entries_for
from tests.factories import make_authorization
from tests.support import code_for


def _put(world: Any, username: str, code: Any, caller: str = "adam") -> Any:
    return world.client.put(
        f"/api/v1/users/{username}/verbalisant-code", headers=world.headers(caller), json={"code": code}
    )


def test_user_add_with_a_code_and_the_code_command(runner: Any, app: Any) -> None:
    added = runner.invoke(
        main, ["user", "add", "kees", "--role", "detective", "--code", "avim-0412"], input="x" * 16 + "\n"
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout.splitlines()[-1])["verbalisant_code"] == "AVIM-0412"
    bare = runner.invoke(main, ["user", "add", "joke", "--role", "legal"], input="x" * 16 + "\n")
    assert bare.exit_code == 0 and "has no verbalisant code" in bare.output
    taken = runner.invoke(main, ["user", "code", "joke", "AVIM-0412"])
    assert taken.exit_code != 0 and "belongs to another officer" in taken.output
    bad = runner.invoke(main, ["user", "add", "piet", "--role", "detective", "--code", "no spaces"],
                        input="x" * 16 + "\n")
    assert bad.exit_code != 0 and "code" in bad.output
    done = runner.invoke(main, ["user", "code", "joke", "AVIM-0500"])
    assert done.exit_code == 0, done.output
    with app.app_context(), session_scope(app) as session:
        rows = session.execute(
            text(
                "SELECT u.username, a.code FROM verbalisant_assignment a "
                "JOIN user_account u ON u.id = a.user_id ORDER BY a.id"
            )
        ).all()
        assert [tuple(row) for row in rows] == [("kees", "AVIM-0412"), ("joke", "AVIM-0500")]
        piet = session.execute(text("SELECT count(*) FROM user_account WHERE username = 'piet'")).scalar()
        assert piet == 0


def test_the_admin_sets_a_code_and_the_history_is_kept(world: Any) -> None:
    assert _put(world, "dana", "avim-0777").status_code == 200
    assert _put(world, "dana", "AVIM-0777").get_json() == {"username": "dana", "code": "AVIM-0777"}
    assert _put(world, "dirk", "AVIM-0777").status_code == 409  # one code, one officer
    assert _put(world, "dirk", code_for("dana")).status_code == 409  # for ever, even after a change
    assert _put(world, "dirk", "dana").status_code == 400  # a username is no code
    for refused in ("", "A", "AVIM 0777", "AVIM-0777-1-2", 7, None, "Ä-1"):
        answer = _put(world, "dirk", refused)
        assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "code", refused
    assert _put(world, "adam", "ADMIN-1").status_code == 409  # an admin acts on no operation
    assert _put(world, "ghost", "GHOST-1").status_code == 404
    assert _put(world, "dirk", "DIRK-1", caller="lena").status_code == 403
    mapping = world.get("/verbalisant-codes", "lena").get_json()["items"]
    pairs = [(row["username"], row["code"]) for row in mapping]
    assert pairs[0] == ("dana", "AVIM-0777") and ("dana", code_for("dana")) in pairs
    assert "ADMIN-1" not in {code for _name, code in pairs}
    assert world.get("/verbalisant-codes", "dana").status_code == 403
    [entry] = [
        e for e in entries_for(world.app, "account.verbalisant_code") if e["details"]["code"] == "AVIM-0777"
    ]
    assert entry["details"]["previous"] == code_for("dana") and entry["actor"] == "adam"
    assert world.get("/me", "dana").get_json()["verbalisant_code"] == "AVIM-0777"


def test_entries_of_an_operation_carry_the_code_of_the_moment(world: Any, runner: Any) -> None:
    contact = world.contact()
    world.message(contact)
    assert _put(world, "dana", "AVIM-0778").status_code == 200
    world.message(contact, body="hello again")
    actors = [entry["actor"] for entry in entries_for(world.app, "message.create")]
    assert actors == [code_for("dana"), "AVIM-0778"]
    usernames = {"sam", "sol", "dana", "dirk", "nina", "lena"}
    assert not {e["actor"] for e in entries_for(world.app, "contact.create")} & usernames
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_an_officer_without_a_code_cannot_act_on_an_operation(world: Any, factory: Any) -> None:
    factory.user("nocode", "detective", code=None)
    world.tokens["nocode"] = factory.token("nocode")
    added = world.post(f"/operations/{world.operation_id}/members", "sam", json={"username": "nocode"})
    assert added.status_code == 201, added.get_json()
    contact = world.contact()
    refused = world.post(
        f"/contacts/{contact}/messages", "nocode",
        json={"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": "hello, how are you"},
    )
    assert refused.status_code == 409 and refused.get_json()["error"]["field"] == "verbalisant_code"
    assert len(entries_for(world.app, "message.create")) == 0
    with pytest.raises(RuleViolation) as refusal:
        make_authorization(
            world.app, "lena", world.operation_id, reference="RB-2026-0900", officers=["nocode"]
        )
    assert refusal.value.field == "officers" and "no verbalisant code" in refusal.value.message


def test_the_admin_page_sets_a_code_and_shows_refusals(world: Any, auth: Any) -> None:
    auth.login("adam")
    page = auth.client.get("/admin/users")
    assert page.status_code == 200 and b"Verbalisant code" in page.data
    with world.app.app_context(), session_scope(world.app) as session:
        dirk = session.execute(text("SELECT id FROM user_account WHERE username = 'dirk'")).scalar()
    token = auth.csrf("/admin/users")
    path = f"/admin/users/{dirk}/verbalisant-code"
    refused = auth.client.post(path, data={"csrf_token": token, "code": code_for("dana")})
    assert refused.status_code == 409 and b"belongs to another officer" in refused.data
    done = auth.client.post(path, data={"csrf_token": token, "code": "DIRK-0001"}, follow_redirects=True)
    assert done.status_code == 200 and b"DIRK-0001" in done.data
    history = auth.client.get("/admin/verbalisant-codes")
    assert history.status_code == 200 and b"DIRK-0001" in history.data and b"dirk" in history.data
