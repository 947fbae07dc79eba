"""The JSON shapes of capture sessions: what a capture tool sends to start and end one, and gets back."""

from __future__ import annotations

from pydantic import Field

from ..models.schemas import Input, Output, Page, UtcMoment, text
from .services import MAX_DEVICE, MAX_STATEMENT, MAX_TOOL


class CaptureSessionCreate(Input):
    """A capture session starting now on the profile, operated by the caller."""

    device: text(MAX_DEVICE, required=True) = Field(
        description="the police device or virtual machine id; one line"
    )
    tool: text(MAX_TOOL, required=True) = Field(
        description='"manual", an import format, or the name of the API client; one line'
    )


class CaptureSessionEnding(Input):
    """The end of a capture session, with the officer's statement of how complete its recording is."""

    completeness_statement: text(MAX_STATEMENT, required=True) = Field(
        description="e.g. that every message of the session is recorded"
    )
    known_gaps: text(MAX_STATEMENT) | None = Field(default=None, description="the gaps the officer knows of")


class CaptureSessionPublic(Output):
    """A capture session: who operated which profile on what and when, and its end (null while open)."""

    id: int
    operation_id: int
    profile_id: int
    operated_by: str
    device: str
    tool: str
    started_at: UtcMoment
    open: bool
    ended_at: UtcMoment | None
    ended_by: str | None
    completeness_statement: str | None
    known_gaps: str | None


class CaptureSessionPage(Page):
    """A page of a profile's capture sessions, by id."""

    items: list[CaptureSessionPublic]
