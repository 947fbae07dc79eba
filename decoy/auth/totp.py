"""Time-based one-time passwords: secrets encrypted at rest, each code accepted once."""

from __future__ import annotations

import os
from datetime import datetime

import pyotp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ISSUER = "Decoy"
STEP_SECONDS = 30


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def encrypt_secret(secret: str, key: bytes, username: str) -> bytes:
    """Encrypt a TOTP secret with AES-GCM, bound to its account by the associated data."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, secret.encode(), username.encode())


def decrypt_secret(blob: bytes, key: bytes, username: str) -> str:
    """Decrypt a TOTP secret stored by :func:`encrypt_secret`."""
    return AESGCM(key).decrypt(blob[:12], blob[12:], username.encode()).decode()


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def current_code(secret: str, moment: datetime) -> str:
    """The code valid at ``moment`` (for tests and the demo)."""
    return pyotp.TOTP(secret).at(moment)


def matching_step(secret: str, code: str, moment: datetime, last_step: int) -> int | None:
    """Return the time step ``code`` belongs to, if it is valid now and newer than ``last_step``.

    One step of clock drift either way is tolerated; a step at or before the last
    accepted one is refused, so that a code is never accepted twice.
    """
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(moment.timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if step > last_step and pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None
