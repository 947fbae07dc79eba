"""The JSON shapes of contacts, messages, attachments and search: what capture tools send and get."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..models import FLAGS
from ..models.schemas import File, Id, Input, Moment, Output, Page, Query, Sha256, Timestamp, Upload, one_of
from .search import MAX_QUERY, MIN_QUERY
from .services import DIRECTIONS, MAX_BODY_CHARS, MAX_COUNTERPART_CHARS, MAX_FILES

Flag = one_of(FLAGS)
Direction = one_of(DIRECTIONS)
SENT_AT = "the platform's time, RFC 3339 with the offset the platform showed"
#: Evidence text is kept verbatim: never trimmed or normalised (the service refuses what cannot be stored).
Body = Annotated[str, Field(max_length=MAX_BODY_CHARS, description="the text exactly as shown")]


class ContactCreate(Input):
    """A counterpart who reached a decoy profile, as the platform shows them."""

    counterpart: Annotated[str, Field(min_length=1, max_length=MAX_COUNTERPART_CHARS)]
    first_seen_at: Timestamp | None = Field(default=None, description="default: now; " + SENT_AT)


class MessageCreate(Input):
    """One message, recorded verbatim (JSON; files need the multipart form)."""

    direction: Direction = Field(description='"in" from the counterpart, "out" from the decoy')
    sent_at: Timestamp = Field(description=SENT_AT)
    body: Body
    corrects: Id | None = Field(default=None, description="the message of the same contact this one corrects")


class MessageUpload(Upload):
    """One message with its files in ``attachments``; the body may be empty when there is a file."""

    direction: Direction
    sent_at: Timestamp = Field(description=SENT_AT)
    body: Body = ""
    corrects: Annotated[str, Field(pattern="^[0-9]{1,9}$")] | None = None
    attachments: Annotated[list[File], Field(max_length=MAX_FILES)] = []

    @property
    def corrects_id(self) -> int | None:
        """The corrected message's id."""
        return None if self.corrects is None else int(self.corrects)


class AttachmentPublic(Output):
    """A file of a message; the file itself is at ``/attachments/<id>``."""

    id: int
    sha256: Sha256
    size: int
    media_type: str
    filename: str


class ContactPublic(Output):
    """A contact: counterpart verbatim, first sighting, flags and who recorded it."""

    id: int
    operation_id: int
    profile_id: int
    counterpart: str
    first_seen_at: Moment
    flags: list[Flag]
    recorded_by: str
    recorded_at: Moment


class MessagePublic(Output):
    """A message: the platform's time with its own offset, the server's time in UTC, text verbatim."""

    id: int
    contact_id: int
    direction: Direction
    sent_at: Moment
    recorded_at: Moment
    recorded_by: str
    body: str
    body_sha256: Sha256
    flags: list[Flag]
    corrects: int | None
    attachments: list[AttachmentPublic]


class MessageRecorded(Output):
    """A message just recorded (durably): its id, flags, correction and files."""

    id: int
    flags: list[Flag]
    corrects: int | None
    attachments: list[AttachmentPublic]


class ContactPage(Page):
    """A page of a profile's contacts, by id."""

    items: list[ContactPublic]


class MessagePage(Page):
    """A page of a transcript, in platform-time order."""

    items: list[MessagePublic]


class SearchQuery(Query):
    """The text to look for, literally and case-insensitively."""

    q: Annotated[str, Field(min_length=MIN_QUERY, max_length=MAX_QUERY)]


class SearchHit(Output):
    """A message containing the text, with the words around it."""

    id: int
    contact_id: int
    operation_id: int
    direction: Direction
    flags: list[Flag]
    snippet: str


class SearchResults(Output):
    """Contacts and messages found, newest first; ``truncated`` when there were more."""

    contacts: list[ContactPublic]
    messages: list[SearchHit]
    truncated: bool
