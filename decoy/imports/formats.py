"""The export readers by format name (spec "Import"): each yields ExportedMessage values oldest first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

from . import decoy_jsonl, instagram, telegram, whatsapp
from .exports import ExportedMessage, ExportFile

Reader = Callable[..., Iterator[ExportedMessage]]

READERS: dict[str, Reader] = {
    "whatsapp": whatsapp.read,
    "telegram": telegram.read,
    "instagram": instagram.read,
    "decoy": decoy_jsonl.read,
}


def read(
    format_name: str, export: ExportFile, *, zone: ZoneInfo, chat: str | None
) -> Iterator[ExportedMessage]:
    """The messages of ``export`` read as ``format_name`` (one of READERS)."""
    return READERS[format_name](export, zone=zone, chat=chat)
