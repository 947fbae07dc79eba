"""API endpoints of the audit log for legal officers: checkpoint, entries and RFC 9162 proofs."""

from __future__ import annotations

import base64
from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user

from .. import audit_bridge
from ..auth.principal import require_roles
from ..db import get_session
from ..errors import InvalidInput, NotFound
from . import bp
from .openapi import SCHEMAS, json_response, register


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _int_argument(name: str, default: int | None = None, minimum: int = 0, maximum: int = 2**62) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise InvalidInput(f"{name} is required", field=name)
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise InvalidInput(f"{name} must be an integer", field=name) from error
    if value < minimum or value > maximum:
        raise InvalidInput(f"{name} must be between {minimum} and {maximum}", field=name)
    return value


@bp.route("/audit/checkpoint")
@require_roles("legal")
def audit_checkpoint() -> Response:
    """The latest signed checkpoint, as the signed note itself."""
    stored = audit_bridge.get_store().latest_checkpoint(get_session().connection())
    if stored is None:
        raise NotFound("no checkpoint has been signed yet")
    return Response(stored.note, mimetype="text/plain")


@bp.route("/audit/entries")
@require_roles("legal")
def audit_entries() -> Response:
    """Entries with their exact stored bytes, from ``start``."""
    start = _int_argument("start", 0)
    limit = _int_argument("limit", 100, minimum=1, maximum=1000)
    session = get_session()
    rows = audit_bridge.get_store().entries(session.connection(), start, limit)
    items = [{"index": index, "entry": _b64(entry), "leaf_hash": _b64(leaf)} for index, entry, leaf in rows]
    size = audit_bridge.get_store().size(session.connection())
    following = start + len(items)
    more = bool(items) and following < size
    next_path = f"/api/v1/audit/entries?start={following}&limit={limit}" if more else None
    audit_bridge.record(session, actor=current_user.username, action="audit.read", object_type="audit_log",
                        details={"start": start, "count": len(items)})
    session.commit()
    return jsonify({"items": items, "next": next_path})


@bp.route("/audit/proofs/inclusion")
@require_roles("legal")
def audit_inclusion_proof() -> Response:
    """The inclusion proof of entry ``index`` in the tree of ``size`` entries."""
    index = _int_argument("index")
    size = _int_argument("size")
    connection = get_session().connection()
    store = audit_bridge.get_store()
    try:
        path = store.inclusion_proof(connection, index, size, cache=audit_bridge.tree_cache())
    except ValueError as error:
        raise InvalidInput(str(error), field="index" if index >= size else "size") from error
    tree = store.tree(connection, size, cache=audit_bridge.tree_cache())
    return jsonify({
        "index": index, "size": size, "leaf_hash": _b64(store.entries(connection, index, 1)[0][2]),
        "root": _b64(tree.root(size)), "path": [_b64(node) for node in path],
    })


@bp.route("/audit/proofs/consistency")
@require_roles("legal")
def audit_consistency_proof() -> Response:
    """The consistency proof between the trees of ``first`` and ``second`` entries."""
    first = _int_argument("first")
    second = _int_argument("second")
    connection = get_session().connection()
    store = audit_bridge.get_store()
    try:
        path = store.consistency_proof(connection, first, second, cache=audit_bridge.tree_cache())
    except ValueError as error:
        raise InvalidInput(str(error), field="first" if first > second else "second") from error
    tree = store.tree(connection, second, cache=audit_bridge.tree_cache())
    return jsonify({
        "first": first, "second": second, "first_root": _b64(tree.root(first)),
        "second_root": _b64(tree.root(second)), "path": [_b64(node) for node in path],
    })


_B64_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string", "contentEncoding": "base64"}}
_B64: dict[str, Any] = {"type": "string", "contentEncoding": "base64"}
SCHEMAS["AuditEntries"] = {
    "type": "object", "required": ["items", "next"],
    "properties": {
        "items": {"type": "array", "items": {
            "type": "object", "required": ["index", "entry", "leaf_hash"],
            "properties": {"index": {"type": "integer", "minimum": 0}, "entry": _B64, "leaf_hash": _B64},
        }},
        "next": {"type": ["string", "null"]},
    },
}


def _query(name: str, required: bool = True, minimum: int = 0) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required,
            "schema": {"type": "integer", "minimum": minimum}}


register("/audit/checkpoint", "get", {
    "summary": "The latest signed checkpoint (C2SP signed note)",
    "responses": {
        "200": {"description": "signed note", "content": {"text/plain": {"schema": {"type": "string"}}}},
        **json_response("none yet", {"$ref": "#/components/schemas/Error"}, 404),
    },
})
register("/audit/entries", "get", {
    "summary": "Audit entries with their exact stored bytes",
    "parameters": [_query("start", False), {**_query("limit", False, 1), "schema": {
        "type": "integer", "minimum": 1, "maximum": 1000}}],
    "responses": {**json_response("entries", {"$ref": "#/components/schemas/AuditEntries"}),
                  **json_response("bad argument", {"$ref": "#/components/schemas/Error"}, 400)},
})
register("/audit/proofs/inclusion", "get", {
    "summary": "RFC 9162 inclusion proof",
    "parameters": [_query("index"), _query("size", minimum=1)],
    "responses": {**json_response("proof", {
        "type": "object", "required": ["index", "size", "leaf_hash", "root", "path"],
        "properties": {"index": {"type": "integer"}, "size": {"type": "integer"}, "leaf_hash": _B64,
                       "root": _B64, "path": _B64_LIST}}),
        **json_response("bad argument", {"$ref": "#/components/schemas/Error"}, 400)},
})
register("/audit/proofs/consistency", "get", {
    "summary": "RFC 9162 consistency proof",
    "parameters": [_query("first"), _query("second")],
    "responses": {**json_response("proof", {
        "type": "object", "required": ["first", "second", "first_root", "second_root", "path"],
        "properties": {"first": {"type": "integer"}, "second": {"type": "integer"}, "first_root": _B64,
                       "second_root": _B64, "path": _B64_LIST}}),
        **json_response("bad argument", {"$ref": "#/components/schemas/Error"}, 400)},
})
