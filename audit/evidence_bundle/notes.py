"""Journal notes a legal officer disclosed (``notes.json``, ``contacts/<id>/notes.json``) or listed
(``withheld.json``) against their ``journal.write`` entries, both ways. Standard library only."""

from __future__ import annotations

import json
import zipfile
from typing import Any

from audit.evidence_bundle.records import Entries, listed_items, listed_text_matches, text_matches

__all__ = ["check_notes"]

NOTES_NAME = "notes.json"


def _notes(bundle: zipfile.ZipFile) -> dict[Any, tuple[str, dict[str, Any]]]:
    found: dict[Any, tuple[str, dict[str, Any]]] = {}
    for name in sorted(bundle.namelist()):
        if name == NOTES_NAME or (name.startswith("contacts/") and name.endswith("/" + NOTES_NAME)):
            for note in json.loads(bundle.read(name).decode("utf-8")):
                found[note["id"]] = (name, note)
    return found


def check_notes(bundle: zipfile.ZipFile, entries: Entries) -> str | None:
    """The first disclosed or listed journal note that differs from its entry, an entry whose note is
    neither shown nor listed, or a note without its entry; None when they agree."""
    try:
        notes = _notes(bundle)
        listed = {key: item for key, item in listed_items(bundle).items() if key[0] == "note"}
    except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        return f"a journal note record is malformed: {exc!r}"
    try:
        for index in sorted(entries):
            entry = entries[index]
            if entry.get("action") != "journal.write":
                continue
            note_id = (entry.get("object") or {}).get("id")
            recorded = entry.get("details") or {}
            shown = notes.pop(note_id, None)
            if shown is not None:
                name, note = shown
                if not text_matches(note, recorded, note["body"]):
                    return f"{name}: note {note_id} differs from the text recorded in entry {index}"
                if note.get("written_by") != entry.get("actor"):
                    by, actor = note.get("written_by"), entry.get("actor")
                    return f"{name}: note {note_id} written by {by!r}, entry {index} says {actor!r}"
                continue
            item = listed.pop(("note", note_id), None)
            if item is None:
                return f"entry {index}: journal note {note_id} is neither in the bundle nor listed"
            if not listed_text_matches(item, recorded):
                return f"withheld.json: note {note_id} is listed with another hash than entry {index}'s"
    except (KeyError, TypeError, AttributeError) as exc:
        return f"a journal note record is malformed: {exc!r}"
    if notes:
        note_id, (name, _note) = next(iter(notes.items()))
        return f"{name}: note {note_id} has no audit entry in the bundle"
    return None
