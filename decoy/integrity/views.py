"""The integrity page: the latest signed checkpoint to copy into a report, and verification results."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import audit_bridge
from ..auth.principal import require_roles
from ..db import get_session
from ..disclosure import codes
from .checkpoints import (
    get_signer,
    latest_verification,
    publish_checkpoint,
    record_verification,
    sign_checkpoint,
)
from .stamping import stamp_statuses
from .witnessing import cosigned_note, recent_refusals, witness_statuses

bp = Blueprint("integrity", __name__, url_prefix="/integrity")


@bp.route("/")
@require_roles("legal")
def overview() -> str:
    """Latest checkpoint, public key, log size and the last verification."""
    session = get_session()
    store = audit_bridge.get_store()
    connection = session.connection()
    latest = store.latest_checkpoint(connection)
    return render_template(
        "integrity/overview.html",
        checkpoint=latest,
        cosigned=cosigned_note(session, latest) if latest is not None else None,
        witnesses=witness_statuses(session, latest),
        refusals=recent_refusals(session),
        stamps=stamp_statuses(session),
        size=store.size(connection),
        public_key=get_signer().verifier_key_text(),
        verification=latest_verification(session),
    )


@bp.route("/checkpoint", methods=["POST"])
@require_roles("legal")
def checkpoint() -> Response:
    """Sign and publish a checkpoint now."""
    session = get_session()
    stored, new = sign_checkpoint(session)
    session.commit()
    if new:
        publish_checkpoint(stored)
    flash(_("Checkpoint signed at log size %(size)d.", size=stored.size))
    return redirect(url_for("integrity.overview"))


@bp.route("/verify", methods=["POST"])
@require_roles("legal")
def verify() -> Response:
    """Verify the whole log and the evidence it covers now."""
    session = get_session()
    run = record_verification(session, trigger="web", actor=codes.name_of(current_user))
    session.commit()
    if run.ok:
        flash(_("The log is intact: %(entries)d entries verified.", entries=run.entries))
    else:
        flash(_("The log is NOT intact: first bad entry %(index)s.", index=run.first_bad_index), "error")
    return redirect(url_for("integrity.overview"))
