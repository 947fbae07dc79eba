"""The initiative record on the contact page: the sheet panel, annotating and retracting through the page,
legal officers' remarks apart, the word list's suggestions confirmed or dismissed by one click, the
filter of annotated or flagged messages (page and API), hostile text, and who may do what."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.decoy.evidence.support import entries_for
from tests.decoy.imports.support import post_import
from tests.support import code_for, csrf_from

from .support import annotate, conversation, flags_of, sheet

HOSTILE = "<script>alert(1)</script>"


def page_of(world: Any, contact_id: int, query: str = "") -> str:
    response = world.client.get(f"/contacts/{contact_id}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def item(html: str, message_id: int) -> str:
    """The transcript's item of one message, up to the next message or the end of the transcript."""
    match = re.search(
        rf'<li id="m{message_id}" class="message.*?(?=<li id="m\d+" class="message|</ol>)', html, re.S
    )
    assert match, f"message {message_id} is not on the page"
    return match.group(0)


def sheet_row(html: str, topic: str) -> str:
    match = re.search(rf'<tr class="sheet-row[^"]*">\s*<th scope="row">{topic}.*?</tr>', html, re.S)
    assert match, f"no row {topic} in the sheet"
    return match.group(0)


def remarks_of(html: str) -> str:
    return html[
        html.index('id="remarks-heading"') : html.index("</section>", html.index('id="remarks-heading"'))
    ]


def shown_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<li id="m(\d+)" class="message', html)]


def post_form(world: Any, path: str, data: dict[str, Any], page: str | None = None) -> Any:
    token = csrf_from(
        page if page is not None else world.client.get("/account/tokens").get_data(as_text=True)
    )
    return world.client.post(path, data={"csrf_token": token, **data})


def annotations_api(world: Any, message_id: int) -> list[dict[str, Any]]:
    return world.get(f"/messages/{message_id}/annotations").get_json()["items"]  # type: ignore[no-any-return]


# --- the sheet panel ------------------------------------------------------------------------------------


def test_the_sheet_names_the_first_raiser_in_words_with_the_time_and_a_link(world: Any, auth: Any) -> None:
    contact = world.contact()
    first_in, first_out, later_in = conversation(
        world, contact, [("in", "10:00"), ("out", "10:05"), ("in", "11:35")]
    )
    annotate(world, first_in, "age_stated", age=14)
    annotate(world, first_out, "meeting_proposed")
    annotate(world, later_in, "image_requested")
    auth.login("lena")
    html = page_of(world, contact)

    meeting = sheet_row(html, "Meeting proposed")
    assert "the decoy, first" in meeting and "incitement question" in meeting
    assert 'class="sheet-row raised-first"' in meeting
    assert f'href="/contacts/{contact}?start={first_out}#m{first_out}"' in meeting
    assert "2026-03-02 10:05:00 CET" in meeting and "2026-03-02T10:05:00+01:00" in meeting
    age = sheet_row(html, "Age stated")
    assert "Age stated: 14" in age and "the counterpart" in age and "the decoy" not in age
    image = sheet_row(html, "Image requested")
    assert "the counterpart" in image and "raised-first" not in image
    assert "no message is annotated with this topic" in sheet_row(html, "Sexual topic")
    assert "0 h 5 min 0 s" in html  # from the age stated (10:00) to the meeting proposed (10:05)
    # The contact's flags now, in words with what they mean; never the key.
    assert "the decoy raised a topic first (sex, a meeting, payment or images)" in html
    assert '<strong class="flag">Decoy raised a topic first</strong>' in html
    assert "decoy_raised_first" not in html
    # The anchor the sheet links exists on the page it links to.
    assert f'id="m{first_out}"' in page_of(world, contact, f"?start={first_out}")


def test_a_meeting_proposed_before_the_age_is_said_so(world: Any, auth: Any) -> None:
    contact = world.contact()
    meeting, age = conversation(world, contact, [("in", "10:00"), ("in", "12:30")])
    annotate(world, meeting, "meeting_proposed")
    annotate(world, age, "age_stated", age=15)
    auth.login("dana")
    html = page_of(world, contact)
    assert "the meeting was proposed 2 h 30 min 0 s before the age was stated" in html


# --- annotating through the page ------------------------------------------------------------------------


def test_an_officer_annotates_and_retracts_through_the_page(world: Any, auth: Any, app: Any) -> None:
    contact = world.contact()
    incoming, outgoing = conversation(world, contact, [("in", "10:00"), ("out", "10:05")])
    auth.login("dana")
    html = page_of(world, contact)
    assert f'action="/messages/{incoming}/annotations"' in item(html, incoming)
    assert f'id="topic-{incoming}"' in html and f'id="age-{incoming}"' in html

    response = post_form(
        world, f"/messages/{incoming}/annotations", {"topic": "age_stated", "age": "14"}, html
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(f"/contacts/{contact}#m{incoming}")
    html = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Message {incoming} annotated: Age stated." in html
    badge = item(html, incoming)
    assert '<strong class="topic">Age stated: 14</strong>' in badge and "by dana" in badge
    assert "Age stated: 14" in sheet_row(html, "Age stated")
    [mark] = annotations_api(world, incoming)
    assert (mark["topic"], mark["age"], mark["by"], mark["role"]) == ("age_stated", 14, "dana", "officer")
    assert entries_for(app, "annotation.create")[-1]["actor"] == code_for("dana")

    # The decoy raising a meeting first: the contact is assessed again and the page says so.
    response = post_form(
        world, f"/messages/{outgoing}/annotations?marked=1", {"topic": "meeting_proposed"}, html
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/contacts/{contact}?marked=1#m{outgoing}")
    html = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The contact was assessed again. Its flags now: the decoy raised a topic first" in html
    assert "the decoy, first" in sheet_row(html, "Meeting proposed")

    # Retract: the badge stays, struck through, naming who retracted it; the sheet forgets it.
    sol_client = world.app.test_client()
    world.client = sol_client
    auth.client = sol_client
    auth.login("sol")
    html = page_of(world, contact)
    retract = re.search(
        r'name="topic" value="meeting_proposed">\s*<input type="hidden" name="retracts" value="(\d+)">', html
    )
    assert retract, "no retract button on the annotation"
    response = post_form(
        world,
        f"/messages/{outgoing}/annotations",
        {"topic": "meeting_proposed", "retracts": retract.group(1)},
        html,
    )
    assert response.status_code == 302
    html = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Annotation {retract.group(1)} retracted" in html
    badge = item(html, outgoing)
    assert '<del class="topic">Meeting proposed</del>' in badge and "retracted by sol" in badge
    assert "Retract<" not in badge  # a retracted annotation offers no retraction
    assert "no message is annotated with this topic" in sheet_row(html, "Meeting proposed")
    listed = annotations_api(world, outgoing)
    assert listed[0]["retracted_by"] == listed[1]["id"] and listed[1]["by"] == "sol"
    assert "decoy_raised_first" not in flags_of(world, outgoing)


def test_refusals_are_shown_on_the_page_never_a_server_error(world: Any, auth: Any) -> None:
    contact = world.contact()
    [message] = conversation(world, contact, [("in", "10:00")])
    auth.login("dana")
    html = page_of(world, contact)

    missing_age = post_form(
        world, f"/messages/{message}/annotations?start={message}", {"topic": "age_stated"}, html
    )
    assert missing_age.status_code == 400
    shown = missing_age.get_data(as_text=True)
    assert "age_stated needs the age stated, a whole number" in shown
    assert '<div class="alert" role="alert">' in shown and f'href="#m{message}"' in shown
    # The page the form came from, the message's form open again with what was chosen.
    again = item(shown, message)
    assert '<details class="annotate" open>' in again and "age_stated needs the age stated" in again
    assert '<option value="age_stated" selected>' in again
    assert f'action="/messages/{message}/annotations?start={message}"' in again
    for data, status, words in [
        ({"topic": "meeting_proposed", "age": "14"}, 400, "age belongs to the topic age_stated only"),
        ({"topic": "flirting"}, 400, "Topic: "),
        ({"topic": "age_stated", "age": "500"}, 400, "Age stated: "),
        ({"topic": "age_stated", "age": "fourteen"}, 400, "Age stated: "),
        ({"topic": "meeting_proposed", "retracts": "999999"}, 400, "retracts must name an annotation"),
    ]:
        response = post_form(world, f"/messages/{message}/annotations", data, html)
        assert response.status_code == status, (data, response.status_code)
        assert words in response.get_data(as_text=True), data
    mark = annotate(world, message, "meeting_proposed")
    retraction = annotate(world, message, "meeting_proposed", retracts=mark["id"])
    twice = post_form(
        world, f"/messages/{message}/annotations", {"topic": "meeting_proposed", "retracts": mark["id"]}
    )
    assert twice.status_code == 409 and "has been retracted already" in twice.get_data(as_text=True)
    again = post_form(
        world, f"/messages/{message}/annotations", {"topic": "meeting_proposed", "retracts": retraction["id"]}
    )
    assert again.status_code == 409 and "cannot itself be retracted" in again.get_data(as_text=True)
    not_suggested = post_form(
        world, f"/messages/{message}/suggestions/dismissals", {"topic": "meeting_proposed", "term": "meet"}
    )
    assert not_suggested.status_code == 409
    assert "the word list does not suggest" in not_suggested.get_data(as_text=True)
    no_csrf = world.client.post(f"/messages/{message}/annotations", data={"topic": "sexual_topic"})
    assert no_csrf.status_code == 400
    assert world.client.post("/messages/999999/annotations", data={}).status_code in (400, 404)
    nowhere = post_form(world, "/messages/999999/annotations", {"topic": "sexual_topic"})
    assert nowhere.status_code == 404
    assert [a["topic"] for a in annotations_api(world, message)] == ["meeting_proposed", "meeting_proposed"]


def test_a_legal_officers_remark_is_shown_apart_and_never_counts(world: Any, auth: Any, app: Any) -> None:
    contact = world.contact()
    [message] = conversation(world, contact, [("out", "10:00")])
    auth.login("lena")
    html = page_of(world, contact)
    form = item(html, message)
    assert "Add a review remark" in form and f'id="remark-{message}"' in form
    assert "Record review remark" in form and "Record annotation" not in form
    response = post_form(
        world,
        f"/messages/{message}/annotations",
        {"topic": "sexual_topic", "remark": "please check the context <b>here</b>"},
        html,
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    html = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Review remark recorded on message {message}: Sexual topic." in html
    remarks = remarks_of(html)
    assert "review remark" in remarks and "Sexual topic" in remarks and "by lena" in remarks
    assert "please check the context &lt;b&gt;here&lt;/b&gt;" in remarks
    assert f'href="/contacts/{contact}?start={message}#m{message}"' in remarks
    badge = item(html, message)
    assert '<li class="annotation annotation-legal">' in badge and "review remark" in badge
    # Never counted: the sheet names nobody, no flag, no assessment.
    assert "no message is annotated with this topic" in sheet_row(html, "Sexual topic")
    assert sheet(world, contact)["topics"]["sexual_topic"] is None
    assert entries_for(app, "contact.assess") == []
    # The legal officer retracts her own remark through the page.
    retract = re.search(r'name="retracts" value="(\d+)"', badge)
    assert retract
    response = post_form(
        world, f"/messages/{message}/annotations", {"topic": "sexual_topic", "retracts": retract.group(1)}
    )
    assert response.status_code == 302
    html = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<del>Sexual topic</del>" in remarks_of(html) and "retracted by lena" in item(html, message)


# --- suggestions ----------------------------------------------------------------------------------------


def test_a_suggestion_is_shown_as_such_and_confirmed_by_one_click(world: Any, auth: Any, app: Any) -> None:
    contact = world.contact()
    meet = world.message(contact, body="shall we meet at the station", sent_at="2026-03-02T10:00:00+01:00")[
        "id"
    ]
    age = world.message(contact, body="I am 14 years old", sent_at="2026-03-02T10:01:00+01:00")["id"]
    plain = world.message(contact, body="hello, how are you", sent_at="2026-03-02T10:02:00+01:00")["id"]
    auth.login("dana")
    html = page_of(world, contact)
    suggested = item(html, meet)
    assert "suggested:" in suggested and "Meeting proposed" in suggested
    assert '(matched “<span class="matched">meet</span>”)' in suggested
    assert 'name="suggested_term" value="meet"' in suggested
    assert "suggested:" not in item(html, plain)
    assert 'name="age" value="14"' in item(html, age)  # the suggestion's age goes with the confirmation
    # A suggestion is not a finding: the sheet names nobody yet.
    assert "no message is annotated with this topic" in sheet_row(html, "Meeting proposed")

    response = post_form(
        world, f"/messages/{meet}/annotations", {"topic": "meeting_proposed", "suggested_term": "meet"}, html
    )
    assert response.status_code == 302
    html = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Suggestion confirmed: message {meet} carries Meeting proposed." in html
    assert "suggested:" not in item(html, meet) and "confirmed suggestion" in item(html, meet)
    assert "the counterpart" in sheet_row(html, "Meeting proposed")
    [mark] = annotations_api(world, meet)
    assert (mark["topic"], mark["suggested_term"]) == ("meeting_proposed", "meet")
    assert entries_for(app, "annotation.create")[-1]["details"]["suggested_term"] == "meet"

    term = re.search(r'name="suggested_term" value="([^"]+)"', item(html, age))
    assert term
    response = post_form(
        world,
        f"/messages/{age}/annotations",
        {"topic": "age_stated", "suggested_term": term.group(1).replace("&#39;", "'"), "age": "14"},
    )
    assert response.status_code == 302
    [mark] = annotations_api(world, age)
    assert (mark["age"], mark["suggested_term"]) == (14, "/i\\s+am\\s+(\\d{1,3})\\b(?![.,:]\\d)/")


def test_a_suggestion_is_dismissed_by_one_click(world: Any, auth: Any, app: Any) -> None:
    contact = world.contact()
    message = world.message(contact, body="shall we meet? send me a photo")["id"]
    auth.login("dana")
    html = page_of(world, contact)
    assert "Meeting proposed" in item(html, message) and "Image requested" in item(html, message)
    assert f'action="/messages/{message}/suggestions/dismissals"' in item(html, message)
    response = post_form(
        world,
        f"/messages/{message}/suggestions/dismissals",
        {"topic": "meeting_proposed", "term": "meet"},
        html,
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#m{message}")
    html = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Suggestion dismissed: message {message}, Meeting proposed." in html
    shown = item(html, message)
    assert 'name="term" value="meet"' not in shown  # decided: no longer offered
    assert 'name="term" value="send me a photo"' in shown  # the other suggestion stays
    [entry] = entries_for(app, "suggestion.dismiss")
    assert (entry["actor"], entry["details"]["topic"], entry["details"]["term"]) == (
        code_for("dana"),
        "meeting_proposed",
        "meet",
    )
    assert annotations_api(world, message) == []
    assert sheet(world, contact)["annotations"] == 0


def test_only_officers_who_annotate_see_suggestions(world: Any, auth: Any) -> None:
    contact = world.contact()
    message = world.message(contact, body="shall we meet at the station")["id"]
    auth.login("lena")
    html = page_of(world, contact)
    assert "suggested:" not in html and "/suggestions/dismissals" not in html
    assert "Add a review remark" in item(html, message)
    # A legal officer may not dismiss: the error page says so (403).
    response = post_form(
        world,
        f"/messages/{message}/suggestions/dismissals",
        {"topic": "meeting_proposed", "term": "meet"},
        html,
    )
    assert response.status_code == 403
    assert "detectives and supervisors decide a suggestion" in response.get_data(
        as_text=True
    )


def test_a_broken_word_list_shows_a_warning_instead_of_suggestions(world: Any, auth: Any, app: Any) -> None:
    contact = world.contact()
    message = world.message(contact, body="shall we meet at the station")["id"]
    override = Path(app.config["DATA_DIR"]) / "suggestions.json"
    override.write_text('{"version": 1, "languages": {"en": {"meeting": ["meet"]}}}', encoding="utf-8")
    auth.login("dana")
    html = page_of(world, contact)
    assert "No suggestions: the word list cannot be used." in html
    assert "unknown topic" in html and "suggestions.json" in html
    assert "suggested:" not in html
    assert "Record annotation" in item(html, message)  # annotating by hand still works


def test_hostile_text_stays_escaped_everywhere(world: Any, auth: Any, app: Any) -> None:
    contact = world.contact()
    override = Path(app.config["DATA_DIR"]) / "suggestions.json"
    override.write_text(
        json.dumps(
            {
                "version": 1,
                "languages": {
                    "en": {
                        "meeting_proposed": ["meet", "/<script>\\w+/"],
                        "image_requested": ["<b>photo</b>"],
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    body = f"{HOSTILE} shall we meet <b>photo</b> \u202e"
    message = world.message(contact, body=body)["id"]
    annotate(world, message, "sexual_topic", "lena", remark=f"see {HOSTILE}")
    auth.login("dana")
    html = page_of(world, contact)
    assert HOSTILE not in html and "<b>photo</b>" not in html
    shown = item(html, message)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; shall we meet" in shown
    assert "see &lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert '<span class="verbatim matched">&lt;script&gt;alert</span>' in shown  # a pattern's match
    assert "<code>/&lt;script&gt;\\w+/</code>" in shown
    assert 'value="&lt;b&gt;photo&lt;/b&gt;"' in shown  # a term in the one-click forms
    assert "⟨U+202E⟩" in shown
    assert "see &lt;script&gt;alert(1)&lt;/script&gt;" in remarks_of(html)
    assert HOSTILE not in page_of(world, contact, "?marked=1")


# --- the filter -----------------------------------------------------------------------------------------


def test_the_filter_shows_only_annotated_or_flagged_messages_and_pages(
    world: Any, auth: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact = world.contact()
    # The decoy writes first (decoy_initiated), until an incoming message recorded late precedes it.
    lifted = world.message(contact, direction="out", body="hello there", sent_at="2026-03-02T10:03:00+01:00")
    assert lifted["flags"] == ["decoy_initiated"]
    ids = conversation(world, contact, [("in", f"10:{n:02d}") for n in range(5, 17)])
    late = world.message(contact, body="hello, how are you", sent_at="2026-03-02T10:01:00+01:00")["id"]
    annotate(world, ids[0], "sexual_topic")  # an annotation, later retracted: still annotated
    retracted = annotate(world, ids[0], "sexual_topic")["id"]
    annotate(world, ids[0], "sexual_topic", retracts=retracted)
    annotate(world, late, "meeting_proposed")
    annotate(world, ids[4], "image_sent", "lena", remark="a remark only")
    unnamed = world.message(
        contact, direction="out", username="dirk", body="fine, thanks", sent_at="2026-03-02T10:20:00+01:00"
    )
    assert unnamed["flags"] == ["officer_not_named"]
    # A typed message the platform's export says otherwise: flagged later, by the reconciliation.
    typed = world.message(contact, body="see you at noon", sent_at="2026-03-02T10:30:00+01:00")["id"]
    export = b"02-03-2026 10:30 - Alex: see you at noon!\n02-03-2026 10:31 - Sam Decoy: ok\n"
    assert post_import(world, contact, export).status_code == 201
    assert "differs_from_export" in flags_of(world, typed)
    assert flags_of(world, lifted["id"]) == []

    everything = []
    path = f"/contacts/{contact}/messages?limit=500"
    while path:
        answer = world.get(path).get_json()
        everything += answer["items"]
        path = answer["next"]
    annotated = {late, ids[0], ids[4]}
    expected = [m["id"] for m in everything if m["flags"] or m["id"] in annotated]
    assert expected == [late, ids[0], ids[4], unnamed["id"], typed]
    assert lifted["id"] not in expected

    # The API, two at a time, following "next".
    found, path, pages = [], f"/contacts/{contact}/messages?marked=1&limit=2", 0
    while path:
        answer = world.get(path).get_json()
        found += [m["id"] for m in answer["items"]]
        path = answer["next"]
        pages += 1
        assert path is None or "marked=1" in path
    assert (found, pages) == (expected, 3)
    assert world.get(f"/contacts/{contact}/messages?marked=maybe").status_code == 400
    assert [m["id"] for m in world.get(f"/contacts/{contact}/messages?marked=0").get_json()["items"]] == [
        m["id"] for m in everything
    ]

    # The page, two at a time: its links keep the filter.
    monkeypatch.setattr("decoy.evidence.views.TRANSCRIPT_PAGE", 2)
    auth.login("dana")
    html = page_of(world, contact, "?marked=1")
    assert 'aria-current="page">Only messages with annotations or flags</a>' in html
    assert shown_ids(html) == expected[:2]
    later = re.search(r'href="(/contacts/\d+\?after=\d+&amp;marked=1)">Later', html)
    assert later, "no link to the later marked messages"
    html = page_of(world, contact, later.group(1).replace("&amp;", "&").removeprefix(f"/contacts/{contact}"))
    assert shown_ids(html) == expected[2:4]
    assert re.search(r'href="/contacts/\d+\?before=\d+&amp;marked=1">Earlier', html)
    assert shown_ids(page_of(world, contact, "?marked=1&before=0")) == expected[-2:]
    assert shown_ids(page_of(world, contact, f"?marked=1&start={ids[4]}")) == [ids[4], unnamed["id"]]
    assert shown_ids(page_of(world, contact, f"?marked=1&after={ids[2]}")) == [ids[4], unnamed["id"]]
    assert world.client.get(f"/contacts/{contact}?marked=2").status_code == 400
    assert entries_for(app, "contact.read")[-1]["details"]["marked"] is True


# --- who may ----------------------------------------------------------------------------------------------


def test_outsiders_and_admins_get_not_found(world: Any, auth: Any) -> None:
    contact = world.contact()
    message = world.message(contact, body="shall we meet at the station")["id"]
    for username in ("nina", "adam"):
        client = world.app.test_client()
        world.client = client
        auth.client = client
        auth.login(username)
        token = csrf_from(client.get("/account/tokens").get_data(as_text=True))
        page = client.get(f"/contacts/{contact}")
        assert page.status_code in ((404,) if username == "nina" else (403, 404))
        assert "shall we meet" not in page.get_data(as_text=True)
        for path, data in [
            (f"/messages/{message}/annotations", {"topic": "meeting_proposed"}),
            (f"/messages/{message}/suggestions/dismissals", {"topic": "meeting_proposed", "term": "meet"}),
        ]:
            response = client.post(path, data={"csrf_token": token, **data})
            assert response.status_code == 404, (username, path, response.status_code)
            assert "shall we meet" not in response.get_data(as_text=True)
    assert annotations_api(world, message) == []


def test_a_detective_of_the_operation_not_named_by_the_order_annotates(world: Any, auth: Any) -> None:
    contact = world.contact()
    message = world.message(contact, body="hello, how are you")["id"]
    auth.login("dirk")
    html = page_of(world, contact)
    response = post_form(world, f"/messages/{message}/annotations", {"topic": "payment_offered"}, html)
    assert response.status_code == 302
    assert annotations_api(world, message)[0]["by"] == "dirk"
