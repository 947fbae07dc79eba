"""What the profile and contact pages show of capture sessions: the sessions, who may start and end one,
and the choice of session in the message form."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlmodel import Session

from .. import access
from ..access import Actor
from ..clock import localtime
from ..evidence.validation import records
from ..models import Profile, ProfileStatus
from . import services
from .forms import StartForm


@dataclass(frozen=True)
class Panel:
    """A profile's capture sessions as a page shows them (newest first) and what the reader may do."""

    records: list[services.SessionRecord]
    usernames: dict[int, str]
    more: bool
    may_start: bool
    may_end: frozenset[int]
    start_form: StartForm
    #: (value, label) of the message form's choice of session: none, then each open session.
    choices: list[tuple[str, str]] = field(default_factory=list)
    #: The choice preselected: the reader's own newest open session, if any ("" for none).
    default: str = ""


def panel(
    session: Session, actor: Actor, profile: Profile, zone: str | None, start_form: StartForm | None = None
) -> Panel:
    """The profile's capture sessions (read and recorded as a read) with the reader's possibilities."""
    listed = services.read_recent_sessions(session=session, actor=actor, profile_id=profile.id or 0)
    names = listed.usernames
    member = records(actor) and access.is_member(session, actor, profile.operation_id)
    open_ones = [found for found in listed.records if found.open]
    may_end = frozenset(
        found.session.id or 0
        for found in open_ones
        if member and services.may_end(session, actor, found.session)
    )
    choices = [("", _("none (not captured in a session)"))]
    for found in open_ones:
        row = found.session
        label = _(
            "No. %(id)s: %(operator)s on %(device)s with %(tool)s, since %(started)s",
            id=row.id,
            operator=names.get(row.operated_by, ""),
            device=row.device,
            tool=row.tool,
            started=localtime(row.started_at, zone),
        )
        choices.append((str(row.id), label))
    own = [found.session.id for found in open_ones if found.session.operated_by == actor.id]
    return Panel(
        records=listed.records,
        usernames=names,
        more=listed.more,
        may_start=member and profile.status == ProfileStatus.active.value,
        may_end=may_end,
        start_form=start_form or StartForm(formdata=None),
        choices=choices,
        default=str(own[0]) if own else "",
    )
