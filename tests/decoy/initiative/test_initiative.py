"""The initiative record through the API: who raised each topic first from confirmed annotations only,
retraction, re-assessment (rule 8) recorded as new rows while nothing earlier changes, and the flags
``decoy_raised_first`` (with a triggered review) and ``persona_age_inconsistent``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from decoy.cli import main
from decoy.db import session_scope
from decoy.models import Review
from tests.decoy.evidence.support import entries_for

from .support import annotate, assessments, conversation, flags_of, sheet


def test_an_empty_sheet_names_no_one(world: Any) -> None:
    contact = world.contact()
    found = sheet(world, contact)
    assert found["topics"] == dict.fromkeys(
        ("age_stated", "sexual_topic", "meeting_proposed", "payment_offered", "image_requested", "image_sent")
    )
    assert (found["age_to_meeting_seconds"], found["raised_first"], found["flags"]) == (None, [], [])
    assert found["assessment"] is None


@pytest.mark.parametrize(
    "topic",
    ["age_stated", "sexual_topic", "meeting_proposed", "payment_offered", "image_requested", "image_sent"],
)
def test_each_topic_first_raiser_is_the_earliest_annotated_message_by_platform_time(
    world: Any, topic: str
) -> None:
    contact = world.contact()
    first_in, first_out, second_in = conversation(
        world, contact, [("in", "10:00"), ("out", "10:05"), ("in", "10:10")]
    )
    extra = {"age": 14} if topic == "age_stated" else {}
    # Annotated out of order: the later message first; the sheet goes by the platform's time.
    annotate(world, second_in, topic, **extra)
    annotate(world, first_out, topic, **extra)
    found = sheet(world, contact)["topics"][topic]
    assert (found["first_by"], found["message_id"], found["at"]) == (
        "decoy",
        first_out,
        "2026-03-02T10:05:00+01:00",
    )
    annotate(world, first_in, topic, **extra)
    found = sheet(world, contact)["topics"][topic]
    assert (found["first_by"], found["message_id"]) == ("counterpart", first_in)
    if topic == "age_stated":
        assert found["age"] == 14


def test_the_decoy_raising_a_meeting_first_flags_contact_and_message_and_triggers_a_review(
    world: Any, app: Any
) -> None:
    contact = world.contact()
    incoming, outgoing = conversation(world, contact, [("in", "10:00"), ("out", "10:05")])
    answer = annotate(world, outgoing, "meeting_proposed")
    assert answer["contact_flags"] == ["decoy_raised_first"]
    assert (answer["topic"], answer["by"], answer["role"]) == ("meeting_proposed", "dana", "officer")
    assert "decoy_raised_first" in world.get(f"/contacts/{contact}").get_json()["flags"]
    assert "decoy_raised_first" in flags_of(world, outgoing)
    assert "decoy_raised_first" not in flags_of(world, incoming)
    assert sheet(world, contact)["raised_first"] == ["meeting_proposed"]
    with app.app_context(), session_scope(app) as session:
        keys = set(session.exec(select(Review.key).where(Review.contact_id == contact)).all())
    assert f"flag:{contact}:decoy_raised_first:meeting_proposed" in keys
    [entry] = entries_for(app, "contact.assess")
    assert entry["details"]["raised_first"] == ["meeting_proposed"]
    # A second outgoing mark of the same topic changes nothing: no new assessment.
    later = world.message(contact, direction="out", sent_at="2026-03-02T11:00:00+01:00")["id"]
    assert annotate(world, later, "meeting_proposed")["assessment"] is None
    assert len(assessments(world, contact)) == 1


def test_age_stated_to_meeting_is_timed_by_platform_time(world: Any) -> None:
    contact = world.contact()
    age, meeting = conversation(world, contact, [("out", "10:00"), ("in", "12:30")])
    annotate(world, age, "age_stated", age=14)
    annotate(world, meeting, "meeting_proposed")
    assert sheet(world, contact)["age_to_meeting_seconds"] == 9000


def test_a_retraction_withdraws_the_mark_and_is_recorded_apart(world: Any, app: Any) -> None:
    contact = world.contact()
    incoming, outgoing = conversation(world, contact, [("in", "10:00"), ("out", "10:05")])
    mark = annotate(world, outgoing, "payment_offered")
    assert sheet(world, contact)["raised_first"] == ["payment_offered"]
    retraction = annotate(world, outgoing, "payment_offered", "sam", retracts=mark["id"])
    assert retraction["retracts"] == mark["id"]
    assert sheet(world, contact)["topics"]["payment_offered"] is None
    assert "decoy_raised_first" not in world.get(f"/contacts/{contact}").get_json()["flags"]
    assert "decoy_raised_first" not in flags_of(world, outgoing)
    listed = world.get(f"/messages/{outgoing}/annotations").get_json()["items"]
    assert [(a["id"], a["retracted_by"], a["by"]) for a in listed] == [
        (mark["id"], retraction["id"], "dana"),
        (retraction["id"], None, "sam"),
    ]
    # Twice, or a retraction of a retraction, is refused.
    annotate(world, outgoing, "payment_offered", retracts=mark["id"], expect=409)
    annotate(world, outgoing, "payment_offered", retracts=retraction["id"], expect=409)
    # Both assessments stay recorded, the first unchanged.
    found = assessments(world, contact)
    assert [a["raised_first"] for a in found] == [["payment_offered"], []]
    assert len(entries_for(app, "annotation.create")) == 2


def test_a_late_earlier_message_reassesses_without_editing_anything(
    world: Any, app: Any, runner: Any
) -> None:
    contact = world.contact()
    outgoing = world.message(contact, direction="out", sent_at="2026-03-02T10:05:00+01:00")
    assert outgoing["flags"] == ["decoy_initiated"]
    annotate(world, outgoing["id"], "image_requested")
    first = assessments(world, contact)
    assert first[-1]["raised_first"] == ["image_requested"]
    # The counterpart's earlier message, recorded late: the decoy neither started the contact nor asked first.
    late = world.message(contact, direction="in", sent_at="2026-03-02T09:00:00+01:00")["id"]
    annotate(world, late, "image_requested")
    found = assessments(world, contact)
    assert found[: len(first)] == first  # nothing earlier edited
    causes = [a["cause"] for a in found]
    assert causes[len(first)] == "message"
    assert found[len(first)]["message_flags"] == {str(outgoing["id"]): ["decoy_raised_first"]}
    assert found[-1]["raised_first"] == []
    assert flags_of(world, outgoing["id"]) == []
    recorded = world.get(f"/contacts/{contact}/messages").get_json()["items"]
    assert [m["flags"] for m in recorded] == [[], []]
    [entry] = [e for e in entries_for(app, "message.create") if e["object"]["id"] == outgoing["id"]]
    assert entry["details"]["flags"] == ["decoy_initiated"]  # as recorded
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_legal_officers_remarks_never_count(world: Any) -> None:
    contact = world.contact()
    outgoing = world.message(contact, direction="out", sent_at="2026-03-02T10:05:00+01:00")["id"]
    remark = annotate(world, outgoing, "sexual_topic", "lena", remark="please check the context")
    assert remark["role"] == "legal"
    found = sheet(world, contact)
    assert found["topics"]["sexual_topic"] is None
    assert [r["remark"] for r in found["remarks"]] == ["please check the context"]
    assert found["flags"] == []


def test_persona_age_inconsistent_flags_an_outgoing_stated_age_other_than_the_persona(
    world: Any, app: Any
) -> None:
    from tests.factories import make_profile

    persona_age = 14
    profile = make_profile(
        app,
        world.operation_id,
        world.authorization_id,
        "sam",
        approver="sol",
        platform="chatsite",
        handle="decoy_aged",
        persona_age=persona_age,
    )
    contact = world.contact(profile)
    outgoing, incoming = conversation(world, contact, [("out", "10:00"), ("in", "10:05")])
    annotate(world, incoming, "age_stated", age=persona_age + 20)  # the counterpart's own age: no flag
    assert sheet(world, contact)["flags"] == []
    annotate(world, outgoing, "age_stated", age=persona_age + 1)
    assert "persona_age_inconsistent" in sheet(world, contact)["flags"]
    assert "persona_age_inconsistent" in flags_of(world, outgoing)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"topic": "weather"}, "topic"),
        ({"topic": "age_stated"}, "age"),
        ({"topic": "age_stated", "age": 0}, "age"),
        ({"topic": "age_stated", "age": "14"}, "age"),
        ({"topic": "meeting_proposed", "age": 14}, "age"),
        ({"topic": "meeting_proposed", "retracts": 999999}, "retracts"),
    ],
)
def test_a_bad_annotation_is_refused_naming_the_field(world: Any, body: dict[str, Any], field: str) -> None:
    contact = world.contact()
    message = world.message(contact)["id"]
    response = world.post(f"/messages/{message}/annotations", json=body)
    assert response.status_code in (400, 422), response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_who_may_annotate(world: Any) -> None:
    contact = world.contact()
    message = world.message(contact)["id"]
    annotate(world, message, "meeting_proposed", "nina", expect=404)  # not of the operation
    annotate(world, message, "meeting_proposed", "adam", expect=404)  # admins see no evidence
    annotate(world, message, "meeting_proposed", "sol")


def test_a_suggestion_counts_only_once_confirmed_and_a_dismissal_is_recorded(world: Any, app: Any) -> None:
    contact = world.contact()
    dutch = world.message(contact, "zullen we afspreken bij het station", "out", "2026-03-02T10:00:00+01:00")[
        "id"
    ]
    english = world.message(contact, "shall we meet at the station", "in", "2026-03-02T10:05:00+01:00")["id"]
    from decoy.initiative.suggestions import current_word_list

    with app.app_context():
        words = current_word_list()
        dutch_term = next(
            s.term
            for s in words.suggest("zullen we afspreken bij het station")
            if s.topic == "meeting_proposed"
        )
        english_term = next(
            s.term for s in words.suggest("shall we meet at the station") if s.topic == "meeting_proposed"
        )
    # Suggested, not confirmed: the sheet names no one.
    assert sheet(world, contact)["topics"]["meeting_proposed"] is None
    response = world.post(
        f"/messages/{dutch}/suggestions/dismissals", json={"topic": "meeting_proposed", "term": dutch_term}
    )
    assert response.status_code == 201, response.get_json()
    assert sheet(world, contact)["topics"]["meeting_proposed"] is None
    [entry] = entries_for(app, "suggestion.dismiss")
    assert entry["details"]["term"] == dutch_term
    # A term the list does not suggest for the message is refused.
    response = world.post(
        f"/messages/{english}/suggestions/dismissals", json={"topic": "payment_offered", "term": "pay"}
    )
    assert response.status_code == 409
    confirmed = annotate(world, english, "meeting_proposed", suggested_term=english_term)
    assert confirmed["suggested_term"] == english_term
    assert sheet(world, contact)["topics"]["meeting_proposed"]["first_by"] == "counterpart"


def test_an_import_of_earlier_messages_reassesses_the_contact(world: Any, app: Any, runner: Any) -> None:
    from tests.decoy.imports.support import post_import, whatsapp_android

    contact = world.contact()
    typed = world.message(contact, "hello, how are you", "out", "2026-03-02T12:00:00+01:00")
    assert typed["flags"] == ["decoy_initiated"]
    annotate(world, typed["id"], "meeting_proposed")
    # The platform's export holds the counterpart's earlier messages, one of them proposing a meeting.
    export = whatsapp_android(
        [
            ("02-03-2026 10:00", "Alex", "shall we meet at the station"),
            ("02-03-2026 12:00", "Sam Decoy", "hello, how are you"),
        ]
    )
    answer = post_import(world, contact, export)
    assert answer.status_code in (200, 201), answer.get_json()
    found = assessments(world, contact)
    assert found[-1]["cause"] == "import"
    assert found[-1]["message_flags"].get(str(typed["id"]), []) == ["decoy_raised_first"]
    assert flags_of(world, typed["id"]) == ["decoy_raised_first"]  # no longer decoy_initiated
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0


def test_the_sheet_read_by_topic_equals_the_sheet_of_every_annotation(world: Any, app: Any) -> None:
    """The pages and the API read each topic's first annotation with one window query; the bundle and the
    verifier compute the sheet from every annotation. On a conversation with ties of platform time,
    messages at other offsets, retractions and legal remarks, both give the same sheet after every step."""
    import random

    from decoy.initiative.assessment import current_sheet, sheet_of

    chance = random.Random(20261204)  # noqa: S311 - a reproducible test conversation
    contact = world.contact()
    messages = [
        world.message(
            contact,
            direction=chance.choice(["in", "out"]),
            # Few distinct minutes, so that several messages share a platform time; two offsets.
            sent_at=f"2026-03-02T10:0{chance.randrange(4)}:00{chance.choice(['+01:00', '+00:00'])}",
        )["id"]
        for _ in range(24)
    ]
    topics = ["age_stated", "sexual_topic", "meeting_proposed", "payment_offered", "image_requested"]
    marks: list[tuple[int, int, str]] = []
    for step in range(40):
        message, topic = chance.choice(messages), chance.choice(topics)
        extra = {"age": chance.choice([13, 14])} if topic == "age_stated" else {}
        if marks and step % 5 == 4:
            mark, marked, topic = marks.pop(chance.randrange(len(marks)))
            annotate(world, marked, topic, retracts=mark)
        elif step % 7 == 6:
            annotate(world, message, topic, "lena", remark="hello, how are you", **extra)
        else:
            marks.append((annotate(world, message, topic, **extra)["id"], message, topic))
        with app.app_context(), session_scope(app) as session:
            assert current_sheet(session, contact) == sheet_of(session, contact)[0]
    assert sheet(world, contact)["topics"]["sexual_topic"] is not None
