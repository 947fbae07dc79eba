"""Decoy profiles: proposed, approved under four eyes and the authorization's limits, suspended, retired.

A profile's status is the last of its append-only transitions: each service inserts the transition
row first and only then sets the status, which the database refuses otherwise.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlmodel import Session, col, select

from .. import access, audit_bridge, clock
from ..disclosure import codes
from ..errors import Forbidden, InvalidInput, NotFound, RuleViolation
from ..evidence.fingerprint import columns, profile_fingerprint, transition_evidence
from ..models import Authorization, Operation, Profile, ProfileStatus, ProfileTransition, Role
from . import labels
from .guards import clean, require_open, require_supervisor_member, whole
from .rules import (
    PERSONA_AGE_LIMITS,
    active_profile_count,
    chain,
    governing_authorization,
    persona_age_permitted,
    platform_permitted,
    written_order_overdue,
)

APPROVABLE = (ProfileStatus.pending_approval.value, ProfileStatus.suspended.value)
RETIRABLE = (
    ProfileStatus.draft.value,
    ProfileStatus.pending_approval.value,
    ProfileStatus.active.value,
    ProfileStatus.suspended.value,
)


def _transition(
    session: Session, profile: Profile, to_status: str, actor: Any, reason: str
) -> ProfileTransition:
    """Record the change first, then set the status the database checks against it."""
    transition = ProfileTransition(
        profile_id=profile.id,
        from_status=profile.status,  # type: ignore[arg-type]
        to_status=to_status,
        actor=codes.officer_name(actor),
        reason=reason,
        at=clock.now(),
    )
    session.add(transition)
    session.flush()
    profile.status = to_status
    session.add(profile)
    session.flush()
    return transition


def _locked_profile(session: Session, actor: Any, profile_id: int) -> Profile:
    if isinstance(profile_id, bool) or not isinstance(profile_id, int):
        raise NotFound(_("no such profile"))
    profile = session.exec(select(Profile).where(Profile.id == profile_id).with_for_update()).first()
    if actor is access.SYSTEM:
        if profile is None:
            raise NotFound(_("no such profile"))
        return profile
    return access.require_visible(session, actor, profile, "profile")  # type: ignore[no-any-return]


def _record(
    session: Session,
    actor: Any,
    action: str,
    profile: Profile,
    transition: ProfileTransition,
    evidence: dict[str, str] | None = None,
    **details: Any,
) -> None:
    audit_bridge.record(
        session,
        actor=codes.officer_name(actor),
        action=action,
        object_type="profile",
        object_id=profile.id,
        operation_id=profile.operation_id,
        evidence={**transition_evidence(transition), **(evidence or {})},
        details={
            "transition": transition.id,
            "from": transition.from_status,
            "to": transition.to_status,
            "reason": transition.reason,
            "platform": profile.platform,
            "handle": profile.handle,
            **details,
        },
    )


def persona_age_refusal(authorization: Authorization, age: int | None) -> str | None:
    """Why a persona of ``age`` (None: not given) may not run under the authorization (rule 11, naming
    the rule and the range), or None when the order sets no range or the age lies inside it."""
    if persona_age_permitted(authorization, age):
        return None
    allowed = labels.age_range(authorization.persona_age_min, authorization.persona_age_max)
    if age is None:
        return _(
            "persona age rule: the persona age must lie in the range %(range)s of authorization "
            "%(reference)s; the profile gives none",
            range=allowed,
            reference=authorization.reference,
        )
    return _(
        "persona age rule: the persona age must lie in the range %(range)s of authorization "
        "%(reference)s; it is %(age)s",
        range=allowed,
        reference=authorization.reference,
        age=age,
    )


def platform_terms(session: Session, authorization: Authorization, now: Any) -> Authorization:
    """The authorization whose platforms a profile proposed under ``authorization`` is held to: the one of
    its chain valid ``now``, or ``authorization`` itself when none of its chain is valid yet."""
    return governing_authorization(session, authorization.id, now) or authorization  # type: ignore[arg-type]


def platform_refusal(authorization: Authorization, platform: str) -> str | None:
    """Why a profile on ``platform`` may not run under the authorization (the platform rule, naming the
    platforms it permits), or None when it permits the platform."""
    if platform_permitted(authorization, platform):
        return None
    return _(
        "platform rule: authorization %(reference)s does not permit the platform %(platform)s; it permits "
        "%(platforms)s",
        reference=authorization.reference,
        platform=platform,
        platforms=", ".join(authorization.platforms),
    )


def propose_profile(
    *,
    session: Session,
    actor: Any,
    operation_id: int,
    authorization_id: int,
    platform: str,
    handle: str,
    persona: str,
    persona_age: int | None = None,
) -> Profile:
    """Propose a decoy profile under an authorization of the operation; a supervisor member may.

    The platform must be one the authorization permits (the platform rule; RuleViolation naming
    ``platform`` otherwise), judged as at approval: against the authorization of the chain that is valid
    now, or the one named when none of its chain is valid yet. When the order sets a range for the
    persona's age, the profile's ``persona_age`` must be given and lie inside it (rule 11; RuleViolation
    naming ``persona_age`` otherwise).
    """
    operation = require_supervisor_member(session, actor, operation_id)
    require_open(operation)
    if isinstance(authorization_id, bool) or not isinstance(authorization_id, int):
        raise InvalidInput(_("authorization_id must be the id of an authorization"), field="authorization_id")
    authorization = session.get(Authorization, authorization_id)
    if authorization is None or authorization.operation_id != operation_id:
        raise InvalidInput(
            _("authorization_id names no authorization of this operation"), field="authorization_id"
        )
    platform = clean(platform, "platform", max_length=80, required=True, single_line=True)
    handle = clean(handle, "handle", max_length=200, required=True, single_line=True)
    persona = clean(persona, "persona", max_length=20_000)
    if persona_age is not None:
        youngest, oldest = PERSONA_AGE_LIMITS
        persona_age = whole(persona_age, "persona_age", minimum=youngest, maximum=oldest)
    clash = session.exec(
        select(Profile.id).where(
            Profile.operation_id == operation_id,
            col(Profile.platform) == platform,
            col(Profile.handle) == handle,
            Profile.status != ProfileStatus.retired.value,
        )
    ).first()
    if clash is not None:
        raise InvalidInput(
            _("this operation already runs a profile with this handle on this platform"), field="handle"
        )
    now = clock.now()
    refusal = platform_refusal(platform_terms(session, authorization, now), platform)
    if refusal is not None:
        raise RuleViolation(refusal, field="platform")
    refusal = persona_age_refusal(authorization, persona_age)
    if refusal is not None:
        raise RuleViolation(refusal, field="persona_age")
    profile = Profile(
        operation_id=operation_id,
        authorization_id=authorization_id,
        platform=platform,
        handle=handle,
        persona=persona,
        persona_age=persona_age,
        status=ProfileStatus.pending_approval.value,
        proposed_by=actor.id,
        proposed_at=now,
    )
    session.add(profile)
    session.flush()
    transition = ProfileTransition(
        profile_id=profile.id,
        from_status=None,  # type: ignore[arg-type]
        to_status=ProfileStatus.pending_approval.value,
        actor=codes.officer_name(actor),
        reason="proposed",
        at=now,
    )
    session.add(transition)
    session.flush()
    _record(
        session,
        actor,
        "profile.propose",
        profile,
        transition,
        {"profile_row_sha256": profile_fingerprint(columns(profile))},
        authorization_id=authorization_id,
        persona=persona,
        persona_age=persona_age,
    )
    return profile


def approval_refusal(session: Session, actor: Any, profile: Profile, *, lock: bool = False) -> str | None:
    """Why ``actor`` may not approve ``profile`` now (naming the rule), or None when every rule holds."""
    refused = _approval_refusal(session, actor, profile, lock=lock)
    return None if refused is None else refused[0]


def _approval_refusal(
    session: Session, actor: Any, profile: Profile, *, lock: bool = False
) -> tuple[str, str | None] | None:
    """Why ``actor`` may not approve ``profile`` now, naming the rule, with the field concerned (if one is),
    or None when every rule holds: four eyes, a valid authorization, its platforms, the persona's age in
    its range and its maximum, all of the authorization that governs the profile now."""
    if not actor.has_role(Role.supervisor.value) or not access.is_member(
        session, actor, profile.operation_id
    ):
        return _("four-eyes rule: only a supervisor assigned to the operation may approve a profile"), None
    if profile.proposed_by == actor.id:
        return _("four-eyes rule: the supervisor who proposed a profile may not approve it"), None
    now = clock.now()
    authorization = governing_authorization(session, profile.authorization_id, now)
    if authorization is None:
        newest = chain(session, profile.authorization_id)[-1]
        if now < newest.valid_from:
            return _(
                "authorization rule: authorization %(reference)s is not yet valid; "
                "no authorization is valid now",
                reference=newest.reference,
            ), None
        return _(
            "authorization rule: authorization %(reference)s has lapsed; no authorization is valid now",
            reference=newest.reference,
        ), None
    if written_order_overdue(session, authorization, now):
        return _(
            "authorization rule: the written order of urgent oral order %(reference)s is overdue",
            reference=authorization.reference,
        ), None
    refused_platform = platform_refusal(authorization, profile.platform)
    if refused_platform is not None:
        return refused_platform, "platform"
    ageless = persona_age_refusal(authorization, profile.persona_age)
    if ageless is not None:
        return ageless, "persona_age"
    if lock:
        # Serialise approvals under one chain so that two at once cannot pass the maximum together.
        root_id = chain(session, authorization.id)[0].id  # type: ignore[arg-type]
        session.exec(select(Authorization.id).where(Authorization.id == root_id).with_for_update()).first()
    if active_profile_count(session, authorization.id) >= authorization.max_profiles:
        return ngettext(
            "maximum rule: authorization %(reference)s allows at most %(num)d active profile",
            "maximum rule: authorization %(reference)s allows at most %(num)d active profiles",
            authorization.max_profiles,
            reference=authorization.reference,
        ), None
    return None


def approve_profile(*, session: Session, actor: Any, profile_id: int) -> Profile:
    """Make a pending (or suspended) profile active; RuleViolation naming the rule when one is broken."""
    profile = _locked_profile(session, actor, profile_id)
    if profile.status not in APPROVABLE:
        raise RuleViolation(
            _("a profile that is %(status)s cannot be approved", status=labels.profile_status(profile.status))
        )
    if actor is access.SYSTEM:
        raise RuleViolation(_("four-eyes rule: only a supervisor may approve a profile"))
    operation = session.get(Operation, profile.operation_id)
    require_open(operation)  # type: ignore[arg-type]
    refused = _approval_refusal(session, actor, profile, lock=True)
    if refused is not None:
        raise RuleViolation(refused[0], field=refused[1])
    governing = governing_authorization(session, profile.authorization_id, clock.now())
    transition = _transition(session, profile, ProfileStatus.active.value, actor, "approved")
    profile.approved_by = actor.id
    profile.approved_at = transition.at
    session.add(profile)
    _record(
        session,
        actor,
        "profile.approve",
        profile,
        transition,
        authorization_id=governing.id if governing else None,
    )
    return profile


def suspend_profile(*, session: Session, actor: Any, profile_id: int, reason: str) -> Profile:
    """Suspend an active profile with a reason; a supervisor member, a legal officer or the system may."""
    profile = _locked_profile(session, actor, profile_id)
    if actor is not access.SYSTEM and not actor.has_role(Role.legal.value):
        if not actor.has_role(Role.supervisor.value) or not access.is_member(
            session, actor, profile.operation_id
        ):
            raise Forbidden(
                _("only a supervisor of the operation, a legal officer or the system may suspend")
            )
    reason = clean(reason, "reason", max_length=2000, required=True)
    if profile.status != ProfileStatus.active.value:
        raise RuleViolation(
            _(
                "only an active profile can be suspended; this one is %(status)s",
                status=labels.profile_status(profile.status),
            )
        )
    transition = _transition(session, profile, ProfileStatus.suspended.value, actor, reason)
    _record(session, actor, "profile.suspend", profile, transition)
    return profile


def retire_profile(*, session: Session, actor: Any, profile_id: int, reason: str = "") -> Profile:
    """Retire a profile for good; a supervisor member may."""
    profile = _locked_profile(session, actor, profile_id)
    require_supervisor_member(session, actor, profile.operation_id)
    reason = clean(reason or "", "reason", max_length=2000)
    if profile.status not in RETIRABLE:
        raise RuleViolation(
            _("a profile that is %(status)s cannot be retired", status=labels.profile_status(profile.status))
        )
    transition = _transition(session, profile, ProfileStatus.retired.value, actor, reason)
    _record(session, actor, "profile.retire", profile, transition)
    return profile


def history(session: Session, profile_id: int) -> list[ProfileTransition]:
    """The transitions of a profile, oldest first."""
    return list(
        session.exec(
            select(ProfileTransition)
            .where(ProfileTransition.profile_id == profile_id)
            .order_by(col(ProfileTransition.id))
        ).all()
    )
