"""The message and token hot path: the token check, the cookie session of API
requests, the one-query recording facts, SQLite's write-lock wait and migrations 0006/0007."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from decoy import db
from decoy.db import get_engine, session_scope
from tests.decoy.evidence.support import World, authorization_terms
from tests.factories import actor_for, make_authorization, make_operation, make_profile
from tests.support import PG_URL, START


def _pg_url(app: Any) -> str:
    return str(get_engine(app).url.render_as_string(hide_password=False))


# --- tokens --------------------------------------------------------------------------------------


def test_a_database_error_while_checking_a_token_is_a_503(app, client, factory):
    """A database outage during the token query is SQLAlchemy's OperationalError, which the app answers
    with 503 (decoy/errors.py), not a 500."""
    factory.user("dora", "detective")
    token = factory.token("dora", days=1)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    if PG_URL:
        url = _pg_url(app)
        database = get_engine(app).url.database
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" SET lock_timeout = \'200ms\''))
        get_engine(app).dispose()
        holder_engine = create_engine(url)
        holder = holder_engine.connect()
        holder.execute(text("LOCK TABLE api_token IN ACCESS EXCLUSIVE MODE"))
        try:
            response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        finally:
            holder.rollback()
            holder.close()
            holder_engine.dispose()
            admin.dispose()
    else:
        with get_engine(app).begin() as connection:
            connection.execute(text("ALTER TABLE api_token RENAME TO api_token_moved"))
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503, response.get_data(as_text=True)[:200]


def test_token_expiry_revocation_purpose_and_inactive_accounts(app, client, factory, clock):
    from decoy.auth import services, tokens

    factory.user("dora", "detective", "supervisor")
    token = factory.token("dora", days=1)
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["roles"] == ["detective", "supervisor"]
    clock.advance(timedelta(days=1) - timedelta(microseconds=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(microseconds=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # expires_at itself is past
    fresh = factory.token("dora", days=2)
    with app.app_context(), session_scope(app) as session:
        user = services.find_user(session, "dora")
        calendar, calendar_clear = tokens.create_token(
            session=session, user=user, name="cal", purpose="calendar"
        )
    assert calendar.id
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {calendar_clear}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"bearer  {fresh} "}).status_code == 200
    with app.app_context(), session_scope(app) as session:
        session.execute(text("UPDATE user_account SET is_active = false WHERE username = 'dora'"))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 401


def test_token_expiry_with_a_server_time_zone_far_from_utc(app, client, factory, clock):
    """psycopg returns timestamptz in the session's TimeZone: the boundary must not move with it."""
    if not PG_URL:
        pytest.skip("PostgreSQL's TimeZone setting")
    database = get_engine(app).url.database
    admin = create_engine(_pg_url(app), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" SET TimeZone = \'Pacific/Kiritimati\''))
    admin.dispose()
    get_engine(app).dispose()
    factory.user("dora", "detective")
    headers = {"Authorization": f"Bearer {factory.token('dora', days=1)}"}
    clock.advance(timedelta(days=1) - timedelta(microseconds=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(microseconds=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_an_empty_authorization_header_does_not_drop_the_cookie_session(client, factory, auth):
    """decoy/api authenticates by the session when the Authorization header is empty (``if header``);
    CookieSessions drops the session whenever the header is present, so the two disagree."""
    factory.user("erik", "legal")
    auth.login("erik")
    assert client.get("/api/v1/me").status_code == 200
    response = client.get("/api/v1/me", headers={"Authorization": ""})
    assert response.status_code == 200, response.get_json()


def test_a_bearer_request_cannot_ride_on_a_session_and_a_bad_header_is_refused(client, factory, auth):
    factory.user("erik", "legal")
    auth.login("erik")
    for header in ("Basic ZXJpazpwdw==", "Bearer dcy_not-a-token", "Bearer", "dcy_x"):
        assert client.get("/api/v1/me", headers={"Authorization": header}).status_code == 401
    assert client.get("/api/v1/me").status_code == 200  # the cookie session itself was left alone


# --- recording facts ------------------------------------------------------------------------------


def test_the_recording_query_reads_exactly_the_operations_authorizations(world: World):  # noqa: F811
    """Contacts of a profile on a superseded chain, in an operation with a second chain, with a second
    operation that has authorizations of its own: the one-query facts equal chain_facts' own query."""
    from decoy.evidence import recording as evidence
    from decoy.evidence.flags import message_flags
    from decoy.operations.rules import _OPERATION_AUTHORIZATION_ROWS, chain_facts

    app = world.app
    extension = world.authorization(
        **authorization_terms(
            reference="EXT-R", supersedes_id=world.authorization_id, may_initiate_contact=True,
            valid_from=START + timedelta(days=30), valid_until=START + timedelta(days=60),
        )
    )
    separate = world.authorization(**authorization_terms(reference="SEP-R", may_initiate_contact=True))
    other_operation = make_operation(app, "sol", name="Operation Harbour", members=("dana",))
    make_authorization(app, "lena", other_operation, **authorization_terms(reference="OTH-R"))
    contact_old = world.contact()
    contact_sep = world.contact(world.profile(authorization_id=separate, handle="decoy_sep"), "sky_blue")
    with app.app_context(), session_scope(app) as session:
        actor = actor_for(session, "dana")
        for contact_id in (contact_old, contact_sep):
            recording = evidence.read_recording(session.connection(), actor, contact_id)
            parameters = {"authorization": recording.authorization_id}
            expected = session.connection().execute(_OPERATION_AUTHORIZATION_ROWS, parameters).all()
            assert sorted(tuple(row) for row in recording.authorizations) == sorted(
                tuple(row) for row in expected
            )
            assert {row.id for row in recording.authorizations} >= {world.authorization_id, extension}
            assert [link.id for link in chain_facts(session, recording.authorization_id, ())] == []
            for moment in (START, START + timedelta(days=45), START + timedelta(days=90)):
                for direction in ("in", "out"):
                    arguments = {
                        "profile": recording, "contact_id": contact_id, "direction": direction,
                        "sent_at": moment, "recorder_id": actor.id,
                    }
                    assert message_flags(session, **arguments, operation_rows=recording.authorizations) == (
                        message_flags(session, **arguments)
                    )


def test_a_profile_of_another_operation_is_not_recorded_into_by_a_non_member(world: World):  # noqa: F811
    other_operation = make_operation(world.app, "sol", name="Operation Harbour", members=())
    other_authorization = make_authorization(
        world.app, "lena", other_operation, **authorization_terms(reference="OTH-2", officers=["sol"])
    )
    profile = make_profile(world.app, other_operation, other_authorization, "sol", approver="sam",
                           platform="chatsite", handle="decoy_far")
    response = world.post(f"/profiles/{profile}/contacts", "sol", json={"counterpart": "far_away"})
    assert response.status_code == 201, response.get_json()
    contact_id = response.get_json()["id"]
    answer = world.post(
        f"/contacts/{contact_id}/messages", "dana",
        json={"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": "hello, how are you"},
    )
    assert answer.status_code == 404


# --- SQLite write lock ----------------------------------------------------------------------------


class _FakeConnection:
    """A driver connection whose BEGIN IMMEDIATE fails with the given errors first."""

    def __init__(self, errors: list[sqlite3.OperationalError]) -> None:
        self.errors = errors
        self.statements: list[str] = []

    def execute(self, sql: str) -> None:
        self.statements.append(sql)
        if sql == "BEGIN IMMEDIATE" and self.errors:
            raise self.errors.pop(0)


def _busy(code: int, name: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = code
    error.sqlite_errorname = name
    return error


@pytest.mark.parametrize(("code", "name"), [(5, "SQLITE_BUSY"), (261, "SQLITE_BUSY_RECOVERY")])
def test_every_busy_code_is_waited_for(code: int, name: str):
    """sqlite_errorcode is SQLite's extended code: SQLITE_BUSY_RECOVERY (a WAL being recovered after a
    crash) is a BUSY that SQLite's own busy handler waits for; with busy_timeout=0 only this loop can."""
    connection = _FakeConnection([_busy(code, name), _busy(code, name)])
    db.begin_writing(connection)  # type: ignore[arg-type]
    assert connection.statements.count("BEGIN IMMEDIATE") == 3
    assert connection.statements[-1] == "PRAGMA busy_timeout=30000"


def test_a_non_busy_error_is_sqlalchemys_and_restores_the_busy_timeout(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    raw = engine.raw_connection()
    try:
        raw.dbapi_connection.execute("BEGIN")  # already in a transaction: BEGIN IMMEDIATE is an error
        with pytest.raises(OperationalError):
            db.begin_writing(raw.dbapi_connection)
        assert raw.dbapi_connection.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    finally:
        raw.close()
        engine.dispose()


def test_a_snapshot_reader_is_not_held_up_by_a_writer(app):
    """The deferred snapshot (exports) does not go through begin_writing: it reads while a writer holds
    the write lock."""
    if PG_URL:
        pytest.skip("SQLite's write lock")
    held, done = threading.Event(), threading.Event()

    def writer() -> None:
        with get_engine(app).begin() as connection:
            connection.execute(text("UPDATE user_account SET username = username"))
            held.set()
            done.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    assert held.wait(5)
    try:
        with app.app_context(), db.snapshot_session(app) as session:
            assert session.execute(text("SELECT count(*) FROM user_account")).scalar_one() >= 0
    finally:
        done.set()
        thread.join()


# --- migrations -----------------------------------------------------------------------------------


def _functions(app: Any) -> set[str]:
    with get_engine(app).connect() as connection:
        names = connection.execute(
            text("SELECT proname FROM pg_proc WHERE proname LIKE 'audit_%' AND pronamespace = "
                 "'public'::regnamespace")
        ).scalars()
        return set(names)


def test_migration_0007_down_and_up_again(app, factory):
    from alembic import command

    from decoy.cli.migrate import alembic_config

    factory.user("dora", "detective")  # an audited write before
    config = alembic_config(app)
    command.downgrade(config, "0006")
    if PG_URL:
        assert "audit_append" in _functions(app)
        assert not {"audit_append_entry", "audit_frontier_root"} & _functions(app)
    command.upgrade(config, "head")
    if PG_URL:
        assert {"audit_append_entry", "audit_frontier_root"} <= _functions(app)
        assert "audit_append" not in _functions(app)
    factory.user("erik", "legal")  # and after
    with app.app_context(), session_scope(app) as session:
        from decoy.audit_bridge import get_store

        assert get_store(app).head_row(session.connection()).size >= 2


def test_the_schema_at_revision_0006_has_the_function_of_0006(app):
    """A database brought to 0006 (from 0005) should hold what 0006 created: audit_append."""
    if not PG_URL:
        pytest.skip("the function exists on PostgreSQL only")
    from alembic import command

    from decoy.cli.migrate import alembic_config

    config = alembic_config(app)
    command.downgrade(config, "0005")
    command.upgrade(config, "0006")
    functions = _functions(app)
    command.upgrade(config, "head")
    assert "audit_append" in functions, functions
