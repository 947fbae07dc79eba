"""The word list's suggestions: matching in Dutch and English, the override file, and hostile text.

Every text here is invented and neutral; the one topic whose shipped words are not repeated in tests
(sexual_topic) is tested with an override list holding a placeholder word.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from importlib import resources
from pathlib import Path

import pytest
from flask import Flask

from decoy.initiative import suggestions
from decoy.initiative.suggestions import (
    MAX_SCANNED,
    Suggestion,
    WordList,
    WordListError,
    current_word_list,
    load_word_list,
    shipped_word_list,
)
from decoy.models.initiative import TOPICS


def _list(languages: dict[str, dict[str, list[str]]], version: int = 1) -> WordList:
    raw = json.dumps({"version": version, "languages": languages}).encode()
    return WordList.from_bytes(raw, "test list")


def _write(path: Path, languages: dict[str, dict[str, list[str]]]) -> Path:
    path.write_text(json.dumps({"version": 1, "languages": languages}), encoding="utf-8")
    return path


def _only(word_list: WordList, text: str) -> Suggestion:
    found = word_list.suggest(text)
    assert len(found) == 1, found
    return found[0]


SHIPPED = shipped_word_list()
PLACEHOLDER = {"nl": {"sexual_topic": ["topicwoord"]}, "en": {"sexual_topic": ["topicword", "topic phrase"]}}


# The shipped list


def test_the_shipped_list_loads_and_records_its_hash():
    raw = resources.files("decoy.initiative").joinpath("wordlist.json").read_bytes()
    assert SHIPPED.version == 1
    assert SHIPPED.sha256 == hashlib.sha256(raw).hexdigest()
    assert SHIPPED.topics == TOPICS
    assert load_word_list(None) is SHIPPED


def test_the_shipped_list_is_restrained():
    """Few plain words for sexual_topic, no patterns there; every topic listed in both languages."""
    data = json.loads(resources.files("decoy.initiative").joinpath("wordlist.json").read_text("utf-8"))
    for language in ("nl", "en"):
        assert set(data["languages"][language]) == set(TOPICS)
        words = data["languages"][language]["sexual_topic"]
        assert 1 <= len(words) <= 4
        assert not any(word.startswith("/") for word in words)


@pytest.mark.parametrize(
    ("text", "topic", "term", "language", "fragment"),
    [
        ("zullen we morgen afspreken bij de bibliotheek", "meeting_proposed", "afspreken", "nl", "afspreken"),
        ("zien we elkaar na school?", "meeting_proposed", "zien we elkaar", "nl", "zien we elkaar"),
        ("wat is je adres", "meeting_proposed", "adres", "nl", "adres"),
        ("shall we meet at the park", "meeting_proposed", "meet", "en", "meet"),
        ("so where do you live then", "meeting_proposed", "where do you live", "en", "where do you live"),
        ("ik kan het betalen hoor", "payment_offered", "betalen", "nl", "betalen"),
        ("ik stuur je een tikkie", "payment_offered", "tikkie", "nl", "tikkie"),
        ("I will pay for the tickets", "payment_offered", "pay", "en", "pay"),
        ("you can have a gift card", "payment_offered", "gift card", "en", "gift card"),
        ("stuur een foto van de tuin", "image_requested", "stuur een foto", "nl", "stuur een foto"),
        ("heb je een foto van je hond", "image_requested", "foto van je", "nl", "foto van je"),
        ("can you send a photo of the garden", "image_requested", "send a photo", "en", "send a photo"),
        ("send a pic of the view", "image_requested", "send a pic", "en", "send a pic"),
        ("hier is een foto van het strand", "image_sent", "hier is een foto", "nl", "hier is een foto"),
        ("ik heb de foto gestuurd", "image_sent", "foto gestuurd", "nl", "foto gestuurd"),
        ("here is a photo of the beach", "image_sent", "here is a photo", "en", "here is a photo"),
        ("I sent you a pic earlier", "image_sent", "sent you a pic", "en", "sent you a pic"),
    ],
)
def test_each_topic_in_dutch_and_english(text, topic, term, language, fragment):
    found = _only(SHIPPED, text)
    assert (found.topic, found.term, found.language, found.age) == (topic, term, language, None)
    assert text[found.start : found.end] == fragment


@pytest.mark.parametrize(
    ("text", "age", "language", "fragment"),
    [
        ("ik ben 14", 14, "nl", "ik ben 14"),
        ("hoi, ik ben 15 en jij?", 15, "nl", "ik ben 15"),
        ("ik ben   16 jaar", 16, "nl", "ik ben   16"),
        ("al 17 jaar in dit dorp", 17, "nl", "17 jaar"),
        ("bijna 13jr", 13, "nl", "13jr"),
        ("I am 14", 14, "en", "I am 14"),
        ("I'm 15 and you?", 15, "en", "I'm 15"),
        ("I\u2019m 15 and you?", 15, "en", "I\u2019m 15"),
        ("im 16 btw", 16, "en", "im 16"),
        ("just turned 14 years old", 14, "en", "14 years old"),
        ("she is 12 yo", 12, "en", "12 yo"),
    ],
)
def test_an_age_is_captured_in_both_languages(text, age, language, fragment):
    found = _only(SHIPPED, text)
    assert (found.topic, found.age, found.language) == ("age_stated", age, language)
    assert text[found.start : found.end] == fragment


@pytest.mark.parametrize(
    "text",
    [
        "I am 500 metres away",  # no age: 1 to 120 only
        "I am 0",
        "ik ben 14:30 thuis",  # a time
        "ik ben 1,5 uur weg",
        "the year 2014 jaar",  # "014" inside a number is no age
        "dik ben 14",  # "ik ben" inside a word
    ],
)
def test_numbers_that_are_no_age_are_not_suggested(text):
    assert [s for s in SHIPPED.suggest(text) if s.topic == "age_stated"] == []


def test_the_first_age_that_is_one_counts():
    found = _only(SHIPPED, "I am 500 km away and 16 years old")
    assert found.age == 16
    assert found.term.startswith("/")


def test_neutral_text_gets_no_suggestion():
    for text in ("hello, how are you", "hoi, hoe gaat het", "", "   ", "school was long today"):
        assert SHIPPED.suggest(text) == []


# How plain terms match


def test_case_is_ignored():
    assert _only(SHIPPED, "Shall we MEET at the Station").term == "meet"
    assert _only(SHIPPED, "Zullen we Ontmoeten?").term == "ontmoeten"


def test_accents_are_ignored_in_the_text_and_in_the_list():
    text = "Zullen we ontmóéten?"
    found = _only(SHIPPED, text)
    assert found.term == "ontmoeten"
    assert text[found.start : found.end] == "ontmóéten"
    decomposed = "we kunnen ontmoe\u0301ten"  # e + combining acute
    found = _only(SHIPPED, decomposed)
    assert decomposed[found.start : found.end] == "ontmoe\u0301ten"
    word_list = _list({"nl": {"meeting_proposed": ["café"]}})
    for text in ("bij het cafe", "bij het CAFÉ", "bij het Cafè"):
        assert _only(word_list, text).term == "café"


def test_offsets_are_those_of_the_original_text():
    text = "Ça va? \U0001f642 Ｓｈａｌｌ we meet at noon"  # accents, an emoji, full-width letters
    found = _only(SHIPPED, text)
    assert text[found.start : found.end] == "meet"
    text = "ﬁne, ﬁne. Ｍｅｅｔ me later"
    found = _only(SHIPPED, text)
    assert (found.term, text[found.start : found.end]) == ("meet me", "Ｍｅｅｔ me")


def test_a_plain_term_matches_whole_words_only():
    assert SHIPPED.suggest("the meeting was long") == []
    assert SHIPPED.suggest("a meetup of the chess club") == []
    assert SHIPPED.suggest("stationery shop") == []
    assert SHIPPED.suggest("payday is friday") == []
    assert SHIPPED.suggest("prepay_card") == []
    assert _only(SHIPPED, "meet-and-greet").term == "meet"
    assert _only(SHIPPED, "(meet)").term == "meet"
    assert _only(SHIPPED, "meet").term == "meet"


def test_the_words_of_a_term_match_with_any_whitespace_between():
    text = "stuur  een\nfoto"
    found = _only(SHIPPED, text)
    assert (found.term, text[found.start : found.end]) == ("stuur een foto", text)
    assert _only(SHIPPED, "meet\t up later").term == "meet up"
    assert SHIPPED.suggest("stuureenfoto") == []


def test_the_longest_term_at_a_position_counts():
    assert _only(SHIPPED, "shall we meet up later").term == "meet up"
    assert _only(SHIPPED, "meet upstairs").term == "meet"


def test_typographic_apostrophes_match_the_plain_one():
    assert _only(SHIPPED, "Here\u2019s a photo of the dog").term == "here's a photo"


def test_one_suggestion_per_topic_the_earliest_in_topic_order():
    text = "here is a photo. shall we meet? or meet up at the station. ik ben 14. I will pay"
    found = SHIPPED.suggest(text)
    assert [s.topic for s in found] == ["age_stated", "meeting_proposed", "payment_offered", "image_sent"]
    meeting = found[1]
    assert (meeting.term, meeting.start) == ("meet", text.index("meet"))
    assert found[0].age == 14


def test_a_term_in_both_languages_counts_as_the_first_language():
    word_list = _list({"en": {"meeting_proposed": ["park"]}, "nl": {"meeting_proposed": ["park"]}})
    assert _only(word_list, "in het park").language == "nl"


def test_suggestions_are_frozen():
    found = _only(SHIPPED, "shall we meet")
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.topic = "image_sent"  # type: ignore[misc]


# Patterns


def test_a_pattern_is_case_insensitive_and_may_capture_an_age():
    word_list = _list({"en": {"age_stated": [r"/AGE\s*:\s*(\d+)/"], "payment_offered": [r"/\d+\s*coins?/"]}})
    found = word_list.suggest("Age: 33 and 5 Coins")
    assert [(s.topic, s.age, s.term) for s in found] == [
        ("age_stated", 33, r"/AGE\s*:\s*(\d+)/"),
        ("payment_offered", None, r"/\d+\s*coins?/"),
    ]


def test_a_pattern_starts_where_no_word_character_precedes_it():
    word_list = _list({"en": {"image_sent": ["/pic+/"]}})
    assert _only(word_list, "a picc here").term == "/pic+/"
    assert word_list.suggest("epic") == []


def test_groups_of_several_patterns_do_not_mix():
    word_list = _list(
        {
            "nl": {"age_stated": [r"/leeftijd\s+(\d+)/"]},
            "en": {"age_stated": [r"/(age)\s+(\d+)/", r"/(\w+)\s+(\w+)\s+years/"]},
        }
    )
    assert _only(word_list, "my age 22").age == 22
    assert _only(word_list, "almost twenty 21 years").age == 21
    assert _only(word_list, "leeftijd 19").language == "nl"


# Loading and the override


def _app(data_dir: Path) -> Flask:
    app = Flask(__name__)
    app.config["DATA_DIR"] = str(data_dir)
    return app


def test_the_override_in_the_data_directory_replaces_the_shipped_list(tmp_path):
    app = _app(tmp_path)
    with app.app_context():
        assert current_word_list() is SHIPPED
        path = _write(tmp_path / "suggestions.json", PLACEHOLDER)
        word_list = current_word_list()
    assert word_list.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert word_list.topics == ("sexual_topic",)
    found = _only(word_list, "a Topicword here")
    assert (found.topic, found.term, found.language) == ("sexual_topic", "topicword", "en")
    assert _only(word_list, "een topicwoord").language == "nl"
    assert _only(word_list, "the topic   phrase").term == "topic phrase"
    assert word_list.suggest("shall we meet at the station") == []  # the shipped list is gone entirely


def test_the_override_is_read_once_and_again_when_edited(tmp_path):
    path = _write(tmp_path / "suggestions.json", {"en": {"sexual_topic": ["topicword"]}})
    first = load_word_list(path)
    assert load_word_list(path) is first
    _write(path, {"en": {"sexual_topic": ["topicwort"]}})  # the same size
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    edited = load_word_list(path)
    assert edited is not first
    assert _only(edited, "a topicwort").term == "topicwort"
    assert edited.suggest("a topicword") == []
    path.unlink()
    assert load_word_list(path) is SHIPPED


def test_an_empty_override_suggests_nothing(tmp_path):
    path = _write(tmp_path / "suggestions.json", {})
    word_list = load_word_list(path)
    assert word_list.topics == ()
    assert word_list.suggest("shall we meet") == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[]", "must be a JSON object"),
        (b'{"version": 2, "languages": {}}', "version must be 1"),
        (b'{"version": true, "languages": {}}', "version must be 1"),
        (b'{"version": 1}', '"languages" must be an object'),
        (b'{"version": 1, "languages": {}, "comment": "x"}', "unknown keys 'comment'"),
        (b'{"version": 1, "languages": {"de": {}}}', "unknown language 'de'"),
        (b'{"version": 1, "languages": {"en": []}}', "languages.en must be an object"),
        (b'{"version": 1, "languages": {"en": {"meetings": ["x"]}}}', "unknown topic 'meetings'"),
        (b'{"version": 1, "languages": {"en": {"image_sent": "x"}}}', "en.image_sent must be a list"),
        (b'{"version": 1, "languages": {"en": {"image_sent": [1]}}}', "en.image_sent must be a list"),
        (b'{"version": 1, "languages": {"en": {"image_sent": ["  "]}}}', "en.image_sent: an empty term"),
        (b'{"version": 1, "languages": {"en": {}, "en": {}}}', "the key 'en' appears twice"),
    ],
)
def test_a_broken_override_is_an_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "suggestions.json"
    path.write_bytes(content)
    with pytest.raises(WordListError) as raised:
        load_word_list(path)
    assert str(path) in str(raised.value)
    assert problem in str(raised.value)
    assert isinstance(raised.value, ValueError)
    app = _app(tmp_path)
    with app.app_context(), pytest.raises(WordListError):
        current_word_list()


def test_a_broken_override_stays_an_error_until_repaired(tmp_path):
    path = tmp_path / "suggestions.json"
    path.write_text("{", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(WordListError):
            load_word_list(path)
    _write(path, PLACEHOLDER)
    assert load_word_list(path).topics == ("sexual_topic",)


def test_an_override_that_is_too_large_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(suggestions, "MAX_FILE_BYTES", 100)
    path = _write(tmp_path / "suggestions.json", {"en": {"image_sent": ["x" * 120]}})
    with pytest.raises(WordListError, match="larger than 100 bytes"):
        load_word_list(path)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("/(unclosed/", "does not compile"),
        ("/a)|(b/", "does not compile"),
        ("/[z-a]/", "does not compile"),
        ("/x(?i)y/", "does not compile"),
        ("/" + "a" * 201 + "/", "is longer than 200 characters"),
        ("//", "is empty"),
        ("/a*/", "matches an empty text"),
        (r"/(a)\1/", "refers to a group"),
        ("/(?P<n>a)/", "refers to a group"),
        ("/(?P<n>a)(?P=n)/", "refers to a group"),
        ("/(a)?(?(1)b|c)/", "refers to a group"),
    ],
)
def test_a_bad_pattern_is_refused_naming_topic_and_term(tmp_path, pattern, problem):
    path = _write(tmp_path / "suggestions.json", {"en": {"meeting_proposed": ["park", pattern]}})
    with pytest.raises(WordListError) as raised:
        load_word_list(path)
    message = str(raised.value)
    assert str(path) in message
    assert "meeting_proposed" in message
    assert repr(pattern) in message
    assert problem in message


def test_a_term_longer_than_200_characters_is_refused():
    with pytest.raises(WordListError, match="image_sent: the term 'xxxx.* is longer than 200 characters"):
        _list({"en": {"image_sent": ["x" * 201]}})


def test_an_escaped_backslash_before_a_digit_is_no_group_reference():
    word_list = _list({"en": {"payment_offered": [r"/\\1 coin/"]}})
    assert _only(word_list, "a \\1 coin").topic == "payment_offered"


# Hostile text


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1_000_000,
        " " * 1_000_000,
        "1" * 200_000,
        "1 " * 100_000,
        "ik ben " * 50_000,
        "ik" + " " * 100_000 + "ben",
        "I am 999 " * 20_000,
        "meet " * 100_000,
        "stuur een " * 50_000,
        "zien we " * 50_000,
        "\u0301" * 200_000,
        "é" * 200_000,
        "((((a+)+)+)+$" * 10_000,
        ".*" * 100_000 + "\\",
        "\u202e\u200b" * 100_000,
    ],
)
def test_hostile_text_returns_promptly(text):
    started = time.perf_counter()
    SHIPPED.suggest(text)
    _list(PLACEHOLDER).suggest(text)
    assert time.perf_counter() - started < 2.0


def test_only_the_first_characters_are_searched():
    assert SHIPPED.suggest("x" * (MAX_SCANNED - 3) + " meet") == []  # "meet" is cut to "mee"
    found = _only(SHIPPED, "x" * (MAX_SCANNED - 10) + " meet")
    assert found.start == MAX_SCANNED - 9


def test_the_text_is_never_a_pattern():
    """Regular-expression syntax in a message is matched as text and never compiled."""
    word_list = _list({"en": {"payment_offered": ["a+b", "(c)"]}})
    assert word_list.suggest("aab") == []
    assert _only(word_list, "x a+b y").term == "a+b"
    assert _only(word_list, "x (c) y").term == "(c)"
    assert SHIPPED.suggest("(?P<x>meet)") == [
        Suggestion(topic="meeting_proposed", term="meet", language="en", start=6, end=10)
    ]
