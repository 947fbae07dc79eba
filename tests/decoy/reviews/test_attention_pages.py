"""The compliance dashboard's state of an operation without an order, its flagged messages as links, and
the legal officer's home page listing the reviews overdue and due soon."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from decoy.db import session_scope
from decoy.evidence.services import create_contact, log_message
from decoy.models import Review
from tests.factories import actor_for, make_operation


def row_of(html: str, operation_id: int) -> str:
    """The dashboard's row of one operation."""
    return html.split(f'data-operation="{operation_id}"')[1].split("</tr>")[0]


def flagged_contact(team: Any, clock: Any) -> int:
    """A contact to whom the decoy wrote first (a flagged message); its id."""
    with team.app.app_context(), session_scope(team.app) as session:
        dana = actor_for(session, "dana")
        contact = create_contact(
            session=session, actor=dana, profile_id=team.profile_ids[0], counterpart="pal"
        )
        log_message(
            session=session, actor=dana, contact_id=contact.id,  # type: ignore[arg-type]
            direction="out", sent_at=clock.now(), body="hello, how are you",
        )
        return int(contact.id)  # type: ignore[arg-type]


def test_an_operation_without_an_order_is_not_lapsed(team: Any, auth: Any) -> None:
    planned = make_operation(team.app, "sam", name="Operation Harbour")
    team.run()
    auth.login("lena")
    html = team.client.get("/compliance").get_data(as_text=True)
    row = row_of(html, planned)
    assert "No authorization yet" in row
    assert "LAPSED" not in row and "badge bad" not in row and "compliance-bad" not in html.split(
        f'data-operation="{planned}"')[0].rsplit("<tr", 1)[1]
    assert "in order" in row_of(html, team.operation_id)


def test_flagged_message_counts_link_to_the_flagged_messages(team: Any, auth: Any, clock: Any) -> None:
    contact_id = flagged_contact(team, clock)
    team.run()
    auth.login("lena")
    row = row_of(team.client.get("/compliance").get_data(as_text=True), team.operation_id)
    link = f'href="/contacts/{contact_id}?marked=1"'
    assert link in row and f"1 in contact {contact_id}</a>" in row
    home = team.client.get("/").get_data(as_text=True)
    # The review the flag triggered is due within 2 days: on the home page, with its flagged messages.
    assert link in home
    page = team.client.get(f"/contacts/{contact_id}?marked=1")
    assert page.status_code == 200 and "hello, how are you" in page.get_data(as_text=True)


def test_the_legal_officers_home_lists_reviews_overdue_and_due_soon(team: Any, auth: Any, clock: Any) -> None:
    team.run()
    with team.app.app_context(), session_scope(team.app) as session:
        first, second = session.exec(select(Review).order_by(col(Review.due_at)).limit(2)).all()
    clock.set(first.due_at + timedelta(hours=1))  # overdue, not yet past its grace period
    team.run()
    clock.set(second.due_at - timedelta(days=3))
    auth.login("lena")
    html = team.client.get("/").get_data(as_text=True)
    listed = html.split('id="reviews-attention"')[1].split("</ul>")[0]
    overdue, soon = f'href="/reviews/{first.id}"', f'href="/reviews/{second.id}"'
    assert overdue in listed and soon in listed
    assert listed.index(overdue) < listed.index(soon)
    assert "overdue" in listed.split(overdue)[1].split("</li>")[0]
    assert "due soon" in listed.split(soon)[1].split("</li>")[0]
    auth.logout()
    # lars is a legal officer but not this operation's: he is told of the overdue review only.
    auth.login("lars")
    listed = team.client.get("/").get_data(as_text=True).split('id="reviews-attention"')[1].split("</ul>")[0]
    assert overdue in listed and soon not in listed
    auth.logout()
    auth.login("sam")
    assert 'id="reviews-attention"' not in team.client.get("/").get_data(as_text=True)
