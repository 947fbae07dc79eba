"""Serving attachments: only as downloads, never rendered, each download written to the audit log."""

from __future__ import annotations

from flask import Response, current_app, send_file
from sqlmodel import Session

from .. import blobstore
from ..access import Actor
from ..models import Attachment
from .reading import download_attachment

#: Media types served as themselves; anything else (text above all) goes out as opaque bytes.
SERVED_AS_IS = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/heic",
        "application/zip",
        "video/mp4",
    }
)
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/zip": ".zip",
    "video/mp4": ".mp4",
    "text/plain": ".txt",
}


def download(session: Session, actor: Actor, attachment_id: int) -> Response:
    """The attachment's file as a download; the read is committed to the audit log before a byte leaves."""
    found = download_attachment(session=session, actor=actor, attachment_id=attachment_id)
    session.commit()
    attachment = found.attachment
    media_type = (
        attachment.media_type if attachment.media_type in SERVED_AS_IS else "application/octet-stream"
    )
    return serve(attachment, found.store, media_type)


def serve(attachment: Attachment, store: str, media_type: str) -> Response:
    """The file of ``attachment`` from ``store`` as a download of ``media_type`` (the caller has recorded
    the read and committed)."""
    # The client's file name is hostile text: it is shown on the page, never put into a header.
    name = (
        f"attachment-{attachment.id}-{attachment.sha256[:12]}{EXTENSIONS.get(attachment.media_type, '.bin')}"
    )
    if store == "files":
        response = send_file(
            blobstore.path_for(attachment.sha256),
            mimetype=media_type,
            as_attachment=True,
            download_name=name,
            etag=attachment.sha256,
            conditional=False,
            max_age=0,
        )
    else:
        # Chunk by chunk, each on a short connection of its own: the request's session is closed by the
        # time the body streams, and a slow client holds no database connection.
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response = Response(blobstore.iter_blob(attachment.sha256, app), mimetype=media_type)
        response.headers.set("Content-Disposition", "attachment", filename=name)
        response.headers["Content-Length"] = str(attachment.size)
        response.headers["Cache-Control"] = "no-store"
    # Evidence never rests in a browser's or a proxy's cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Content-SHA256"] = attachment.sha256
    response.headers["ETag"] = f'"{attachment.sha256}"'
    return response
