"""What a counterpart writes is hostile: stored verbatim, shown escaped, hidden characters made visible."""

from __future__ import annotations

import io

import pytest
from markupsafe import escape

from decoy.evidence.display import is_hidden, marker, visible

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '"><script>alert(document.cookie)</script>',
    "'><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    '<iframe src="//example.invalid"></iframe>',
    "<body onload=alert(1)>",
    "<style>*{display:none}</style>",
    "{{ 7*7 }}",
    "{% for x in range(3) %}x{% endfor %}",
    "${7*7}",
    "<!--",
    "]]><script>alert(1)</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "&lt;script&gt;already escaped&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<form action=/logout method=post><button>hi</button></form>",
]
CSV = [
    "=1+1",
    '=HYPERLINK("http://example.invalid","click")',
    "+1-555-0100",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    '"=1+1","x"',
    "a,b,c\nd,e,f",
]
UNICODE = [
    "abc\u202edcba",
    "\u202atext\u202c",
    "file\u202egnp.exe",
    "\u2066isolated\u2069",
    "\u200fright-to-left mark",
    "zero\u200bwidth\u200cnon\u200djoiner",
    "\ufeffbyte order mark",
    "soft\u00adhyphen",
    "word\u2060joiner",
    "Z\u0351\u0352\u0357\u034c\u0350a\u0351\u0352l\u0357g\u034co",
    "e\u0301 and \u00e9",
    "\u0627\u0644\u0633\u0644\u0627\u0645 mixed",
    "emoji \U0001f600 \U0001f469\u200d\U0001f4bb",
    "line\u2028separator\u2029paragraph",
    "bell\x07escape\x1b[31mred\x1b[0m",
    "backspace\x08\x08\x08",
    "carriage\rreturn",
    "c1 control \x85 \x9b",
    "vertical\x0btab\x0cform feed",
    "private use \ue000",
    "tag characters \U000e0041\U000e0042",
    "fullwidth \uff1cscript\uff1e",
    "\u3000ideographic space",
    "right\u061cmark arabic letter mark",
]
OVERSIZED = [
    "x" * 100_000,
    "<script>" * 5_000,
    "\u202e" * 2_000 + "end",
    "a\u0300" * 20_000,
]
CORPUS = XSS + CSV + UNICODE + OVERSIZED


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 50


@pytest.fixture
def contact_id(world):
    return world.contact(counterpart="<b>bold</b>\u202eevil")


def test_every_payload_is_stored_verbatim_and_shown_escaped(world, auth, contact_id):
    ids = []
    for number, payload in enumerate(CORPUS):
        minute = f"{number // 60:02d}:{number % 60:02d}"
        ids.append(world.message(contact_id, body=payload, sent_at=f"2026-03-02T10:{minute}+01:00")["id"])
    items = []
    path = f"/contacts/{contact_id}/messages?limit=500"
    while path:
        answer = world.get(path).get_json()
        items.extend(answer["items"])
        path = answer["next"]
    assert [m["body"] for m in items] == CORPUS
    assert [m["id"] for m in items] == ids
    auth.login("dana")
    # Every page of the transcript, each after the last message of the one before.
    from decoy.evidence.views import TRANSCRIPT_PAGE

    html = "".join(
        world.client.get(f"/contacts/{contact_id}" + (f"?after={ids[start - 1]}" if start else "")).get_data(
            as_text=True
        )
        for start in range(0, len(ids), TRANSCRIPT_PAGE)
    )
    for payload in CORPUS:
        assert str(visible(payload)) in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<svg/onload" not in html
    assert "\u202e" not in html and "\u200b" not in html and "\x1b" not in html
    assert marker("\u202e") in html and marker("\u200b") in html
    assert "{{ 7*7 }}" in html and ">49<" not in html


def test_the_counterpart_is_escaped_everywhere_it_is_shown(world, auth, contact_id):
    auth.login("dana")
    for path in (f"/contacts/{contact_id}", f"/profiles/{world.profile_id}/contacts", "/search?q=bold"):
        html = world.client.get(path).get_data(as_text=True)
        assert "<b>bold</b>" not in html, path
        assert "&lt;b&gt;bold&lt;/b&gt;" in html, path
        assert "\u202e" not in html and marker("\u202e") in html, path
    assert world.get(f"/contacts/{contact_id}").get_json()["counterpart"] == "<b>bold</b>\u202eevil"


def test_a_hostile_file_name_is_stored_but_never_reaches_a_header(world, auth, contact_id):
    name = "<script>x</script>\u202egnp.exe; X-Injected: 1"
    response = world.post(
        f"/contacts/{contact_id}/messages",
        data={
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "file",
            "attachments": [(io.BytesIO(b"just text"), name)],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    attachment = response.get_json()["attachments"][0]
    download = world.get(f"/attachments/{attachment['id']}")
    assert "X-Injected" not in download.headers
    assert "script" not in download.headers["Content-Disposition"]
    assert download.headers["Content-Type"] == "application/octet-stream"
    download.close()
    auth.login("dana")
    html = world.client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_multipart_text_is_stored_verbatim(world, contact_id):
    body = "  <b>hi</b>\r\n\u202e\t=1+1  "
    response = world.post(
        f"/contacts/{contact_id}/messages",
        data={
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": body,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert world.get(f"/messages/{response.get_json()['id']}").get_json()["body"] == body


@pytest.mark.parametrize(
    "character,hidden",
    [
        ("\u202e", True),
        ("\u200b", True),
        ("\x00", True),
        ("\x85", True),
        ("\u2028", True),
        ("\ufeff", True),
        ("\n", False),
        ("\t", False),
        ("a", False),
        ("\u00e9", False),
        ("\u0301", False),
        ("\U0001f600", False),
    ],
)
def test_hidden_characters_are_recognised(character, hidden):
    assert is_hidden(character) is hidden


def test_visible_escapes_and_marks():
    shown = str(visible("<i>a</i>\u202eb\nc"))
    assert shown.startswith(str(escape("<i>a</i>")))
    assert '<span class="hidden-char" title="U+202E">⟨U+202E⟩</span>b\nc' in shown
