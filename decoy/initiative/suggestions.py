"""Suggestions of the topics a message may carry, from a local word and pattern list (Dutch and English).

A suggestion is never a finding: it only points an officer at a message, and counts once the officer
confirms it as an annotation. Matching happens here, in the process: no text leaves the machine.

The list is a JSON file (docs/evidence-logging.md, "Suggestions")::

    {"version": 1, "languages": {"nl": {"<topic>": ["term", "/regex/", ...]}, "en": {...}}}

* A plain term matches whole words (no letter, digit or underscore may adjoin it), ignoring letter case
  and accents; the words of a term of several words match with any whitespace between them.
* A term written ``/.../`` is a regular expression, matched case-insensitively against the message
  with its accents removed. Like a plain term, its match starts only where no word character
  precedes it (the pattern decides where it ends). For ``age_stated`` the first capture group that
  holds a number from 1 to 120 is the age stated.

Matching is fast because every entry of every topic is one alternative of a single expression, and a
match may start only after a character that is not a word character: the engine passes over the inside
of words without trying the alternatives there. Where it finds a match, each topic's own expression
(all the topic's entries in one) says whether that topic matches there.

The shipped list (wordlist.json beside this module) is replaced entirely by ``suggestions.json`` in the
data directory when that file exists. The message text is hostile input: it is only ever searched, never
evaluated or made part of a pattern, and only its first ``MAX_SCANNED`` characters are searched.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from flask import current_app

from ..models.initiative import TOPICS

#: The format of the list this module reads.
FORMAT_VERSION = 1
#: The languages a list may hold, in the order a term listed in several of them is attributed.
LANGUAGES = ("nl", "en")
#: The override's file name in the data directory.
OVERRIDE_NAME = "suggestions.json"
#: The longest term or pattern (in characters, a pattern without its slashes).
MAX_TERM = 200
#: The largest list file read.
MAX_FILE_BYTES = 1024 * 1024
#: How much of a message is searched: its first characters.
MAX_SCANNED = 20_000
#: The ages a suggestion of ``age_stated`` may carry.
AGE_RANGE = range(1, 121)
SHIPPED_NAME = "wordlist.json"

#: Characters that stand for the ASCII apostrophe and quotes in the folded text.
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"'}
#: Openings of a named group, a reference to a group by name, and a condition on a group.
_GROUP_SYNTAX = ("(?P<", "(?P=", "(?(")
#: Escapes that give a character by its code (it may be a capital).
_CODE_ESCAPES = re.compile(r"\\[xu0]")


class WordListError(ValueError):
    """A word list that cannot be used: the message names the file and the problem."""


@dataclass(frozen=True)
class Suggestion:
    """The word list's suggestion that a message carries a topic; never a finding until confirmed."""

    topic: str
    #: The list's entry that matched, as written there (a pattern with its slashes).
    term: str
    #: The language of the list the entry is in ("nl" or "en").
    language: str
    #: The match's character offsets in the message text.
    start: int
    end: int
    #: The age stated (``age_stated`` only, when the entry captures one).
    age: int | None = None


@dataclass(frozen=True)
class _Pattern:
    term: str
    language: str
    #: The pattern alone, matched again where its topic's expression matched.
    expression: re.Pattern[str]


class _Matcher:
    """Where any of some plain terms and patterns matches.

    A match starts where no word character (letter, digit or underscore) precedes it: at the text's
    start (``lead``), or right after a character that is not a word character (``scan``, which matches
    that character first). Searching for that character lets the engine pass over the inside of words
    quickly, instead of trying every alternative at every position.
    """

    __slots__ = ("lead", "scan")

    def __init__(self, alternatives: str, source: str) -> None:
        self.lead = _compile(f"(?:{alternatives})", source)
        self.scan = _compile(rf"\W(?:{alternatives})", source)


@dataclass(frozen=True)
class _Topic:
    name: str
    #: All of the topic's entries in one expression: its plain terms first, then its patterns in the
    #: list's order (matched at a position the union found).
    expression: re.Pattern[str]
    #: The plain terms alone, or None when the topic has none.
    plain_expression: re.Pattern[str] | None
    #: Folded plain term (words joined by one space) -> (term as listed, language).
    plain: dict[str, tuple[str, str]]
    patterns: tuple[_Pattern, ...]


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character as the matcher sees it: compatibility-decomposed, in lower case, without accents
    and invisible format characters, with typographic apostrophes as ``'``."""
    if char in _QUOTES:
        return _QUOTES[char]
    if unicodedata.category(char) == "Cf":
        return ""
    decomposed = unicodedata.normalize("NFKD", char).lower()
    return "".join(part for part in decomposed if not unicodedata.combining(part))


def _fold(text: str) -> tuple[str, list[int] | None]:
    """The text as the matcher sees it, and for each of its characters the offset in ``text`` it comes
    from (plus one past the end); ``None`` when the offsets are the same (ASCII text)."""
    if text.isascii():
        return text.lower(), None
    pieces = []
    offsets = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded:
            pieces.append(folded)
            offsets.extend([index] * len(folded))
    offsets.append(len(text))
    return "".join(pieces), offsets


def _fold_pattern(source: str) -> str:
    """A pattern's source without accents (its letter case is left to the case-insensitive flag)."""
    if source.isascii():
        return source
    decomposed = unicodedata.normalize("NFKD", "".join(_QUOTES.get(char, char) for char in source))
    return "".join(part for part in decomposed if not unicodedata.combining(part))


def _plain_key(term: str) -> str:
    """A plain term folded as the text is, its words joined by one space."""
    return " ".join("".join(_fold_char(char) for char in term).split())


def _age(match: re.Match[str]) -> int | None:
    """The first capture group of ``match`` that holds a number from 1 to 120."""
    for value in match.groups():
        if value is not None and value.isdecimal() and len(value) <= 3 and int(value) in AGE_RANGE:
            return int(value)
    return None


class WordList:
    """A validated word and pattern list, compiled into one expression per topic."""

    def __init__(self, data: Any, *, sha256: str, source: str) -> None:
        self.source = source
        self.sha256 = sha256
        self.version = _check_document(data, source)
        terms: dict[str, list[tuple[str, str]]] = {topic: [] for topic in TOPICS}
        for language in LANGUAGES:
            for topic, entries in data["languages"].get(language, {}).items():
                terms[topic].extend((entry, language) for entry in entries)
        self._topics = tuple(
            compiled for topic in TOPICS if (compiled := _compile_topic(topic, terms[topic], source))
        )
        # Every match of a topic is a match of this union: a text it does not match carries no topic,
        # and none carries one before the union's first match.
        plain = sorted({key for topic in self._topics for key in topic.plain})
        patterns = [pattern for topic in self._topics for pattern in topic.patterns]
        self._any = _Matcher(_alternatives(plain, patterns), source) if self._topics else None

    @classmethod
    def from_bytes(cls, raw: bytes, source: str) -> WordList:
        """Parse and compile a list file's content (``source`` names it in errors)."""
        if len(raw) > MAX_FILE_BYTES:
            raise WordListError(f"{source}: the file is larger than {MAX_FILE_BYTES} bytes")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise WordListError(f"{source}: the file is not UTF-8 ({error})") from error
        try:
            data = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
        except json.JSONDecodeError as error:
            raise WordListError(f"{source}: not valid JSON: {error}") from error
        except _DuplicateKey as error:
            raise WordListError(f"{source}: the key {error.args[0]!r} appears twice in one object") from error
        return cls(data, sha256=hashlib.sha256(raw).hexdigest(), source=source)

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics the list has terms for, in TOPICS order."""
        return tuple(topic.name for topic in self._topics)

    def suggest(self, text: str) -> list[Suggestion]:
        """The topics ``text`` may carry: at most one suggestion per topic (its earliest match), in
        TOPICS order. Only the first MAX_SCANNED characters are searched."""
        if self._any is None or not text:
            return []
        scanned = text[:MAX_SCANNED]
        folded, offsets = (scanned.lower(), None) if scanned.isascii() else _fold(scanned)
        lead, scan = self._any.lead, self._any.scan
        if lead.match(folded) is not None:
            start = 0
        elif (separator := scan.search(folded)) is not None:
            start = separator.start() + 1
        else:
            return []  # the common case: no entry matches anywhere
        found: dict[str, Suggestion] = {}
        # Each position where any entry matches, earliest first; there, each topic not yet found.
        while True:
            for topic in self._topics:
                if topic.name not in found and topic.expression.match(folded, start) is not None:
                    suggestion = _suggestion(topic, folded, start, offsets)
                    if suggestion is not None:
                        found[topic.name] = suggestion
            if len(found) == len(self._topics) or (separator := scan.search(folded, start)) is None:
                break
            start = separator.start() + 1
        return [found[topic.name] for topic in self._topics if topic.name in found]


def _suggestion(topic: _Topic, folded: str, start: int, offsets: list[int] | None) -> Suggestion | None:
    """The suggestion of the topic's entry that matches at ``start``: its plain terms first, then its
    patterns in order. For ``age_stated`` a pattern whose numbers are no age ("I am 500") does not
    count."""
    age = None
    match = topic.plain_expression.match(folded, start) if topic.plain_expression else None
    if match is not None:
        term, language = topic.plain[" ".join(match.group().split())]
    else:
        for pattern in topic.patterns:
            match = pattern.expression.match(folded, start)
            if match is None:
                continue
            if topic.name == "age_stated" and pattern.expression.groups:
                age = _age(match)
                if age is None:
                    continue
            term, language = pattern.term, pattern.language
            break
        else:
            return None
    end = match.end()
    if offsets is not None:
        start, end = offsets[start], (offsets[end - 1] + 1 if end > start else offsets[start])
    return Suggestion(topic=topic.name, term=term, language=language, start=start, end=end, age=age)


class _DuplicateKey(Exception):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _check_document(data: Any, source: str) -> int:
    """Refuse a list that is not of the documented shape; return its version."""

    def fail(problem: str) -> WordListError:
        return WordListError(f"{source}: {problem}")

    if not isinstance(data, dict):
        raise fail('the list must be a JSON object {"version": 1, "languages": {...}}')
    unknown = sorted(set(data) - {"version", "languages"})
    if unknown:
        raise fail(f"unknown keys {', '.join(map(repr, unknown))} (the keys are version and languages)")
    version = data.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise fail(f"version must be {FORMAT_VERSION}, not {version!r}")
    languages = data.get("languages")
    if not isinstance(languages, dict):
        raise fail('"languages" must be an object of languages ("nl", "en")')
    for language, topics in languages.items():
        if language not in LANGUAGES:
            raise fail(f"unknown language {language!r} (the languages are {', '.join(LANGUAGES)})")
        if not isinstance(topics, dict):
            raise fail(f"languages.{language} must be an object of topics")
        for topic, entries in topics.items():
            if topic not in TOPICS:
                raise fail(
                    f"languages.{language}: unknown topic {topic!r} (the topics are {', '.join(TOPICS)})"
                )
            if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
                raise fail(f"languages.{language}.{topic} must be a list of texts")
    return FORMAT_VERSION


def _is_pattern(entry: str) -> bool:
    return len(entry) >= 2 and entry.startswith("/") and entry.endswith("/")


def _check_pattern(topic: str, language: str, entry: str, source: str) -> _Pattern:
    """A pattern entry compiled, or WordListError naming its topic and the entry."""
    body = entry[1:-1]

    def fail(problem: str) -> WordListError:
        return WordListError(f"{source}: languages.{language}.{topic}: the pattern {entry!r} {problem}")

    if not body:
        raise fail("is empty")
    if len(body) > MAX_TERM:
        raise fail(f"is longer than {MAX_TERM} characters")
    folded = _fold_pattern(body)
    if _refers_to_groups(folded):
        raise fail("refers to a group (a back-reference, named group or condition); use plain (...) groups")
    try:
        re.compile(folded)  # alone: refuses "a)|(b", which would escape its group
        alone = re.compile(_scoped(folded))  # as one alternative among others
    except re.error as error:
        raise fail(f"does not compile: {error}") from error
    except RecursionError as error:
        raise fail("is nested too deeply") from error
    if alone.match(""):
        raise fail("matches an empty text")
    return _Pattern(entry, language, alone)


def _refers_to_groups(source: str) -> bool:
    """Whether a pattern names groups or refers to them (``\\1``, ``(?P<name>``, ``(?P=name)``,
    ``(?(1)``): once the pattern is one alternative among many, its groups have other numbers, and two
    patterns could name the same group."""
    index = 0
    while index < len(source):
        if source[index] == "\\":
            if source[index + 1 : index + 2].isdigit() and source[index + 1] != "0":
                return True
            index += 2
            continue
        if source.startswith(_GROUP_SYNTAX, index) or (
            source.startswith("(?<", index) and source[index + 3 : index + 4] not in ("=", "!")
        ):
            return True
        index += 1
    return False


def _scoped(pattern: str) -> str:
    """A pattern as one alternative of a combined expression, case-insensitive. The text it meets is
    in lower case already, so a pattern without capitals (and without characters given by their code)
    needs no flag, which the engine matches faster."""
    if pattern == pattern.lower() and not _CODE_ESCAPES.search(pattern):
        return f"(?:{pattern})"
    return f"(?i:{pattern})"


def _trie(keys: list[str]) -> str:
    """One expression for folded plain terms: a trie (terms that share a beginning share it in the
    expression, so each position tries few alternatives), a longer term before the one it extends, the
    words of a term separated by any whitespace."""
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        branches = [
            (r"\s+" if char == " " else re.escape(char)) + render(child)
            for char, child in sorted(node.items())
            if char
        ]
        if "" in node:  # a term ends here: longer terms first, then this one
            return f"(?:{'|'.join(branches)}|)" if branches else ""
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    return render(root)


def _alternatives(plain: list[str], patterns: list[_Pattern]) -> str:
    """Plain terms (whole words: no word character may follow) and patterns as one alternation."""
    alternatives = [rf"(?:{_trie(plain)})(?!\w)"] if plain else []
    alternatives += [pattern.expression.pattern for pattern in patterns]
    return "|".join(alternatives)


def _compile(expression: str, source: str) -> re.Pattern[str]:
    try:
        return re.compile(expression)
    except (re.error, RecursionError, OverflowError) as error:
        raise WordListError(f"{source}: the list cannot be compiled: {error}") from error


def _compile_topic(topic: str, entries: list[tuple[str, str]], source: str) -> _Topic | None:
    """One expression for all of a topic's entries (None when it has none)."""
    plain: dict[str, tuple[str, str]] = {}
    patterns: list[_Pattern] = []
    for entry, language in entries:
        if _is_pattern(entry):
            patterns.append(_check_pattern(topic, language, entry, source))
            continue
        where = f"{source}: languages.{language}.{topic}"
        key = _plain_key(entry)
        if not key:
            raise WordListError(f"{where}: an empty term")
        if len(entry) > MAX_TERM:
            raise WordListError(f"{where}: the term {entry!r} is longer than {MAX_TERM} characters")
        plain.setdefault(key, (entry, language))  # a term in both languages counts as the first's
    if not plain and not patterns:
        return None
    keys = sorted(plain)
    return _Topic(
        name=topic,
        expression=_compile(_alternatives(keys, patterns), source),
        plain_expression=_compile(_alternatives(keys, []), source) if keys else None,
        plain=plain,
        patterns=tuple(patterns),
    )


@lru_cache(maxsize=1)
def shipped_word_list() -> WordList:
    """The list shipped with Decoy."""
    raw = resources.files(__package__).joinpath(SHIPPED_NAME).read_bytes()
    return WordList.from_bytes(raw, f"{__package__}/{SHIPPED_NAME} (shipped)")


_cache_lock = threading.Lock()
#: Override path -> ((mtime, size, inode), its list): an edited file is read again, with no restart.
_cache: dict[Path, tuple[tuple[int, int, int], WordList]] = {}


def load_word_list(path: Path | None) -> WordList:
    """The list in the override file ``path`` when it exists, else the shipped list.

    The file is read once per version: the result is kept until its modification time, size or inode
    changes. A file that cannot be read or used raises WordListError naming it (never the shipped list
    in its place: a force that keeps its own list must know when it is broken).
    """
    if path is None:
        return shipped_word_list()
    try:
        status = path.stat()
    except FileNotFoundError:
        return shipped_word_list()
    except OSError as error:
        raise WordListError(f"{path}: cannot be read: {error.strerror or error}") from error
    key = (status.st_mtime_ns, status.st_size, status.st_ino)
    with _cache_lock:
        cached = _cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    if status.st_size > MAX_FILE_BYTES:
        raise WordListError(f"{path}: the file is larger than {MAX_FILE_BYTES} bytes")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise WordListError(f"{path}: cannot be read: {error.strerror or error}") from error
    word_list = WordList.from_bytes(raw, str(path))
    with _cache_lock:
        _cache[path] = (key, word_list)
    return word_list


def override_path(data_dir: str | Path) -> Path:
    """Where a data directory's own list lives."""
    return Path(data_dir) / OVERRIDE_NAME


def current_word_list() -> WordList:
    """The list of the current application: its data directory's ``suggestions.json``, or the shipped
    one."""
    return load_word_list(override_path(current_app.config["DATA_DIR"]))

