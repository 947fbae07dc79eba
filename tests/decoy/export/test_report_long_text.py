"""Any text that can be stored exports: long messages continue across pages, long words wrap.

A table row cannot split across pages, so a message taller than a page used to stop the whole report
(reportlab's "Flowable too large"), and with it the streamed bundle and `decoy export`.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import unescape
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from decoy.cli import main
from decoy.evidence.display import visible_plain
from decoy.export.report import PIECE_CHARS, PIECE_LINES, contact_report, operation_report, pieces
from tests.decoy.evidence.test_hostile import CORPUS
from tests.factories import make_authorization, make_operation, make_profile

ZONE = ZoneInfo("Europe/Amsterdam")
TEN_THOUSAND_LINES = "\n".join(f"line {number}" for number in range(10_000))
LONG_WORD = "w" * 199_990 + "ENDOFWORD"
#: Characters as wide as the font (or wider, where the font has no glyph and shows a box).
WIDE = "\u3042\u20ac\u2014W" * 5_000


def _message(number: int, body: str) -> dict[str, object]:
    return {
        "id": number,
        "direction": "in",
        "sent_at": "2026-03-02T10:00:00+01:00",
        "recorded_at": "2026-03-02T09:01:00+00:00",
        "recorded_by": "AVIM-0001",
        "body": body,
        "corrects": None,
        "flags": ["outside_authorization"] if number % 2 else [],
        "attachments": [],
    }


def _text_of(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "".join(page.extract_text() for page in reader.pages)


def test_pieces_keep_every_character_and_fit_a_page():
    for body in (TEN_THOUSAND_LINES, LONG_WORD, *CORPUS):
        parts = [[unescape(line) for line in part.split("<br/>")] for part in pieces(body)]
        assert all(len(lines) <= PIECE_LINES for lines in parts)
        assert all(sum(map(len, lines)) <= PIECE_CHARS for lines in parts)
        # Nothing dropped: the pieces' lines are the text's lines (long ones cut), markers for hidden ones.
        assert "".join("".join(lines) for lines in parts) == visible_plain(body).replace("\n", "")


@pytest.mark.parametrize(
    "body",
    [TEN_THOUSAND_LINES, LONG_WORD, "\n".join(["hello, how are you"] * 60), " ".join(["word"] * 3_000), WIDE],
    ids=["10000-lines", "200000-character-word", "60-lines", "3000-words", "wide-characters"],
)
def test_a_long_message_continues_across_pages(body):
    pdf = contact_report(
        {
            "id": 7,
            "counterpart": "blue_kite_77",
            "first_seen_at": "2026-03-02T10:00:00+01:00",
            "recorded_by": "AVIM-0001",
            "flags": [],
        },
        [_message(1, body), _message(2, "after")],
        ZONE,
    )
    pages, text = _text_of(pdf)
    assert pages > 1
    # The message after the long one is in the report, and so is the long text's end (where the font
    # has glyphs: characters it lacks are drawn as boxes, which carry no text).
    assert "after" in text
    if body is not WIDE:
        assert re.sub(r"\s+", "", body)[-30:] in re.sub(r"\s+", "", text)


def test_the_hostile_corpus_exports_in_one_report():
    messages = [_message(number, body) for number, body in enumerate(CORPUS, start=1)]
    pdf = contact_report(
        {
            "id": 7,
            "counterpart": "<script>alert(1)</script>",
            "recorded_by": "AVIM-0001",
            "first_seen_at": "2026-03-02T10:00:00+01:00",
            "flags": [],
        },
        messages,
        ZONE,
    )
    pages, text = _text_of(pdf)
    assert pages >= 1 and "<script>alert(1)</script>" in text


def test_long_terms_of_an_order_and_a_long_rationale_export():
    long_text = "\n".join(
        f"condition {number}: the decoy never starts a conversation" for number in range(600)
    )
    authorization = {
        "reference": "RB-1",
        "kind": "court_ruling",
        "authority": "Court",
        "issuer_name": "Judge",
        "legal_basis": "art. 126j Sv",
        "offence": long_text,
        "valid_from": "2026-03-01T00:00:00+00:00",
        "valid_until": "2026-06-01T00:00:00+00:00",
        "review_interval_days": 14,
        "platforms": ["chatapp"],
        "may_initiate_contact": False,
        "max_profiles": 2,
        "officers": [],
        "persona_constraints": LONG_WORD[:20_000],
        "conditions": long_text,
        "supersedes_id": None,
        "superseded": False,
        "documents": [],
    }
    review = {
        "id": 1,
        "kind": "periodic",
        "due_at": "2026-03-15T00:00:00+00:00",
        "status": "done",
        "decision": {"decision": "continue", "rationale": long_text[:10_000], "decided_by": "AVIM-0002"},
    }
    profile = {
        "id": 1,
        "platform": "chatapp",
        "handle": "sunny_day",
        "authorization_id": 1,
        "status": "active",
        "history": [
            {
                "at": "2026-03-02T10:00:00+00:00",
                "from": None,
                "to": "active",
                "actor": "AVIM-0003",
                "reason": long_text[:2_000],
            }
        ]
        * 80,
    }
    pdf = operation_report(
        operation={
            "id": 1,
            "name": "Operation Lantern",
            "team": "North",
            "status": "active",
            "exported_at": "2026-03-20T10:00:00+00:00",
            "exported_by": "AVIM-0002",
            "members": [],
        },
        authorizations=[authorization],
        profiles=[profile],
        contacts=[],
        reviews=[review],
        checkpoint_note="decoy.example/audit\n1\nAAAA\n",
        public_key="key",
        entries=1,
        zone=ZONE,
    )
    pages, text = _text_of(pdf)
    assert pages > 3 and "condition 599" in text


def test_decoy_export_writes_a_bundle_with_a_long_message(app, client, runner, factory, tmp_path):
    factory.user("sam", "supervisor")
    factory.user("sara", "supervisor")
    factory.user("lena", "legal")
    factory.user("dora", "detective")
    operation = make_operation(app, "sam", members=("dora",))
    profile = make_profile(app, operation, make_authorization(app, "lena", operation), "sam", approver="sara")
    headers = {"Authorization": f"Bearer {factory.token('dora')}"}
    contact = client.post(
        f"/api/v1/profiles/{profile}/contacts", json={"counterpart": "blue_kite_77"}, headers=headers
    ).get_json()["id"]
    for body in ("\n".join(["hello, how are you"] * 60), " ".join(["word"] * 3_000), LONG_WORD):
        answer = client.post(
            f"/api/v1/contacts/{contact}/messages",
            headers=headers,
            json={"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": body},
        )
        assert answer.status_code == 201, answer.get_data(as_text=True)
    path = tmp_path / "bundle.zip"
    result = runner.invoke(main, ["export", str(operation), "-o", str(path)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as bundle:
        assert bundle.testzip() is None
        report = next(name for name in bundle.namelist() if name.endswith("transcript.pdf"))
        pages, text = _text_of(bundle.read(report))
    assert pages > 1 and "ENDOFWORD" in re.sub(r"\s+", "", text)
    assert runner.invoke(main, ["audit", "verify", str(path)]).exit_code == 0
