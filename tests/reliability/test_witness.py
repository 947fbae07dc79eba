"""Real witness processes (`decoy witness serve`) on 127.0.0.1, each with its own key: two witnesses
cosign the log's checkpoints; a fork signed with the log's real key is refused; a witness killed (SIGKILL)
while it is being fed checkpoints never cosigns a checkpoint inconsistent with one it cosigned before,
after it is started again on the same directory."""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit.checkpoint import Checkpoint, Signer
from audit.cosignature import CosignatureVerifier, merge_signatures, valid_cosignatures
from audit.merkle import leaf_hash
from audit.tree import Tree
from audit.witness import SIZE_TYPE, add_checkpoint_body

from .support import DECOY, free_port, kill_group, run_decoy

ORIGIN = "decoy.test/audit"


class Log:
    """A log of numbered entries, signed with the log's key."""

    def __init__(self, signer: Signer, entries: int, prefix: bytes = b"entry") -> None:
        self.signer = signer
        self.tree = Tree([leaf_hash(b"%s %d" % (prefix, i)) for i in range(entries)])

    def note(self, size: int) -> str:
        return self.signer.sign(Checkpoint(ORIGIN, size, self.tree.root(size)))

    def request(self, old: int, size: int) -> bytes:
        proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        return add_checkpoint_body(old, proof, self.note(size))


def _post(port: int, body: bytes, timeout: float = 10) -> tuple[int, str, bytes]:
    import urllib.error
    import urllib.request

    call = urllib.request.Request(f"http://127.0.0.1:{port}/add-checkpoint", data=body, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(call, timeout=timeout) as answer:  # noqa: S310  # nosec B310
            return answer.status, answer.headers.get("Content-Type", ""), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


class WitnessProcess:
    """`decoy witness serve` in its own process group, on its own directory and port."""

    def __init__(self, directory: Path, log_key: str) -> None:
        self.directory = directory
        self.log_key = log_key
        self.port = free_port()
        self.process: subprocess.Popen[Any] | None = None

    def init(self, name: str) -> CosignatureVerifier:
        done = run_decoy(["witness", "init", name, "--dir", str(self.directory)], {"PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stderr
        return CosignatureVerifier.from_key_text(done.stdout.strip().splitlines()[-1])

    def command(self, *extra: str) -> list[str]:
        return [DECOY, "witness", "serve", "--origin", ORIGIN, "--log-key", self.log_key,
                "--port", str(self.port), "--dir", str(self.directory), *extra]

    def start(self, *extra: str, wait: float = 30) -> None:
        with (self.directory / "serve.log").open("ab") as sink:
            self.process = subprocess.Popen(  # noqa: S603
                self.command(*extra),
                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.directory / "serve.log").read_text()
            with contextlib.suppress(OSError):
                if _post(self.port, b"x", timeout=2)[0] == 400:
                    return
            time.sleep(0.1)
        raise AssertionError("the witness did not start")

    def kill(self) -> None:
        if self.process is not None:
            kill_group(self.process, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None:
            kill_group(self.process, signal.SIGTERM)


@pytest.fixture
def log_key() -> Signer:
    return Signer(ORIGIN, bytes(range(32)))


@pytest.fixture
def witnesses(tmp_path: Path, log_key: Signer) -> Iterator[list[tuple[WitnessProcess, CosignatureVerifier]]]:
    started = []
    try:
        for number in (1, 2):
            process = WitnessProcess(tmp_path / f"w{number}", log_key.verifier().key_text())
            key = process.init(f"org{number}.test/witness")
            process.start()
            started.append((process, key))
        yield started
    finally:
        for process, _key in started:
            process.stop()


def test_two_witnesses_cosign_and_a_forked_log_is_refused(witnesses: Any, log_key: Signer) -> None:
    log = Log(log_key, 30)
    lines = []
    for process, _key in witnesses:
        assert _post(process.port, log.request(0, 10))[0] == 200
        status, _type, line = _post(process.port, log.request(10, 30))
        assert status == 200
        lines.append(line.decode())
    cosigned = merge_signatures(log.note(30), lines)
    found = valid_cosignatures(cosigned, [key for _process, key in witnesses])
    assert len(found) == 2
    assert log_key.verifier().verify_note(cosigned).size == 30
    # The database rebuilt and signed again with the real key: both witnesses refuse it.
    forked = Log(log_key, 40, prefix=b"rebuilt")
    for process, _key in witnesses:
        status, _type, body = _post(process.port, forked.request(30, 40))
        assert status == 422 and b"forked" in body
        status, content_type, body = _post(process.port, forked.request(0, 40))
        assert (status, content_type, body) == (409, SIZE_TYPE, b"30\n")


def test_a_witness_killed_while_fed_never_cosigns_a_fork_after_restart(
    tmp_path: Path, log_key: Signer
) -> None:
    process = WitnessProcess(tmp_path / "w", log_key.verifier().key_text())
    key = process.init("org.test/witness")
    process.start()
    log = Log(log_key, 400)
    cosigned: list[int] = []
    failures: list[BaseException] = []

    def feed() -> None:
        old = 0
        for size in range(1, 401):
            try:
                status, _type, line = _post(process.port, log.request(old, size), timeout=5)
            except OSError:
                return  # killed
            if status != 200:
                failures.append(AssertionError(f"size {size}: {status}"))
                return
            assert key.cosigned_at(merge_signatures(log.note(size), [line.decode()])) is not None
            cosigned.append(size)
            old = size

    feeder = threading.Thread(target=feed)
    feeder.start()
    time.sleep(random.uniform(0.3, 1.2))  # noqa: S311 - a moment to kill at
    process.kill()
    feeder.join(timeout=30)
    assert not feeder.is_alive() and not failures
    assert cosigned, "the witness cosigned nothing before it was killed"
    process.start()
    try:
        status, content_type, body = _post(process.port, log.request(0, 400))
        assert (status, content_type) == (409, SIZE_TYPE)
        kept = int(body)
        # What it answered before the kill, it kept (it may have stored one more it never answered).
        assert cosigned[-1] <= kept <= cosigned[-1] + 1
        forked = Log(log_key, 400, prefix=b"rebuilt")
        assert _post(process.port, forked.request(kept, kept))[0] == 422
        assert _post(process.port, forked.request(kept, 400))[0] == 422
        assert _post(process.port, log.request(kept, 400))[0] == 200
    finally:
        process.stop()
    # A witness whose view of a log it witnessed is lost refuses to start: started afresh, it could be
    # shown a fork of what it cosigned.
    for view in (tmp_path / "w").glob("log-*.json"):
        view.unlink()
    refused = subprocess.run(process.command(), capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    assert refused.returncode != 0 and "restore" in refused.stderr
