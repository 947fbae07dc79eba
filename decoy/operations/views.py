"""Pages of operations, authorizations and profiles: the list, the overview and a form for each action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, clock
from ..auth.principal import require_roles
from ..clock import zone
from ..db import get_session
from ..errors import Forbidden, InvalidInput, NotFound, RuleViolation, TooLarge
from ..models import MAX_ID, Authorization, Operation, Profile
from . import chart_svg, charts, labels, profiles, records, rules, services, timeline_svg
from .forms import (
    ActionForm,
    DocumentForm,
    MemberForm,
    OperationForm,
    ProfileForm,
    ReasonForm,
    RetirementForm,
    StatusForm,
    SuspensionForm,
)
from .guards import require_supervisor_member

bp = Blueprint("operations", __name__)
READERS = ("detective", "supervisor", "legal")
ID = "int"
#: Refusals a form shows beside itself, with their status; NotFound and Forbidden go to the error page.
SHOWN = (InvalidInput, RuleViolation, TooLarge)
#: The states of an authorization that is in force now or will be: shown first on the operation page and
#: offered for a new profile; the others (superseded, withdrawn, lapsed) are its history.
CURRENT = ("valid", "expiring", "not_yet_valid")


def _id(value: int, what: str) -> int:
    if value > MAX_ID:
        raise NotFound(access.not_found(what))
    return value


def split_list(value: str | None) -> list[str]:
    """Comma- or line-separated items, trimmed, empty ones dropped."""
    return [item.strip() for item in (value or "").replace("\n", ",").split(",") if item.strip()]


def _may_supervise(session: Any, operation: Operation) -> bool:
    return bool(current_user.has_role("supervisor") and access.is_member(session, current_user, operation.id))


def profile_choices(session: Any, form: ProfileForm, operation_id: int, now: datetime) -> None:
    """Offer the authorizations in force (or coming into force) that no other supersedes, and the platforms
    they permit, grouped by authorization when there are several: a platform is chosen, never typed."""
    current = [
        authorization
        for authorization in records.authorizations_of(session, operation_id)
        if rules.authorization_status(session, authorization, now) in CURRENT
    ]
    form.authorization_id.choices = [(str(a.id), a.reference) for a in current]
    groups: dict[str, list[tuple[str, str]]] = {}
    for authorization in current:
        terms = profiles.platform_terms(session, authorization, now)
        groups[authorization.reference] = [(name, name) for name in terms.platforms]
    if len(groups) == 1:
        form.platform.choices = next(iter(groups.values()))
    else:
        form.platform.choices = groups  # type: ignore[assignment]


def render_overview(operation: Operation, status: int = 200, error: str | None = None, **forms: Any) -> Any:
    """The operation overview with every form the caller's role allows: the authorizations in force first,
    their history (superseded, withdrawn, lapsed) folded below them."""
    session = get_session()
    now = clock.now()
    authorizations = records.authorizations_of(session, operation.id)  # type: ignore[arg-type]
    cards = [records.authorization_json(session, a, now) for a in authorizations]
    pairs = list(zip(authorizations, cards, strict=True))
    profile_rows = records.profiles_of(session, operation.id)  # type: ignore[arg-type]
    members = records.member_rows(session, operation.id)  # type: ignore[arg-type]
    people = {p.proposed_by for p in profile_rows} | {p.approved_by for p in profile_rows}
    names = records.usernames(session, people | {operation.created_by})
    histories = {p.id: records.transitions_of(session, p.id) for p in profile_rows}  # type: ignore[arg-type]
    profile_form = forms.get("profile_form") or ProfileForm(formdata=None)
    profile_choices(session, profile_form, operation.id, now)  # type: ignore[arg-type]
    supervise = _may_supervise(session, operation)
    html = render_template(
        "operations/overview.html",
        operation=operation,
        cards=cards,
        current=[(a, card) for a, card in pairs if card["status"] in CURRENT],
        history=[(a, card) for a, card in reversed(pairs) if card["status"] not in CURRENT],
        withdrawals=rules.withdrawals(session, [a.id for a in authorizations]),  # type: ignore[misc]
        references={a.id: a.reference for a in authorizations},
        profiles=profile_rows,
        histories=histories,
        members=members,
        names=names,
        now=now,
        error=error,
        may_supervise=supervise and operation.status != "closed",
        may_status=supervise,
        may_suspend=(supervise or current_user.has_role("legal")) and operation.status != "closed",
        is_legal=current_user.has_role("legal"),
        member_form=forms.get("member_form") or MemberForm(formdata=None),
        status_form=forms.get("status_form") or StatusForm(formdata=None),
        profile_form=profile_form,
        document_form=DocumentForm(formdata=None),
        action_form=ActionForm(formdata=None),
        approval_refusals={
            p.id: services.approval_refusal(session, current_user, p)
            for p in profile_rows
            if p.status in ("pending_approval", "suspended") and supervise
        },
    )
    return html, status


def _visible(operation_id: int) -> Operation:
    return access.visible_operation(get_session(), current_user, _id(operation_id, "operation"))


def _refused(operation: Operation, error: Any, **forms: Any) -> Any:
    get_session().rollback()
    return render_overview(operation, error.status, error.message, **forms)


@bp.route("/operations", methods=["GET", "POST"])
@require_roles(*READERS)
def operation_list() -> Any:
    """The caller's operations, and the form to open one (supervisors)."""
    session = get_session()
    form = OperationForm()
    status, error = 200, None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                operation = services.create_operation(
                    session=session,
                    actor=current_user,
                    name=form.name.data or "",
                    team=form.team.data or "",
                    timezone=form.timezone.data or None,
                    description=form.description.data or "",
                )
                session.commit()
            except SHOWN as refusal:
                session.rollback()
                status, error = refusal.status, refusal.message
            else:
                flash(_("Operation %(name)s opened.", name=operation.name))
                return redirect(url_for("operations.overview", operation_id=operation.id))
        else:
            status = 400
    elif not form.timezone.data:
        form.timezone.data = zone().key
    operations = services.visible_operations(session, current_user)
    html = render_template(
        "operations/list.html",
        operations=operations,
        form=form,
        error=error,
        may_create=current_user.has_role("supervisor"),
    )
    return html, status


@bp.route(f"/operations/<{ID}:operation_id>")
@require_roles(*READERS)
def overview(operation_id: int) -> Any:
    """Authorizations with their status and chain, profiles with their history, members, forms."""
    return render_overview(_visible(operation_id))


@bp.route(f"/operations/<{ID}:operation_id>/activity")
@require_roles(*READERS)
def activity(operation_id: int) -> Any:
    """Charts of the operation: contacts and messages per day, and the timeline; each with its tables."""
    operation = _visible(operation_id)
    session = get_session()
    now = clock.now()
    zone_name = zone(operation.timezone).key
    days = charts.daily_activity(session, operation, zone_name)
    line = charts.timeline(session, operation, now)
    return render_template(
        "operations/activity.html",
        operation=operation,
        zone_name=zone_name,
        days=days,
        line=line,
        activity_chart=chart_svg.activity_chart(days),
        timeline_chart=timeline_svg.timeline_chart(line, zone_name),
        tones=chart_svg.TONES,
    )


@bp.route(f"/operations/<{ID}:operation_id>/members", methods=["POST"])
@require_roles(*READERS)
def add_member(operation_id: int) -> Any:
    """Assign a person (a supervisor member)."""
    operation = _visible(operation_id)
    form = MemberForm()
    if not form.validate_on_submit():
        return render_overview(operation, 400, _("Enter a username."), member_form=form)
    try:
        services.add_member(
            session=get_session(),
            actor=current_user,
            operation_id=operation_id,
            username=form.username.data or "",
        )
        get_session().commit()
    except SHOWN as refusal:
        return _refused(operation, refusal, member_form=form)
    flash(_("%(name)s assigned to the operation.", name=form.username.data))
    return redirect(url_for("operations.overview", operation_id=operation_id, _anchor="members"))


@bp.route(f"/operations/<{ID}:operation_id>/members/<username>/remove", methods=["GET", "POST"])
@require_roles(*READERS)
def remove_member(operation_id: int, username: str) -> Any:
    """Confirm and remove a person from the operation, with a reason (a supervisor member)."""
    operation = _visible(operation_id)
    session = get_session()
    require_supervisor_member(session, current_user, operation_id)
    member = next((user for _member, user in records.member_rows(session, operation_id) if
                   user.username == username), None)
    if member is None:
        raise InvalidInput(_("%(username)s is not a member of this operation", username=username),
                           field="username")
    form = ReasonForm()
    status, error = 200, None
    if request.method == "POST" and not form.validate_on_submit():
        expired = "csrf_token" in form.errors
        status, error = 400, _("The form expired; try again.") if expired else _("Check the reason.")
    elif request.method == "POST":
        try:
            services.remove_member(session=session, actor=current_user, operation_id=operation_id,
                                   username=username, reason=form.reason.data or "")
            session.commit()
        except SHOWN as refusal:
            session.rollback()
            status, error = refusal.status, refusal.message
            if refusal.field == "reason":
                form.reason.errors = [*form.reason.errors, refusal.message]
        else:
            flash(_("%(name)s removed from the operation.", name=username))
            if member.id == current_user.id:  # they no longer see the operation
                return redirect(url_for("operations.operation_list"))
            return redirect(url_for("operations.overview", operation_id=operation_id, _anchor="members"))
    html = render_template("operations/remove_member.html", operation=operation, member=member, form=form,
                           error=error)
    return html, status


@bp.route(f"/operations/<{ID}:operation_id>/status", methods=["POST"])
@require_roles(*READERS)
def change_status(operation_id: int) -> Any:
    """Move the operation to another status (a supervisor member)."""
    operation = _visible(operation_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return render_overview(operation, 400, _("Choose a status."), status_form=form)
    try:
        services.change_operation_status(
            session=get_session(),
            actor=current_user,
            operation_id=operation_id,
            status=form.status.data or "",
        )
        get_session().commit()
    except SHOWN as refusal:
        return _refused(operation, refusal, status_form=form)
    flash(_("The operation is now %(status)s.", status=labels.operation_status(form.status.data or "")))
    return redirect(url_for("operations.overview", operation_id=operation_id))


@bp.route(f"/operations/<{ID}:operation_id>/profiles", methods=["POST"])
@require_roles(*READERS)
def propose_profile(operation_id: int) -> Any:
    """Propose a decoy profile (a supervisor member) on a platform its authorization permits."""
    operation = _visible(operation_id)
    session = get_session()
    form = ProfileForm()
    profile_choices(session, form, operation_id, clock.now())
    if not form.validate_on_submit():
        return render_overview(operation, 400, _("Complete the profile form."), profile_form=form)
    choice = form.authorization_id.data or ""
    try:
        profile = services.propose_profile(
            session=session,
            actor=current_user,
            operation_id=operation_id,
            authorization_id=int(choice) if choice.isdigit() and len(choice) < 11 else -1,
            platform=form.platform.data or "",
            handle=form.handle.data or "",
            persona=form.persona.data or "",
            persona_age=form.persona_age.data,
        )
        session.commit()
    except SHOWN as refusal:
        at_field(form, refusal)
        return _refused(operation, refusal, profile_form=form)
    flash(_("Profile %(handle)s proposed; a colleague must approve it.", handle=profile.handle))
    return redirect(url_for("operations.overview", operation_id=operation_id, _anchor="profiles"))


def at_field(form: Any, refusal: Any) -> None:
    """Show a refusal at the field of ``form`` it names too."""
    target = getattr(form, refusal.field or "", None)
    if target is not None and hasattr(target, "errors") and refusal.field != "csrf_token":
        target.errors = [*target.errors, refusal.message]


def _visible_profile(profile_id: int) -> tuple[Profile, Operation]:
    session = get_session()
    profile = access.require_visible(
        session, current_user, session.get(Profile, _id(profile_id, "profile")), "profile"
    )
    return profile, session.get(Operation, profile.operation_id)  # type: ignore[return-value]


def _done(profile: Profile) -> Any:
    flash(
        _(
            "Profile %(handle)s is now %(status)s.",
            handle=profile.handle,
            status=labels.profile_status(profile.status),
        )
    )
    return redirect(
        url_for("operations.overview", operation_id=profile.operation_id, _anchor=f"profile-{profile.id}")
    )


@bp.route(f"/profiles/<{ID}:profile_id>/approve", methods=["POST"])
@require_roles(*READERS)
def approve_profile(profile_id: int) -> Any:
    """Approve a colleague's proposal (four eyes); a broken rule is shown with its reason."""
    session = get_session()
    profile, operation = _visible_profile(profile_id)
    if not ActionForm().validate_on_submit():
        return render_overview(operation, 400, _("The form expired; try again."))
    try:
        services.approve_profile(session=session, actor=current_user, profile_id=profile_id)
        session.commit()
    except SHOWN as refusal:
        return _refused(operation, refusal)
    return _done(profile)


def _may_change(session: Any, profile: Profile, action: str) -> None:
    """Forbidden unless the caller may suspend (a supervisor of the operation or a legal officer) or retire
    (a supervisor of the operation) the profile: the same people the services let through."""
    supervisor = current_user.has_role("supervisor") and access.is_member(
        session, current_user, profile.operation_id
    )
    if action == "suspend" and not (supervisor or current_user.has_role("legal")):
        raise Forbidden(_("only a supervisor of the operation, a legal officer or the system may suspend"))
    if action == "retire" and not supervisor:
        raise Forbidden(_("only a supervisor assigned to this operation may do this"))


def _profile_change(profile_id: int, action: str) -> Any:
    """The confirmation page of a suspension or retirement (GET), and the change itself (POST): what will
    happen, the profile's summary, the reason, a danger button and Cancel; back to the operation page
    with a banner when done, or the page again with the refusal at its field."""
    session = get_session()
    profile, operation = _visible_profile(profile_id)
    _may_change(session, profile, action)
    form = SuspensionForm() if action == "suspend" else RetirementForm()
    allowed = (
        profile.status == "active" if action == "suspend" else profile.status in profiles.RETIRABLE
    )
    status, error = 200, None
    shown_status = labels.profile_status(profile.status)
    if not allowed:
        status = 409
        error = (
            _("only an active profile can be suspended; this one is %(status)s", status=shown_status)
            if action == "suspend"
            else _("a profile that is %(status)s cannot be retired", status=shown_status)
        )
    elif request.method == "POST":
        if not form.validate_on_submit():
            expired = "csrf_token" in form.errors
            status, error = 400, _("The form expired; try again.") if expired else _("Check the reason.")
        else:
            change = services.suspend_profile if action == "suspend" else services.retire_profile
            try:
                reason = form.reason.data or ""
                change(session=session, actor=current_user, profile_id=profile_id, reason=reason)
                session.commit()
            except SHOWN as refusal:
                session.rollback()
                status, error = refusal.status, refusal.message
                at_field(form, refusal)
            else:
                return _done(profile)
    html = render_template(
        "operations/profile_change.html",
        action=action,
        profile=profile,
        operation=operation,
        authorization=session.get(Authorization, profile.authorization_id),
        form=form,
        error=error,
        allowed=allowed,
    )
    return html, status


@bp.route(f"/profiles/<{ID}:profile_id>/suspend", methods=["GET", "POST"])
@require_roles(*READERS)
def suspend_profile(profile_id: int) -> Any:
    """Suspend an active profile, with a reason: a confirmation page, then the suspension."""
    return _profile_change(profile_id, "suspend")


@bp.route(f"/profiles/<{ID}:profile_id>/retire", methods=["GET", "POST"])
@require_roles(*READERS)
def retire_profile(profile_id: int) -> Any:
    """Retire a profile for good: a confirmation page, then the retirement."""
    return _profile_change(profile_id, "retire")


def visible_authorization(authorization_id: int) -> Authorization:
    """The authorization if the caller may see its operation, else NotFound."""
    session = get_session()
    found = session.get(Authorization, _id(authorization_id, "authorization"))
    return access.require_visible(session, current_user, found, "authorization")  # type: ignore[no-any-return]


bp.add_app_template_global(labels.authorization_status, "authorization_status_label")
bp.add_app_template_global(labels.operation_status, "operation_status_label")
bp.add_app_template_global(labels.profile_status, "profile_status_label")
bp.add_app_template_global(labels.document_kind, "document_kind_label")
bp.add_app_template_global(labels.authorization_kind, "authorization_kind_label")
bp.add_app_template_global(labels.roles, "role_labels")
bp.add_app_template_global(labels.transition_reason, "transition_reason_label")
bp.add_app_template_global(labels.age_range, "age_range_label")
bp.add_app_template_global(rules.EXPIRING_WITHIN, "expiring_within")
bp.add_app_template_global(chart_svg.day_label, "day_label")
bp.add_app_template_global(labels.review_status, "review_status_label")
bp.add_app_template_global(labels.review_kind, "review_kind_label")
bp.add_app_template_global(labels.decision, "decision_label")

from ..orders import lead_views  # noqa: E402,F401  (the leads register on the pages)
from ..orders import views as order_views  # noqa: E402,F401  (withdrawal, closing, end reports, maxima)
from . import authorization_views  # noqa: E402,F401  (routes of authorizations and the central record)
