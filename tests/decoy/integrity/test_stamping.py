"""Trusted timestamps (RFC 3161) from a real time-stamp authority: OpenSSL's `openssl ts -reply` behind a
small HTTP handler on 127.0.0.1, with its own test CA made here. Tokens are checked on receipt (hash,
nonce, chain) and stored, bundles carry them, `python -m audit verify --tsa-certs` checks them; an
authority that is down stamps later, and one that answers with the wrong token or chain is refused."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from sqlmodel import select

from audit.__main__ import main as audit_main
from audit.timestamp import StampError, check_stamp, load_certificates
from decoy.cli import main
from decoy.config import ConfigurationError, parse_authorities
from decoy.db import session_scope
from decoy.integrity.checkpoints import get_signer, make_checkpoint
from decoy.integrity.stamping import stamp_pending, stamped_text
from decoy.models import CheckpointTimestamp

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")

TSA_EXTENSIONS = """basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping
"""


def _openssl(*arguments: str, cwd: Path) -> None:
    subprocess.run([OPENSSL or "openssl", *arguments], cwd=cwd, check=True, capture_output=True, timeout=60)  # noqa: S603


def make_authority(directory: Path, name: str) -> Path:
    """A test CA and a time-stamping certificate it issued, with OpenSSL's TSA configuration; the CA's
    certificate file."""
    directory.mkdir(parents=True)
    (directory / "ext.cnf").write_text(TSA_EXTENSIONS)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.crt", "-subj", f"/CN={name} Root", "-days", "30",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tsa.key",
             "-out", "tsa.csr", "-subj", f"/CN={name}", cwd=directory)
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "tsa.crt", "-days", "30", "-extfile", "ext.cnf", cwd=directory)
    (directory / "serial").write_text("01\n")
    (directory / "ts.cnf").write_text(f"""[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = {directory}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
    return directory / "ca.crt"


class Authority:
    """`openssl ts -reply` behind HTTP; ``mode`` makes it down (503) or replay its first token."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.mode = "up"
        self.first: bytes | None = None
        self.server = make_server("127.0.0.1", 0, self.application, handler_class=_Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/tsa"

    def application(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if self.mode == "down":
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"maintenance\n"]
        query = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        with tempfile.TemporaryDirectory() as scratch:
            (Path(scratch) / "q.tsq").write_bytes(query)
            _openssl("ts", "-reply", "-queryfile", "q.tsq", "-config", str(self.directory / "ts.cnf"),
                     "-out", "r.tsr", cwd=Path(scratch))
            token = (Path(scratch) / "r.tsr").read_bytes()
        self.first = self.first or token
        if self.mode == "replay":
            token = self.first
        start_response("200 OK", [("Content-Type", "application/timestamp-reply")])
        return [token]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        """No access log on the test's output."""


@pytest.fixture
def authority(tmp_path: Path) -> Iterator[Authority]:
    make_authority(tmp_path / "tsa", "Test TSA")
    running = Authority(tmp_path / "tsa")
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def app(app_factory: Any, authority: Authority) -> Any:
    return app_factory(TSA_URL=authority.url, TSA_CERTS=str(authority.directory / "ca.crt"))


def _tokens(app: Any) -> list[CheckpointTimestamp]:
    with app.app_context(), session_scope(app) as session:
        rows = list(session.exec(select(CheckpointTimestamp).order_by(CheckpointTimestamp.id)).all())
        session.expunge_all()
        return rows


def test_each_checkpoint_is_stamped_and_the_bundle_token_verifies(
    world: Any, authority: Authority, runner: Any, tmp_path: Path, capsys: Any
) -> None:
    world.contact()
    stored = make_checkpoint(world.app)
    assert [o.result for o in stamp_pending(world.app)] == ["stamped"]
    [row] = _tokens(world.app)
    assert row.checkpoint_id == stored.id
    roots, _ = load_certificates((authority.directory / "ca.crt").read_bytes())
    stamp = check_stamp(row.token, stamped_text(stored), roots)
    assert stamp.at == row.stamped_at and "Test TSA" in stamp.signer
    # The token stamps this checkpoint's text and nothing else.
    with pytest.raises(StampError, match="Mismatch between messages"):
        check_stamp(row.token, stamped_text(stored) + b"x", roots)
    path = tmp_path / "bundle.zip"
    result = runner.invoke(main, ["export", str(world.operation_id), "-o", str(path), "--as", "lena"])
    assert result.exit_code == 0, result.output
    key = get_signer(world.app).verifier_key_text()
    certificates = str(authority.directory / "ca.crt")
    assert audit_main(["verify", str(path), "--key", key, "--tsa-certs", certificates]) == 0
    said = capsys.readouterr().out
    assert "time-stamped" in said and "CN=Test TSA" in said
    # Another authority's certificates: the token does not chain to them.
    other = make_authority(tmp_path / "other", "Other TSA")
    assert audit_main(["verify", str(path), "--key", key, "--tsa-certs", str(other)]) == 1
    assert "audit/checkpoint.tsr" in capsys.readouterr().out


def test_an_authority_that_is_down_stamps_later(world: Any, authority: Authority, auth: Any) -> None:
    authority.mode = "down"
    world.contact()
    make_checkpoint(world.app)
    assert [o.result for o in stamp_pending(world.app)] == ["unreachable"]
    assert _tokens(world.app) == []
    auth.login("lena")
    page = world.client.get("/integrity/").get_data(as_text=True)
    assert "Trusted timestamps" in page and 'class="badge warn"' in page.split('id="timestamps"')[1]
    world.contact()
    make_checkpoint(world.app)
    authority.mode = "up"
    assert [o.result for o in stamp_pending(world.app)] == ["stamped", "stamped"]
    assert stamp_pending(world.app) == []


def test_a_token_for_another_request_is_refused(world: Any, authority: Authority) -> None:
    world.contact()
    make_checkpoint(world.app)
    assert [o.result for o in stamp_pending(world.app)] == ["stamped"]
    authority.mode = "replay"  # answers every request with its first token (another hash, another nonce)
    world.contact()
    make_checkpoint(world.app)
    outcomes = stamp_pending(world.app)
    assert [o.result for o in outcomes] == ["refused"]
    assert len(_tokens(world.app)) == 1


def test_a_token_of_an_unknown_chain_is_refused(
    app_factory: Any, authority: Authority, tmp_path: Path
) -> None:
    other = make_authority(tmp_path / "other", "Other TSA")
    app = app_factory(TSA_URL=authority.url, TSA_CERTS=str(other))
    make_checkpoint(app)
    [outcome] = stamp_pending(app)
    assert outcome.result == "refused" and "certificate" in outcome.detail
    assert _tokens(app) == []


def test_the_authorities_configuration_is_checked(tmp_path: Path, authority: Authority) -> None:
    certificates = str(authority.directory / "ca.crt")
    assert parse_authorities(f"{authority.url}, {authority.url}", certificates) == (authority.url,)
    with pytest.raises(ConfigurationError, match="DECOY_TSA_CERTS"):
        parse_authorities(authority.url, "")
    with pytest.raises(ConfigurationError, match="DECOY_TSA_URL"):
        parse_authorities("tsa.example", certificates)
    (tmp_path / "empty.pem").write_text("")
    with pytest.raises(ConfigurationError, match="DECOY_TSA_CERTS"):
        parse_authorities(authority.url, str(tmp_path / "empty.pem"))
