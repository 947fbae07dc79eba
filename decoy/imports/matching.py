"""Which exported messages are new: matching an export against what the contact already holds.

Two kinds of earlier messages meet an export:

* messages of earlier imports: an exported message with the platform's message id matches the stored
  message with that id; one without (WhatsApp, Instagram) matches by direction, platform time and text,
  counted, so that two identical messages in the same minute are two messages and a later export that
  holds both adds neither, while one that holds a third adds one;
* messages typed by hand: one the export confirms (same direction, text equal but for white space, time
  within TYPED_TOLERANCE) is not added again and is reported as confirmed; one the export says otherwise
  (an exported message of the same direction within the tolerance, not confirming any other) is flagged
  ``differs_from_export``; one the export lacks though it falls inside the export's time span is flagged
  ``missing_from_export``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..models.capture import CONFIRMED, DIFFERS, MISSING
from .exports import ExportedMessage

#: How far apart the time typed by hand and the export's time may be for the same message: exports give
#: minutes (WhatsApp on Android) and officers type what the screen shows.
TYPED_TOLERANCE = timedelta(minutes=2)
#: Messages per chunk: a chunk is matched with one query and written in one transaction.
CHUNK = 1000


def normalised(text: str) -> str:
    """A text for comparing a typed message with an exported one: white space runs made one space."""
    return " ".join(text.split())


@dataclass(frozen=True)
class TypedMessage:
    """A message of the contact typed by hand (not imported), as reconciliation needs it."""

    id: int
    direction: str
    sent_at: datetime
    body: str


@dataclass
class Reconciliation:
    """The hand-typed messages of a contact, matched against an export as it streams past."""

    typed: list[TypedMessage]
    tolerance: timedelta = TYPED_TOLERANCE
    matched: set[int] = field(default_factory=set)
    #: Exported messages added near a hand-typed message not yet matched: (time, direction, message id).
    candidates: list[tuple[datetime, str, int | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.typed.sort(key=lambda message: (message.sent_at, message.id))
        self._times = [message.sent_at for message in self.typed]
        self._texts = {message.id: normalised(message.body) for message in self.typed}

    def _near(self, direction: str, moment: datetime) -> Iterator[TypedMessage]:
        start = bisect.bisect_left(self._times, moment - self.tolerance)
        end = bisect.bisect_right(self._times, moment + self.tolerance)
        for message in self.typed[start:end]:
            if message.direction == direction and message.id not in self.matched:
                yield message

    def confirm(self, direction: str, moment: datetime, text: str) -> int | None:
        """The id of a hand-typed message this exported message confirms (now matched), or None."""
        if not self.typed:
            return None
        wanted = normalised(text)
        nearest = min(
            (message for message in self._near(direction, moment) if self._texts[message.id] == wanted),
            key=lambda message: abs(message.sent_at - moment),
            default=None,
        )
        if nearest is None:
            return None
        self.matched.add(nearest.id)
        return nearest.id

    def added(self, direction: str, moment: datetime, message_id: int | None) -> None:
        """Note an exported message that is added, if a hand-typed message may be its typed version."""
        if self.typed and next(self._near(direction, moment), None) is not None:
            self.candidates.append((moment, direction, message_id))

    def finish(self, first: datetime | None, last: datetime | None) -> list[tuple[int, str, int | None]]:
        """Every hand-typed message's outcome: (typed id, outcome, the exported message compared with).

        Confirmed messages first, in the order of their time; then, for those inside the export's time
        span and not confirmed, the nearest unpaired exported message of the same direction makes it
        differ, and without one it is missing. Messages outside the span get no outcome.
        """
        outcomes: list[tuple[int, str, int | None]] = [
            (message.id, CONFIRMED, None) for message in self.typed if message.id in self.matched
        ]
        if first is None or last is None:
            return outcomes
        paired: set[int] = set()
        for message in self.typed:
            if (
                message.id in self.matched
                or not first - self.tolerance <= message.sent_at <= last + self.tolerance
            ):
                continue
            pair = self._pair(message, paired)
            if pair is None:
                outcomes.append((message.id, MISSING, None))
            else:
                paired.add(pair[0])
                outcomes.append((message.id, DIFFERS, pair[1]))
        return outcomes

    def _pair(self, message: TypedMessage, paired: set[int]) -> tuple[int, int | None] | None:
        best: tuple[timedelta, int, int | None] | None = None
        for position, (moment, direction, exported_id) in enumerate(self.candidates):
            distance = abs(moment - message.sent_at)
            if position in paired or direction != message.direction or distance > self.tolerance:
                continue
            if best is None or distance < best[0]:
                best = (distance, position, exported_id)
        return None if best is None else (best[1], best[2])


def chunks(messages: Iterable[ExportedMessage], size: int | None = None) -> Iterator[list[ExportedMessage]]:
    """The messages in chunks of about ``size``, never splitting messages of the same time (so that
    identical messages of one moment are always counted together)."""
    size = size or CHUNK
    chunk: list[ExportedMessage] = []
    for message in messages:
        if len(chunk) >= size and message.sent_at != chunk[-1].sent_at:
            yield chunk
            chunk = []
        chunk.append(message)
    if chunk:
        yield chunk
