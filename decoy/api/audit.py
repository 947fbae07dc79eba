"""API endpoints of the audit log: its public key for anyone signed in; checkpoint, entries and RFC 9162
proofs for legal officers."""

from __future__ import annotations

import base64
from typing import Annotated

from flask import Response, jsonify
from flask_login import current_user
from pydantic import Field

from .. import audit_bridge
from ..auth.principal import require_roles
from ..db import get_session
from ..disclosure import codes
from ..errors import InvalidInput, NotFound
from ..integrity.checkpoints import get_signer
from ..models.schemas import Output, Page, Query
from . import bp
from .inputs import read_query
from .openapi import Content, route

#: Positions in the log: far beyond any log, yet within a 64-bit column.
Position = Annotated[int, Field(ge=0, le=2**62)]
Base64 = Annotated[str, Field(json_schema_extra={"contentEncoding": "base64"})]


class EntriesQuery(Query):
    """Where to start and how many entries."""

    start: Position = 0
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class InclusionQuery(Query):
    """An entry and the size of the tree it is proved in."""

    index: Position
    size: Annotated[int, Field(ge=1, le=2**62)]


class ConsistencyQuery(Query):
    """The sizes of two trees, the first no larger than the second."""

    first: Position
    second: Position


class AuditEntry(Output):
    """An entry's exact stored bytes and its leaf hash."""

    index: Annotated[int, Field(ge=0)]
    entry: Base64
    leaf_hash: Base64


class AuditEntries(Page):
    """A page of audit entries from ``start``."""

    items: list[AuditEntry]


class InclusionProof(Output):
    """RFC 9162 inclusion proof of an entry."""

    index: int
    size: int
    leaf_hash: Base64
    root: Base64
    path: list[Base64]


class ConsistencyProof(Output):
    """RFC 9162 consistency proof between two trees."""

    first: int
    second: int
    first_root: Base64
    second_root: Base64
    path: list[Base64]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@route(bp, "/audit/public-key", answer=Content(("text/plain",), {"type": "string"}))
def audit_public_key() -> Response:
    """The log's verifier key (one line), to check evidence bundles against; any signed-in account."""
    return Response(get_signer().verifier_key_text() + "\n", mimetype="text/plain")


@route(bp, "/audit/checkpoint", answer=Content(("text/plain",), {"type": "string"}), errors=(403, 404))
@require_roles("legal")
def audit_checkpoint() -> Response:
    """The latest signed checkpoint (C2SP signed note)."""
    stored = audit_bridge.get_store().latest_checkpoint(get_session().connection())
    if stored is None:
        raise NotFound("no checkpoint has been signed yet")
    return Response(stored.note, mimetype="text/plain")


@route(bp, "/audit/entries", query=EntriesQuery, answer=AuditEntries, errors=(400, 403))
@require_roles("legal")
def audit_entries() -> Response:
    """Audit entries with their exact stored bytes, from ``start``."""
    wanted = read_query(EntriesQuery)
    start, limit = wanted.start, wanted.limit
    session = get_session()
    rows = audit_bridge.get_store().entries(session.connection(), start, limit)
    items = [AuditEntry(index=index, entry=_b64(entry), leaf_hash=_b64(leaf)) for index, entry, leaf in rows]
    size = audit_bridge.get_store().size(session.connection())
    following = start + len(items)
    more = bool(items) and following < size
    next_path = f"/api/v1/audit/entries?start={following}&limit={limit}" if more else None
    audit_bridge.record(session, actor=codes.name_of(current_user), action="audit.read",
                        object_type="audit_log", details={"start": start, "count": len(items)})
    session.commit()
    return jsonify(AuditEntries(items=items, next=next_path).model_dump(mode="json"))


@route(bp, "/audit/proofs/inclusion", query=InclusionQuery, answer=InclusionProof, errors=(400, 403))
@require_roles("legal")
def audit_inclusion_proof() -> Response:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries."""
    wanted = read_query(InclusionQuery)
    index, size = wanted.index, wanted.size
    connection = get_session().connection()
    store = audit_bridge.get_store()
    try:
        path = store.inclusion_proof(connection, index, size, cache=audit_bridge.tree_cache())
    except ValueError as error:
        raise InvalidInput(str(error), field="index" if index >= size else "size") from error
    tree = store.tree(connection, size, cache=audit_bridge.tree_cache())
    return jsonify(InclusionProof(
        index=index, size=size, leaf_hash=_b64(store.entries(connection, index, 1)[0][2]),
        root=_b64(tree.root(size)), path=[_b64(node) for node in path],
    ).model_dump(mode="json"))


@route(bp, "/audit/proofs/consistency", query=ConsistencyQuery, answer=ConsistencyProof, errors=(400, 403))
@require_roles("legal")
def audit_consistency_proof() -> Response:
    """RFC 9162 consistency proof between the trees of ``first`` and ``second`` entries."""
    wanted = read_query(ConsistencyQuery)
    first, second = wanted.first, wanted.second
    connection = get_session().connection()
    store = audit_bridge.get_store()
    try:
        path = store.consistency_proof(connection, first, second, cache=audit_bridge.tree_cache())
    except ValueError as error:
        raise InvalidInput(str(error), field="first" if first > second else "second") from error
    tree = store.tree(connection, second, cache=audit_bridge.tree_cache())
    return jsonify(ConsistencyProof(
        first=first, second=second, first_root=_b64(tree.root(first)),
        second_root=_b64(tree.root(second)), path=[_b64(node) for node in path],
    ).model_dump(mode="json"))
