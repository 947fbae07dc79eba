"""The attachment-store tests' helpers: files posted as multipart, counts of stored rows and
files, an entry's index, and triggers taken away to simulate tampering."""

from __future__ import annotations

import io

from sqlalchemy import text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from decoy import blobstore
from decoy.blobstore import CHUNK
from decoy.db import get_engine
from tests.decoy.evidence.support import audit_entries

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
#: Larger than two chunks, so that it is stored as three.
LARGE = b"%PDF-1.7\n" + bytes(range(256)) * (CHUNK // 256 * 2 + 7)


def rows(app, statement, **values):
    # A reader's transaction (deferred on SQLite), so that it does not wait for an open writer.
    with app.app_context(), get_engine(app).connect() as connection:
        connection.execution_options(decoy_snapshot=True)
        return connection.execute(text(statement), values).all()


def blob_count(app):
    return rows(app, "SELECT count(*) FROM evidence_blob")[0][0]


def chunk_count(app):
    return rows(app, "SELECT count(*) FROM evidence_blob_chunk")[0][0]


def files(app):
    with app.app_context():
        return sorted(path.name for path in blobstore.root().rglob("*") if path.is_file())


def post_files(world, contact_id, *files, body="files", client=None):
    # The multipart body is encoded in memory: the test client would spool a large one to a temporary
    # file it never closes (a ResourceWarning, an error under filterwarnings=error).
    fields = MultiDict([("direction", "in"), ("sent_at", "2026-03-02T10:00:00+01:00"), ("body", body)])
    for content, name in files:
        fields.add("attachments", FileStorage(io.BytesIO(content), filename=name))
    boundary, data = encode_multipart(fields)
    return (client or world.client).post(
        f"/api/v1/contacts/{contact_id}/messages",
        headers=world.headers("dana"),
        data=data,
        content_type=f"multipart/form-data; boundary={boundary}",
    )



def index_of(app, message_id):
    return next(e["index"] for e in audit_entries(app)
                if e["action"] == "message.create" and e["object"]["id"] == message_id)
