"""The application's use of the audit log: entries in the same transaction, CLI, API and page."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import text

from audit.checkpoint import Verifier
from audit.entry import decode_entry
from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from decoy import audit_bridge
from decoy.auth import services
from decoy.cli import main
from decoy.db import get_engine, session_scope
from decoy.integrity.checkpoints import checkpoint_file, get_signer


def entries(app):
    with app.app_context(), get_engine().connect() as connection:
        rows = audit_bridge.get_store().entries(connection, 0, 100_000)
    return [decode_entry(entry) for _index, entry, _leaf in rows]


def actions(app):
    return [entry["action"] for entry in entries(app)]


def test_login_events_are_audit_entries(app, factory, auth, clock):
    factory.user("dora", "detective")
    auth.password_step("nobody", "whatever password")
    auth.password_step("dora", "wrong password!!")
    auth.login("dora")
    recorded = actions(app)
    assert recorded[0] == "account.create"
    assert recorded.count("login.failure") == 2
    assert recorded[-2:] == ["login.success", "second_factor.confirm"]


def test_lockout_is_an_audit_entry(app, factory, auth):
    factory.user("dora", "detective")
    for _ in range(5):
        auth.password_step("dora", "wrong password!!")
    assert "account.lockout" in actions(app)


def test_failed_transaction_leaves_no_entry_and_no_change(app, factory):
    factory.user("dora", "detective")
    before = actions(app)
    with app.app_context():
        with pytest.raises(RuntimeError):
            with session_scope(app) as session:
                services.create_user(session=session, actor="test", username="erik", password="x" * 12,
                                     roles=["detective"])
                raise RuntimeError("the change fails after its entry was appended")
        with session_scope(app) as session:
            assert services.find_user(session, "erik") is None
    assert actions(app) == before


def test_entry_never_exists_without_its_change(app, factory):
    factory.user("dora", "detective")
    with app.app_context(), session_scope(app) as session:
        created = [e for e in entries(app) if e["action"] == "account.create"]
        for entry in created:
            assert services.find_user(session, entry["details"]["username"]) is not None


def test_cli_checkpoint_signs_publishes_once_and_verify_passes(app, runner, factory):
    factory.user("dora", "detective")
    result = runner.invoke(main, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        verifier = Verifier.from_key_text(get_signer().verifier_key_text())
        checkpoint = verifier.verify_note(result.stdout)
        assert checkpoint.size == len(entries(app))
        published = checkpoint_file().read_text()
    assert published.count("\u2014 ") == 1
    again = runner.invoke(main, ["audit", "checkpoint"])
    assert again.stdout == result.stdout
    with app.app_context():
        assert checkpoint_file().read_text() == published
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output


def test_cli_verify_names_a_tampered_entry(app, runner, factory):
    factory.user("dora", "detective", code=None)
    factory.user("erik", "detective", code=None)
    runner.invoke(main, ["audit", "checkpoint"])
    with app.app_context(), get_engine().begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_entry_no_update"))
        else:
            connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        original = connection.execute(text("SELECT entry FROM audit_entry WHERE idx = 1")).scalar_one()
        forged = bytes(original).replace(b"erik", b"eve!")
        connection.execute(text("UPDATE audit_entry SET entry = :e WHERE idx = 1"), {"e": forged})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "first bad entry: 1" in result.output


def test_database_refuses_to_alter_audit_rows(app, factory, runner):
    factory.user("dora", "detective")
    assert runner.invoke(main, ["audit", "checkpoint"]).exit_code == 0
    with app.app_context():
        for statement in ("UPDATE audit_entry SET entry = entry WHERE idx = 0", "DELETE FROM audit_entry",
                          "UPDATE audit_checkpoint SET note = ''", "DELETE FROM audit_checkpoint"):
            with pytest.raises(Exception, match="append-only"):  # noqa: B017 - driver-specific error types
                with get_engine().begin() as connection:
                    connection.execute(text(statement))


def test_api_entries_and_proofs_verify_against_the_signed_checkpoint(app, client, factory, runner):
    factory.user("lena", "legal")
    factory.user("dora", "detective")
    token = factory.token("lena")
    headers = {"Authorization": f"Bearer {token}"}
    runner.invoke(main, ["audit", "checkpoint"])
    note = client.get("/api/v1/audit/checkpoint", headers=headers)
    assert note.status_code == 200 and note.mimetype == "text/plain"
    with app.app_context():
        verifier = Verifier.from_key_text(get_signer().verifier_key_text())
        checkpoint = verifier.verify_note(note.get_data(as_text=True))
    page = client.get(f"/api/v1/audit/entries?start=0&limit={checkpoint.size}", headers=headers).get_json()
    assert [item["index"] for item in page["items"]] == list(range(checkpoint.size))
    for item in page["items"]:
        data = base64.b64decode(item["entry"])
        assert base64.b64decode(item["leaf_hash"]) == leaf_hash(data)
        proof = client.get(f"/api/v1/audit/proofs/inclusion?index={item['index']}&size={checkpoint.size}",
                           headers=headers).get_json()
        path = [base64.b64decode(node) for node in proof["path"]]
        assert verify_inclusion(item["index"], checkpoint.size, leaf_hash(data), path, checkpoint.root)
    larger = client.get("/api/v1/audit/entries?start=0&limit=1", headers=headers).get_json()
    assert larger["next"] == "/api/v1/audit/entries?start=1&limit=1"
    size_now = json.loads(json.dumps(len(entries(app))))
    consistency = client.get(f"/api/v1/audit/proofs/consistency?first={checkpoint.size}&second={size_now}",
                             headers=headers).get_json()
    assert verify_consistency(checkpoint.size, size_now, checkpoint.root,
                              base64.b64decode(consistency["second_root"]),
                              [base64.b64decode(node) for node in consistency["path"]])


@pytest.mark.parametrize("query,field", [
    ("/api/v1/audit/proofs/inclusion?index=5&size=2", "index"),
    ("/api/v1/audit/proofs/inclusion?index=0&size=999999", "size"),
    ("/api/v1/audit/proofs/inclusion?index=x&size=1", "index"),
    ("/api/v1/audit/proofs/consistency?first=3&second=1", "first"),
    ("/api/v1/audit/proofs/consistency?first=0", "second"),
    ("/api/v1/audit/entries?limit=0", "limit"),
    ("/api/v1/audit/entries?start=-1", "start"),
])
def test_audit_api_rejects_bad_arguments_naming_the_field(client, factory, query, field):
    factory.user("lena", "legal")
    response = client.get(query, headers={"Authorization": f"Bearer {factory.token('lena')}"})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


@pytest.mark.parametrize("role", ["detective", "supervisor", "admin"])
def test_audit_api_is_for_legal_officers(client, factory, role):
    factory.user("person", role)
    headers = {"Authorization": f"Bearer {factory.token('person')}"}
    response = client.get("/api/v1/audit/entries", headers=headers)
    assert response.status_code == 403


def test_integrity_page_shows_checkpoint_and_verification(client, factory, auth):
    factory.user("lena", "legal")
    auth.login("lena")
    csrf = auth.csrf("/integrity/")
    assert client.post("/integrity/checkpoint", data={"csrf_token": csrf}).status_code == 302
    assert client.post("/integrity/verify", data={"csrf_token": csrf}).status_code == 302
    page = client.get("/integrity/").get_data(as_text=True)
    assert "\u2014 decoy.invalid/audit" in page
    assert "intact" in page


def test_ids_and_positions_beyond_any_column_are_refused_cleanly(client, factory):
    factory.user("lena", "legal")
    headers = {"Authorization": f"Bearer {factory.token('lena')}"}
    huge = "99999999999999999999"
    assert client.get(f"/api/v1/operations/{huge}/export", headers=headers).status_code == 404
    assert client.get(f"/api/v1/operations/{2**31}/export", headers=headers).status_code == 404
    response = client.get(f"/api/v1/audit/entries?start={huge}", headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "start"
    response = client.get(f"/api/v1/audit/proofs/inclusion?index={2**40}&size={2**41}", headers=headers)
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["detective", "supervisor", "legal", "admin"])
def test_any_signed_in_account_reads_the_public_key(app, client, factory, role):
    factory.user("person", role)
    headers = {"Authorization": f"Bearer {factory.token('person')}"}
    response = client.get("/api/v1/audit/public-key", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    with app.app_context():
        assert response.get_data(as_text=True) == get_signer().verifier_key_text() + "\n"
    assert client.get("/api/v1/audit/public-key").status_code == 401


def test_the_public_key_route_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "text/plain" in paths["/audit/public-key"]["get"]["responses"]["200"]["content"]


def test_integrity_page_shows_how_to_verify_a_bundle_against_the_key(app, client, factory, auth):
    factory.user("lena", "legal")
    auth.login("lena")
    page = client.get("/integrity/").get_data(as_text=True)
    with app.app_context():
        key = get_signer().verifier_key_text()
    assert f'python -m audit verify BUNDLE.zip --key "{key}"' in page.replace("&#34;", '"')
    assert "/api/v1/audit/public-key" in page and "--checkpoint" in page


def test_integrity_page_names_no_server_path(app, client, factory, auth):
    factory.user("lena", "legal")
    auth.login("lena")
    signed = client.post("/integrity/checkpoint", data={"csrf_token": auth.csrf("/integrity/")})
    assert signed.status_code == 302
    page = client.get("/integrity/").get_data(as_text=True)
    with app.app_context():
        published = checkpoint_file()
    data_dir = str(app.config["DATA_DIR"])
    assert published.exists() and data_dir not in page and str(published) not in page
    assert "published checkpoints file" in page and "data directory" in page
    assert "python -m audit verify BUNDLE.zip --checkpoint checkpoints.txt" in page
