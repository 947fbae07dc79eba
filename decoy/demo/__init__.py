"""The demo data set: invented, neutral data for a fresh data directory only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import func, select

from ..auth import services
from ..db import session_scope
from ..models import User

DEMO_PASSWORD = "demo password 2026"  # noqa: S105 - the demo data directory only
DEMO_FILE = "demo-accounts.json"

#: (username, display name, roles) of the demo accounts.
#: Username, name, roles and verbalisant code (invented; officers act under their code outside Decoy).
DEMO_ACCOUNTS = [
    ("admin", "Ada Admin", ["admin"], None),
    ("dirk", "Dirk Detective", ["detective"], "DEMO-0101"),
    ("dana", "Dana Detective", ["detective"], "DEMO-0102"),
    ("sam", "Sam Supervisor", ["supervisor"], "DEMO-0201"),
    ("sara", "Sara Supervisor", ["supervisor"], "DEMO-0202"),
    ("lena", "Lena Legal", ["legal"], "DEMO-0301"),
]


def _operations_step(app: Flask) -> None:
    from .operations import load_demo_operations

    load_demo_operations(app)


#: Steps that add the demo's objects after its accounts.
DEMO_STEPS: list[Any] = [_operations_step]


class DemoRefused(RuntimeError):
    """The data directory is not fresh: the demo never mixes with real data."""


def load_demo(app: Flask) -> dict[str, Any]:
    """Fill a fresh data directory with the demo set; return the accounts and their TOTP secrets."""
    accounts: dict[str, Any] = {}
    with app.app_context():
        with session_scope(app) as session:
            if session.exec(select(func.count()).select_from(User)).one():
                raise DemoRefused(
                    "the database already holds accounts; the demo needs a fresh data directory"
                )
            for username, name, roles, code in DEMO_ACCOUNTS:
                account = services.create_user(session=session, actor="demo", username=username,
                                               password=DEMO_PASSWORD, roles=roles, display_name=name,
                                               email=f"{username}@decoy.invalid", code=code)
                # Demo accounts are ready to use: the known password and the secret in the demo file
                # stand for an enrolment already done, so `decoy demo-code` gives the code to sign in.
                account.user.must_set_password = False
                account.user.totp_confirmed = True
                accounts[username] = {"roles": roles, "password": DEMO_PASSWORD, "verbalisant_code": code,
                                      "totp_secret": account.secret, "otpauth_uri": account.otpauth_uri}
        for step in DEMO_STEPS:
            step(app)
    path = Path(app.config["DATA_DIR"]) / DEMO_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(accounts, handle, indent=2)
    return accounts


def demo_secret(app: Flask, username: str) -> str | None:
    """The TOTP secret of a demo account, read from the demo file of this data directory."""
    path = Path(app.config["DATA_DIR"]) / DEMO_FILE
    if not path.is_file():
        return None
    entry = json.loads(path.read_text()).get(username)
    return None if entry is None else str(entry["totp_secret"])
