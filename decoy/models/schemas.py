"""Building blocks of the JSON shapes: strict input, storable text, ids, RFC 3339 times, pages.

Each feature declares its shapes as pydantic models in its own ``schemas`` module; the API validates
requests with them, its serializers build answers with them, and the OpenAPI document is generated from
them. Plain pydantic rather than SQLModel families: the answers are not rows (usernames instead of
account ids, a message's time at its platform's offset, derived statuses), and the table models stay
as they are.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from werkzeug.datastructures import FileStorage

from ..clock import parse_rfc3339, rfc3339, rfc3339_utc
from . import MAX_ID


class Input(BaseModel):
    """A JSON request body: types exactly as declared ("30" is not 30, 1 is not true); other keys ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Query(BaseModel):
    """Query-string arguments: text by nature, so numbers are read from their digits."""

    model_config = ConfigDict(extra="ignore")


class Upload(Input):
    """A multipart/form-data request: text fields and files."""

    model_config = ConfigDict(arbitrary_types_allowed=True)


class Output(BaseModel):
    """An answer; every field is always present (null where there is no value)."""


def one_of(members: type[enum.Enum] | tuple[str, ...]) -> Any:
    """A Literal type of an enum's values (or of a tuple of names): JSON input names them as text."""
    values = tuple(m.value for m in members) if isinstance(members, type) else members
    return Literal[values]  # type: ignore[valid-type]


def _storable(value: str) -> str:
    """Text a database can hold: U+0000 and unpaired surrogates cannot be stored, so they are refused."""
    if "\x00" in value:
        raise ValueError("contains U+0000, which cannot be stored as text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("contains an unpaired surrogate, which cannot be stored as text") from error
    return value


def text(max_length: int, *, required: bool = False) -> Any:
    """A name or note: surrounding whitespace trimmed, then bounded; ``required`` ones not empty.

    Evidence text (a message's body, a counterpart) is never trimmed: it uses plain ``str``.
    """
    bounds = StringConstraints(strip_whitespace=True, min_length=1 if required else 0, max_length=max_length)
    return Annotated[str, bounds, AfterValidator(_storable)]


def _timestamp(value: object) -> datetime:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value  # already parsed (a form's field handed on); JSON never holds one
    return parse_rfc3339(value)


def _day(value: object) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("must be a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ValueError("must be a date (YYYY-MM-DD)") from error


#: A row id in a request: 1 to the column's largest.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: An RFC 3339 timestamp with its offset (kept on the value); one without an offset is refused.
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
#: A calendar date, YYYY-MM-DD.
Day = Annotated[date, BeforeValidator(_day)]
#: A file part of a multipart request.
File = Annotated[FileStorage, WithJsonSchema({"type": "string", "format": "binary"})]

_TIME_SCHEMA = WithJsonSchema({"type": "string", "format": "date-time"})
#: A moment in an answer, RFC 3339 at the offset it carries (a platform's, an operation's zone's).
Moment = Annotated[datetime, PlainSerializer(rfc3339, return_type=str), _TIME_SCHEMA]
#: A moment in an answer, RFC 3339 in UTC.
UtcMoment = Annotated[datetime, PlainSerializer(rfc3339_utc, return_type=str), _TIME_SCHEMA]
#: A SHA-256 digest in lower-case hex.
Sha256 = Annotated[str, Field(pattern="^[0-9a-f]{64}$")]


#: Where a page continues: the id of the last item of the previous page.
Cursor = Annotated[int, Field(ge=0, le=MAX_ID, description="the id of the last item of the previous page")]


class Page(Output):
    """A page of a list by keyset: ``next`` is the path of the following page, null on the last."""

    items: list[Any]
    next: str | None


class PageQuery(Query):
    """The keyset cursor and the page size."""

    after: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class LongPageQuery(PageQuery):
    """A page of up to 500 that shows 100 unless asked otherwise."""

    limit: Annotated[int, Field(ge=1, le=500)] = 100


class TranscriptQuery(LongPageQuery):
    """A page of a transcript; ``marked`` keeps only the messages annotated or flagged."""

    marked: bool = Field(
        default=False,
        description="true (or 1): only the messages that carry an annotation or a flag now, same order",
    )
