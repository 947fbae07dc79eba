"""Rule 4 for authorizations and profile histories: the database itself refuses UPDATE and DELETE."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from decoy.db import get_engine
from tests.factories import make_profile

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def rows(team):
    """A profile with two transitions and an authorization with a document and a named officer."""
    profile_id = make_profile(team.app, team.operation_id, team.authorization_id, "sam", approver="sol")
    team.api(
        "POST",
        f"/authorizations/{team.authorization_id}/documents",
        "lena",
        data={"file": (io.BytesIO(PDF), "order.pdf")},
        content_type="multipart/form-data",
    )
    return {"profile": profile_id, "authorization": team.authorization_id}


STATEMENTS = [
    "UPDATE legal_authorization SET reference = 'changed' WHERE id = :authorization",
    "UPDATE legal_authorization SET valid_until = valid_from WHERE id = :authorization",
    "DELETE FROM legal_authorization WHERE id = :authorization",
    "UPDATE authorization_officer SET user_id = user_id WHERE authorization_id = :authorization",
    "DELETE FROM authorization_officer WHERE authorization_id = :authorization",
    "UPDATE authorization_document SET sha256 = 'x' WHERE authorization_id = :authorization",
    "DELETE FROM authorization_document WHERE authorization_id = :authorization",
    "UPDATE profile_transition SET reason = 'rewritten' WHERE profile_id = :profile",
    "UPDATE profile_transition SET to_status = 'retired' WHERE profile_id = :profile",
    "DELETE FROM profile_transition WHERE profile_id = :profile",
    "UPDATE profile SET status = 'suspended' WHERE id = :profile",
    "UPDATE profile SET handle = 'someone_else' WHERE id = :profile",
    "UPDATE profile SET authorization_id = authorization_id WHERE id = :profile",
    "DELETE FROM profile WHERE id = :profile",
]


@pytest.mark.parametrize("statement", STATEMENTS)
def test_the_database_refuses_to_alter_history(team, rows, statement):
    engine = get_engine(team.app)
    with engine.connect() as connection:
        with pytest.raises(DBAPIError):
            connection.execute(text(statement), rows)
        connection.rollback()
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM profile_transition WHERE profile_id = :profile"), rows
        ).scalar_one()
        status = connection.execute(text("SELECT status FROM profile WHERE id = :profile"), rows).scalar_one()
    assert (count, status) == (2, "active")


def test_a_status_update_with_its_transition_row_is_accepted(team, rows):
    engine = get_engine(team.app)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO profile_transition (profile_id, from_status, to_status, actor, reason, at) "
                "VALUES (:profile, 'active', 'suspended', 'sam', 'by hand', CURRENT_TIMESTAMP)"
            ),
            rows,
        )
        connection.execute(text("UPDATE profile SET status = 'suspended' WHERE id = :profile"), rows)
    with engine.connect() as connection:
        assert connection.execute(
            text("SELECT status FROM profile WHERE id = :profile"), rows
        ).scalar_one() == ("suspended")
