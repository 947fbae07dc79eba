"""No endpoint reads an unbounded body, an outsider's upload is refused before its body is read, and ids
are ASCII digits only."""

from __future__ import annotations

import io

import pytest


class Untouchable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures a stream it is given
        return True

    def tell(self) -> int:
        return 0

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def readinto(self, buffer) -> int:  # noqa: ANN001
        raise AssertionError("the body was read")


def _post(client, path, *, length, content_type, headers=None):
    # The declared length travels in the environment (the test client would measure the stream).
    return client.post(
        path,
        input_stream=Untouchable(),
        content_type=content_type,
        headers=headers or {},
        environ_overrides={"CONTENT_LENGTH": str(length)},
    )


@pytest.mark.parametrize(
    ("path", "length"),
    [("/login", 17 * 1024), ("/login/code", 17 * 1024), ("/operations", 300 * 1024), ("/lang", 300 * 1024)],
)
def test_forms_refuse_a_large_body_before_reading_it(client, path, length):
    answer = _post(client, path, length=length, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 413


def test_the_api_refuses_a_large_json_body_before_reading_it(client, factory):
    factory.user("sam", "supervisor")
    headers = {"Authorization": f"Bearer {factory.token('sam')}"}
    answer = _post(
        client, "/api/v1/operations", length=9 * 1024 * 1024, content_type="application/json", headers=headers
    )
    assert answer.status_code == 413 and answer.get_json()["error"]["code"]


def test_an_outsiders_upload_is_refused_before_its_body_is_read(client, factory, world):
    factory.user("otto", "detective")
    contact = world.contact()
    boundary = "multipart/form-data; boundary=x"
    for username, status in (("otto", 404), ("lena", 403)):
        headers = {"Authorization": f"Bearer {factory.token(username)}"}
        answer = _post(
            client,
            f"/api/v1/contacts/{contact}/messages",
            length=40 * 1024 * 1024,
            content_type=boundary,
            headers=headers,
        )
        assert answer.status_code == status, answer.get_data(as_text=True)


def test_an_upload_beyond_every_file_limit_is_413_at_once(app, client, world):
    contact = world.contact()
    limit = app.config["MAX_ATTACHMENT_BYTES"] * 20 + 8 * 1024 * 1024
    answer = _post(
        client,
        f"/api/v1/contacts/{contact}/messages",
        length=limit + 1,
        content_type="multipart/form-data; boundary=x",
        headers=world.headers("dana"),
    )
    assert answer.status_code == 413


@pytest.mark.parametrize("digits", ["\u0661", "\u0967", "\uff11", "\U0001d7cf"])
def test_ids_in_other_scripts_digits_are_not_found(client, world, digits):
    contact = world.contact()
    assert contact == 1
    assert client.get("/api/v1/contacts/1", headers=world.headers("dana")).status_code == 200
    assert client.get(f"/api/v1/contacts/{digits}", headers=world.headers("dana")).status_code == 404
    assert client.get(f"/attachments/{digits}", headers=world.headers("dana")).status_code == 404
