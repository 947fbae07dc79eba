"""Registering authorizations (never edited: an extension supersedes) and attaching their order documents."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import access, audit_bridge, blobstore, clock
from ..auth import services as accounts
from ..blobstore.content import Prefixed, storable_name
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, NotFound, RuleViolation, TooLarge
from ..evidence.fingerprint import authorization_fingerprint, columns
from ..models import (
    REGISTRABLE_KINDS,
    Authorization,
    AuthorizationDocument,
    AuthorizationKind,
    AuthorizationOfficer,
    Role,
    User,
)
from ..orders import maxima
from ..reviews.chains import load_chains
from ..reviews.generation import create_missing, written_order_reviews
from .guards import clean, whole
from .rules import PERSONA_AGE_LIMITS, successor

DOCUMENT_KINDS = ("order", "written_order")
MAX_TEXT = 20_000
MAX_PLATFORMS = 50
MAX_OFFICERS = 200
PDF_MAGIC = b"%PDF-"


def require_legal(session: Session, actor: Any, operation_id: int) -> None:
    """NotFound when ``actor`` may not see the operation; Forbidden unless a legal officer."""
    access.visible_operation(session, actor, operation_id)
    if not actor.has_role(Role.legal.value) or actor.id is None:
        raise Forbidden(_("only a legal officer may register authorizations and their documents"))


def _moment(value: Any, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(_("%(field)s needs a date, a time and an offset", field=field), field=field)
    return value


def _platforms(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput(_("name at least one permitted platform"), field="platforms")
    if len(value) > MAX_PLATFORMS:
        raise InvalidInput(_("at most %(count)s platforms", count=MAX_PLATFORMS), field="platforms")
    names: list[str] = []
    for item in value:
        name = clean(item, "platforms", max_length=80, required=True, single_line=True)
        if name.casefold() not in {known.casefold() for known in names}:
            names.append(name)
    return names


def _officers(session: Session, value: Any) -> list[User]:
    if not isinstance(value, list | tuple) or len(value) > MAX_OFFICERS:
        raise InvalidInput(
            _("officers must be a list of at most %(count)s usernames", count=MAX_OFFICERS), field="officers"
        )
    users: dict[int, User] = {}
    for item in value:
        username = clean(item, "officers", max_length=64, required=True, single_line=True)
        user = accounts.find_user(session, username)
        if user is None:
            raise InvalidInput(_("no account named %(username)s", username=username), field="officers")
        if Role.admin.value in accounts.user_roles(session, user):
            raise InvalidInput(
                _("%(username)s is an administrator and cannot be named", username=user.username),
                field="officers",
            )
        if not user.is_active:
            raise InvalidInput(
                _("the account %(username)s is deactivated", username=user.username), field="officers"
            )
        if not user.verbalisant_code:
            raise RuleViolation(
                _("%(username)s has no verbalisant code yet: an administrator sets it before the officer "
                  "can be named", username=user.username),
                field="officers",
            )
        users[user.id] = user  # type: ignore[index]
    return sorted(users.values(), key=lambda user: user.username)


def _supersedes(session: Session, operation_id: int, supersedes_id: Any) -> int | None:
    if supersedes_id is None:
        return None
    if isinstance(supersedes_id, bool) or not isinstance(supersedes_id, int):
        raise InvalidInput(_("supersedes_id must be the id of an authorization"), field="supersedes_id")
    previous = session.get(Authorization, supersedes_id)
    if previous is None or previous.operation_id != operation_id:
        raise InvalidInput(_("supersedes_id names no authorization of this operation"), field="supersedes_id")
    newer = successor(session, supersedes_id)
    if newer is not None:
        raise RuleViolation(
            _(
                "authorization %(reference)s is already superseded by %(newer)s",
                reference=previous.reference,
                newer=newer.reference,
            )
        )
    return supersedes_id


def _age_range(low: Any, high: Any) -> tuple[int | None, int | None]:
    """The bounds of the persona's age the order sets (either may be left out); the lower not above the
    upper."""
    youngest, oldest = PERSONA_AGE_LIMITS
    if low is not None:
        low = whole(low, "persona_age_min", minimum=youngest, maximum=oldest)
    if high is not None:
        high = whole(high, "persona_age_max", minimum=youngest, maximum=oldest)
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            _("persona_age_max must not be below persona_age_min"), field="persona_age_max"
        )
    return low, high


def _written_order_days(value: Any, rule: maxima.Maximum) -> int:
    """The days an urgent oral order has to be put in writing: as given, else its legal basis's."""
    if value is None:
        return rule.written_order_days
    return whole(value, "written_order_days", minimum=1, maximum=30)


def _oral_order(kind: str, given_at: Any, now: datetime) -> datetime | None:
    """When an urgent oral order was given: required for one, refused for any other kind, never later
    than its registration."""
    if kind != AuthorizationKind.urgent_oral_order.value:
        if given_at is not None:
            raise InvalidInput(
                _("only an urgent oral order has a moment it was given orally"), field="oral_order_given_at"
            )
        return None
    if given_at is None:
        raise InvalidInput(
            _("an urgent oral order needs the moment it was given (oral_order_given_at)"),
            field="oral_order_given_at",
        )
    given_at = _moment(given_at, "oral_order_given_at")
    if given_at > now:
        raise InvalidInput(_("oral_order_given_at must not be in the future"), field="oral_order_given_at")
    return given_at


def register_authorization(
    *,
    session: Session,
    actor: Any,
    operation_id: int,
    reference: str,
    kind: str,
    authority: str,
    legal_basis: str,
    valid_from: datetime,
    valid_until: datetime,
    review_interval_days: int,
    platforms: list[str],
    may_initiate_contact: bool = False,
    max_profiles: int,
    officers: list[str],
    issuer_name: str = "",
    offence: str = "",
    suspect_description: str = "",
    justification: str = "",
    method: str = "",
    issued_on: date | None = None,
    persona_constraints: str = "",
    conditions: str = "",
    supersedes_id: int | None = None,
    written_order_days: int | None = None,
    persona_age_min: int | None = None,
    persona_age_max: int | None = None,
    oral_order_given_at: datetime | None = None,
    advice_reference: str = "",
    consent_reference: str = "",
) -> Authorization:
    """Register an order or ruling (a legal officer may); an extension names the one it supersedes.

    The order is held to its legal basis's maxima (decoy.orders.maxima): its length, the advice and
    consent references the basis requires, and the days an urgent oral order has to be put in writing,
    counted from the moment it was given. One registered after that deadline is overdue at once, and its
    triggered review is created with it.
    """
    require_legal(session, actor, operation_id)
    reference = clean(reference, "reference", max_length=120, required=True, single_line=True)
    if kind not in REGISTRABLE_KINDS:
        raise InvalidInput(
            _("kind must be ovj_order, rc_authorisation, urgent_oral_order or court_ruling"), field="kind"
        )
    texts = _texts(
        authority=authority, issuer_name=issuer_name, legal_basis=legal_basis, offence=offence,
        suspect_description=suspect_description, justification=justification, method=method,
        persona_constraints=persona_constraints, conditions=conditions,
    )
    valid_from = _moment(valid_from, "valid_from")
    valid_until = _moment(valid_until, "valid_until")
    if valid_until <= valid_from:
        raise InvalidInput(_("valid_until must be after valid_from"), field="valid_until")
    review_interval_days = whole(review_interval_days, "review_interval_days", minimum=1, maximum=3650)
    max_profiles = whole(max_profiles, "max_profiles", minimum=1, maximum=1000)
    if not isinstance(may_initiate_contact, bool):
        raise InvalidInput(_("may_initiate_contact must be true or false"), field="may_initiate_contact")
    if issued_on is not None and (not isinstance(issued_on, date) or isinstance(issued_on, datetime)):
        raise InvalidInput(_("issued_on must be a date"), field="issued_on")
    persona_age_min, persona_age_max = _age_range(persona_age_min, persona_age_max)
    now = clock.now()
    oral_order_given_at = _oral_order(kind, oral_order_given_at, now)
    references = {
        name: clean(value, name, max_length=200, single_line=True) or None
        for name, value in (("advice_reference", advice_reference), ("consent_reference", consent_reference))
    }
    platform_names = _platforms(platforms)
    named = _officers(session, officers)
    supersedes_id = _supersedes(session, operation_id, supersedes_id)
    rule = maxima.rule_for(texts["legal_basis"])
    maxima.require_references(
        rule, advice_reference=references["advice_reference"] or "",
        consent_reference=references["consent_reference"] or "", article=texts["legal_basis"],
    )
    maxima.require_within(
        rule, valid_from=valid_from, valid_until=valid_until, extension=supersedes_id is not None,
        article=texts["legal_basis"],
    )
    _require_new_reference(session, operation_id, reference)
    due = None
    if oral_order_given_at is not None:
        due = oral_order_given_at + timedelta(days=_written_order_days(written_order_days, rule))
    authorization = Authorization(
        operation_id=operation_id,
        reference=reference,
        kind=kind,
        valid_from=valid_from,
        valid_until=valid_until,
        review_interval_days=review_interval_days,
        platforms=platform_names,
        max_profiles=max_profiles,
        may_initiate_contact=may_initiate_contact,
        persona_age_min=persona_age_min,
        persona_age_max=persona_age_max,
        issued_on=issued_on,
        written_order_due=due,
        oral_order_given_at=oral_order_given_at,
        supersedes_id=supersedes_id,
        registered_by=actor.id,
        registered_at=now,
        **references,
        **texts,
    )
    _insert(session, authorization, named)
    _record_registration(session, actor, authorization, named, rule)
    if due is not None and due <= now:
        # Registered after its written order was due: overdue at once, and reviewed at once.
        late = written_order_reviews(session, load_chains(session), now)
        create_missing(session, [review for review in late if review["authorization_id"] == authorization.id])
    return authorization


#: The free-text terms of an order: their longest accepted length and whether they are required; the
#: first three are names, one line each.
_TEXT_TERMS: dict[str, tuple[int, bool]] = {
    "authority": (200, True),
    "issuer_name": (200, False),
    "legal_basis": (200, True),
    "offence": (MAX_TEXT, False),
    "suspect_description": (MAX_TEXT, False),
    "justification": (MAX_TEXT, False),
    "method": (MAX_TEXT, False),
    "persona_constraints": (MAX_TEXT, False),
    "conditions": (MAX_TEXT, False),
}


_NAMES = {"authority", "issuer_name", "legal_basis"}


def _texts(**given: str) -> dict[str, str]:
    """The order's free-text terms, each checked for its length (and presence where required)."""
    return {
        name: clean(given[name], name, max_length=longest, required=required, single_line=name in _NAMES)
        for name, (longest, required) in _TEXT_TERMS.items()
    }


def _require_new_reference(session: Session, operation_id: int, reference: str) -> None:
    taken = session.exec(
        select(Authorization.id).where(
            Authorization.operation_id == operation_id, col(Authorization.reference) == reference
        )
    ).first()
    if taken is not None:
        raise InvalidInput(
            _("this operation already has an authorization with this reference"), field="reference"
        )


def _insert(session: Session, authorization: Authorization, named: list[Any]) -> None:
    """Write the order and its named officers; a concurrent twin registration is a rule violation."""
    try:
        with session.begin_nested():
            session.add(authorization)
            session.flush()
    except IntegrityError as error:
        # Another legal officer registered the same reference or extension at the same moment.
        raise RuleViolation(
            _("this reference or extension was registered at the same moment; reload")
        ) from error
    for officer in named:
        session.add(AuthorizationOfficer(authorization_id=authorization.id, user_id=officer.id))  # type: ignore[arg-type]


def _record_registration(
    session: Session, actor: Any, authorization: Authorization, named: list[Any], rule: maxima.Maximum
) -> None:
    """The audit entry of a registration: every term of the order as registered, and the legal maxima
    it was held to."""
    due = authorization.written_order_due
    given = authorization.oral_order_given_at
    details: dict[str, Any] = {
        "reference": authorization.reference,
        "kind": authorization.kind,
        **{name: getattr(authorization, name) for name in _TEXT_TERMS},
        "valid_from": authorization.valid_from.isoformat(),
        "valid_until": authorization.valid_until.isoformat(),
        "review_interval_days": authorization.review_interval_days,
        "platforms": authorization.platforms,
        "may_initiate_contact": authorization.may_initiate_contact,
        "max_profiles": authorization.max_profiles,
        "persona_age_min": authorization.persona_age_min,
        "persona_age_max": authorization.persona_age_max,
        # Officers by verbalisant code (rule 9): this entry travels in the operation's bundles.
        "officers": [officer.verbalisant_code for officer in named],
        "issued_on": authorization.issued_on.isoformat() if authorization.issued_on else None,
        "written_order_due": due.isoformat() if due else None,
        "oral_order_given_at": given.isoformat() if given else None,
        "advice_reference": authorization.advice_reference,
        "consent_reference": authorization.consent_reference,
        "supersedes_id": authorization.supersedes_id,
        "maximum": rule.describe(),
    }
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="authorization.register",
        object_type="authorization",
        object_id=authorization.id,
        operation_id=authorization.operation_id,
        evidence={
            "row_sha256": authorization_fingerprint(
                columns(authorization), [officer.id for officer in named]
            )
        },
        details=details,
    )


def attach_order_document(
    *,
    session: Session,
    actor: Any,
    authorization_id: int,
    stream: BinaryIO,
    filename: str,
    kind: str = "order",
) -> AuthorizationDocument:
    """Store a scanned order (PDF only, by its content) with the authorization; a legal officer may."""
    authorization = session.get(Authorization, authorization_id)
    if authorization is None:
        raise NotFound(_("no such authorization"))
    access.require_visible(session, actor, authorization, "authorization")
    require_legal(session, actor, authorization.operation_id)
    if kind not in DOCUMENT_KINDS:
        raise InvalidInput(_("kind must be order or written_order"), field="kind")
    head = stream.read(len(PDF_MAGIC))
    if head != PDF_MAGIC:
        raise InvalidInput(_("only PDF documents are accepted"), field="file")
    try:
        stored = blobstore.store_stream(  # in the database store: with this transaction's rows
            Prefixed(head, stream), connection=session.connection()  # type: ignore[arg-type]
        )
    except TooLarge as error:
        raise TooLarge(error.message, field="file") from error
    document = AuthorizationDocument(
        authorization_id=authorization_id,
        kind=kind,
        filename=storable_name(filename, "order.pdf"),
        sha256=stored.sha256,
        size=stored.size,
        media_type=stored.media_type,
        uploaded_by=actor.id,
        uploaded_at=clock.now(),
    )
    session.add(document)
    session.flush()
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action="authorization.document_attach",
        object_type="authorization",
        object_id=authorization_id,
        operation_id=authorization.operation_id,
        evidence={document.filename: stored.sha256},
        details={
            "document_id": document.id,
            "kind": kind,
            "filename": document.filename,
            "size": stored.size,
            "media_type": stored.media_type,
            "reference": authorization.reference,
        },
    )
    return document
