"""A notice on its page reads as prose and facts with its title linking to the page concerned; the e-mail of
the same notice carries the full address under DECOY_PUBLIC_URL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from decoy.config import ConfigurationError, parse_public_url
from tests.decoy.reviews.test_notifications import first_review, mailing_team


def test_an_e_mail_links_under_the_public_address(
    app_factory: Any, client: Any, factory: Any, clock: Any, mail_server: Any
) -> None:
    mail_server.start()
    team = mailing_team(app_factory, client, factory, mail_server)
    team.app = app_factory(SMTP_URL=mail_server.url, PUBLIC_URL="https://decoy.example.test/")
    team.run()
    review = first_review(team.app)
    clock.set(review.due_at - timedelta(days=7))
    team.run(3)
    content = mail_server.handler.messages[0].get_content()
    assert f"https://decoy.example.test/reviews/{review.id}" in content


def test_the_notifications_page_shows_facts_and_a_linked_title(team: Any, auth: Any, clock: Any) -> None:
    team.run()
    review = first_review(team.app)
    clock.set(review.due_at - timedelta(days=7))
    team.run()
    auth.login("sam")
    html = team.client.get("/notifications").get_data(as_text=True)
    card = html[html.index('class="notice-card'):]
    card = card[:card.index("</li>")]
    assert f'<h2 class="notice-title"><a href="/reviews/{review.id}">Review due in 7 days (' in card
    assert "<dt>Due</dt>" in card and "Europe/Amsterdam" in card
    assert "Open in Decoy" not in card and "<pre" not in card


@pytest.mark.parametrize("value", ["decoy.example.test", "ftp://decoy.example.test", "https://x/?a=1",
                                   "https://user:secret@decoy.example.test"])
def test_a_public_address_that_is_not_one_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="DECOY_PUBLIC_URL"):
        parse_public_url(value)
    assert parse_public_url("https://decoy.example.test/app/") == "https://decoy.example.test/app"
