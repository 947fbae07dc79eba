"""A message and its audit entry belong to one transaction, the caller's: it keeps them or loses both;
on PostgreSQL the message's id comes from its sequence (for a recorder only) and a message without files
is written with its entry by one call of decoy_record_message (migration 0008)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlmodel import Session

from audit.appending import APPEND_LOCK_KEY
from decoy.audit_bridge import get_store
from decoy.db import get_engine, session_scope
from decoy.evidence import services
from decoy.models import Message, User
from tests.decoy.evidence.support import World, audit_entries
from tests.factories import actor_for
from tests.support import PG_URL, START

on_postgresql = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's sequence, locks and functions")
SENT = (START + timedelta(hours=1)).astimezone(timezone(timedelta(hours=1)))


def _dana(app: Any) -> Any:
    """dana's principal, read in a session of its own (the test's session stays as the test has it)."""
    with session_scope(app) as session:
        return actor_for(session, "dana")


def _log(session: Session, dana: Any, contact_id: int, body: str) -> Any:
    return services.log_message(
        session=session, actor=dana, contact_id=contact_id, direction="in", sent_at=SENT, body=body
    )


def _counts(app: Any) -> tuple[int, int]:
    """Messages and entries committed (read in a deferred transaction: a writer may hold SQLite's lock)."""
    with get_engine(app).connect().execution_options(decoy_snapshot=True) as connection:
        messages = connection.execute(select(func.count()).select_from(Message)).scalar_one()
        return messages, get_store(app).size(connection)


@pytest.mark.parametrize("read_first", [True, False])
def test_a_message_logged_in_a_caller_transaction_rolls_back_with_it(world: World, read_first: bool):
    """The message stays in the caller's transaction on both databases, whether or not anything was
    read before: a rollback leaves neither row nor entry."""
    contact_id = world.contact()
    before = _counts(world.app)
    dana = _dana(world.app)
    with world.app.app_context():
        session = Session(get_engine(world.app), expire_on_commit=False)
        try:
            with pytest.raises(RuntimeError), session.begin():
                if read_first:
                    session.execute(select(User.id)).all()
                _log(session, dana, contact_id, "hello, how are you")
                raise RuntimeError("the caller fails after recording")
        finally:
            session.close()
    assert _counts(world.app) == before


def test_a_message_is_there_once_its_caller_commits(world: World):
    """Row and entry are written in the session's transaction and seen by others only after its commit."""
    contact_id = world.contact()
    messages, entries = _counts(world.app)
    dana = _dana(world.app)
    with world.app.app_context():
        session = Session(get_engine(world.app), expire_on_commit=False)
        try:
            logged = _log(session, dana, contact_id, "hello, how are you")
            assert _counts(world.app) == (messages, entries)
            session.commit()
        finally:
            session.close()
    assert _counts(world.app) == (messages + 1, entries + 1)
    last = audit_entries(world.app)[-1]
    assert (last["action"], last["object"]["id"]) == ("message.create", logged.id)


_REFUSE_ENTRIES = {
    "sqlite": [
        "CREATE TRIGGER test_refuse_entry BEFORE INSERT ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'entry refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION test_refuse_entry() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'entry refused' USING ERRCODE = 'integrity_constraint_violation'; END $$",
        "CREATE TRIGGER test_refuse_entry BEFORE INSERT ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION test_refuse_entry()",
    ],
}
_ALLOW_ENTRIES = {
    "sqlite": ["DROP TRIGGER test_refuse_entry"],
    "postgresql": ["DROP TRIGGER test_refuse_entry ON audit_entry", "DROP FUNCTION test_refuse_entry()"],
}


def test_a_failed_audit_append_leaves_no_message(world: World):
    """The database refuses the entry: the request fails and the message row is not there either."""
    contact_id = world.contact()
    before = _counts(world.app)
    engine = get_engine(world.app)
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    dialect = engine.dialect.name
    with engine.begin() as connection:
        for statement in _REFUSE_ENTRIES[dialect]:
            connection.execute(text(statement))
    try:
        response = world.post(
            f"/contacts/{contact_id}/messages",
            json={"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": "hello, how are you"},
        )
        assert response.status_code == 500
        assert _counts(world.app) == before
    finally:
        with engine.begin() as connection:
            for statement in _ALLOW_ENTRIES[dialect]:
                connection.execute(text(statement))
    world.message(contact_id, body="good morning")
    assert _counts(world.app) == (before[0] + 1, before[1] + 1)


@on_postgresql
def test_a_message_whose_audit_append_waits_too_long_leaves_nothing(world: World):
    """The append waits for its lock past lock_timeout: the call fails whole (503), so the message row
    written in the same call is not there either; the next message is recorded."""
    contact_id = world.contact()
    before = _counts(world.app)
    engine = get_engine(world.app)
    url = engine.url.render_as_string(hide_password=False)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    holder_engine = create_engine(url)
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        with admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE \"{engine.url.database}\" SET lock_timeout = '300ms'"))
        engine.dispose()
        with holder_engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
            answer = world.message(contact_id, body="hello, how are you", expect=503)
            assert answer["error"]["code"] == "unavailable"
            holder.rollback()
        assert _counts(world.app) == before
        recorded = world.message(contact_id, body="good morning")
        assert _counts(world.app) == (before[0] + 1, before[1] + 1)
        last = audit_entries(world.app)[-1]
        assert last["object"]["id"] == recorded["id"]
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{engine.url.database}" RESET lock_timeout'))
        admin.dispose()
        holder_engine.dispose()
        engine.dispose()


@on_postgresql
def test_message_ids_come_from_the_sequence_and_entries_name_them(world: World):
    contact_id = world.contact()
    first = world.message(contact_id, body="hello, how are you")
    second = world.message(contact_id, body="good morning", sent_at="2026-03-02T10:05:00+01:00")
    assert second["id"] > first["id"]
    with get_engine(world.app).connect() as connection:
        stored = connection.execute(
            select(Message.id, Message.body, Message.recorded_at).where(Message.contact_id == contact_id)
        ).all()
    assert [(row.id, row.body) for row in stored] == [
        (first["id"], "hello, how are you"),
        (second["id"], "good morning"),
    ]
    assert all(isinstance(row.recorded_at, datetime) and row.recorded_at.tzinfo for row in stored)
    created = [e for e in audit_entries(world.app) if e["action"] == "message.create"]
    assert [e["object"]["id"] for e in created[-2:]] == [first["id"], second["id"]]


@on_postgresql
def test_only_a_recorder_moves_the_message_sequence_on(world: World):
    """A refused request (an outsider's 404, a legal officer's 403) takes no message id: ids tell
    nothing about contacts one may not see, and only recorders can use the sequence up."""
    contact_id = world.contact()
    first = world.message(contact_id, body="hello, how are you")
    for _ in range(3):
        world.message(contact_id, username="nina", expect=404)
        world.message(contact_id, username="lena", expect=403)
    world.message(contact_id, body="", expect=400)  # a recorder's bad input may take one
    second = world.message(contact_id, body="good morning")
    assert first["id"] < second["id"] <= first["id"] + 2


@on_postgresql
def test_a_row_that_is_not_written_gets_no_entry(world: World):
    """Should anything ever swallow the message row (here a trigger that drops it), the append is not
    made: the one call writes neither."""
    contact_id = world.contact()
    before = _counts(world.app)
    engine = get_engine(world.app)
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    with engine.begin() as connection:
        connection.execute(text("CREATE FUNCTION test_drop_row() RETURNS trigger LANGUAGE plpgsql AS "
                                "$$ BEGIN RETURN NULL; END $$"))
        connection.execute(text("CREATE TRIGGER test_drop_row BEFORE INSERT ON message "
                                "FOR EACH ROW EXECUTE FUNCTION test_drop_row()"))
    try:
        response = world.post(
            f"/contacts/{contact_id}/messages",
            json={"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": "hello, how are you"},
        )
        assert response.status_code == 500
        assert _counts(world.app) == before
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER test_drop_row ON message"))
            connection.execute(text("DROP FUNCTION test_drop_row()"))
