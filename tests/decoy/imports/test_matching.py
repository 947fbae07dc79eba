"""Matching an export against typed messages and cutting it into chunks (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from decoy.imports.exports import ExportedMessage
from decoy.imports.matching import Reconciliation, TypedMessage, chunks, normalised

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _typed(*specs: tuple[int, str, int, str]) -> Reconciliation:
    return Reconciliation([TypedMessage(i, d, T0 + timedelta(seconds=s), b) for i, d, s, b in specs])


def test_white_space_does_not_make_a_difference_but_case_does():
    assert normalised(" hello,\n how  are\tyou ") == "hello, how are you"
    assert normalised("Hello") != normalised("hello")


def test_a_confirmation_takes_the_nearest_typed_message_of_the_same_direction_once():
    reconciliation = _typed((1, "in", 0, "ok"), (2, "in", 50, "ok"), (3, "out", 10, "ok"))
    assert reconciliation.confirm("in", T0 + timedelta(seconds=45), "ok") == 2
    assert reconciliation.confirm("in", T0 + timedelta(seconds=45), "ok") == 1
    assert reconciliation.confirm("in", T0 + timedelta(seconds=45), "ok") is None
    assert reconciliation.confirm("out", T0 + timedelta(minutes=3), "ok") is None  # beyond two minutes


def test_unconfirmed_typed_messages_differ_or_are_missing_inside_the_span_only():
    reconciliation = _typed(
        (1, "in", 0, "hello"),
        (2, "out", 60, "fine thank you"),
        (3, "in", 600, "are you there"),
        (4, "in", 86_400, "much later"),
    )
    assert reconciliation.confirm("in", T0, "hello") == 1
    reconciliation.added("out", T0 + timedelta(seconds=60), 101)  # "fine thanks" in the export
    reconciliation.added("in", T0 + timedelta(hours=2), 102)  # near no typed message: not a candidate
    outcomes = reconciliation.finish(T0, T0 + timedelta(hours=1))
    assert outcomes == [
        (1, "confirmed", None),
        (2, "differs_from_export", 101),
        (3, "missing_from_export", None),
    ]


def test_one_exported_message_answers_for_one_typed_message_only():
    reconciliation = _typed((1, "out", 0, "a"), (2, "out", 30, "b"))
    reconciliation.added("out", T0 + timedelta(seconds=10), 7)
    outcomes = reconciliation.finish(T0, T0 + timedelta(minutes=1))
    assert outcomes == [(1, "differs_from_export", 7), (2, "missing_from_export", None)]


def _message(minute: int, number: int) -> ExportedMessage:
    return ExportedMessage("Alex", T0 + timedelta(minutes=minute), f"m{number}", f"line {number}")


def test_chunks_never_split_messages_of_the_same_time():
    messages = [_message(minute, number) for number, minute in enumerate([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])]
    cut = list(chunks(messages, size=2))
    assert [len(chunk) for chunk in cut] == [3, 2, 5]
    assert [m for chunk in cut for m in chunk] == messages
    for first, second in zip(cut, cut[1:], strict=False):
        assert first[-1].sent_at != second[0].sent_at
