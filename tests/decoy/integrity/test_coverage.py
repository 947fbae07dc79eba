"""`decoy audit verify` checks coverage both ways: a row written straight into the database, with no audit
entry, is named by its table and id, like a row that differs from its entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, insert, text

from decoy import audit_bridge
from decoy.cli import main
from decoy.db import get_engine, session_scope
from decoy.evidence.fingerprint import text_sha256
from decoy.models import (
    Attachment,
    Authorization,
    AuthorizationDocument,
    AuthorizationOfficer,
    CaptureSession,
    CaptureSessionEnd,
    Contact,
    ExportReconciliation,
    Message,
    MessageImport,
    MessageImportResult,
    Profile,
    ProfileTransition,
    ReviewDecision,
    User,
)
from tests.decoy.evidence.support import entries_for
from tests.support import without_triggers

from .support import record_everything, user_id

MOMENT = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
SHA = text_sha256("pixels")


@pytest.fixture
def recorded(world: Any) -> dict[str, Any]:
    """Evidence and every kind of legal record, each written through the services."""
    return record_everything(world)


def _insert(connection: Connection, model: Any, **values: Any) -> int:
    table = model.__table__
    if "id" not in table.c:
        connection.execute(insert(table).values(**values))
        return 0
    return int(connection.execute(insert(table).values(**values).returning(table.c.id)).scalar_one())


def _contact(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, Contact, operation_id=world.operation_id, profile_id=world.profile_id,
                  counterpart="someone_new", first_seen_at=MOMENT, flags=[],
                  recorded_by=user_id(c, "dana"), recorded_at=MOMENT)
    return "contact", row


def _message(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, Message, operation_id=world.operation_id, contact_id=ids["contact"], direction="in",
                  sent_at=MOMENT, sent_offset_minutes=0, recorded_at=MOMENT, recorded_by=user_id(c, "dana"),
                  body="never said", body_sha256=text_sha256("never said"), corrects_id=None, flags=[])
    return "message", row


def _attachment(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, Attachment, message_id=ids["message"], operation_id=world.operation_id, sha256=SHA,
                  size=6, media_type="image/png", filename="planted.png", recorded_at=MOMENT)
    return "attachment", row


def _authorization(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, Authorization, operation_id=world.operation_id, reference="OvJ-planted",
                  kind="written_order", authority="Court", issuer_name="", legal_basis="art. 126j Sv",
                  offence="", suspect_description="", justification="", method="", issued_on=None,
                  valid_from=MOMENT, valid_until=MOMENT.replace(year=2027), review_interval_days=30,
                  platforms=["chatsite"], persona_constraints="", may_initiate_contact=True, max_profiles=9,
                  conditions="", written_order_due=None, supersedes_id=None,
                  registered_by=user_id(c, "lena"), registered_at=MOMENT)
    return "legal_authorization", row


def _officer(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    dirk = user_id(c, "dirk")
    _insert(c, AuthorizationOfficer, authorization_id=world.authorization_id, user_id=dirk)
    return "authorization_officer", dirk


def _document(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, AuthorizationDocument, authorization_id=world.authorization_id, kind="order",
                  filename="planted.pdf", sha256=SHA, size=6, media_type="application/pdf",
                  uploaded_by=user_id(c, "lena"), uploaded_at=MOMENT)
    return "authorization_document", row


def _profile(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, Profile, operation_id=world.operation_id, authorization_id=world.authorization_id,
                  platform="chatsite", handle="planted_handle", persona="", status="pending_approval",
                  proposed_by=user_id(c, "sam"), proposed_at=MOMENT)
    return "profile", row


def _transition(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, ProfileTransition, profile_id=world.profile_id, from_status="active", to_status="active",
                  actor="sol", reason="planted", at=MOMENT)
    return "profile_transition", row


def _decision(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, ReviewDecision, review_id=ids["undecided_review"], decision="continue",
                  rationale="never decided", decided_by=user_id(c, "lena"), decided_at=MOMENT, profiles=[])
    return "review_decision", row


def _account(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, User, username="planted.officer", display_name="", email=None, password_hash="x",
                  is_active=True, totp_secret=b"x", totp_confirmed=False, totp_last_step=0,
                  failed_attempts=0, locale=None, created_at=MOMENT)
    return "user_account", row


def _capture_session(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, CaptureSession, operation_id=world.operation_id, profile_id=world.profile_id,
                  operated_by=user_id(c, "dana"), device="planted", tool="manual", started_at=MOMENT)
    return "capture_session", row


def _capture_session_end(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    session = _capture_session(c, world, ids)[1]
    _insert(c, CaptureSessionEnd, capture_session_id=session, ended_by=user_id(c, "dana"), ended_at=MOMENT,
            completeness_statement="planted", known_gaps="")
    return "capture_session_end (capture_session_id", session


def _import(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, MessageImport, operation_id=world.operation_id, contact_id=ids["contact"],
                  format="whatsapp", sha256=SHA, size=6, filename="planted.txt", decoy_name="Sam", chat=None,
                  assumed_timezone=None, capture_session_id=None, imported_by=user_id(c, "dana"),
                  imported_at=MOMENT)
    return "message_import", row


def _import_result(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    planted = _import(c, world, ids)[1]
    _insert(c, MessageImportResult, import_id=planted, completed_at=MOMENT, exported=1, added=0,
            duplicates=1, differences=0, system_lines=0)
    return "message_import_result (import_id", planted


def _reconciliation(c: Connection, world: Any, ids: dict[str, Any]) -> tuple[str, int]:
    row = _insert(c, ExportReconciliation, import_id=ids["import"], message_id=ids["message"],
                  outcome="missing_from_export", export_message_id=None, recorded_at=MOMENT)
    return "export_reconciliation", row


Planting = Callable[[Connection, Any, dict[str, Any]], tuple[str, int]]


def test_an_intact_world_verifies_with_coverage(world: Any, recorded: dict[str, Any], runner: Any) -> None:
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "every evidence and legal-record row has its audit entry" in result.output
    assert "before row hashes" not in result.output


@pytest.mark.parametrize(
    "plant",
    [_contact, _message, _attachment, _authorization, _officer, _document, _profile, _transition, _decision,
     _account, _capture_session, _capture_session_end, _import, _import_result, _reconciliation],
    ids=lambda plant: plant.__name__.strip("_"),
)
def test_a_row_inserted_straight_into_the_database_is_named(
    world: Any, recorded: dict[str, Any], runner: Any, plant: Planting
) -> None:
    with world.app.app_context(), get_engine().begin() as connection:
        table, row = plant(connection, world, recorded)
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    if table == "authorization_officer":
        assert f"authorization_officer (authorization {world.authorization_id}, user {row})" in result.output
    else:
        assert f"{table} {row}" in result.output, result.output


def _legacy_registration(world: Any) -> tuple[int, int]:
    """An authorization and its entry as they were recorded before row hashes: every term in the
    details, no evidence. Returns the authorization's id and the entry's index."""
    with world.app.app_context(), session_scope(world.app) as session:
        _table, authorization_id = _authorization(session.connection(), world, {})
        appended = audit_bridge.record(
            session,
            actor="lena",
            action="authorization.register",
            object_type="authorization",
            object_id=authorization_id,
            operation_id=world.operation_id,
            details={
                "reference": "OvJ-planted", "kind": "written_order", "authority": "Court", "issuer_name": "",
                "legal_basis": "art. 126j Sv", "offence": "", "suspect_description": "", "justification": "",
                "method": "", "persona_constraints": "", "conditions": "",
                "valid_from": MOMENT.astimezone().isoformat(),
                "valid_until": MOMENT.replace(year=2027).isoformat(), "review_interval_days": 30,
                "platforms": ["chatsite"], "may_initiate_contact": True, "max_profiles": 9, "officers": [],
                "issued_on": None, "written_order_due": None, "supersedes_id": None,
            },
        )
    return authorization_id, appended.index


def test_an_entry_recorded_before_row_hashes_is_checked_for_what_it_carries(
    world: Any, recorded: dict[str, Any], runner: Any
) -> None:
    authorization_id, index = _legacy_registration(world)
    assert "row_sha256" not in entries_for(world.app, "authorization.register")[-1]["evidence"]
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    note = f"entries recorded before row hashes, checked for the fields they carry: 1 ({index})"
    assert note in result.output
    with world.app.app_context(), get_engine().begin() as connection:
        without_triggers(connection, "legal_authorization")
        connection.execute(text("UPDATE legal_authorization SET max_profiles = 50 WHERE id = :id"),
                           {"id": authorization_id})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"first bad entry: {index};" in result.output and "max_profiles is 50" in result.output
