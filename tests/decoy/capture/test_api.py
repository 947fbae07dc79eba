"""Capture sessions through the API: start on an active profile, end once with the statement, read; every
refusal with its status, and every start and end an audit entry that `decoy audit verify` checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from decoy.cli import main
from decoy.db import get_engine, session_scope
from decoy.evidence.fingerprint import capture_session_end_fingerprint, capture_session_fingerprint
from decoy.operations import services as operations
from tests.decoy.evidence.support import entries_for
from tests.factories import actor_for
from tests.support import code_for, without_triggers

from .support import STATEMENT, end, index_of, refused_field, start


def test_a_detective_starts_a_session_she_operates(world: Any) -> None:
    started = start(world, device="  laptop VICE-07  ", tool="manual")
    assert started["profile_id"] == world.profile_id
    assert started["operation_id"] == world.operation_id
    assert (started["operated_by"], started["device"], started["tool"]) == (
        "dana",
        "laptop VICE-07",
        "manual",
    )
    assert started["started_at"] == "2026-03-02T09:00:00+00:00"
    assert started["open"] is True
    assert [started[name] for name in ("ended_at", "ended_by", "completeness_statement", "known_gaps")] == [
        None,
        None,
        None,
        None,
    ]
    [entry] = entries_for(world.app, "capture_session.start")
    assert (entry["actor"], entry["object"], entry["operation"]) == (
        code_for("dana"),
        {"type": "capture_session", "id": started["id"]},
        world.operation_id,
    )
    row = {
        **started,
        "operated_by": _user_id(world, "dana"),
        "started_at": world.app.extensions["clock"].now(),
    }
    assert entry["evidence"] == {"row_sha256": capture_session_fingerprint(row)}
    assert entry["details"] == {"profile": world.profile_id, "device": "laptop VICE-07", "tool": "manual"}
    assert world.get(f"/capture-sessions/{started['id']}").get_json() == started
    assert world.get(f"/capture-sessions/{started['id']}", "lena").get_json() == started  # legal reads


def test_the_operator_ends_it_once_with_the_statement(world: Any, clock: Any) -> None:
    started = start(world)
    clock.advance(timedelta(hours=3))
    ended = end(world, started["id"], known_gaps="  The app crashed at 10:40; two messages may be lost.  ")
    assert ended["open"] is False
    assert (ended["ended_by"], ended["ended_at"]) == ("dana", "2026-03-02T12:00:00+00:00")
    assert ended["completeness_statement"] == STATEMENT
    assert ended["known_gaps"] == "The app crashed at 10:40; two messages may be lost."
    assert world.get(f"/capture-sessions/{started['id']}").get_json() == ended
    [entry] = entries_for(world.app, "capture_session.end")
    row = {
        "capture_session_id": started["id"],
        "ended_by": _user_id(world, "dana"),
        "ended_at": clock.now(),
        "completeness_statement": STATEMENT,
        "known_gaps": ended["known_gaps"],
    }
    assert entry["evidence"] == {"row_sha256": capture_session_end_fingerprint(row)}
    assert entry["details"] == {"profile": world.profile_id, "known_gaps": True}
    again = world.post(f"/capture-sessions/{started['id']}/end", json={"completeness_statement": "again"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "rule_violation"
    assert len(entries_for(world.app, "capture_session.end")) == 1


def test_a_supervisor_of_the_operation_ends_a_detectives_session(world: Any) -> None:
    started = start(world)
    ended = end(world, started["id"], "sol", completeness_statement="dana left; sol closes the session")
    assert (ended["operated_by"], ended["ended_by"], ended["known_gaps"]) == ("dana", "sol", "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"device": None}, "device"),
        ({"device": ""}, "device"),
        ({"device": "   "}, "device"),
        ({"device": "laptop\nVICE-07"}, "device"),
        ({"device": "laptop\u2028VICE-07"}, "device"),
        ({"device": "x" * 201}, "device"),
        ({"device": "nul \x00"}, "device"),
        ({"tool": None}, "tool"),
        ({"tool": "x" * 101}, "tool"),
        ({"tool": "man\rual"}, "tool"),
    ],
)
def test_a_bad_device_or_tool_is_a_400_naming_it(world: Any, body: dict[str, Any], field: str) -> None:
    sent = {"device": "laptop VICE-07", "tool": "manual", **body}
    sent = {name: value for name, value in sent.items() if value is not None}
    answer = world.post(f"/profiles/{world.profile_id}/capture-sessions", json=sent)
    assert refused_field(answer) == field
    assert entries_for(world.app, "capture_session.start") == []


def test_the_longest_device_and_tool_are_accepted(world: Any) -> None:
    started = start(world, device="d" * 200, tool="t" * 100)
    assert (len(started["device"]), len(started["tool"])) == (200, 100)


@pytest.mark.parametrize(
    ("username", "status"),
    [("nina", 404), ("adam", 404), ("lena", 403)],
    ids=["detective outside the operation", "admin", "legal officer (reads, does not record)"],
)
def test_who_may_not_start_one(world: Any, username: str, status: int) -> None:
    answer = world.post(
        f"/profiles/{world.profile_id}/capture-sessions",
        username,
        json={"device": "laptop", "tool": "manual"},
    )
    assert answer.status_code == status, answer.get_json()
    # The same answer for a profile that does not exist, and for an outsider the same as for any body.
    if status == 404:
        assert world.post("/profiles/999999/capture-sessions", username, json={}).status_code == 404
        assert (
            world.post(f"/profiles/{world.profile_id}/capture-sessions", username, json={}).status_code == 404
        )
    assert entries_for(world.app, "capture_session.start") == []


def test_a_session_starts_only_on_an_active_profile(world: Any) -> None:
    pending = world.profile(approved=False, handle="not_yet")
    answer = world.post(f"/profiles/{pending}/capture-sessions", json={"device": "laptop", "tool": "manual"})
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "rule_violation"
    assert "active profile" in answer.get_json()["error"]["message"]
    _suspend(world, world.profile_id)
    answer = world.post(
        f"/profiles/{world.profile_id}/capture-sessions", json={"device": "laptop", "tool": "x"}
    )
    assert answer.status_code == 409
    assert "suspended" in answer.get_json()["error"]["message"]
    assert entries_for(world.app, "capture_session.start") == []


@pytest.mark.parametrize(
    ("username", "status"),
    [("dirk", 403), ("lena", 403), ("nina", 404), ("adam", 404)],
    ids=["another detective of the operation", "legal officer", "detective outside", "admin"],
)
def test_who_may_not_end_a_session(world: Any, username: str, status: int) -> None:
    started = start(world)
    answer = world.post(
        f"/capture-sessions/{started['id']}/end", username, json={"completeness_statement": STATEMENT}
    )
    assert answer.status_code == status, answer.get_json()
    assert world.get(f"/capture-sessions/{started['id']}").get_json()["open"] is True
    if status == 404:  # as for a session that does not exist
        assert world.post("/capture-sessions/999999/end", username, json={}).status_code == 404
        assert world.get(f"/capture-sessions/{started['id']}", username).status_code == 404
        assert world.get(f"/profiles/{world.profile_id}/capture-sessions", username).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "completeness_statement"),
        ({"completeness_statement": "  \n "}, "completeness_statement"),
        ({"completeness_statement": "x" * 20_001}, "completeness_statement"),
        ({"completeness_statement": "ok", "known_gaps": 7}, "known_gaps"),
        ({"completeness_statement": "ok", "known_gaps": "nul \x00"}, "known_gaps"),
    ],
)
def test_an_end_needs_a_statement(world: Any, body: dict[str, Any], field: str) -> None:
    started = start(world)
    answer = world.post(f"/capture-sessions/{started['id']}/end", json=body)
    assert refused_field(answer) == field
    assert world.get(f"/capture-sessions/{started['id']}").get_json()["open"] is True


def test_a_multi_line_statement_is_kept(world: Any) -> None:
    started = start(world)
    statement = "Every message is recorded,\nexcept as listed below."
    ended = end(world, started["id"], completeness_statement=statement, known_gaps="line one\nline two")
    assert (ended["completeness_statement"], ended["known_gaps"]) == (statement, "line one\nline two")


def test_the_profiles_sessions_are_listed_by_id_in_pages(world: Any) -> None:
    first = start(world)
    second = start(world, "dirk", device="desktop 3", tool="capture-cli 1.2")
    end(world, first["id"])
    page = world.get(f"/profiles/{world.profile_id}/capture-sessions?limit=1").get_json()
    assert [item["id"] for item in page["items"]] == [first["id"]]
    assert page["items"][0]["open"] is False
    following = world.get(page["next"]).get_json()
    assert [(item["id"], item["operated_by"], item["open"]) for item in following["items"]] == [
        (second["id"], "dirk", True)
    ]
    assert following["next"] is None
    other = world.profile(handle="decoy_two")
    assert world.get(f"/profiles/{other}/capture-sessions").get_json() == {"items": [], "next": None}
    assert world.get(f"/profiles/{world.profile_id}/capture-sessions?limit=0").status_code == 400


def test_an_intact_log_with_sessions_verifies(world: Any, runner: Any) -> None:
    started = start(world)
    end(world, started["id"], known_gaps="none that I know of")
    start(world, "sol")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("table", "statement", "action"),
    [
        ("capture_session", "UPDATE capture_session SET device = 'another laptop'", "capture_session.start"),
        ("capture_session", "UPDATE capture_session SET operated_by = :dirk", "capture_session.start"),
        (
            "capture_session",
            "UPDATE capture_session SET started_at = started_at + INTERVAL '1 hour'",
            "capture_session.start",
        ),
        (
            "capture_session_end",
            "UPDATE capture_session_end SET completeness_statement = 'all recorded'",
            "capture_session.end",
        ),
        ("capture_session_end", "UPDATE capture_session_end SET known_gaps = ''", "capture_session.end"),
        ("capture_session_end", "DELETE FROM capture_session_end", "capture_session.end"),
    ],
)
def test_a_changed_session_or_end_is_named_by_verify(
    world: Any, runner: Any, table: str, statement: str, action: str
) -> None:
    started = start(world)
    end(world, started["id"], known_gaps="two messages lost")
    dirk = _user_id(world, "dirk")
    with world.app.app_context(), get_engine().begin() as connection:
        if "INTERVAL" in statement and connection.dialect.name == "sqlite":
            statement = "UPDATE capture_session SET started_at = '2026-03-02 10:00:00.000000'"
        without_triggers(connection, table)
        connection.execute(text(statement), {"dirk": dirk})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"first bad entry: {index_of(world.app, action, started['id'])};" in result.output
    assert f"capture session {started['id']}" in result.output


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE capture_session SET tool = 'x'",
        "DELETE FROM capture_session_end",
        "UPDATE capture_session_end SET known_gaps = 'x'",
    ],
)
def test_the_database_refuses_changes_to_sessions(world: Any, statement: str) -> None:
    started = start(world)
    end(world, started["id"])
    with world.app.app_context():
        with pytest.raises(Exception, match="append-only"):  # noqa: B017 - driver-specific error types
            with get_engine().begin() as connection:
                connection.execute(text(statement))


def _user_id(world: Any, username: str) -> int:
    with world.app.app_context(), session_scope(world.app) as session:
        return int(actor_for(session, username).id)


def _suspend(world: Any, profile_id: int) -> None:
    with world.app.app_context(), session_scope(world.app) as session:
        operations.suspend_profile(
            session=session, actor=actor_for(session, "sol"), profile_id=profile_id, reason="test"
        )
