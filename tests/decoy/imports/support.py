"""Helpers of the import tests: exports written as the platforms write them, and the import call."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sqlmodel import select

from decoy.db import session_scope
from decoy.models import Message


def whatsapp_android(lines: list[tuple[str, str, str]]) -> bytes:
    """An Android "Export chat" text in the Dutch layout: (``dd-mm-yyyy HH:MM``, name, text) per message."""
    header = "02-03-2026 09:00 - Berichten en gesprekken zijn end-to-end versleuteld.\n"
    return (header + "".join(f"{when} - {name}: {text}\n" for when, name, text in lines)).encode()


def zipped(members: dict[str, bytes]) -> bytes:
    """A ZIP archive of ``members``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def post_import(
    world: Any,
    contact_id: int,
    content: bytes,
    *,
    format: str = "whatsapp",
    decoy_name: str = "Sam Decoy",
    filename: str = "WhatsApp-chat met Alex.txt",
    username: str = "dana",
    **fields: Any,
) -> Any:
    """POST an export to the contact's imports as ``username``; the response."""
    data = {"format": format, "decoy_name": decoy_name, "file": (io.BytesIO(content), filename)}
    data.update({name: str(value) for name, value in fields.items()})
    return world.post(
        f"/contacts/{contact_id}/imports", username, data=data, content_type="multipart/form-data"
    )


def stored_messages(world: Any, contact_id: int) -> list[Message]:
    """The contact's messages in the order of their platform time."""
    with world.app.app_context(), session_scope(world.app) as session:
        rows = list(
            session.exec(
                select(Message).where(Message.contact_id == contact_id).order_by(Message.sent_at, Message.id)
            )
        )
        session.expunge_all()
        return rows
