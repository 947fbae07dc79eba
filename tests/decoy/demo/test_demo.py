"""`decoy demo`: a living system with every kind of object, on a fresh data directory only."""

from __future__ import annotations

from sqlalchemy import text

from decoy.cli import main
from decoy.db import get_engine
from decoy.models import FLAGS


def test_demo_fills_every_state_and_the_log_verifies(app, runner):
    result = runner.invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context(), get_engine().connect() as connection:

        def column(sql):
            return {row[0] for row in connection.execute(text(sql))}

        assert column("SELECT status FROM profile") == {"active", "pending_approval", "suspended", "retired"}
        assert column("SELECT kind FROM legal_authorization") >= {
            "rc_authorisation",
            "ovj_order",
            "urgent_oral_order",
        }
        assert column("SELECT status FROM operation") >= {"active", "planned", "closed"}
        assert column("SELECT count(*) FROM authorization_withdrawal") == {1}
        assert column("SELECT count(*) FROM end_report") == {1}
        assert column("SELECT count(*) FROM lead") == {1}
        assert column("SELECT supersedes_id FROM legal_authorization") - {None}
        flags = set()
        for (stored,) in connection.execute(text("SELECT flags FROM message")):
            flags |= set(stored if isinstance(stored, list) else __import__("json").loads(stored))
        for (assessed,) in connection.execute(text("SELECT message_flags FROM contact_assessment")):
            found = assessed if isinstance(assessed, dict) else __import__("json").loads(assessed)
            flags |= {flag for listed in found.values() for flag in listed}
        outcomes = column("SELECT outcome FROM export_reconciliation")
        assert outcomes == {"confirmed", "differs_from_export", "missing_from_export"}
        assert flags | outcomes - {"confirmed"} == set(FLAGS)
        assert column("SELECT count(*) FROM attachment") != {0}
        assert column("SELECT count(*) FROM review_decision") != {0}
        assert column("SELECT kind FROM review") >= {"periodic", "before_expiry", "triggered"}
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0


def test_demo_refuses_a_data_directory_with_accounts(runner, factory):
    factory.user("dora", "detective")
    result = runner.invoke(main, ["demo"])
    assert result.exit_code != 0
    assert "fresh data directory" in result.output
