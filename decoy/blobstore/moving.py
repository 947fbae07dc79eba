"""Moving attachment content between the file store and the database store, verifying every hash.

A move first copies every file the database references (attachments and order documents) to the
destination, re-hashing it on the way and again at the destination once committed; any mismatch stops
the move before a single source copy is removed. Only then is the move recorded in the audit log and
are the source copies removed (unless asked to keep them). Each step is idempotent: a copy already at
the destination is verified and kept, so an interrupted move is finished by running it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import Connection, select, union
from sqlmodel import Session

from .. import audit_bridge, clock
from ..db import get_engine, session_scope
from ..locks import ExclusiveLock
from ..models import Attachment, AuthorizationDocument, MessageImport
from . import copy_problem, database, files, holds, root
from .content import BlobMismatch, receive
from .database import BlobDamaged

_attachment = Attachment.__table__  # type: ignore[attr-defined]
_document = AuthorizationDocument.__table__  # type: ignore[attr-defined]
_import = MessageImport.__table__  # type: ignore[attr-defined]

Progress = Callable[[str], None]
#: The advisory lock key of a move ("DecoyMov"): one move at a time, across every machine.
MOVE_LOCK_KEY = 0x4465636F794D6F76


class MoveRefused(RuntimeError):
    """A copy did not verify (or a file is in neither store): the move stopped, no source was removed."""


@dataclass
class MoveReport:
    """What a move did."""

    destination: str
    total: int
    copied: int = 0
    already_there: int = 0
    removed: int = 0
    bytes_copied: int = 0


@dataclass
class CheckReport:
    """Where every referenced file is, and what is wrong with any copy."""

    configured: str
    total: int
    in_files: int = 0
    in_database: int = 0
    outside_configured: int = 0
    problems: list[str] = field(default_factory=list)


def referenced_hashes(connection: Connection) -> list[str]:
    """Every file hash the database references (attachments, authorization documents, imported files),
    sorted."""
    query = union(select(_attachment.c.sha256), select(_document.c.sha256), select(_import.c.sha256))
    return sorted(str(row[0]) for row in connection.execute(query))


def _other(store: str) -> str:
    return "files" if store == "database" else "database"


def _copy(app: Flask, sha256: str, destination: str) -> int:
    """Copy one file to ``destination``, hashing on the way; returns its size."""
    try:
        if destination == "database":
            with session_scope(app) as session, files.path_for(root(app), sha256).open("rb") as handle:
                received = receive(handle, None)
                try:
                    stored = database.save(session.connection(), received, now=clock.now(), expected=sha256)
                    return stored.size
                finally:
                    received.close()
        with database.reading(get_engine(app)) as connection:
            return files.write(root(app), database.iter_chunks(connection, sha256), expected=sha256).size
    except BlobMismatch as error:
        raise MoveRefused(f"{sha256}: the source copy in the {_other(destination)} store hashes to "
                          f"{error.actual}; refusing to move it (no source copy was removed)") from error
    except BlobDamaged as error:
        raise MoveRefused(f"{sha256}: {error}; refusing to move it (no source copy was removed)") from error


def move(app: Flask, *, to: str, keep_source: bool = False, actor: str = "cli",
         progress: Progress | None = None) -> MoveReport:
    """Copy every referenced file to the store ``to``, verify each copy, then remove the source copies.

    :raises MoveRefused: naming the hash whose source or destination copy does not verify.
    """
    if to not in ("files", "database"):
        raise ValueError("the destination is files or database")
    lock = ExclusiveLock(app, MOVE_LOCK_KEY, "attachments-move.lock")
    if not lock.try_acquire():
        lock.release()
        raise MoveRefused("another attachments move is running; nothing was done")
    try:
        return _move(app, to, keep_source, actor, progress or (lambda _line: None))
    finally:
        lock.release()


def _move(app: Flask, to: str, keep_source: bool, actor: str, note: Progress) -> MoveReport:
    source = _other(to)
    with database.reading(get_engine(app)) as connection:
        hashes = referenced_hashes(connection)
    report = MoveReport(to, len(hashes))
    for number, sha256 in enumerate(hashes, start=1):
        if holds(to, sha256, app):
            problem = copy_problem(to, sha256, app)
            if problem:
                raise MoveRefused(f"{sha256}: the copy already in the {to} store does not verify "
                                  f"({problem}); no source copy was removed")
            report.already_there += 1
            continue
        if not holds(source, sha256, app):
            raise MoveRefused(f"{sha256}: in neither store; no source copy was removed")
        size = _copy(app, sha256, to)
        problem = copy_problem(to, sha256, app)  # read back from the destination, after the commit
        if problem:
            raise MoveRefused(f"{sha256}: the new copy in the {to} store does not verify ({problem}); "
                              "no source copy was removed")
        report.copied += 1
        report.bytes_copied += size
        if number % 100 == 0:
            note(f"{number}/{len(hashes)} verified in the {to} store")
    removable = [] if keep_source else [sha256 for sha256 in hashes if holds(source, sha256, app)]
    if report.copied == 0 and not removable:
        return report
    with session_scope(app) as session:
        if source == "database":
            now = clock.now()
            for sha256 in removable:
                _still_verified(app, to, sha256)
                database.release(session.connection(), sha256, actor=actor, now=now)
        _record(session, report, source, removable, hashes, actor, keep_source)
    if source == "files":
        # After the commit: a file is removed only once the move that verified its copy is recorded.
        for sha256 in removable:
            _still_verified(app, to, sha256)
            files.remove(root(app), sha256)
    report.removed = len(removable)
    return report


def _still_verified(app: Flask, destination: str, sha256: str) -> None:
    """Check the destination copy once more right before its source copy goes."""
    problem = copy_problem(destination, sha256, app)
    if problem:
        raise MoveRefused(f"{sha256}: the copy in the {destination} store no longer verifies ({problem}); "
                          "its source copy was kept")


def _record(session: Session, report: MoveReport, source: str, removable: list[str], hashes: list[str],
            actor: str, keep_source: bool) -> None:
    def listing(names: list[str]) -> str:
        return hashlib.sha256("".join(f"{sha256}\n" for sha256 in names).encode()).hexdigest()

    audit_bridge.record(
        session,
        actor=actor,
        action="attachments.move",
        object_type="attachment_store",
        object_id=report.destination,
        evidence={"verified_sha256_list": listing(hashes), "removed_sha256_list": listing(removable)},
        details={
            "from": source,
            "to": report.destination,
            "files": report.total,
            "copied": report.copied,
            "already_there": report.already_there,
            "bytes_copied": report.bytes_copied,
            "source_copies_removed": len(removable),
            "kept_source": keep_source,
        },
    )


def check(app: Flask) -> CheckReport:
    """Re-hash every copy of every referenced file in both stores; list what is missing or altered."""
    from . import configured

    with database.reading(get_engine(app)) as connection:
        hashes = referenced_hashes(connection)
    report = CheckReport(configured(app), len(hashes))
    for sha256 in hashes:
        places = [store for store in ("files", "database") if holds(store, sha256, app)]
        report.in_files += "files" in places
        report.in_database += "database" in places
        report.outside_configured += bool(places) and report.configured not in places
        if not places:
            report.problems.append(f"file {sha256} is missing from both stores")
        for store in places:
            problem = copy_problem(store, sha256, app)
            if problem:
                report.problems.append(f"{store} store: {problem}")
    return report


__all__ = ["CheckReport", "MoveRefused", "MoveReport", "check", "move", "referenced_hashes"]
