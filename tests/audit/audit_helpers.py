"""Helpers shared by the audit tests: entries, filled logs, tampering, evidence bundles."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from audit.bundle import (
    CHECKPOINT_PATH,
    CONSISTENCY_PATH,
    ENTRIES_PATH,
    MANIFEST_PATH,
    MANIFEST_SIGNATURE_PATH,
    PUBLIC_KEY_PATH,
    consistency_json,
    entry_line,
    manifest_json,
    manifest_note_text,
)
from audit.checkpoint import Signer
from audit.entry import EntryInput, encode_entry
from audit.merkle import leaf_hash
from audit.store import AuditStore
from audit.triggers import drop_triggers

ORIGIN = "decoy.example/audit"
START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def make_entry(number: int, operation: int | None = 1) -> EntryInput:
    """Return a plausible entry, different for every number."""
    return EntryInput(
        time=START + timedelta(seconds=number, microseconds=number),
        actor=f"officer{number % 5}",
        action="message.record" if number % 2 else "contact.create",
        object={"type": "message", "id": number},
        operation=operation,
        request=f"req-{number}",
        evidence={"body": hashlib.sha256(str(number).encode()).hexdigest()},
        details={"number": number, "flags": ["outside_authorization"] if number % 3 == 0 else []},
    )


def fill(engine: Engine, store: AuditStore, count: int, start: int = 0) -> None:
    """Append ``count`` entries, one transaction each."""
    for number in range(start, start + count):
        with engine.begin() as connection:
            store.append(connection, make_entry(number))


def rows(engine: Engine) -> list[tuple[int, bytes, bytes]]:
    """Return every stored (idx, entry, leaf_hash)."""
    with engine.begin() as connection:
        result = connection.execute(text("SELECT idx, entry, leaf_hash FROM audit_entry ORDER BY idx"))
        return [(int(i), bytes(e), bytes(h)) for i, e, h in result]


def rewrite(engine: Engine, new_rows: Sequence[tuple[int, bytes, bytes]], *, move_head: bool) -> None:
    """Replace the whole audit_entry table, as an attacker with the database's password could."""
    from audit.merkle import Frontier

    with engine.begin() as connection:
        drop_triggers(connection)
        connection.execute(text("DELETE FROM audit_entry"))
        for index, entry, digest in new_rows:
            connection.execute(
                text("INSERT INTO audit_entry (idx, entry, leaf_hash) VALUES (:i, :e, :h)"),
                {"i": index, "e": entry, "h": digest},
            )
        if move_head:
            frontier = Frontier.from_leaf_hashes([h for _, _, h in sorted(new_rows)])
            connection.execute(
                text("UPDATE audit_head SET size = :s, root = :r, frontier = :f WHERE id = 1"),
                {"s": frontier.size, "r": frontier.root(), "f": frontier.to_bytes()},
            )


def forged(index: int, number: int = 999) -> tuple[int, bytes, bytes]:
    """Return a well-formed entry row that was never in the log."""
    data = encode_entry(make_entry(number), index)
    return index, data, leaf_hash(data)


def build_bundle(
    path: Path,
    signer: Signer,
    entries: Mapping[int, tuple[bytes, bytes, list[bytes]]],
    note: str,
    other_files: Mapping[str, bytes] | None = None,
    consistency: tuple[str, list[bytes]] | None = None,
    manifest_overrides: Mapping[str, tuple[str, int] | None] | None = None,
) -> Path:
    """Write an evidence bundle ZIP the way the export will: files, then a manifest of them."""
    files: dict[str, bytes] = dict(other_files or {})
    files[CHECKPOINT_PATH] = note.encode("utf-8")
    files[PUBLIC_KEY_PATH] = (signer.verifier_key_text() + "\n").encode("ascii")
    files[ENTRIES_PATH] = "".join(
        entry_line(index, data, digest, proof) for index, (data, digest, proof) in sorted(entries.items())
    ).encode("ascii")
    if consistency is not None:
        files[CONSISTENCY_PATH] = consistency_json(*consistency)
    listed = {name: (hashlib.sha256(data).hexdigest(), len(data)) for name, data in files.items()}
    for name, value in (manifest_overrides or {}).items():
        if value is None:
            listed.pop(name, None)
        else:
            listed[name] = value
    manifest = manifest_json(listed)
    signature = signer.sign_text(manifest_note_text(manifest)).encode("utf-8")
    write_zip(path, {MANIFEST_PATH: manifest, MANIFEST_SIGNATURE_PATH: signature, **files})
    return path


def write_zip(path: Path, files: Mapping[str, bytes]) -> None:
    """Write a ZIP with the given members, stored uncompressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def read_zip(path: Path) -> dict[str, bytes]:
    """Return every member of a ZIP."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
