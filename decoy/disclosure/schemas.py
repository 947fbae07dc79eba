"""The JSON shapes of disclosure classes and the internal journal."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, create_model

from ..models.disclosure import CLASSES
from ..models.schemas import Cursor, Input, Output, Page, Query, Sha256, UtcMoment, one_of, text
from .classes import MAX_GROUND, MAX_REASON, MAX_REFERENCE
from .journal import MAX_BODY, MAX_PAGE, PAGE

#: A legal officer's decision of an item's disclosure class. Built with ``create_model`` because its
#: field ``class`` (the contract's name) is a Python keyword: read it with ``getattr(data, "class")``.
_DECISION_FIELDS: dict[str, Any] = {
        "class": (
            one_of(CLASSES),
            Field(
                description="case_file (disclosed), journal (internal, never disclosed), withheld (listed "
                "by hash and description; needs ground and decision_reference) or sensitive (never "
                "exported; hash only)"
            ),
        ),
        "ground": (
            text(MAX_GROUND) | None,
            Field(
                default=None, description='the legal ground of withholding, e.g. "art. 149b Sv" (withheld)'
            ),
        ),
        "decision_reference": (
            text(MAX_REFERENCE) | None,
            Field(
                default=None, description="the reference of the decision that withholds the item (withheld)"
            ),
        ),
        "reason": (text(MAX_REASON, required=True), Field(description="why the item has this class")),
}
DisclosureDecisionCreate = create_model(
    "DisclosureDecisionCreate",
    __base__=Input,
    __doc__="A legal officer's decision of an item's disclosure class.",
    **_DECISION_FIELDS,
)


class DisclosureDecisionPublic(Output):
    """A disclosure decision: the item (its kind and id), the class, its basis, who decided and when."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: int
    kind: str = Field(description="contact, message, attachment or note")
    item_id: int
    disclosure_class: str = Field(alias="class")
    ground: str | None
    decision_reference: str | None
    reason: str
    by: str
    at: UtcMoment


class DisclosureState(Output):
    """An item's class now (``default``: no decision changed it) and its decisions, oldest first."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    kind: str
    item_id: int
    disclosure_class: str = Field(alias="class")
    default: bool = Field(description="true while no decision changed the kind's default class")
    history: list[DisclosureDecisionPublic]


class NoteCreate(Input):
    """A note in the operation's journal (kept exactly as written)."""

    body: str = Field(min_length=1, max_length=MAX_BODY, description="the note's text")


class NotePublic(Output):
    """A journal note with its disclosure class now (``journal`` until a legal officer decides otherwise)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: int
    operation_id: int
    contact_id: int | None
    body: str
    body_sha256: Sha256
    disclosure_class: str = Field(alias="class")
    by: str
    at: UtcMoment


class NotePage(Page):
    """A page of a journal, newest first."""

    items: list[NotePublic]


class JournalQuery(Query):
    """Where a page of a journal continues (newest first) and its size."""

    before: Cursor | None = Field(default=None, description="the id of the last note of the previous page")
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = PAGE
