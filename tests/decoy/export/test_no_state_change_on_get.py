"""State changes only by POST: making an export and creating reviews are never the side effect of a GET."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import text

from decoy.db import get_engine
from decoy.reviews.passes import review_pass
from tests.factories import make_authorization, make_operation
from tests.support import csrf_from


def _count(app, table):
    with get_engine(app).connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_the_export_page_asks_and_only_a_post_exports(app, client, factory, auth):
    factory.user("sam", "supervisor")
    factory.user("lena", "legal")
    operation = make_operation(app, "sam")
    auth.login("lena")
    before = (_count(app, "audit_entry"), _count(app, "audit_checkpoint"))
    page = client.get(f"/operations/{operation}/export")
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    assert (_count(app, "audit_entry"), _count(app, "audit_checkpoint")) == before
    bundle = client.post(
        f"/operations/{operation}/export", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert bundle.status_code == 200 and bundle.mimetype == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(bundle.get_data())).testzip() is None
    assert _count(app, "audit_entry") > before[0]
    # Without the CSRF token a cross-site form cannot make an export.
    assert client.post(f"/operations/{operation}/export").status_code in (400, 403)


def test_reading_reviews_creates_none_the_scheduler_does(app, client, factory, auth):
    factory.user("sam", "supervisor")
    factory.user("lena", "legal")
    operation = make_operation(app, "sam")
    make_authorization(app, "lena", operation)
    headers = {"Authorization": f"Bearer {factory.token('lena')}"}
    auth.login("lena")
    entries = _count(app, "audit_entry")
    assert client.get(f"/api/v1/operations/{operation}/reviews", headers=headers).status_code == 200
    assert client.get(f"/operations/{operation}/reviews").status_code == 200
    assert (_count(app, "review"), _count(app, "audit_entry")) == (0, entries)
    with app.app_context():
        review_pass(app)
    assert _count(app, "review") > 0
