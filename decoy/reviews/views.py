"""Review pages: the compliance dashboard, an operation's reviews, the review form and the calendar feed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import col, select

from .. import access, clock
from ..auth import tokens as accounts
from ..auth.principal import principal_for_token, require_roles
from ..db import get_session
from ..errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from ..integrity.checkpoints import latest_verification
from ..models import MAX_ID, ApiToken, Authorization, Profile, Role
from ..operations.rules import chain
from . import calendar
from .compliance import AttentionLine, dashboard, deadlines, needing_attention
from .forms import CalendarTokenForm, DecisionForm
from .services import decide_review, get_review, reviews_of_operation, states

bp = Blueprint("reviews", __name__)

CALENDAR_PURPOSE = "calendar"


def _id(value: int, what: str) -> int:
    if value > MAX_ID:
        raise NotFound(access.not_found(what))
    return value


@bp.route("/compliance")
@require_roles(Role.legal.value)
def compliance() -> str:
    """Every operation's authorization status, reviews due and overdue, flagged messages."""
    session = get_session()
    now = clock.now()
    return render_template(
        "reviews/compliance.html",
        lines=dashboard(session, now),
        now=now,
        verification=latest_verification(session),
    )


@bp.route("/operations/<int:operation_id>/reviews")
@require_roles()
def operation_reviews(operation_id: int) -> str:
    """The reviews of one operation by due time (the scheduler creates them; reading creates none)."""
    session = get_session()
    operation = access.visible_operation(session, current_user, _id(operation_id, "operation"))
    reviews, _following = reviews_of_operation(session, current_user, operation.id, limit=1000)  # type: ignore[arg-type]
    return render_template(
        "reviews/operation_reviews.html", operation=operation, states=states(session, reviews)
    )


def _profiles(session: Any, authorization_id: int) -> list[Profile]:
    ids = [link.id for link in chain(session, authorization_id)]
    return list(
        session.exec(
            select(Profile).where(col(Profile.authorization_id).in_(ids)).order_by(col(Profile.id))
        ).all()
    )


@bp.route("/reviews/<int:review_id>", methods=["GET", "POST"])
@require_roles()
def review(review_id: int) -> Any:
    """One review; a legal officer decides it here."""
    session = get_session()
    found = get_review(session, current_user, _id(review_id, "review"))
    form = DecisionForm()
    status = 200
    error = None
    if request.method == "POST":
        if not current_user.has_role(Role.legal.value):
            raise Forbidden(_("Only a legal officer may decide a review."))
        status = 400
        if form.validate_on_submit():
            try:
                decide_review(
                    session=session,
                    actor=current_user,
                    review_id=found.id,
                    decision=form.decision.data,
                    rationale=form.rationale.data,
                )
            except InvalidInput as refusal:
                session.rollback()
                error = refusal.message
            else:
                session.commit()
                flash(_("Decision recorded: %(decision)s.", decision=form.decision.data))
                return redirect(url_for("reviews.review", review_id=found.id))
    state = states(session, [found])[0]
    authorization = session.get(Authorization, found.authorization_id)
    return render_template(
        "reviews/review.html",
        state=state,
        review=found,
        form=form,
        error=error,
        authorization=authorization,
        profiles=_profiles(session, found.authorization_id),
        may_decide=current_user.has_role(Role.legal.value),
    ), status


def _feed_user() -> Any:
    """The caller of the feed: a calendar token in the URL, a bearer token, or the session."""
    given = request.args.get("token")
    if given is not None:
        principal = principal_for_token(given.strip(), purpose=CALENDAR_PURPOSE)
        if principal is None:
            raise NotAuthenticated(_("invalid, expired or revoked calendar token"))
        return principal
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        principal = principal_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if principal is None:
            raise NotAuthenticated(_("invalid, expired or revoked token"))
        return principal
    if current_user.is_authenticated:
        return current_user
    raise NotAuthenticated(_("authentication required: a calendar token, a bearer token or a session"))


@bp.route("/reviews.ics")
def calendar_feed() -> Response:
    """The caller's review deadlines as iCalendar, each in its operation's time zone."""
    actor = _feed_user()
    now = clock.now()
    text = calendar.render(
        deadlines(get_session(), actor, now),
        now=now,
        host=request.host.split(":")[0],
        base_url=request.host_url.rstrip("/"),
    )
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="reviews.ics"'
    return response


@bp.route("/account/calendar", methods=["GET", "POST"])
@login_required
def calendar_tokens() -> Any:
    """Create and revoke the tokens that let a calendar program read the feed."""
    db = get_session()
    form = CalendarTokenForm()
    created = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            _token, clear = accounts.create_token(
                session=db,
                user=current_user.user,
                name=form.name.data or "",
                days=form.days.data,
                purpose=CALENDAR_PURPOSE,
            )
            db.commit()
            created = url_for("reviews.calendar_feed", token=clear, _external=True)
            status = 201
    tokens = [
        token for token in accounts.tokens_of(db, current_user.user) if token.purpose == CALENDAR_PURPOSE
    ]
    return render_template(
        "reviews/calendar_tokens.html", form=form, created=created, tokens=tokens, now=clock.now()
    ), status


@bp.route("/account/calendar/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_calendar_token(token_id: int) -> Response:
    """Revoke one of the caller's calendar tokens."""
    db = get_session()
    token = db.get(ApiToken, _id(token_id, "token"))
    if token is None or token.purpose != CALENDAR_PURPOSE:
        raise NotFound(_("no such token"))
    accounts.revoke_token(session=db, user=current_user.user, token_id=token_id)
    db.commit()
    flash(_("Calendar token revoked."))
    return redirect(url_for("reviews.calendar_tokens"))


def reviews_needing_attention() -> list[AttentionLine]:
    """For a legal officer's home page: the reviews overdue, and those of their operations due soon."""
    if not current_user.has_role(Role.legal.value):
        return []
    session = get_session()
    begun_here = not session.in_transaction()
    lines = needing_attention(session, current_user, clock.now())
    if begun_here:
        session.commit()  # a read of its own: the write lock (SQLite) is not held to the end of the page
    return lines


bp.add_app_template_global(reviews_needing_attention, "reviews_needing_attention")

from . import notification_views  # noqa: E402,F401  (the /notifications routes on this blueprint)
