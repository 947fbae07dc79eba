"""The readable PDF reports of a bundle: a proces-verbaal of the operation and one per conversation."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Preformatted, Spacer, Table, TableStyle

from .pdf import (
    FLAG_BACKGROUND,
    PIECE_CHARS,
    PIECE_LINES,
    TABLE_ROWS,
    document,
    flags_paragraph,
    para,
    pieces,
    styles,
    table,
    text,
    when,
)

__all__ = ["PIECE_CHARS", "PIECE_LINES", "contact_report", "conversation", "operation_report", "pieces"]


def conversation(
    contact: dict[str, Any], messages: Iterable[dict[str, Any]], zone: ZoneInfo
) -> Iterator[Any]:
    """Flowables of one conversation: header and every message with both times, officer and flags."""
    yield para(f"Contact {contact['id']}: {text(contact['counterpart'])}", "h3")
    yield para(
        f"First seen {when(contact['first_seen_at'], zone)}; recorded by {text(contact['recorded_by'])}."
    )
    if contact["flags"]:
        yield flags_paragraph(contact["flags"])
    width = A4[0] - 30 * mm
    header = [para("<b>#</b>"), para("<b>Direction, times, officer</b>"), para("<b>Text and attachments</b>")]
    rows: list[list[Any]] = [header]
    flagged_rows: list[int] = []

    def close_table() -> Table:
        # Tables of bounded length: reportlab splits a long table across pages in quadratic time.
        made = table(rows, [12 * mm, 52 * mm, width - 64 * mm])
        for row in flagged_rows:
            made.setStyle(TableStyle([("BACKGROUND", (0, row), (-1, row), FLAG_BACKGROUND)]))
        return made

    for message in messages:
        if len(rows) > TABLE_ROWS:
            yield close_table()
            rows = [header]
            flagged_rows = []
        number = len(rows)
        direction = _DIRECTIONS.get(message["direction"], message["direction"])
        meta = (
            f"{direction}<br/>platform: {escape(message['sent_at'])}<br/>"
            f"local: {when(message['sent_at'], zone)}<br/>recorded: {when(message['recorded_at'], zone)}"
            f"<br/>by {text(message['recorded_by'])}"
        )
        if message["corrects"]:
            meta += f"<br/>corrects message {message['corrects']}"
        meta += _capture_note(message) + _import_note(message)
        parts = pieces(message["body"]) if message["body"] else ["<i>(empty)</i>"]
        for attachment in message["attachments"]:
            parts[-1] += (
                f"<br/><font size=7>attachment {escape(attachment['sha256'])} "
                f"({attachment['size']} bytes, {escape(attachment['media_type'])})"
                + (
                    f", {escape(attachment['disclosure'])}: not in this bundle"
                    if attachment.get("disclosure")
                    else ""
                )
                + (
                    f"; the bundle carries a redacted copy {escape(attachment['redacted']['sha256'])}"
                    f" ({text(attachment['redacted']['statement'])}, by {text(attachment['redacted']['by'])})"
                    if attachment.get("redacted")
                    else ""
                )
                + "</font>"
            )
        first: list[Any] = [para(parts[0])]
        lifted = set(message.get("lifted_flags", ()))
        flags = [f for f in [*message["flags"], *message.get("later_flags", ())] if f not in lifted]
        if flags:
            first.append(flags_paragraph(flags))
        rows.append([para(str(message["id"]), "small"), para(meta, "small"), first])
        if flags:
            flagged_rows.append(number)
        for index, part in enumerate(parts[1:], start=2):
            if len(rows) > TABLE_ROWS:
                yield close_table()
                rows = [header]
                flagged_rows = []
            label = f"{message['id']}<br/>({index}/{len(parts)})"
            continued = para(f"message {message['id']}, continued", "small")
            rows.append([para(label, "small"), continued, para(part)])
    yield close_table()


#: The topics of the initiative sheet as the report names them.
_TOPICS = {
    "age_stated": "Age stated",
    "sexual_topic": "Sexual topic",
    "meeting_proposed": "Meeting proposed",
    "payment_offered": "Payment offered",
    "image_requested": "Image requested",
    "image_sent": "Image sent",
}


def initiative_section(initiative: dict[str, Any], zone: ZoneInfo) -> list[Any]:
    """The initiative sheet: per topic who raised it first, when and in which message, from the officers'
    confirmed annotations (rule 8), and the time from the first stated age to the first proposed meeting."""
    sheet = initiative["sheet"]
    width = A4[0] - 30 * mm
    rows: list[list[Any]] = [
        [para("<b>Topic</b>"), para("<b>First raised by</b>"), para("<b>When, message</b>")]
    ]
    for topic, label in _TOPICS.items():
        first = sheet["topics"].get(topic)
        if first is None:
            rows.append([para(label), para("not annotated"), para("—")])
            continue
        who = "the decoy" if first["first_by"] == "decoy" else "the counterpart"
        if topic == "age_stated" and first.get("age") is not None:
            who += f" (age {int(first['age'])})"
        rows.append(
            [
                para(label),
                para(f"<b>{who}</b>" if first["first_by"] == "decoy" and topic != "age_stated" else who),
                para(f"{when(first['at'], zone)}, message {int(first['message_id'])}"),
            ]
        )
    story: list[Any] = [
        para("Initiative", "h2"),
        para(
            "Who raised each topic first, by the platform's time, from the officers' confirmed annotations; "
            "suggestions and legal officers' remarks do not count.",
            "small",
        ),
        table(rows, [width * 0.25, width * 0.3, width * 0.45]),
    ]
    seconds = sheet.get("age_to_meeting_seconds")
    if seconds is not None:
        story.append(para(f"From the first stated age to the first proposed meeting: {_duration(seconds)}."))
    if initiative["flags"]:
        story.append(flags_paragraph(initiative["flags"]))
    counted = len(initiative["annotations"])
    story.append(
        para(
            f"{counted} annotations, {len(initiative['dismissals'])} dismissed suggestions and "
            f"{len(initiative['assessments'])} recorded assessments are listed in initiative.json.",
            "small",
        )
    )
    return story


def _duration(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    minutes, _rest = divmod(abs(int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{sign}{days} d {hours} h {minutes} min" if days else f"{sign}{hours} h {minutes} min"


def contact_report(
    contact: dict[str, Any],
    messages: list[dict[str, Any]],
    zone: ZoneInfo,
    initiative: dict[str, Any] | None = None,
) -> bytes:
    """The PDF transcript of one conversation, with its initiative sheet."""
    styles()
    heading = [
        para(f"Transcript of contact {contact['id']}", "h1"),
        para(f"Times in {escape(str(zone))}; the platform's own time is shown with its offset.", "small"),
        Spacer(0, 4 * mm),
    ]
    sheet = [] if initiative is None else [*initiative_section(initiative, zone), Spacer(0, 4 * mm)]
    return document(
        chain(heading, sheet, conversation(contact, messages, zone)),
        f"Decoy transcript, contact {contact['id']}",
    )


def operation_report(
    *,
    operation: dict[str, Any],
    authorizations: list[dict[str, Any]],
    profiles: list[dict[str, Any]],
    contacts: list[dict[str, Any]],
    reviews: list[dict[str, Any]],
    checkpoint_note: str,
    public_key: str,
    entries: int,
    zone: ZoneInfo,
    capture_sessions: list[dict[str, Any]] | None = None,
    withheld: list[dict[str, Any]] | None = None,
) -> bytes:
    """The proces-verbaal-like report of the whole operation (and a page listing what it withholds)."""
    styles()
    width = A4[0] - 30 * mm
    members = ", ".join(
        f"{text(member['officer'])} ({escape(', '.join(member['roles']))})"
        for member in operation["members"]
    )
    story: list[Any] = [
        para(f"Evidence report — operation {text(operation['name'])}", "h1"),
        para(
            f"Operation id {operation['id']}, team {text(operation['team'])}, "
            f"status {escape(word(operation['status']))}. "
            f"Exported {when(operation['exported_at'], zone)} by {text(operation['exported_by'])}. "
            f"All times in {escape(str(zone))} unless marked as the platform's time."
        ),
        para("Members: " + (members or "—")),
        para("Authorizations", "h2"),
        *_authorization_tables(authorizations, zone, width),
        para("Decoy profiles", "h2"),
        _profile_table(profiles, zone, width),
        para("Reviews", "h2"),
        _review_table(reviews, zone, width) if reviews else para("No reviews recorded."),
        para("Capture sessions", "h2"),
        *(_capture_session_tables(capture_sessions, zone, width) or [para("No capture sessions recorded.")]),
        para("Conversations", "h2"),
    ]
    if not contacts:
        story.append(para("No contacts recorded."))
    conversations = chain.from_iterable(
        chain(conversation(contact, contact["messages"], zone), [Spacer(0, 4 * mm)]) for contact in contacts
    )
    closing = [
        para("Withheld and sensitive material", "h2"),
        *withheld_section(withheld or [], width),
        para("Integrity statement", "h2"),
        para(
            f"This bundle holds {entries} audit entries of this operation, each with an RFC 9162 "
            "inclusion proof against the signed checkpoint below. Any change to a file, an entry or "
            "the checkpoint is detected by "
            "<font face='DecoyMono'>python -m audit verify</font> (see VERIFY.md)."
        ),
        Preformatted(checkpoint_note, styles()["mono"]),
        para("Public key of the log:"),
        Preformatted(public_key, styles()["mono"]),
    ]
    return document(
        chain(story, conversations, closing), f"Decoy evidence report, operation {operation['id']}"
    )


#: The words the report uses for stored kinds, states and decisions (the report is written in English;
#: the Dutch proces-verbaal has its own wording).
WORDS = {
    "written_order": "written order",
    "urgent_oral_order": "urgent oral order",
    "court_ruling": "court ruling",
    "ovj_order": "order of the public prosecutor",
    "rc_authorisation": "authorisation of the examining judge",
    "draft": "draft",
    "pending_approval": "pending approval",
    "planned": "planned",
    "before_expiry": "before expiry",
    "continue": "continue",
    "enforcement": "automatic enforcement",
}


def word(key: str) -> str:
    """A stored key in words (``pending_approval`` → "pending approval")."""
    return WORDS.get(key, key.replace("_", " "))


def _authorization_tables(authorizations: list[dict[str, Any]], zone: ZoneInfo, width: float) -> list[Any]:
    """One table of terms per authorization; a long term continues on further rows."""
    flowables: list[Any] = []
    references = {a.get("id"): a["reference"] for a in authorizations}
    for a in authorizations:
        limits: list[tuple[str, list[str]]] = [
            ("Reference", pieces(a["reference"])),
            ("Kind", [escape(word(a["kind"]))]),
            ("Authority / issuer", pieces(f"{a['authority']} / {a['issuer_name']}")),
            ("Legal basis", pieces(a["legal_basis"])),
            ("Offence", pieces(a["offence"])),
            ("Valid", [f"{when(a['valid_from'], zone)} until {when(a['valid_until'], zone)}"]),
            ("Review interval", [f"{a['review_interval_days']} days"]),
            ("Platforms", pieces(", ".join(a["platforms"]))),
            ("Decoy may initiate contact", ["yes" if a["may_initiate_contact"] else "no"]),
            ("Maximum profiles", [str(a["max_profiles"])]),
            ("Named officers", pieces(", ".join(a["officers"]) or "—")),
            ("Persona constraints", pieces(a["persona_constraints"])),
            ("Conditions", pieces(a["conditions"])),
            ("Supersedes", [text(references.get(a["supersedes_id"], "—"))]),
            ("Superseded", ["yes: a later order replaces it" if a["superseded"] else "no"]),
            (
                "Order documents",
                ["<br/>".join(f"{escape(d['kind'])}: {escape(d['sha256'])}" for d in a["documents"]) or "—"],
            ),
        ]
        rows = [
            [para(key if number == 0 else "", "small"), para(piece)]
            for key, parts in limits
            for number, piece in enumerate(parts)
        ]
        flowables.append(KeepTogether(table(rows, [45 * mm, width - 45 * mm], header=False)))
        flowables.append(Spacer(0, 3 * mm))
    return flowables


def _profile_table(profiles: list[dict[str, Any]], zone: ZoneInfo, width: float) -> Any:
    """Each profile with its status, then one row per transition (a reason may be long)."""
    rows: list[list[Any]] = [[para("<b>Profile</b>"), para("<b>Status and history</b>")]]
    for profile in profiles:
        rows.append(
            [
                para(
                    f"{profile['id']}: {text(profile['platform'])} / {text(profile['handle'])}<br/>"
                    f"authorization {profile['authorization_id']}"
                ),
                para(f"<b>{escape(word(profile['status']))}</b>", "small"),
            ]
        )
        for h in profile["history"]:
            change = (
                f"{when(h['at'], zone)}: {escape(word(h['from']) if h['from'] else '—')} → "
                f"{escape(word(h['to']))} by {text(h['actor'])}"
            )
            parts = pieces(h["reason"]) if h["reason"] else [""]
            rows.append([para(""), para(change + (": " + parts[0] if parts[0] else ""), "small")])
            rows.extend([para(""), para(part, "small")] for part in parts[1:])
    return table(rows, [60 * mm, width - 60 * mm])


_CLASSES = {"withheld": "withheld", "sensitive": "sensitive (never copied)", "disposed": "disposed of"}


def withheld_section(listed: list[dict[str, Any]], width: float) -> list[Any]:
    """What the disclosure lists without showing: each item by its SHA-256, the decision and its ground
    (or the viewing arrangement); ``withheld.json`` holds the same."""
    if not listed:
        return [para("Nothing of this disclosure is withheld.")]
    rows = [[para("<b>Item</b>"), para("<b>Decision</b>"), para("<b>SHA-256 or commitment</b>")]]
    for item in listed:
        basis = (
            f"{text(item.get('ground') or '')}, decision {text(item.get('decision_reference') or '')}"
            if item["class"] == "withheld"
            else f"under decision {text(item.get('decision_reference') or '')}"
            if item["class"] == "disposed"
            else text(item.get("viewing_arrangement") or "")
        )
        digest = item.get("sha256") or item["commitment"]
        kind = "" if "sha256" in item else "commitment<br/>"
        rows.append(
            [
                para(text(item["description"])),
                para(f"{_CLASSES.get(item['class'], escape(item['class']))}: {basis}"),
                para(
                    f"<font face='DecoyMono' size='7'>{kind}{escape(digest[:32])}<br/>"
                    f"{escape(digest[32:])}</font>"
                ),
            ]
        )
    intro = para(
        "These items are part of the record (each has its audit entry in this bundle) but their content is "
        "not disclosed; the SHA-256 of each is the one recorded when it was captured, and a text recorded "
        "with a commitment is listed by its commitment, which does not reveal the text."
    )
    return [intro, table(rows, [55 * mm, width - 125 * mm, 70 * mm])]


def _review_table(reviews: list[dict[str, Any]], zone: ZoneInfo, width: float) -> Any:
    """Each review with its due date and decision; a long rationale continues on further rows."""
    rows = [[para("<b>Review</b>"), para("<b>Due</b>"), para("<b>Decision</b>")]]
    for review in reviews:
        decision = review.get("decision") or {}
        outcome = escape(word(str(decision.get("decision", review.get("status", "")))))
        parts = pieces(f"{decision.get('rationale', '')} {decision.get('decided_by', '')}".strip()) or [""]
        rows.append(
            [
                para(f"{review['id']}: {escape(word(str(review.get('kind', ''))))}"),
                para(when(review.get("due_at"), zone)),
                para(f"{outcome} {parts[0]}"),
            ]
        )
        rows.extend([para(""), para(""), para(part)] for part in parts[1:])
    return table(rows, [40 * mm, 45 * mm, width - 85 * mm])


_DIRECTIONS = {"in": "incoming", "out": "outgoing (decoy)", "system": "platform notice"}


def _import_note(message: dict[str, Any]) -> str:
    """Where an imported message comes from: the import, its place in the file, the zone assumed."""
    if not message.get("import_id"):
        return ""
    note = f"<br/>imported (import {message['import_id']}, {text(message.get('source') or '')})"
    if message.get("platform_message_id"):
        note += f"<br/>platform id {text(message['platform_message_id'])}"
    if message.get("assumed_timezone"):
        note += f"<br/>time read in {text(message['assumed_timezone'])}"
    return note


def _capture_note(message: dict[str, Any]) -> str:
    """The officer at the keyboard and the capture session of a message captured in one ("" otherwise)."""
    if not message.get("capture_session"):
        return ""
    operator = text(message.get("operated_by") or "")
    return f"<br/>operated by {operator} in capture session {message['capture_session']}"


def _capture_session_tables(sessions: list[dict[str, Any]] | None, zone: ZoneInfo, width: float) -> list[Any]:
    """Each capture session: profile, operator, device and tool, start and end, then the officer's
    completeness statement and known gaps (a long one continues on further rows); tables of bounded length."""
    header = [para("<b>Session</b>"), para("<b>Operated, ended and stated</b>")]
    rows: list[list[Any]] = []
    for found in sessions or []:
        end = found.get("end")
        span = f"from {when(found['started_at'], zone)}" + (
            f" until {when(end['ended_at'], zone)}, ended by {text(end['ended_by'] or '')}"
            if end
            else " (still open when exported)"
        )
        operator, device, tool = (text(found[name] or "") for name in ("operated_by", "device", "tool"))
        rows.append(
            [
                para(f"{found['id']}: profile {found['profile_id']}", "small"),
                para(f"operated by {operator} on {device} with {tool}, {span}", "small"),
            ]
        )
        if end:
            for label, value in (
                ("Statement", end["completeness_statement"]),
                ("Known gaps", end["known_gaps"] or "none stated"),
            ):
                parts = pieces(value) or [""]
                rows.append([para(""), para(f"<b>{label}:</b> {parts[0]}", "small")])
                rows.extend([para(""), para(part, "small")] for part in parts[1:])
    return [
        table([header, *rows[start : start + TABLE_ROWS]], [40 * mm, width - 40 * mm])
        for start in range(0, len(rows), TABLE_ROWS)
    ]
