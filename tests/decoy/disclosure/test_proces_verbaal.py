"""The proces-verbaal van bevindingen of a contact, read as a person reads it: every page rendered, the text
extracted. Dutch by default and English on request, the officer by verbalisant code only (rule 9), the
oath clause, how the messages were captured, the initiative sheet, the flags in words, the hashes, the
signature block, hostile counterpart text neutralised, who may draft it, and its audit entry."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import text

from decoy.cli import main
from decoy.db import session_scope
from decoy.evidence.display import flag_text
from decoy.models.evidence import FLAGS
from tests.decoy.evidence.support import World, entries_for
from tests.support import code_for

USERNAMES = ("sam", "sol", "dana", "dirk", "nina", "lena", "adam")
PNG = b"\x89PNG\r\n\x1a\n" + b"a screenshot" * 40
CHAT = (
    b"02-03-2026 09:00 - Berichten en gesprekken zijn end-to-end versleuteld.\n"
    b"02-03-2026 11:00 - sunny: see you later\n"
    b"02-03-2026 11:01 - Lotte: bye for now\n"
)


def display_name(username: str) -> str:
    """An invented real name for each officer (what no report may show)."""
    return f"{username.capitalize()} Verhoeven-Zandstra"


def pages_of(pdf: bytes, tmp_path: Path) -> tuple[str, list[Path]]:
    """The PDF's text as pdftotext gives it, and every page rendered by pdftoppm (each opened and looked
    at: a page that is blank or does not open fails)."""
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(source)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(source), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == count >= 1
    for image in images:
        with Image.open(image) as page:
            page.load()
            darkest, _lightest = page.convert("L").getextrema()
            assert darkest < 128, f"{image.name} is blank"
    done = subprocess.run(["pdftotext", str(source), "-"], capture_output=True, text=True, check=True)
    return done.stdout, images


def words_of(extracted: str) -> str:
    """The extracted text with every run of white space as one space (lines wrap in table cells)."""
    return " ".join(extracted.split())


def no_officer_named(shown: str) -> None:
    """Rule 9: neither the username nor the real name of any officer appears."""
    for username in USERNAMES:
        assert not re.search(rf"\b{username}\b", shown, re.IGNORECASE), username
        assert display_name(username) not in shown
    assert "Verhoeven" not in shown


@pytest.fixture
def conversation(world: World) -> dict[str, Any]:
    """A contact with typed messages, one captured in a session, one with a screenshot, one by an officer
    the order does not name, an import of the platform's export, and annotations (the decoy proposed the
    meeting first)."""
    with world.app.app_context(), session_scope(world.app) as session:
        for username in USERNAMES:
            session.execute(
                text("UPDATE user_account SET display_name = :name WHERE username = :username"),
                {"name": display_name(username), "username": username},
            )
    contact = world.contact(counterpart="sunny")
    first = world.message(contact, "hello, how are you", "in", "2026-03-02T10:00:00+01:00")
    started = world.post(f"/profiles/{world.profile_id}/capture-sessions", json={"device": "laptop VICE-07",
                                                                                 "tool": "manual"})
    assert started.status_code == 201, started.get_json()
    session_id = started.get_json()["id"]
    in_session = world.message(contact, "fine, and you?", "out", "2026-03-02T10:05:00+01:00",
                               capture_session=session_id)
    ended = world.post(f"/capture-sessions/{session_id}/end",
                       json={"completeness_statement": "Every message of this session is recorded."})
    assert ended.status_code == 200, ended.get_json()
    meeting = world.message(contact, "shall we have a coffee?", "out", "2026-03-02T10:10:00+01:00")
    screenshot = world.post(f"/contacts/{contact}/messages", data={
        "direction": "in", "sent_at": "2026-03-02T10:12:00+01:00", "body": "look at this",
        "attachments": [(io.BytesIO(PNG), "screen.png")]}, content_type="multipart/form-data")
    assert screenshot.status_code == 201, screenshot.get_json()
    unnamed = world.message(contact, "a message by another officer", "out", "2026-03-02T10:20:00+01:00",
                            username="dirk")
    assert unnamed["flags"] == ["officer_not_named"]
    imported = world.post(f"/contacts/{contact}/imports", data={
        "format": "whatsapp", "decoy_name": "Lotte", "file": (io.BytesIO(CHAT), "chat.txt")},
        content_type="multipart/form-data")
    assert imported.status_code == 201, imported.get_json()
    for message, topic in ((first["id"], "age_stated"), (meeting["id"], "meeting_proposed")):
        extra = {"age": 14} if topic == "age_stated" else {}
        answer = world.post(f"/messages/{message}/annotations", json={"topic": topic, **extra})
        assert answer.status_code == 201, answer.get_json()
    return {
        "contact": contact, "first": first, "in_session": in_session, "meeting": meeting,
        "screenshot": screenshot.get_json(), "import": imported.get_json(), "session": session_id,
    }


def draft(world: World, contact: int, username: str = "dana", lang: str | None = None) -> Any:
    """GET the draft through the API."""
    query = "" if lang is None else f"?lang={lang}"
    return world.get(f"/contacts/{contact}/proces-verbaal{query}", username)


def test_the_dutch_draft_reads_as_a_proces_verbaal(
    world: World, conversation: dict[str, Any], tmp_path: Path
) -> None:
    answer = draft(world, conversation["contact"])
    assert answer.status_code == 200, answer.get_json()
    assert answer.mimetype == "application/pdf"
    pdf = answer.get_data()
    assert pdf.startswith(b"%PDF-") and answer.headers["X-Content-SHA256"] == hashlib.sha256(pdf).hexdigest()
    extracted, _images = pages_of(pdf, tmp_path)
    shown = words_of(extracted)
    code = code_for("dana")
    for expected in (
        "Proces-verbaal van bevindingen",
        "(concept) — pagina 1",
        f"Ik, verbalisant {code}, verklaar op ambtseed/ambtsbelofte het volgende.",
        "Grondslag", "Bevindingen", "Wijze van vastlegging", "Initiatief", "Signaleringen", "Het gesprek",
        "Hashwaarden (SHA-256)",
        f"Waarvan door mij, verbalisant {code}, is opgemaakt dit proces-verbaal, dat ik sloot en "
        "ondertekende op ambtseed/ambtsbelofte te",
        "Plaats en datum", f"Handtekening verbalisant {code}",
        # what was seen and how: the profile, the counterpart, the capture session, the import
        "decoy_one", "chatsite", "sunny", "laptop VICE-07", "Every message of this session is recorded.",
        "Vastgelegd tijdens vastlegsessies, waarin één verbalisant het profiel bediende: 1 bericht.",
        "Ingelezen uit de export die het platform zelf van het gesprek maakte: 3 berichten.",
        "Handmatig in Decoy ingevoerd, buiten een vastlegsessie: 4 berichten.", "chat.txt",
        conversation["import"]["sha256"], "en 1 melding van het platform",
        # the initiative sheet in words, and times in the operation's zone
        "Ontmoeting voorgesteld", "het lokprofiel", "Leeftijd genoemd", "de gebruiker (leeftijd 14)",
        "2026-03-02 10:10:00 CET (UTC+0100)",
        # the hashes of the messages' text and of the screenshot
        hashlib.sha256(b"hello, how are you").hexdigest(),
        conversation["screenshot"]["attachments"][0]["sha256"],
        # the other officers by code too
        code_for("dirk"),
    ):
        assert expected in shown, expected
    with world.app.test_request_context(), force_locale("nl"):
        in_words = [flag_text(name) for name in ("decoy_raised_first", "officer_not_named")]
    for flag in in_words:
        assert flag in shown, flag
    for key in FLAGS:
        assert key not in shown
    no_officer_named(shown)


def test_the_english_draft_on_request(world: World, conversation: dict[str, Any], tmp_path: Path) -> None:
    answer = draft(world, conversation["contact"], lang="en")
    assert answer.status_code == 200, answer.get_json()
    shown = words_of(pages_of(answer.get_data(), tmp_path)[0])
    code = code_for("dana")
    for expected in (
        "Official report of findings",
        f"I, reporting officer {code}, state on my oath of office or affirmation the following.",
        "How the messages were recorded", "Initiative", "Meeting proposed", "the decoy profile",
        f"Of which I, reporting officer {code}, drew up this official report",
        f"Signature of reporting officer {code}", "Place and date",
        "the decoy raised a topic first (sex, a meeting, payment or images)",
        "recorded by an officer the authorization does not name",
    ):
        assert expected in shown, expected
    assert "Proces-verbaal van bevindingen" not in shown
    for key in FLAGS:
        assert key not in shown
    no_officer_named(shown)
    assert draft(world, conversation["contact"], lang="de").get_json()["error"]["field"] == "lang"


def test_hostile_counterpart_text_is_shown_not_obeyed(world: World, tmp_path: Path) -> None:
    counterpart = "evil\u202eexe.jpg<script>x</script>"
    body = "hello <b>bold</b> %PDF-1.4 %%EOF \x07 (unbalanced \\ ) <font size=40>big</font> \u200b"
    contact = world.contact(counterpart=counterpart)
    world.message(contact, body, "in")
    answer = draft(world, contact)
    assert answer.status_code == 200, answer.get_json()
    pdf = answer.get_data()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    shown = words_of(pages_of(pdf, tmp_path)[0])
    for expected in (
        "evil⟨U+202E⟩exe.jpg<script>x</script>",
        "hello <b>bold</b> %PDF-1.4 %%EOF ⟨U+0007⟩ (unbalanced \\ ) <font size=40>big</font> ⟨U+200B⟩",
    ):
        assert expected in shown, expected


def test_the_web_page_offers_both_drafts_and_the_download_is_recorded(
    world: World, conversation: dict[str, Any], auth: Any, tmp_path: Path
) -> None:
    contact = conversation["contact"]
    auth.login("lena")
    page = world.client.get(f"/contacts/{contact}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/contacts/{contact}/proces-verbaal.pdf?lang=nl" in html
    assert f"/contacts/{contact}/proces-verbaal.pdf?lang=en" in html
    panel = html.split('id="proces-verbaal"')[1].split("</section>")[0]
    assert 'name="file"' not in panel  # a legal officer drafts, but does not keep a signed copy
    answer = world.client.get(f"/contacts/{contact}/proces-verbaal.pdf?lang=en")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert "attachment" in answer.headers["Content-Disposition"]
    shown = words_of(pages_of(answer.get_data(), tmp_path)[0])
    assert f"I, reporting officer {code_for('lena')}," in shown
    assert world.client.get(f"/contacts/{contact}/proces-verbaal.pdf?lang=xx").status_code == 400
    [entry] = entries_for(world.app, "report.draft")
    assert entry["actor"] == code_for("lena")
    assert entry["operation"] == world.operation_id and entry["object"] == {"type": "contact", "id": contact}
    assert entry["details"]["language"] == "en"
    assert entry["details"]["sha256"] == hashlib.sha256(answer.get_data()).hexdigest()


def test_who_may_draft(world: World, app: Any, factory: Any, runner: Any) -> None:
    contact = world.contact()
    world.message(contact)
    assert draft(world, contact, "sol").status_code == 200  # a supervisor of the operation
    assert draft(world, contact, "lena").status_code == 200  # a legal officer
    assert draft(world, contact, "nina").status_code == 404  # not assigned: the contact is not shown
    assert draft(world, contact, "adam").status_code == 404  # an admin sees no evidence
    assert draft(world, 2_000_000, "dana").status_code == 404
    factory.user("joke", "legal", code=None)
    world.tokens["joke"] = factory.token("joke")
    refused = draft(world, contact, "joke")
    assert refused.status_code == 409 and refused.get_json()["error"]["field"] == "verbalisant_code"
    entries = entries_for(app, "report.draft")
    assert [e["actor"] for e in entries] == [code_for("sol"), code_for("lena")]
    assert [e["details"]["language"] for e in entries] == ["nl", "nl"]
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
