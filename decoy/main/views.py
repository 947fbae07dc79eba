"""The home page of each role and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

bp = Blueprint("main", __name__)


@bp.route("/healthz")
def healthz() -> Response:
    """Liveness: answers without authentication and without touching evidence."""
    return jsonify({"status": "ok"})


@bp.route("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico on their own (for a download or a JSON page too): the icon is the SVG."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/")
@login_required
def home() -> Response | str:
    """Each role's starting page."""
    if current_user.has_role("admin"):
        return redirect(url_for("admin.users"))
    from ..operations.home import home_data

    return render_template("main/home.html", **home_data(current_user))
