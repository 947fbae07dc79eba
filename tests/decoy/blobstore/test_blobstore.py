"""The content-addressed evidence store."""

from __future__ import annotations

import hashlib
import io

import pytest

from decoy import blobstore
from decoy.errors import TooLarge


def test_stores_by_hash_and_sniffs_type(app):
    data = b"%PDF-1.7\n" + b"x" * 5000
    with app.app_context():
        stored = blobstore.store_stream(io.BytesIO(data))
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        assert stored.size == len(data)
        assert stored.media_type == "application/pdf"
        assert blobstore.path_for(stored.sha256).read_bytes() == data
        assert blobstore.hash_file(stored.sha256) == stored.sha256
        again = blobstore.store_stream(io.BytesIO(data))
        assert again == stored


def test_over_the_limit_stores_nothing(app):
    with app.app_context():
        with pytest.raises(TooLarge):
            blobstore.store_stream(io.BytesIO(b"a" * 2048), max_bytes=1024)
        root = blobstore.root()
        assert [p for p in root.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("head,expected", [
    (b"\x89PNG\r\n\x1a\n....", "image/png"),
    (b"\xff\xd8\xff\xe0", "image/jpeg"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"hello, how are you", "text/plain"),
    (b"<script>alert(1)</script>", "text/plain"),
    (b"\x00\x01\x02", "application/octet-stream"),
])
def test_sniffing_uses_content_only(head, expected):
    assert blobstore.sniff(head) == expected
