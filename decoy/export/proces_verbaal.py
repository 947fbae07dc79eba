"""The proces-verbaal van bevindingen of one contact: a draft, in Dutch (or English on request), that the
reporting officer signs outside Decoy.

It names officers by their verbalisant code only (rule 9), states the oath clause, what was observed and
how it was recorded (typed, in capture sessions, imported from the platform's export), the initiative
sheet, the flags in words, the conversation in the operation's time zone, and the SHA-256 hashes that tie
it to the audit log. Everything a counterpart wrote goes through the PDF primitives that neutralise it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, TableStyle
from sqlmodel import Session

from .. import audit_bridge, clock
from ..capture.records import capture_session_records
from ..disclosure.codes import Officers
from ..evidence.display import flag_text
from ..imports.records import contact_imports, later_flags_of_contact
from ..initiative.records import current_flags_of_contact, initiative_record
from ..models import Authorization, Contact, Operation, Profile
from . import content
from .pdf import FLAG_BACKGROUND, TABLE_ROWS, document, para, pieces, styles, table, text, when
from .proces_verbaal_wording import LANGUAGES, TOPICS, WORDS

WIDTH = A4[0] - 30 * mm
BLANK = "_" * 24

Names = Callable[[int | None, datetime | None], str]


def officer_names(session: Session, unknown: str) -> Names:
    """Account id → the verbalisant code the officer had then (else their latest code, else ``unknown``):
    never a username (rule 9)."""
    officers = Officers(session)
    known = set(officers.all_codes())

    def name(user_id: int | None, at: datetime | None = None) -> str:
        for found in (officers(user_id, at), officers(user_id)):
            if found in known:
                return str(found)
        return unknown

    return name


def counted(words: dict[str, str], noun: str, count: int) -> str:
    """``count`` with its noun in the singular or the plural (``"1 bericht"``, ``"4 berichten"``)."""
    one, many = words[noun].split("|")
    return (one if count == 1 else many).format(count=count)


def _messages(session: Session, contact_id: int, names: Names, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The contact's messages as a transcript shows them, each with its flags now (``flags_now``: those
    recorded, found later by an import, or given by the latest assessment), as the bundle reads them."""
    later = later_flags_of_contact(session, contact_id)
    flags_now = current_flags_of_contact(session, contact_id)
    messages = []
    for message, attachments in content.iter_messages(session, contact_id):
        record = content.message_record(message, attachments, names, zone)  # type: ignore[arg-type]
        record["flags_now"] = flags_now(message, later.get(message.id or 0, ()))
        messages.append(record)
    return messages


def proces_verbaal_pdf(
    session: Session, contact_id: int, *, officer_code: str, language: str = "nl"
) -> bytes:
    """The draft proces-verbaal of the contact by the officer with ``officer_code``, in ``language``
    (``nl`` or ``en``); the caller has checked that the officer may see the contact."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}")
    words = WORDS[language]
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise LookupError(f"no contact {contact_id}")
    operation = session.get(Operation, contact.operation_id)
    profile = session.get(Profile, contact.profile_id)
    assert operation is not None and profile is not None  # noqa: S101 - foreign keys
    zone = ZoneInfo(operation.timezone)
    names = officer_names(session, words["no_code"])
    messages = _messages(session, contact_id, names, zone)
    initiative = initiative_record(session, contact, names)
    contact_flags = sorted(set(contact.flags) | set(initiative["flags"]))
    with force_locale(language):  # the flags in words, in the report's language
        flag_words = {
            flag: flag_text(flag) or flag.replace("_", " ")
            for flag in {*contact_flags, *(f for m in messages for f in m["flags_now"])}
        }
    code = text(officer_code)
    styles()
    facts = (
        ("operation", text(operation.name)),
        ("team", text(operation.team or "—")),
        ("contact", f"{contact.id}: {text(contact.counterpart)}"),
        ("zone", text(operation.timezone)),
    )
    story: list[Any] = [
        para(words["title"], "h1"),
        para(words["draft"].format(now=when(clock.now().isoformat(), zone)), "small"),
        Spacer(0, 3 * mm),
        table([[para(words[key], "small"), para(value)] for key, value in facts],
              [40 * mm, WIDTH - 40 * mm], header=False),
        Spacer(0, 4 * mm),
        para(words["oath"].format(code=f"<b>{code}</b>")),
        para(words["shield"], "small"),
        *_basis(session, profile, words, zone),
        *_findings(operation, profile, contact, messages, words, zone),
        *_recording(session, contact, messages, names, words, zone),
        *_initiative(initiative["sheet"], language, zone),
        para(words["h_flags"], "h2"),
        *_flag_lines(contact_flags, messages, flag_words, words),
    ]
    closing = chain(_hashes(session, messages, words, zone), _closing(code, words))
    return document(
        chain(story, _conversation(messages, flag_words, words, zone), closing),
        words["footer"].format(contact=contact.id),
        words["page"],
    )


def _basis(session: Session, profile: Profile, words: dict[str, str], zone: ZoneInfo) -> list[Any]:
    found = session.get(Authorization, profile.authorization_id)
    if found is None:
        return []
    return [para(words["h_basis"], "h2"), para(words["basis"].format(
        reference=text(found.reference), basis=text(found.legal_basis), authority=text(found.authority),
        start=when(found.valid_from.isoformat(), zone), end=when(found.valid_until.isoformat(), zone)))]


def _findings(operation: Operation, profile: Profile, contact: Contact, messages: list[dict[str, Any]],
              words: dict[str, str], zone: ZoneInfo) -> list[Any]:
    story = [para(words["h_findings"], "h2"), para(words["findings"].format(
        operation=text(operation.name), handle=text(profile.handle), platform=text(profile.platform),
        profile=profile.id, counterpart=f"<b>{text(contact.counterpart)}</b>", contact=contact.id,
        first_seen=when(contact.first_seen_at.isoformat(), zone)))]
    if not messages:
        return [*story, para(words["no_messages"])]
    count = {direction: sum(m["direction"] == direction for m in messages) for direction in ("in", "out")}
    story.append(para(words["counts"].format(
        total=counted(words, "messages", len(messages)), incoming=count["in"], outgoing=count["out"],
        system=counted(words, "notices", len(messages) - count["in"] - count["out"]),
        first=when(messages[0]["sent_at"], zone), last=when(messages[-1]["sent_at"], zone))))
    return [*story, para(words["zone_note"].format(zone=text(operation.timezone)), "small")]


def _recording(session: Session, contact: Contact, messages: list[dict[str, Any]], names: Names,
               words: dict[str, str], zone: ZoneInfo) -> list[Any]:
    """How the messages were captured: typed, in capture sessions (with statements), imported."""
    imported = [m for m in messages if m["import_id"]]
    in_sessions = [m for m in messages if m["capture_session"] and not m["import_id"]]
    story: list[Any] = [para(words["h_capture"], "h2")]
    typed = len(messages) - len(imported) - len(in_sessions)
    if typed:
        story.append(para(words["typed"].format(count=counted(words, "messages", typed))))
    used = {m["capture_session"] for m in in_sessions}
    if used:
        story.append(para(words["sessions"].format(count=counted(words, "messages", len(in_sessions)))))
        rows: list[list[Any]] = [[para(f"<b>{words[key]}</b>", "small") for key in
                                  ("session", "session_how", "statement")]]
        for found in capture_session_records(session, contact.operation_id, names, zone):
            if found["id"] not in used:
                continue
            end = found["end"]
            # A statement may be long: its pieces continue on further rows (a row cannot split).
            stated = ["—"] if not end else [*pieces(end["completeness_statement"]), words["gaps"].format(
                gaps=text(end["known_gaps"] or words["no_gaps"]))]
            operated = words["operated"].format(
                officer=text(found["operated_by"]), device=text(found["device"]), tool=text(found["tool"]),
                start=when(found["started_at"], zone),
                end=when(end["ended_at"], zone) if end else words["open"],
            )
            rows.append([para(str(found["id"]), "small"), para(operated, "small"), para(stated[0], "small")])
            rows += [[para(""), para(""), para(part, "small")] for part in stated[1:]]
        story += [table([rows[0], *rows[start:start + TABLE_ROWS]], [18 * mm, 80 * mm, WIDTH - 98 * mm])
                  for start in range(1, len(rows), TABLE_ROWS)]
        story.append(Spacer(0, 2 * mm))
    if imported:
        story.append(para(words["imports"].format(count=counted(words, "messages", len(imported)))))
        rows = [[para(f"<b>{words[key]}</b>", "small") for key in ("import", "file", "imported_at")]]
        for found in contact_imports(session, contact.id or 0, names, zone):
            rows.append([para(f"{found['id']} ({text(found['format'])})", "small"),
                         para(f"{text(found['filename'])}<br/>SHA-256 {_mono(found['sha256'])}", "small"),
                         para(words["imported_by"].format(at=when(found["imported_at"], zone),
                                                          officer=text(found["imported_by"])), "small")])
        story += [table(rows, [22 * mm, WIDTH - 72 * mm, 50 * mm]), Spacer(0, 2 * mm)]
    return [*story, para(words["integrity"])]


def _initiative(sheet: dict[str, Any], language: str, zone: ZoneInfo) -> list[Any]:
    """The initiative sheet when any topic is annotated (rule 8: from confirmed annotations only)."""
    words = WORDS[language]
    story: list[Any] = [para(words["h_initiative"], "h2")]
    if not any(sheet["topics"].values()):
        return [*story, para(words["no_initiative"])]
    rows: list[list[Any]] = [[para(f"<b>{words[key]}</b>") for key in ("topic", "first_by", "when")]]
    for topic, label in TOPICS[language].items():
        first = sheet["topics"].get(topic)
        if first is None:
            rows.append([para(label), para(words["not_annotated"]), para("—")])
            continue
        who = words["decoy" if first["first_by"] == "decoy" else "counterpart"]
        if topic == "age_stated" and first.get("age") is not None:
            who += words["age"].format(age=int(first["age"]))
        where = f"{when(first['at'], zone)}, {words['message'].format(id=int(first['message_id']))}"
        shown = f"<b>{who}</b>" if first["first_by"] == "decoy" else who
        rows.append([para(label), para(shown), para(where)])
    story += [para(words["initiative"], "small"), table(rows, [WIDTH * 0.25, WIDTH * 0.3, WIDTH * 0.45])]
    seconds = sheet.get("age_to_meeting_seconds")
    if seconds is not None:
        minutes, _seconds = divmod(abs(int(seconds)), 60)
        hours, minutes = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        shown = (words["days"].format(days=days) if days else "") + words["duration"].format(
            hours=hours, minutes=minutes
        )
        story.append(para(words["age_to_meeting"].format(duration=("-" if seconds < 0 else "") + shown)))
    return story


def _flag_lines(contact_flags: list[str], messages: list[dict[str, Any]], flag_words: dict[str, str],
                words: dict[str, str]) -> list[Any]:
    flagged = sum(bool(m["flags_now"]) for m in messages)
    if not contact_flags and not flagged:
        return [para(words["no_flags"])]
    story = []
    if contact_flags:
        story.append(para(words["flags"]))
        story += [para(f"• {text(flag_words[f])}", "flag") for f in contact_flags]
    if flagged:
        story.append(para(words["flagged"].format(count=counted(words, "messages", flagged))))
    return story


def _conversation(messages: list[dict[str, Any]], flag_words: dict[str, str], words: dict[str, str],
                  zone: ZoneInfo) -> Iterator[Any]:
    """The conversation in tables of bounded length; a long text continues on further rows."""
    yield para(words["h_conversation"], "h2")
    header = [para(f"<b>{words[key]}</b>") for key in ("number", "meta", "body")]
    rows: list[list[Any]] = [header]
    flagged: list[int] = []

    def close() -> Any:
        made = table(rows, [14 * mm, 58 * mm, WIDTH - 72 * mm])
        for row in flagged:
            made.setStyle(TableStyle([("BACKGROUND", (0, row), (-1, row), FLAG_BACKGROUND)]))
        return made

    for message in messages:
        meta = [words.get(message["direction"], text(message["direction"])),
                f"{words['platform_time']}: {text(message['sent_at'])}",
                f"{words['local_time']}: {when(message['sent_at'], zone)}",
                words["recorded"].format(at=when(message["recorded_at"], zone),
                                         officer=text(message["recorded_by"]))]
        if message["corrects"]:
            meta.append(words["corrects"].format(id=int(message["corrects"])))
        if message["capture_session"]:
            meta.append(words["in_session"].format(id=message["capture_session"],
                                                   officer=text(message["operated_by"])))
        if message["import_id"]:
            source = text(message["source"] or "")
            meta.append(words["imported"].format(id=message["import_id"], source=source))
        parts = pieces(message["body"]) if message["body"] else [f"<i>{words['empty']}</i>"]
        for attachment in message["attachments"]:
            shown = words["attachment"].format(
                sha256=attachment["sha256"], size=attachment["size"],
                media_type=text(attachment["media_type"]),
            )
            parts[-1] += f"<br/><font size=7>{shown}</font>"
        first = [para(parts[0])]
        if message["flags_now"]:
            shown = "; ".join(text(flag_words[f]) for f in message["flags_now"])
            first.append(para(words["signalled"].format(flags=shown), "flag"))
        for index, part in enumerate(parts):
            if len(rows) > TABLE_ROWS:
                yield close()
                rows, flagged = [header], []
            if index == 0:
                if message["flags_now"]:
                    flagged.append(len(rows))
                rows.append([para(str(message["id"]), "small"), para("<br/>".join(meta), "small"), first])
            else:
                rows.append([para(f"{message['id']} ({index + 1}/{len(parts)})", "small"),
                             para(words["continued"].format(id=message["id"]), "small"), para(part)])
    if len(rows) > 1:
        yield close()


def _hashes(session: Session, messages: list[dict[str, Any]], words: dict[str, str],
            zone: ZoneInfo) -> Iterator[Any]:
    """The SHA-256 of every message's text and of every file, and the log's latest signed checkpoint."""
    yield para(words["h_hashes"], "h2")
    yield para(words["hashes"], "small")
    header = [para(f"<b>{words['number']}</b>", "small"), para(f"<b>{words['text_hash']}</b>", "small")]
    rows = [[para(str(m["id"]), "small"), para(m["body_sha256"], "mono")] for m in messages]
    for start in range(0, len(rows), TABLE_ROWS):
        yield table([header, *rows[start:start + TABLE_ROWS]], [20 * mm, WIDTH - 20 * mm])
    files = [(m["id"], a) for m in messages for a in m["attachments"]]
    if files:
        yield para(words["files"], "h3")
        listed = [[para(str(number), "small"), para(a["sha256"], "mono"),
                   para(words["size"].format(size=a["size"], media_type=text(a["media_type"])), "small")]
                  for number, a in files]
        top = [header[0], para("<b>SHA-256</b>", "small"), para(f"<b>{words['size_kind']}</b>", "small")]
        for start in range(0, len(listed), TABLE_ROWS):
            yield table([top, *listed[start : start + TABLE_ROWS]], [20 * mm, WIDTH - 70 * mm, 50 * mm])
    yield para(words["h_log"], "h3")
    checkpoint = audit_bridge.get_store().latest_checkpoint(session.connection())
    yield para(words["no_checkpoint"] if checkpoint is None else words["checkpoint"].format(
        size=checkpoint.size, root=_mono(checkpoint.root.hex()),
        at=when(checkpoint.created.isoformat(), zone)))


def _mono(sha256: str) -> str:
    """A hash in the monospaced font, small enough to stay on one line of a table cell."""
    return f"<font face='DecoyMono' size=7>{sha256}</font>"


def _closing(code: str, words: dict[str, str]) -> list[Any]:
    """The closing formula with blanks for place and date, and the signature block."""
    signature = table(
        [[para(words["place_date"], "small"), para("")],
         [para(words["signature"].format(code=code), "small"), Spacer(0, 28 * mm)]],
        [60 * mm, WIDTH - 60 * mm], header=False,
    )
    return [Spacer(0, 6 * mm), para(words["closing"].format(code=f"<b>{code}</b>", blank=BLANK)),
            Spacer(0, 6 * mm), signature]
