"""The conversation page, the quick form with a screenshot, a profile's contacts, search and downloads."""

from __future__ import annotations

import io

from tests.support import code_for, csrf_from

from .support import entries_for

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 10


def test_the_transcript_shows_times_in_the_operation_zone_with_the_platform_offset(world, auth):
    contact_id = world.contact()
    world.message(contact_id, body="hello, how are you", sent_at="2026-03-02T14:05:00+05:30")
    auth.login("lena")
    response = world.client.get(f"/contacts/{contact_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2026-03-02 09:35:00 CET" in html  # 08:35 UTC in Amsterdam
    assert "2026-03-02T14:05:00+05:30" in html
    assert "recorded by dana" in html
    assert 'class="verbatim message-body"' in html
    assert "Log the next message" not in html  # a legal officer reads but does not log
    assert entries_for(world.app, "contact.read")[-1]["actor"] == code_for("lena")


def test_the_quick_form_records_a_message_with_a_screenshot(world, auth):
    contact_id = world.contact()
    auth.login("dana")
    page = world.client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    response = world.client.post(
        f"/contacts/{contact_id}/messages",
        data={
            "csrf_token": csrf_from(page),
            "direction": "in",
            "sent_at": "2026-03-02T10:00:00+01:00",
            "body": "  hello, how are you  ",
            "attachments": [(io.BytesIO(PNG), "screen.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    items = world.get(f"/contacts/{contact_id}/messages").get_json()["items"]
    assert items[0]["body"] == "  hello, how are you  "
    assert items[0]["attachments"][0]["media_type"] == "image/png"
    shown = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/attachments/{items[0]["attachments"][0]["id"]}"' in shown
    assert "screen.png" in shown
    download = world.client.get(f"/attachments/{items[0]['attachments'][0]['id']}")
    assert download.data == PNG and download.headers["Content-Disposition"].startswith("attachment;")
    download.close()


def _post_quick_form(world, contact_id, sent_at, body="hello, how are you", direction="in"):
    page = world.client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    return world.client.post(
        f"/contacts/{contact_id}",
        data={"csrf_token": csrf_from(page), "direction": direction, "sent_at": sent_at, "body": body},
    )


def test_the_quick_form_explains_bad_input_at_the_field_and_in_a_summary_on_the_same_page(world, auth):
    contact_id = world.contact()
    auth.login("dana")
    response = _post_quick_form(world, contact_id, "yesterday at ten")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = html[html.index('class="govuk-error-summary"'):html.index("</h1>")]
    assert "There is a problem" in summary and 'href="#sent_at"' in summary
    assert "Enter the time as on the platform, like 2026-03-01 14:05" in summary
    field = html[html.index('id="sent_at-error"'):]
    assert "Enter the time as on the platform" in field[:400]
    assert 'aria-describedby="sent_at-hint sent_at-error"' in html
    assert "RFC 3339" not in html and "sent_at is" not in html
    assert world.get(f"/contacts/{contact_id}/messages").get_json()["items"] == []


def test_the_quick_form_reads_a_time_without_offset_in_the_operation_zone(world, auth):
    contact_id = world.contact()
    auth.login("dana")
    assert "autofocus" not in world.client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    response = _post_quick_form(world, contact_id, "2026-03-02 10:00")
    assert response.status_code == 302
    assert "logged=" in response.headers["Location"] and "#" not in response.headers["Location"]
    item = world.get(f"/contacts/{contact_id}/messages").get_json()["items"][0]
    assert item["sent_at"] == "2026-03-02T10:00:00+01:00"  # Europe/Amsterdam in winter
    again = world.client.get(response.headers["Location"]).get_data(as_text=True)
    first_radio = again[again.index('id="direction-0"') - 100:again.index('id="direction-0"') + 100]
    assert "autofocus" in first_radio
    with_offset = _post_quick_form(world, contact_id, "2026-03-02 10:00:30 +05:30", body="second")
    assert with_offset.status_code == 302
    items = world.get(f"/contacts/{contact_id}/messages").get_json()["items"]
    assert {item["body"]: item["sent_at"] for item in items}["second"] == "2026-03-02T10:00:30+05:30"


def test_the_quick_form_asks_for_the_offset_in_the_hour_summer_time_repeats_or_skips(world, auth):
    contact_id = world.contact()
    auth.login("dana")
    for moment in ("2026-10-25 02:30", "2026-03-29 02:30"):
        response = _post_quick_form(world, contact_id, moment)
        assert response.status_code == 400
        assert "add the offset the platform showed" in response.get_data(as_text=True)
    assert _post_quick_form(world, contact_id, "2026-10-25 02:30 +01:00").status_code == 302
    assert world.get(f"/contacts/{contact_id}/messages").get_json()["items"][0]["sent_at"] == (
        "2026-10-25T02:30:00+01:00"
    )


def test_a_flagged_message_is_announced_in_words(world, auth):
    contact_id = world.contact()
    auth.login("dana")
    response = _post_quick_form(world, contact_id, "2026-03-02 10:00", direction="out")
    assert response.status_code == 302
    shown = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "It is flagged: Decoy wrote first." in shown
    assert "decoy_initiated" not in shown


def test_the_quick_form_needs_its_csrf_token(world, auth):
    contact_id = world.contact()
    auth.login("dana")
    response = world.client.post(
        f"/contacts/{contact_id}/messages",
        data={"direction": "in", "sent_at": "2026-03-02T10:00:00+01:00", "body": "x"},
    )
    assert response.status_code == 400
    assert world.get(f"/contacts/{contact_id}/messages").get_json()["items"] == []


def test_a_profile_page_lists_contacts_and_records_a_new_one(world, auth):
    world.contact(counterpart="first_caller")
    auth.login("dana")
    page = world.client.get(f"/profiles/{world.profile_id}/contacts")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "first_caller" in html
    response = world.client.post(
        f"/profiles/{world.profile_id}/contacts",
        data={"csrf_token": csrf_from(html), "counterpart": "second_caller"},
    )
    assert response.status_code == 302
    assert "second_caller" in world.client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_transcript_pages_by_keyset(world, auth):
    contact_id = world.contact()
    ids = [
        world.message(contact_id, body=f"number {n}", sent_at=f"2026-03-02T10:{n // 60:02d}:{n % 60:02d}Z")[
            "id"
        ]
        for n in range(80)
    ]
    auth.login("dana")
    first = world.client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert f'id="m{ids[0]}"' in first and f'id="m{ids[49]}"' in first and f'id="m{ids[50]}"' not in first
    assert f"after={ids[49]}" in first
    later = world.client.get(f"/contacts/{contact_id}?after={ids[49]}").get_data(as_text=True)
    assert f'id="m{ids[50]}"' in later and f'id="m{ids[79]}"' in later
    latest = world.client.get(f"/contacts/{contact_id}?before=0").get_data(as_text=True)
    assert f'id="m{ids[79]}"' in latest and f'id="m{ids[29]}"' not in latest and f'id="m{ids[30]}"' in latest
    assert world.client.get(f"/contacts/{contact_id}?after=abc").status_code == 400
    jump = world.client.get(f"/messages/{ids[70]}")
    assert jump.status_code == 302 and f"start={ids[70]}" in jump.headers["Location"]


def test_pages_hide_other_operations_and_refuse_admins(world, auth):
    contact_id = world.contact()
    auth.login("nina")
    assert world.client.get(f"/contacts/{contact_id}").status_code == 404
    assert world.client.get(f"/profiles/{world.profile_id}/contacts").status_code == 404
    assert "sunny_day_22" not in world.client.get("/search?q=sunny").get_data(as_text=True)
    auth.logout()
    auth.login("adam")
    assert world.client.get(f"/contacts/{contact_id}").status_code == 403


def test_the_search_page_finds_messages(world, auth):
    contact_id = world.contact()
    world.message(contact_id, body="meet at the library")
    auth.login("lena")
    html = world.client.get("/search?q=library").get_data(as_text=True)
    assert "meet at the library" in html
    assert world.client.get("/search?q=x").status_code == 400


def test_the_contact_list_shows_contacts_with_flagged_messages(world, auth):
    quiet = world.contact(counterpart="quiet_caller")
    world.message(quiet, body="hello, how are you")
    flagged = world.contact(counterpart="busy_caller")
    world.message(flagged, body="hello, how are you")
    world.message(flagged, direction="out", body="fine thanks", sent_at="2026-03-02T09:00:00+01:00")
    auth.login("dana")
    html = world.client.get(f"/profiles/{world.profile_id}/contacts").get_data(as_text=True)
    row_of = {name: html.split(name)[1].split("</tr>")[0] for name in ("quiet_caller", "busy_caller")}
    assert f'href="/contacts/{flagged}?marked=1">1 flagged message</a>' in row_of["busy_caller"]
    assert "flagged message" not in row_of["quiet_caller"] and "none" in row_of["quiet_caller"]
