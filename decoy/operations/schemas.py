"""The JSON shapes of operations, members, authorizations with their documents, and decoy profiles."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import Field

from ..models import REGISTRABLE_KINDS, AuthorizationKind, OperationStatus, ProfileStatus
from ..models.schemas import (
    Day,
    File,
    Id,
    Input,
    Output,
    Page,
    Query,
    Sha256,
    Timestamp,
    Upload,
    UtcMoment,
    one_of,
    text,
)
from .rules import PERSONA_AGE_LIMITS, STATUSES

#: Longest free text (descriptions, justifications, personas).
LONG_TEXT = 20_000
#: An age a persona gives, or a bound of the range an order sets for it (rule 11).
PersonaAge = Annotated[int, Field(ge=PERSONA_AGE_LIMITS[0], le=PERSONA_AGE_LIMITS[1])]
DocumentKind = one_of(("order", "written_order"))


class OperationCreate(Input):
    """A new operation; its time zone defaults to the configured one."""

    name: text(120, required=True)
    team: text(120) | None = None
    timezone: text(64) | None = Field(default=None, description="an IANA zone such as Europe/Amsterdam")
    description: text(LONG_TEXT) | None = None


class MemberCreate(Input):
    """A person to assign to the operation."""

    username: text(64, required=True)


class MemberRemoval(Input):
    """Why a person is removed from the operation."""

    reason: text(2000, required=True) = Field(description="why the person is removed (recorded)")


class StatusChange(Input):
    """The operation's next status."""

    status: one_of(OperationStatus)


class AuthorizationCreate(Input):
    """An order or ruling, or an extension that supersedes one (``supersedes_id``)."""

    reference: text(120, required=True)
    kind: one_of(REGISTRABLE_KINDS) = Field(
        description="ovj_order (the public prosecutor's order), rc_authorisation (the examining judge's), "
        "urgent_oral_order, or court_ruling (a ruling on the method)"
    )
    authority: text(200, required=True)
    issuer_name: text(200) | None = None
    legal_basis: text(200, required=True)
    offence: text(LONG_TEXT) | None = None
    suspect_description: text(LONG_TEXT) | None = None
    justification: text(LONG_TEXT) | None = None
    method: text(LONG_TEXT) | None = None
    issued_on: Day | None = None
    valid_from: Timestamp
    valid_until: Timestamp
    review_interval_days: Annotated[int, Field(ge=1, le=3650)]
    platforms: Annotated[list[text(80, required=True)], Field(min_length=1, max_length=50)]
    persona_constraints: text(LONG_TEXT) | None = None
    may_initiate_contact: bool = False
    max_profiles: Annotated[int, Field(ge=1, le=1000)]
    persona_age_min: PersonaAge | None = Field(
        default=None, description="the youngest age the persona may give (inclusive); none when left out"
    )
    persona_age_max: PersonaAge | None = Field(
        default=None, description="the oldest age the persona may give (inclusive), not below the youngest"
    )
    officers: Annotated[list[text(64, required=True)], Field(max_length=200)] = Field(
        description="usernames of the named officers"
    )
    conditions: text(LONG_TEXT) | None = None
    supersedes_id: Id | None = None
    written_order_days: Annotated[int, Field(ge=1, le=30)] | None = Field(
        default=None,
        description="urgent oral orders: the days to put it in writing, counted from oral_order_given_at "
        "(default: its legal basis's, in the table of legal maxima)",
    )
    oral_order_given_at: Timestamp | None = Field(
        default=None, description="urgent oral orders (required for them): when the order was given orally"
    )
    advice_reference: text(200) | None = Field(
        default=None, description="the reference of the advice the legal basis requires (e.g. the CTC's)"
    )
    consent_reference: text(200) | None = Field(
        default=None,
        description="the reference of the consent the legal basis requires (e.g. the Board of Procurators "
        "General's)",
    )

    def terms(self) -> dict[str, Any]:
        """The keyword arguments of ``register_authorization`` (texts left out are empty)."""
        terms = self.model_dump()
        for name, value in terms.items():
            if value is None and name not in (
                "issued_on", "supersedes_id", "written_order_days", "persona_age_min", "persona_age_max",
                "oral_order_given_at",
            ):
                terms[name] = ""
        return terms


class DocumentUpload(Upload):
    """The scanned order, a PDF."""

    file: File
    kind: DocumentKind = "order"


class ProfileCreate(Input):
    """A decoy profile to propose under one of the operation's authorizations."""

    authorization_id: Id
    platform: text(80, required=True)
    handle: text(200, required=True)
    persona: text(LONG_TEXT) | None = None
    persona_age: PersonaAge | None = Field(
        default=None, description="the age the persona gives; required inside the authorization's range"
    )


class Suspension(Input):
    """Why the profile is suspended."""

    reason: text(2000, required=True)


class Retirement(Input):
    """Why the profile is retired, if said."""

    reason: text(2000) | None = None


class CentralRecordQuery(Query):
    """A search of the central record and a status to show."""

    q: text(200) = Field(default="", description="in reference, operation, authority, issuer, basis, offence")
    status: one_of(STATUSES) | None = None


class MemberPublic(Output):
    """A member of an operation."""

    username: str
    added_by: str
    added_at: UtcMoment


class MemberAssigned(MemberPublic):
    """A member just assigned, with the operation."""

    operation_id: int


class MemberRemoved(Output):
    """A person just removed from the operation, and why."""

    operation_id: int
    username: str
    reason: str


class OperationPublic(Output):
    """An operation."""

    id: int
    name: str
    team: str
    status: one_of(OperationStatus)
    timezone: str
    description: str
    created_by: str
    created_at: UtcMoment


class OperationWithMembers(OperationPublic):
    """An operation with its members."""

    members: list[MemberPublic]


class OperationState(Output):
    """An operation's status after a change."""

    id: int
    status: one_of(OperationStatus)


class DocumentPublic(Output):
    """An order document of an authorization."""

    id: int
    authorization_id: int
    kind: DocumentKind
    filename: str
    sha256: Sha256
    size: int
    media_type: str
    uploaded_by: str
    uploaded_at: UtcMoment


class WithdrawalPublic(Output):
    """That an order was withdrawn: from when, why, and by whom (verbalisant code)."""

    id: int
    authorization_id: int
    effective_at: UtcMoment
    reason: str
    by: str | None
    recorded_at: UtcMoment


class WithdrawalCreate(Input):
    """Why an order is withdrawn, and from when (default now)."""

    reason: text(20_000, required=True)
    effective_at: Timestamp | None = Field(
        default=None, description="when the withdrawal takes effect (RFC 3339 with offset); default now"
    )


class AuthorizationPublic(Output):
    """Every field of an authorization, its status now, officers, documents and place in the chain."""

    id: int
    operation_id: int
    reference: str
    kind: one_of(AuthorizationKind)
    authority: str
    issuer_name: str
    legal_basis: str
    offence: str
    suspect_description: str
    justification: str
    method: str
    issued_on: date | None
    valid_from: UtcMoment
    valid_until: UtcMoment
    review_interval_days: int
    platforms: list[str]
    persona_constraints: str
    may_initiate_contact: bool
    max_profiles: int
    persona_age_min: int | None
    persona_age_max: int | None
    officers: list[str]
    conditions: str
    written_order_due: UtcMoment | None
    written_order_overdue: bool
    oral_order_given_at: UtcMoment | None
    advice_reference: str | None
    consent_reference: str | None
    registered_kind: str | None = Field(
        description="the kind it was registered with, where a migration gave it the kind the law names"
    )
    withdrawal: WithdrawalPublic | None
    supersedes_id: int | None
    superseded_by: int | None
    status: one_of(STATUSES)
    documents: list[DocumentPublic]
    registered_by: str
    registered_at: UtcMoment


class RecordEntry(AuthorizationPublic):
    """An authorization in the central record, with its operation's name."""

    operation_name: str


class TransitionPublic(Output):
    """One step of a profile's history."""

    from_status: str | None
    to_status: str
    actor: str
    reason: str
    at: UtcMoment


class ProfilePublic(Output):
    """A decoy profile."""

    id: int
    operation_id: int
    authorization_id: int
    platform: str
    handle: str
    persona: str
    persona_age: int | None
    status: one_of(ProfileStatus)
    proposed_by: str
    proposed_at: UtcMoment
    approved_by: str | None
    approved_at: UtcMoment | None


class ProfileWithHistory(ProfilePublic):
    """A decoy profile with its history of states."""

    history: list[TransitionPublic]


class ProfileState(Output):
    """A profile's status after a change."""

    id: int
    status: one_of(ProfileStatus)


class OperationPage(Page):
    """A page of operations, by id."""

    items: list[OperationPublic]


class AuthorizationPage(Page):
    """A page of authorizations, by id."""

    items: list[AuthorizationPublic]


class ProfilePage(Page):
    """A page of profiles, by id."""

    items: list[ProfilePublic]


class CentralRecord(Page):
    """The central record: every operation's authorizations, newest first, in one page."""

    items: list[RecordEntry]

