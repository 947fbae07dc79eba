"""The operation page and its neighbours as people use them: the authorization in force first and its
history folded, one action menu per profile leading to a confirmation page, a platform chosen from those
the authorization permits, words instead of stored keys, the central record's filter row, times typed in
one pattern, and the profile page's way back to its operation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from sqlmodel import select

from decoy.clock import typed_time
from decoy.db import session_scope
from decoy.models import Authorization, Contact, Profile
from tests.e2e.raw_keys import raw_keys_in
from tests.factories import make_authorization, make_profile
from tests.support import START, csrf_from


class _Text(HTMLParser):
    """The text a reader sees: no markup, no attribute values, nothing of scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def _reference(team: Any, authorization_id: int) -> str:
    with team.app.app_context(), session_scope(team.app) as session:
        return session.get(Authorization, authorization_id).reference  # type: ignore[union-attr]


def _row(html: str, profile_id: int) -> str:
    """The table row of a profile (up to its history row)."""
    start = html.index(f'id="profile-{profile_id}"')
    return html[start:html.index('class="history-row"', start)]


def _page(team: Any, path: str, status: int = 200) -> str:
    answer = team.client.get(path)
    assert answer.status_code == status, answer.get_data(as_text=True)[:2000]
    return answer.get_data(as_text=True)


def test_the_authorization_in_force_comes_first_and_its_history_is_folded_below(team, auth):
    amendment = make_authorization(team.app, "lena", team.operation_id, reference="AMEND-2",
                                   supersedes_id=team.authorization_id)
    lapsed = make_authorization(team.app, "lena", team.operation_id, reference="OLD-3",
                                valid_from=START - timedelta(days=40), valid_until=START - timedelta(days=10))
    auth.login("sam")
    html = _page(team, f"/operations/{team.operation_id}")
    current = html.index(f'id="authorization-{amendment}"')
    history = html.index('<details class="authorization-history"')
    assert current < history < html.index(f'id="authorization-{team.authorization_id}"')
    assert history < html.index(f'id="authorization-{lapsed}"')
    folded = html[history:html.index("</summary>", history)]
    assert " open" not in folded  # closed while an authorization is in force
    assert "Earlier authorizations (2): superseded, withdrawn or lapsed" in folded
    original = _reference(team, team.authorization_id)
    assert f'Supersedes <a href="#authorization-{team.authorization_id}">{original}</a>' in html


def test_without_an_authorization_in_force_the_history_is_open(team, auth, clock):
    clock.advance(timedelta(days=200))
    auth.login("sam")
    html = _page(team, f"/operations/{team.operation_id}")
    assert '<details class="authorization-history" id="authorization-history" open>' in html
    assert "No authorization is in force: no profile can become active." in html


def test_each_profile_row_has_one_action_menu_and_no_inline_forms_but_approve(team, auth):
    active = make_profile(team.app, team.operation_id, team.authorization_id, "sam", approver="sol")
    pending = make_profile(team.app, team.operation_id, team.authorization_id, "sam", handle="waiting_one")
    auth.login("sol")
    html = _page(team, f"/operations/{team.operation_id}")
    row = _row(html, active)
    assert row.count('<details class="actions-menu">') == 1
    assert f'href="/profiles/{active}/suspend"' in row and f'href="/profiles/{active}/retire"' in row
    assert 'name="reason"' not in row and "<form" not in row
    row = _row(html, pending)
    assert f'action="/profiles/{pending}/approve"' in row  # approving is one click
    assert f'href="/profiles/{pending}/retire"' in row and f"/profiles/{pending}/suspend" not in row
    assert "<textarea" not in html[html.index('id="profiles"'):html.index('id="propose-heading"')]


def test_a_legal_officer_s_menu_offers_suspension_only(team, auth):
    active = make_profile(team.app, team.operation_id, team.authorization_id, "sam", approver="sol")
    auth.login("lena")
    row = _row(_page(team, f"/operations/{team.operation_id}"), active)
    assert f'href="/profiles/{active}/suspend"' in row and "/retire" not in row


def test_suspending_a_profile_goes_through_its_confirmation_page(team, auth):
    active = make_profile(team.app, team.operation_id, team.authorization_id, "sam", approver="sol")
    reference = _reference(team, team.authorization_id)
    auth.login("sol")
    page = f"/profiles/{active}/suspend"
    html = _page(team, page)
    summary = html[html.index('<dl class="summary'):html.index("</dl>")]
    for shown in ("sunny_day", "chatapp", "active", reference, "Operation Lantern"):
        assert shown in summary, shown
    assert "messages recorded for it from now on are flagged" in html
    assert re.search(r'<textarea aria-describedby="reason-hint"[^>]* id="reason"[^>]* name="reason"', html)
    assert "Required: why the profile is suspended" in html
    assert re.search(r'<button type="submit" class="danger">\s*Suspend profile\s*</button>', html)
    assert f'<a href="/operations/{team.operation_id}#profile-{active}">Cancel</a>' in html
    empty = team.client.post(page, data={"csrf_token": csrf_from(html), "reason": " "})
    assert empty.status_code == 400
    shown = empty.get_data(as_text=True)
    assert shown.index("There is a problem") < shown.index("<h1>")
    assert '<a href="#reason">reason is required</a>' in shown and 'id="reason-error"' in shown
    done = team.client.post(page, data={"csrf_token": csrf_from(html), "reason": "cover may be known"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/operations/{team.operation_id}#profile-{active}")
    after = _page(team, f"/operations/{team.operation_id}")
    assert "Profile sunny_day is now suspended." in after and "cover may be known" in after


def test_retiring_a_profile_goes_through_its_confirmation_page_with_an_optional_reason(team, auth):
    pending = make_profile(team.app, team.operation_id, team.authorization_id, "sam", handle="waiting_one")
    auth.login("sol")
    page = f"/profiles/{pending}/retire"
    html = _page(team, page)
    assert "Reason (optional)" in html and "pending approval" in html
    assert re.search(r'<button type="submit" class="danger">\s*Retire profile\s*</button>', html)
    done = team.client.post(page, data={"csrf_token": csrf_from(html), "reason": ""})
    assert done.status_code == 302
    assert "Profile waiting_one is now retired." in _page(team, f"/operations/{team.operation_id}")
    again = _page(team, page, 409)  # nothing left to retire: the page says why and offers no button
    assert "cannot be retired" in again and "Retire profile" not in again


def test_the_confirmation_pages_are_for_those_who_may_act(team, auth):
    active = make_profile(team.app, team.operation_id, team.authorization_id, "sam", approver="sol")
    auth.login("lena")
    assert team.client.get(f"/profiles/{active}/suspend").status_code == 200
    assert team.client.get(f"/profiles/{active}/retire").status_code == 403
    auth.logout()
    auth.login("dana")
    assert team.client.get(f"/profiles/{active}/suspend").status_code == 403
    auth.logout()
    auth.login("otto")  # a supervisor of another operation
    assert team.client.get(f"/profiles/{active}/suspend").status_code == 404


def test_the_platform_is_chosen_from_those_the_authorization_permits(team, auth):
    auth.login("sam")
    page = f"/operations/{team.operation_id}"
    html = _page(team, page)
    assert '<select aria-describedby="platform-hint" id="platform" name="platform"' in html
    assert '<option value="chatapp">chatapp</option>' in html
    assert 'id="platform" name="platform" type="text"' not in html
    typed = team.client.post(f"{page}/profiles", data={
        "csrf_token": csrf_from(html), "authorization_id": str(team.authorization_id),
        "platform": "elsewhere", "handle": "far_away"})
    assert typed.status_code == 400
    assert 'id="platform-error"' in typed.get_data(as_text=True)
    with team.app.app_context(), session_scope(team.app) as session:
        assert session.exec(select(Profile.id)).first() is None


def test_several_authorizations_group_their_platforms(team, auth):
    other = make_authorization(team.app, "lena", team.operation_id, reference="PHOTO-1",
                               platforms=["photoshare"])
    auth.login("sam")
    html = _page(team, f"/operations/{team.operation_id}")
    assert '<optgroup label="PHOTO-1"><option value="photoshare">photoshare</option></optgroup>' in html
    assert f'<option value="{other}">PHOTO-1</option>' in html


def test_a_platform_the_chosen_authorization_does_not_permit_is_refused_at_the_field(team, auth):
    make_authorization(team.app, "lena", team.operation_id, reference="PHOTO-1", platforms=["photoshare"])
    auth.login("sam")
    page = f"/operations/{team.operation_id}"
    html = _page(team, page)
    answer = team.client.post(f"{page}/profiles", data={
        "csrf_token": csrf_from(html), "authorization_id": str(team.authorization_id),
        "platform": "photoshare", "handle": "mixed_up"})
    assert answer.status_code == 409
    shown = answer.get_data(as_text=True)
    assert 'id="platform-error"' in shown and "platform rule" in shown
    assert shown.index("There is a problem") < shown.index("<h1>")


def test_kinds_and_states_are_words_and_superseded_orders_are_named_by_reference(team, auth, clock):
    oral = make_authorization(team.app, "lena", team.operation_id, reference="ORAL-1",
                              kind="urgent_oral_order")
    make_authorization(team.app, "lena", team.operation_id, reference="COURT-2", kind="court_ruling",
                       legal_basis="art. 126j Sv", supersedes_id=oral,
                       valid_from=START + timedelta(days=3), valid_until=START + timedelta(days=60))
    make_profile(team.app, team.operation_id, team.authorization_id, "sam", handle="waiting_one")
    auth.login("lena")
    for path in (f"/operations/{team.operation_id}", "/authorizations",
                 f"/operations/{team.operation_id}/activity",
                 f"/authorizations/{team.authorization_id}/withdraw"):
        text = visible_text(_page(team, path))
        assert raw_keys_in(text) == [], path
    record = visible_text(_page(team, "/authorizations"))
    assert "supersedes ORAL-1" in record and "supersedes no." not in record
    assert "court ruling on the method" in record.lower() and "not yet valid" in record


def test_the_central_record_filter_puts_each_label_above_its_control(team, auth):
    auth.login("lena")
    html = _page(team, "/authorizations")
    start = html.index('<form method="get" class="row')
    form = html[start:html.index("</form>", start)]
    assert 'class="row fields-row filter-row"' in form
    assert re.search(r'<div class="field filter-text"><label for="q">Search</label>\s*<input', form)
    assert re.search(r'<div class="field"><label for="status">Status</label>\s*<select', form)
    assert '<div class="filter-buttons">' in form


AUTHORIZATION = {
    "reference": "OvJ-2026-0300",
    "kind": "ovj_order",
    "authority": "Public Prosecution Service",
    "legal_basis": "art. 126j Sv",
    "review_interval_days": "30",
    "platforms": "chatapp",
    "max_profiles": "1",
    "officers": "",
    "supersedes_id": "",
}


def test_the_authorization_form_reads_every_date_and_time_as_typed_text(team, auth):
    auth.login("lena")
    page = f"/operations/{team.operation_id}/authorizations/new"
    html = _page(team, page)
    assert re.search(r'<input [^>]*id="issued_on" [^>]*name="issued_on" type="text"', html)
    assert 'type="date"' not in html
    assert "The date on the order, like 2026-03-01." in html
    assert html.count("Without an offset it is read in Europe/Amsterdam") == 3
    answer = team.client.post(page, data={
        **AUTHORIZATION, "csrf_token": csrf_from(html), "issued_on": "2026-03-01",
        "valid_from": "2026-03-02 08:00", "valid_until": "2026-04-01 08:00:30 +02:00"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with team.app.app_context(), session_scope(team.app) as session:
        made = session.exec(select(Authorization).where(Authorization.reference == "OvJ-2026-0300")).one()
    assert made.issued_on == date(2026, 3, 1)
    assert made.valid_from == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam (CET)
    assert made.valid_until == datetime(2026, 4, 1, 6, 0, 30, tzinfo=UTC)


def test_a_date_or_time_not_in_the_pattern_is_shown_at_its_field_and_in_the_summary(team, auth):
    auth.login("lena")
    page = f"/operations/{team.operation_id}/authorizations/new"
    html = _page(team, page)
    answer = team.client.post(page, data={
        **AUTHORIZATION, "csrf_token": csrf_from(html), "issued_on": "01-03-2026",
        "valid_from": "tomorrow", "valid_until": "2026-04-01 08:00"})
    assert answer.status_code == 400
    shown = answer.get_data(as_text=True)
    assert shown.index("There is a problem") < shown.index("<h1>")
    assert '<a href="#issued_on">Enter the date like 2026-03-01.</a>' in shown
    assert '<a href="#valid_from">Enter the time as on the platform' in shown
    assert 'id="valid_from-error"' in shown and 'id="issued_on-error"' in shown
    assert 'value="tomorrow"' in shown  # what was typed stays
    with team.app.app_context(), session_scope(team.app) as session:
        found = select(Authorization).where(Authorization.reference == "OvJ-2026-0300")
        assert session.exec(found).first() is None


def test_an_extension_starts_where_the_order_ends_in_the_typed_pattern(team, auth):
    auth.login("lena")
    with team.app.app_context(), session_scope(team.app) as session:
        ends = session.get(Authorization, team.authorization_id).valid_until  # type: ignore[union-attr]
    page = f"/operations/{team.operation_id}/authorizations/new?supersedes={team.authorization_id}"
    html = _page(team, page)
    assert f'value="{typed_time(ends, "Europe/Amsterdam")}"' in html


def test_the_profile_page_leads_back_to_its_operation_and_prefills_first_seen(team, auth, clock):
    profile = make_profile(team.app, team.operation_id, team.authorization_id, "sam", approver="sol")
    auth.login("dana")
    page = f"/profiles/{profile}/contacts"
    html = _page(team, page)
    assert f'Operation: <a href="/operations/{team.operation_id}">Operation Lantern</a>' in html
    now = typed_time(clock.now(), "Europe/Amsterdam")
    assert now.startswith("2026-03-02 10:0") and now.endswith(" +01:00")
    assert f'id="first_seen_at" name="first_seen_at" type="text" value="{now}"' in html
    assert "Without an offset the time is read in Europe/Amsterdam" in html
    wrong = team.client.post(page, data={"csrf_token": csrf_from(html), "counterpart": "blue_kite",
                                         "first_seen_at": "yesterday"})
    assert wrong.status_code == 400
    shown = wrong.get_data(as_text=True)
    assert 'id="first_seen_at-error"' in shown and '<a href="#first_seen_at">' in shown
    done = team.client.post(page, data={"csrf_token": csrf_from(html), "counterpart": "blue_kite",
                                        "first_seen_at": "2026-03-02 09:30"})
    assert done.status_code == 302, done.get_data(as_text=True)
    with team.app.app_context(), session_scope(team.app) as session:
        contact = session.exec(select(Contact)).one()
    assert contact.first_seen_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
