"""The JSON shapes of legal reviews and a legal officer's decision."""

from __future__ import annotations

from pydantic import Field

from ..models import Decision, ReviewKind, ReviewStatus
from ..models.schemas import Input, Moment, Output, Page, one_of, text
from .services import MAX_RATIONALE

DecisionName = one_of(Decision)
TRIGGERS = ("flagged_message", "written_order_overdue")


class DecisionCreate(Input):
    """A legal officer's decision on a review; ``suspend`` and ``terminate`` act on the profiles at once."""

    decision: DecisionName
    rationale: text(MAX_RATIONALE, required=True)


class DecisionPublic(Output):
    """The decision on a review."""

    decision: DecisionName
    rationale: str
    decided_by: str | None
    decided_at: Moment = Field(description="in the operation's zone")
    profiles: list[int]


class ReviewPublic(Output):
    """A review with its derived status and decision; times RFC 3339 in the operation's zone."""

    id: int
    operation_id: int
    operation: str
    authorization_id: int
    authorization_reference: str
    kind: one_of(ReviewKind)
    trigger: one_of(TRIGGERS) | None
    flag: str | None
    contact_id: int | None
    due_at: Moment = Field(description="in the operation's zone")
    status: one_of(ReviewStatus)
    timezone: str
    decision: DecisionPublic | None


class ReviewPage(Page):
    """A page of an operation's reviews, by due time."""

    items: list[ReviewPublic]
