"""Decoy shows its checkpoints to the witnesses of DECOY_WITNESSES (real witnesses with their own keys
and durable state, served over HTTP on 127.0.0.1): their cosignatures are stored, merged into the
published note and carried by bundles, and `python -m audit verify --witness --quorum` enforces them; a
witness that is down delays its cosignature only; one that was shown a rebuilt log signed with the
real key refuses Decoy's checkpoint, and every legal officer and admin is alarmed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from sqlmodel import select

from audit.__main__ import main as audit_main
from audit.checkpoint import Checkpoint, read_published
from audit.cosignature import CosignatureVerifier, Cosigner, valid_cosignatures
from audit.merkle import leaf_hash
from audit.tree import Tree
from audit.witness import Witness, WitnessState, add_checkpoint_body, wsgi_app
from decoy.cli import main
from decoy.config import ConfigurationError, parse_witnesses
from decoy.db import session_scope
from decoy.integrity.checkpoints import checkpoint_file, get_signer, make_checkpoint
from decoy.integrity.witnessing import witness_checkpoint, witness_latest
from decoy.jobs import job_checkpoint
from decoy.models import CheckpointCosignature, Notification, WitnessRefusal
from tests.decoy.evidence.support import entries_for


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        """No access log on the test's output."""


@dataclass
class RunningWitness:
    cosigner: Cosigner
    witness: Witness
    url: str
    server: Any

    @property
    def key(self) -> str:
        return self.cosigner.verifier_key_text()


def _start(witness: Witness) -> RunningWitness:
    server = make_server("127.0.0.1", 0, wsgi_app(witness), handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return RunningWitness(witness.cosigner, witness, f"http://127.0.0.1:{server.server_port}", server)


@pytest.fixture
def log_signer(app_factory: Any) -> Any:
    """The signing key of the test's data directory (the witnesses must know it)."""
    return get_signer(app_factory())


@pytest.fixture
def witnesses(tmp_path: Path, log_signer: Any) -> Iterator[list[RunningWitness]]:
    running = []
    for number in (1, 2):
        cosigner = Cosigner.generate(f"org{number}.test/witness")
        state = WitnessState(tmp_path / f"witness{number}" / "state.json")
        running.append(_start(Witness(cosigner, log_signer.name, log_signer.verifier(), state)))
    yield running
    for witness in running:
        witness.server.shutdown()
        witness.server.server_close()


@pytest.fixture
def app(app_factory: Any, witnesses: list[RunningWitness]) -> Any:
    return app_factory(WITNESSES=",".join(f"{w.url}={w.key}" for w in witnesses))


def _cosignatures(app: Any) -> list[CheckpointCosignature]:
    with app.app_context(), session_scope(app) as session:
        rows = list(session.exec(select(CheckpointCosignature)).all())
        session.expunge_all()
        return rows


def test_both_witnesses_cosign_and_the_bundle_carries_their_cosignatures(
    world: Any, witnesses: list[RunningWitness], runner: Any, tmp_path: Path, capsys: Any
) -> None:
    world.contact()
    assert "2 new cosignatures" in job_checkpoint(world.app)
    first = _cosignatures(world.app)
    assert sorted(row.witness for row in first) == sorted(w.key for w in witnesses)
    # The log grows: the witnesses are shown the new checkpoint with a proof from the size they cosigned.
    world.contact()
    job_checkpoint(world.app)
    rows = _cosignatures(world.app)
    assert len(rows) == 4 and max(row.size for row in rows) > max(row.size for row in first)
    published = read_published(checkpoint_file(world.app))
    verifiers = [w.cosigner.verifier() for w in witnesses]
    assert len(valid_cosignatures(published[-1], verifiers)) == 2
    path = tmp_path / "bundle.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path), "--as", "lena"])
    assert result.exit_code == 0, result.output
    keys = [argument for w in witnesses for argument in ("--witness", w.key)]
    log_key = get_signer(world.app).verifier_key_text()
    assert audit_main(["verify", str(path), "--key", log_key, *keys, "--quorum", "2"]) == 0
    said = capsys.readouterr().out
    assert "cosigned by 2 witnesses" in said and "anchors: 2 of the witnesses given cosigned" in said
    stranger = Cosigner.generate("org3.test/witness").verifier_key_text()
    assert audit_main(["verify", str(path), "--key", log_key, *keys, "--witness", stranger]) == 1
    assert "2 of the 3 witnesses given cosigned" in capsys.readouterr().out
    assert audit_main(["verify", str(path), "--key", log_key, *keys, "--witness", stranger,
                       "--quorum", "2"]) == 0
    # One witness's key given again under another name is still one witness.
    alias = CosignatureVerifier("alias.test/witness", witnesses[0].cosigner.public_key).key_text()
    assert audit_main(["verify", str(path), "--key", log_key, *keys, "--witness", alias]) == 1
    assert "2 of the 2 witnesses given cosigned the checkpoint; 3 required" in capsys.readouterr().out


def test_a_witness_that_is_down_delays_its_cosignature_only(
    world: Any, witnesses: list[RunningWitness]
) -> None:
    down = witnesses[1]
    down.server.shutdown()
    down.server.server_close()
    world.contact()
    make_checkpoint(world.app)
    outcomes = witness_latest(world.app)
    assert sorted(o.result for o in outcomes) == ["cosigned", "unreachable"]
    with world.app.app_context(), session_scope(world.app) as session:
        assert session.exec(select(WitnessRefusal)).all() == []
    assert [row.witness for row in _cosignatures(world.app)] == [witnesses[0].key]
    # Back on the same port: the next pass gets its cosignature.
    port = int(down.url.rsplit(":", 1)[1])
    server = make_server("127.0.0.1", port, wsgi_app(down.witness), handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert [o.result for o in witness_latest(world.app)] == ["cosigned"]
    finally:
        server.shutdown()
        server.server_close()
    assert len(_cosignatures(world.app)) == 2


def test_a_witness_shown_a_rebuilt_log_refuses_and_the_alarm_goes_off(
    world: Any, witnesses: list[RunningWitness], log_signer: Any, auth: Any
) -> None:
    world.contact()
    size = make_checkpoint(world.app).size
    # Someone with the database and the signing key rebuilt the log and showed it to witness 1 first.
    rebuilt = Tree([leaf_hash(b"rebuilt %d" % i) for i in range(size)])
    note = log_signer.sign(Checkpoint(log_signer.name, size, rebuilt.root()))
    assert witnesses[0].witness.add_checkpoint(add_checkpoint_body(0, [], note)).status == 200
    outcomes = witness_latest(world.app)
    assert sorted(o.result for o in outcomes) == ["cosigned", "refused"]
    with world.app.app_context(), session_scope(world.app) as session:
        [refusal] = session.exec(select(WitnessRefusal)).all()
        assert (refusal.witness, refusal.status) == (witnesses[0].key, 422)
        alarmed = session.exec(select(Notification).where(Notification.kind == "witness_refused")).all()
        assert len(alarmed) == 2  # lena (legal) and adam (admin)
    [entry] = entries_for(world.app, "witness.refuse")
    assert entry["details"]["witness"] == "org1.test/witness" and entry["details"]["status"] == 422
    # A refusal is not asked again for the same checkpoint, nor for the next one within the hour (no alarm
    # storm: its own audit entry grows the log), while the other witness goes on cosigning.
    assert witness_latest(world.app) == []
    make_checkpoint(world.app)
    assert [(o.witness, o.result) for o in witness_latest(world.app)] == [(witnesses[1].key, "cosigned")]
    with world.app.app_context(), session_scope(world.app) as session:
        assert len(session.exec(select(WitnessRefusal)).all()) == 1
        alarms = session.exec(select(Notification).where(Notification.kind == "witness_refused")).all()
        assert len(alarms) == 2
    # The integrity page raises the alarm and shows which witness cosigned the latest checkpoint.
    auth.login("lena")
    page = world.client.get("/integrity/").get_data(as_text=True)
    assert "ALARM" in page and "org1.test/witness refused the checkpoint of size" in page
    assert page.count("not yet cosigned") == 1 and witnesses[1].key in page


def test_a_witness_ahead_with_this_logs_own_checkpoint_is_no_alarm(
    world: Any, witnesses: list[RunningWitness]
) -> None:
    """Two showings overlap (an export and the scheduler): the older checkpoint reaches a witness that
    cosigned the newer one already. That is no fork."""
    world.contact()
    older = make_checkpoint(world.app)
    world.contact()
    make_checkpoint(world.app)
    assert sorted(o.result for o in witness_latest(world.app)) == ["cosigned", "cosigned"]
    outcomes = witness_checkpoint(world.app, older)
    assert [o.result for o in outcomes] == ["superseded", "superseded"]
    with world.app.app_context(), session_scope(world.app) as session:
        assert session.exec(select(WitnessRefusal)).all() == []


def test_a_witness_whose_view_went_back_raises_the_alarm(
    world: Any, witnesses: list[RunningWitness], tmp_path: Path
) -> None:
    world.contact()
    make_checkpoint(world.app)
    assert sorted(o.result for o in witness_latest(world.app)) == ["cosigned", "cosigned"]
    # Witness 1 lost its state (restored from an old backup, or started afresh): it would cosign a fork.
    witnesses[0].witness.state.path.unlink()
    world.contact()
    make_checkpoint(world.app)
    outcomes = {o.witness: o for o in witness_latest(world.app)}
    assert outcomes[witnesses[0].key].result == "refused" and "went back" in outcomes[witnesses[0].key].detail
    assert outcomes[witnesses[1].key].result == "cosigned"


def _misbehaving(answer: bytes, pause: float = 0.0) -> tuple[socket.socket, threading.Thread]:
    """A listener on 127.0.0.1 that answers every request with ``answer``, a byte at a time when paused."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                try:
                    for byte in answer:
                        connection.sendall(bytes([byte]))
                        time.sleep(pause)
                except OSError:
                    continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_a_witness_that_answers_nonsense_or_trickles_delays_only_itself(
    app_factory: Any, witnesses: list[RunningWitness], factory: Any
) -> None:
    garbage, _ = _misbehaving(b"NOT HTTP AT ALL\r\n\r\n")
    slow, _ = _misbehaving(b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n" + b"x" * 400, pause=0.05)
    try:
        odd = [Cosigner.generate(f"odd{n}.test/witness").verifier_key_text() for n in (1, 2)]
        configured = [f"http://127.0.0.1:{garbage.getsockname()[1]}={odd[0]}",
                      f"http://127.0.0.1:{slow.getsockname()[1]}={odd[1]}",
                      f"{witnesses[0].url}={witnesses[0].key}"]
        app = app_factory(WITNESSES=",".join(configured), WITNESS_TIMEOUT_SECONDS=1)
        factory.app = app
        factory.user("lena", "legal")
        make_checkpoint(app)
        started = time.monotonic()
        outcomes = witness_latest(app)
        took = time.monotonic() - started
    finally:
        garbage.close()
        slow.close()
    assert [o.result for o in outcomes] == ["unreachable", "unreachable", "cosigned"]
    assert took < 6, f"a trickling witness held the others up for {took:.1f} s"


def test_the_witness_configuration_is_checked() -> None:
    key = Cosigner.generate("org.test/w").verifier_key_text()
    assert parse_witnesses(f"https://w.example/ = {key}") == (("https://w.example", key),)
    for wrong in (f"w.example={key}", "https://w.example=nokey", f"https://a={key},https://b={key}"):
        with pytest.raises(ConfigurationError, match="DECOY_WITNESSES"):
            parse_witnesses(wrong)
