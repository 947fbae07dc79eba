"""The JSON shapes of contacts, messages, attachments and search: what capture tools send and get."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, RootModel

from ..models import FLAGS
from ..models.schemas import File, Id, Input, Moment, Output, Page, Query, Sha256, Timestamp, Upload, one_of
from .search import MAX_QUERY, MIN_QUERY
from .services import DIRECTIONS, MAX_BODY_CHARS, MAX_COUNTERPART_CHARS, MAX_FILES

Flag = one_of(FLAGS)
Direction = one_of(DIRECTIONS)
#: A stored message's direction: an import also records the lines the platform wrote ("system").
StoredDirection = one_of((*DIRECTIONS, "system"))
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
    capture_session: Id | None = Field(
        default=None, description="the open capture session of the contact's profile it was captured in"
    )


class MessageUpload(Upload):
    """One message with its files in ``attachments``; the body may be empty when there is a file."""

    direction: Direction
    sent_at: Timestamp = Field(description=SENT_AT)
    body: Body = ""
    corrects: Annotated[str, Field(pattern="^[0-9]{1,9}$")] | None = None
    attachments: Annotated[list[File], Field(max_length=MAX_FILES)] = []
    capture_session: Annotated[str, Field(pattern="^[0-9]{1,9}$")] | None = None

    @property
    def corrects_id(self) -> int | None:
        """The corrected message's id."""
        return None if self.corrects is None else int(self.corrects)

    @property
    def capture_session_id(self) -> int | None:
        """The capture session's id."""
        return None if self.capture_session is None else int(self.capture_session)


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
    direction: StoredDirection
    sent_at: Moment
    recorded_at: Moment
    recorded_by: str
    body: str
    body_sha256: Sha256
    body_salt: Sha256 | None = Field(
        description="the random key of the text's commitment (null: recorded before commitments)"
    )
    body_commitment: Sha256 | None = Field(
        description="HMAC-SHA256 of the text under body_salt: what the message's audit entry records"
    )
    flags: list[Flag] = Field(
        description="the flags recorded with it, and those an import's reconciliation found later"
    )
    corrects: int | None
    attachments: list[AttachmentPublic]
    operated_by: str | None = Field(description="who operated the profile, in a capture session")
    capture_session: int | None = Field(description="the capture session it was captured in")
    import_id: int | None = Field(description="the import that added it (null when typed)")
    source: str | None = Field(description="where in the import's file it is")
    platform_message_id: str | None = Field(description="the platform's message id, where the export has one")
    assumed_timezone: str | None = Field(description="the zone its time was read in (the export gave none)")


class DisposedMark(Output):
    """Under which decision, and when, a message's content was disposed of."""

    decision_reference: str
    at: Moment


class DisposedMessage(Output):
    """A message whose content was disposed of: its id and the disposal, never its text."""

    id: int
    disposed: DisposedMark


class MessageOrDisposed(RootModel[MessagePublic | DisposedMessage]):
    """A message, or what is left of one whose content was disposed of."""


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
    """A page of a transcript, in platform-time order (a disposed message by its id and disposal only)."""

    items: list[MessagePublic | DisposedMessage]


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
