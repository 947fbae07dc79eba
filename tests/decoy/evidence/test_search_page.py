"""The search page: each result names its counterpart, decoy profile and operation, each a link; message
results show the snippet, the direction in words, the platform time and a link into the transcript."""

from __future__ import annotations

import re

from decoy.evidence.display import marker
from tests.factories import make_operation

from .support import entries_for


def _result(html: str, element_id: str) -> str:
    """The markup of one result, from its ``<li id=...>`` to the next result or the end of the page."""
    for part in html.split('<li class="search-result')[1:]:
        if f'id="{element_id}"' in part.split(">", 1)[0]:
            return part
    raise AssertionError(f"no result {element_id}")


def test_a_contact_result_names_the_counterpart_profile_and_operation_with_links(world, auth):
    contact_id = world.contact(counterpart="<b>sunny</b>\u202eday")
    auth.login("dana")
    html = world.client.get("/search?q=sunny").get_data(as_text=True)
    result = _result(html, f"contact-{contact_id}")
    assert f'href="/contacts/{contact_id}"' in result
    assert "&lt;b&gt;sunny&lt;/b&gt;" in result and marker("\u202e") in result
    assert "<b>sunny</b>" not in html and "\u202e" not in html
    assert f'href="/profiles/{world.profile_id}/contacts">decoy_one</a> on chatsite' in result
    assert f'href="/operations/{world.operation_id}">Operation Lantern</a>' in result
    assert "contact 6" not in html.lower()


def test_a_message_result_shows_snippet_direction_time_and_a_link_into_the_transcript(world, auth):
    contact_id = world.contact(counterpart="river_stone_9")
    written = world.message(contact_id, body="hello, how are you", direction="out",
                            sent_at="2026-03-02T14:05:00+05:30")
    auth.login("dana")
    html = world.client.get("/search?q=how are").get_data(as_text=True)
    result = _result(html, f"message-{written['id']}")
    assert f'href="/messages/{written["id"]}"' in result and "in its transcript" in result
    assert "hello, how are you" in result
    assert "outgoing: the decoy wrote it" in result
    assert '<time datetime="2026-03-02T14:05:00+05:30">2026-03-02 09:35:00 CET</time>' in result
    assert f'href="/contacts/{contact_id}">river_stone_9</a>' in result
    assert ">decoy_one</a> on chatsite" in result
    assert f'href="/operations/{world.operation_id}">Operation Lantern</a>' in result
    # The first message, written by the decoy: its flag in words, with its meaning.
    assert "Decoy wrote first" in result and "decoy_initiated" not in html


def test_the_page_has_a_labelled_search_box_keeping_the_query_and_counts_the_results(world, auth):
    contact_id = world.contact(counterpart="hello_there")
    world.message(contact_id, body="hello, how are you")
    world.message(contact_id, body="hello again")
    auth.login("lena")
    html = world.client.get("/search?q=hello").get_data(as_text=True)
    assert '<label class="govuk-label govuk-label--m" for="q">' in html
    assert re.search(r'<input class="govuk-input" id="q" name="q" type="search" value="hello"', html)
    assert "3 results for “hello”." in html
    assert "Contacts <span class=\"result-number\">(1)</span>" in html
    assert "Messages <span class=\"result-number\">(2)</span>" in html
    one = world.client.get("/search?q=again").get_data(as_text=True)
    assert "1 result for “again”." in one


def test_a_too_short_query_is_explained_at_the_box_with_the_error_summary(world, auth):
    auth.login("dana")
    response = world.client.get("/search?q=x")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert html.index("govuk-error-summary") < html.index("<h1")
    assert '<a href="#q">' in html and 'id="q-error"' in html and 'aria-invalid="true"' in html
    assert 'value="x"' in html


def test_results_stay_within_the_operations_the_reader_may_see(world, auth, app):
    world.contact(counterpart="hello_member")
    make_operation(app, "sol", name="Operation Harbour", members=("nina",))
    auth.login("nina")
    html = world.client.get("/search?q=hello").get_data(as_text=True)
    assert "hello_member" not in html and "Operation Lantern" not in html and "decoy_one" not in html
    assert "0 results for “hello”." in html
    assert entries_for(world.app, "evidence.search")[-1]["details"]["contacts"] == []
