"""The JSON shapes of imports: the multipart request and the answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..models.capture import DIFFERS, IMPORT_FORMATS, MISSING
from ..models.schemas import File, Id, Moment, Output, Sha256, Upload, one_of

Format = one_of(IMPORT_FORMATS)
Digits = Annotated[str, Field(pattern="^[0-9]{1,9}$")]


class ImportUpload(Upload):
    """A platform's export file for one contact, with how to read it."""

    file: File = Field(
        description="the export as the platform wrote it: its text, JSON, or a ZIP with its media"
    )
    format: Format
    decoy_name: Annotated[
        str, Field(min_length=1, max_length=200, description="the profile's name in the export")
    ]
    timezone: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="the zone of times without an offset (default: the operation's)"
    )
    chat: Annotated[str, Field(max_length=500)] | None = Field(
        default=None, description="which chat of a file that holds several"
    )
    capture_session: Digits | None = None
    dry_run: Literal["true", "false", "1", "0"] | None = Field(
        default=None, description="true: answer what would be imported, store nothing"
    )


class Difference(Output):
    """A hand-typed message the export contradicts or lacks."""

    message_id: Id
    kind: Literal[DIFFERS, MISSING]  # type: ignore[valid-type]
    export_message_id: Id | None


class ImportPublic(Output):
    """An import: the file, how it was read, and what it added and found."""

    id: Id | None = Field(description="null for a dry run")
    contact_id: Id
    sha256: Sha256
    format: Format
    filename: str
    decoy_name: str
    chat: str | None
    capture_session: Id | None
    assumed_timezone: str | None = Field(description="the zone times without an offset were read in")
    dry_run: bool
    exported: int
    added: int
    duplicates: int
    system_lines: int
    confirmed: int = Field(description="hand-typed messages the export confirms (counted in duplicates)")
    differences: list[Difference]
    first_sent_at: Moment | None
    last_sent_at: Moment | None
