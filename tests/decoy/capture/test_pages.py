"""Capture sessions on the web: the profile page lists them with a form to start one and one to end each
open one; the contact page lists them, offers the open ones in the message form and names the operator
and session of every message captured in one."""

from __future__ import annotations

import re
from typing import Any

from tests.decoy.evidence.support import entries_for
from tests.support import csrf_from

from .support import STATEMENT, end, start


def _page(world: Any, path: str) -> str:
    answer = world.client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return str(answer.get_data(as_text=True))


def _row(html: str, session_id: int) -> str:
    found = re.search(rf'<tr id="capture-session-{session_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row of session {session_id}"
    return found.group(1)


def test_a_detective_starts_and_ends_a_session_on_the_profile_page(world: Any, auth: Any) -> None:
    auth.login("dana")
    profile = f"/profiles/{world.profile_id}/contacts"
    html = _page(world, profile)
    assert "Capture sessions" in html and "No capture session yet." in html
    assert f'action="/profiles/{world.profile_id}/capture-sessions"' in html
    answer = world.client.post(
        f"/profiles/{world.profile_id}/capture-sessions",
        data={"csrf_token": csrf_from(html), "device": "laptop VICE-07", "tool": "manual"},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"{profile}#capture-sessions")
    [entry] = entries_for(world.app, "capture_session.start")
    session_id = entry["object"]["id"]
    html = _page(world, profile)
    assert f"Capture session {session_id} started" in html
    row = _row(html, session_id)
    assert "dana" in row and "laptop VICE-07" in row and "manual" in row and "2026-03-02 10:00" in row
    assert 'class="badge warn">open<' in row
    assert f'action="/capture-sessions/{session_id}/end"' in html
    answer = world.client.post(
        f"/capture-sessions/{session_id}/end",
        data={
            "csrf_token": csrf_from(html),
            "completeness_statement": STATEMENT,
            "known_gaps": "Two messages at 10:40 were\nnot captured.",
        },
    )
    assert answer.status_code == 302
    html = _page(world, profile)
    row = _row(html, session_id)
    assert STATEMENT in row and "Two messages at 10:40 were\nnot captured." in row and "by dana" in row
    assert "open<" not in row
    assert f'action="/capture-sessions/{session_id}/end"' not in html


def test_the_forms_explain_a_refusal(world: Any, auth: Any) -> None:
    auth.login("dana")
    html = _page(world, f"/profiles/{world.profile_id}/contacts")
    answer = world.client.post(
        f"/profiles/{world.profile_id}/capture-sessions",
        data={"csrf_token": csrf_from(html), "device": "  ", "tool": "manual"},
    )
    assert answer.status_code == 400
    assert "device is required" in answer.get_data(as_text=True)
    session_id = start(world)["id"]
    answer = world.client.post(
        f"/capture-sessions/{session_id}/end",
        data={"csrf_token": csrf_from(html), "completeness_statement": ""},
    )
    assert answer.status_code == 400
    assert "completeness_statement is required" in answer.get_data(as_text=True)
    end(world, session_id)
    answer = world.client.post(
        f"/capture-sessions/{session_id}/end",
        data={"csrf_token": csrf_from(html), "completeness_statement": "again"},
    )
    assert answer.status_code == 409
    assert f"capture session {session_id} has ended already" in answer.get_data(as_text=True)
    pending = world.profile(approved=False, handle="not_yet")
    answer = world.client.post(
        f"/profiles/{pending}/capture-sessions",
        data={"csrf_token": csrf_from(html), "device": "laptop", "tool": "manual"},
    )
    assert answer.status_code == 409
    assert "starts only on an active profile" in answer.get_data(as_text=True)


def test_who_sees_which_forms(world: Any, auth: Any) -> None:
    session_id = start(world)["id"]
    profile = f"/profiles/{world.profile_id}/contacts"
    end_form = f'action="/capture-sessions/{session_id}/end"'
    auth.login("sol")  # a supervisor ends anyone's session
    assert end_form in _page(world, profile)
    auth.logout()
    auth.login("dirk")  # another detective starts his own, but does not end dana's
    html = _page(world, profile)
    assert end_form not in html and "Start capture session" in html
    answer = world.client.post(
        f"/capture-sessions/{session_id}/end",
        data={"csrf_token": csrf_from(html), "completeness_statement": STATEMENT},
    )
    assert answer.status_code == 403
    auth.logout()
    auth.login("lena")  # a legal officer reads the sessions, and has no form
    html = _page(world, profile)
    assert "laptop VICE-07" in _row(html, session_id)
    assert end_form not in html and "Start capture session" not in html


def test_the_contact_page_offers_the_open_sessions_and_names_the_operator(world: Any, auth: Any) -> None:
    own = start(world)["id"]
    other = start(world, "dirk", device="desktop 3")["id"]
    contact_id = world.contact()
    auth.login("dana")
    html = _page(world, f"/contacts/{contact_id}")
    assert 'name="capture_session"' in html
    assert re.search(rf'<option selected value="{own}">', html), "her own open session is preselected"
    assert f'<option value="{other}">' in html and '<option value="">' in html
    assert "laptop VICE-07" in _row(html, own) and "desktop 3" in _row(html, other)
    answer = world.client.post(
        f"/contacts/{contact_id}/messages",
        data={
            "csrf_token": csrf_from(html),
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "hello, how are you",
            "capture_session": str(other),
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    html = _page(world, f"/contacts/{contact_id}")
    link = f'<a href="/profiles/{world.profile_id}/contacts#capture-session-{other}">{other}</a>'
    assert f"operated by dirk in capture session {link}" in html
    message = world.get(f"/contacts/{contact_id}/messages").get_json()["items"][0]
    assert (message["recorded_by"], message["operated_by"], message["capture_session"]) == (
        "dana",
        "dirk",
        other,
    )
    # A session that ended meanwhile: the form says why, with the API's status.
    end(world, other, "dirk")
    answer = world.client.post(
        f"/contacts/{contact_id}/messages",
        data={
            "csrf_token": csrf_from(html),
            "direction": "in",
            "sent_at": "2026-03-02T10:01:00+01:00",
            "body": "late",
            "capture_session": str(other),
        },
    )
    assert answer.status_code == 409
    assert f"capture session {other} has ended" in answer.get_data(as_text=True)
    answer = world.client.post(
        f"/contacts/{contact_id}/messages",
        data={
            "csrf_token": csrf_from(html),
            "direction": "in",
            "sent_at": "2026-03-02T10:01:00+01:00",
            "body": "late",
            "capture_session": "x1",
        },
    )
    assert answer.status_code == 400
    # Without a choice (as before sessions existed) the message is recorded outside any session.
    answer = world.client.post(
        f"/contacts/{contact_id}/messages",
        data={
            "csrf_token": csrf_from(html),
            "direction": "in",
            "sent_at": "2026-03-02T10:01:00+01:00",
            "body": "late",
        },
    )
    assert answer.status_code == 302
    assert world.get(f"/contacts/{contact_id}/messages").get_json()["items"][1]["capture_session"] is None


def test_a_contact_page_without_open_sessions_has_no_choice(world: Any, auth: Any) -> None:
    contact_id = world.contact()
    auth.login("dana")
    html = _page(world, f"/contacts/{contact_id}")
    assert 'name="capture_session"' not in html
    assert "No capture session yet." in html
