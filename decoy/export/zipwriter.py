"""A ZIP writer that streams, hashes every member as it is written, and ends with the manifest."""

from __future__ import annotations

import hashlib
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime

from audit.bundle import MANIFEST_PATH, MANIFEST_SIGNATURE_PATH, manifest_json, manifest_note_text
from audit.checkpoint import Signer


class Sink:
    """A write-only file object whose written bytes are collected until drained (for streaming)."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._position = 0

    def write(self, data: bytes) -> int:
        """Collect ``data``."""
        if data:
            self._chunks.append(bytes(data))
            self._position += len(data)
        return len(data)

    def tell(self) -> int:
        """Bytes written so far (zipfile asks for offsets)."""
        return self._position

    def flush(self) -> None:
        """Nothing to flush: bytes wait for :meth:`drain`."""

    def drain(self) -> bytes:
        """Return and forget what was written since the last drain."""
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


class BundleWriter:
    """Writes members into a ZIP on ``output`` and records their SHA-256 and size for the manifest."""

    def __init__(self, output: object, timestamp: datetime) -> None:
        self._zip = zipfile.ZipFile(output, "w", allowZip64=True)  # type: ignore[call-overload]
        self._date = timestamp.timetuple()[:6]
        self.files: dict[str, tuple[str, int]] = {}

    def _info(self, name: str, compress: bool) -> zipfile.ZipInfo:
        if name in self.files or name in (MANIFEST_PATH, MANIFEST_SIGNATURE_PATH):
            raise ValueError(f"{name} is already in the bundle")
        info = zipfile.ZipInfo(name, date_time=self._date)  # type: ignore[arg-type]
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o640 << 16
        return info

    def add_bytes(self, name: str, data: bytes, *, compress: bool = True) -> None:
        """Add a member held in memory (small files)."""
        deque(self._write(name, [data], compress), maxlen=0)

    def add_chunks(self, name: str, chunks: Iterable[bytes], *, compress: bool = True) -> Iterator[int]:
        """Add a member from chunks, lazily: it yields the size so far after each chunk, so that a stream
        can drain in between; the member is complete once the iterator is exhausted."""
        return self._write(name, chunks, compress)

    def _write(self, name: str, chunks: Iterable[bytes], compress: bool) -> Iterator[int]:
        digest = hashlib.sha256()
        size = 0
        with self._zip.open(self._info(name, compress), "w", force_zip64=True) as member:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                member.write(chunk)
                yield size
        self.files[name] = (digest.hexdigest(), size)

    def finish(self, signer: Signer) -> None:
        """Write the manifest (each member with its SHA-256 and size), its signature; close the archive."""
        manifest = manifest_json(self.files)
        signature = signer.sign_text(manifest_note_text(manifest)).encode("utf-8")
        for name, data in ((MANIFEST_PATH, manifest), (MANIFEST_SIGNATURE_PATH, signature)):
            info = zipfile.ZipInfo(name, date_time=self._date)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            self._zip.writestr(info, data)
        self._zip.close()
