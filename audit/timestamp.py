"""Trusted timestamps of checkpoints (RFC 3161): a time-stamp authority outside the police signs that a
checkpoint's text existed at a time, so that a log rebuilt later cannot claim an earlier date.

What is stamped is the checkpoint's note text (origin, size and root lines, with the final newline; no
signature line), hashed with SHA-256. A token is accepted only when the authority granted it, it stamps
that hash, it carries the nonce of the request it answers (on receipt), and its signer's certificate
chains, as a time-stamping certificate, to one of the roots given. ASN.1 and CMS are handled by the
maintained ``rfc3161-client`` package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

__all__ = ["Stamp", "StampError", "check_stamp", "load_certificates", "stamp_request"]

#: The media types of RFC 3161 over HTTP (section 3.4).
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


class StampError(ValueError):
    """A time-stamp token that is malformed, refused, or does not stamp what it should."""


@dataclass(frozen=True)
class Stamp:
    """A checked token: when the authority says the text existed, and who signed it."""

    at: datetime
    signer: str


def stamp_request(message: bytes) -> tuple[bytes, int]:
    """A time-stamp request (DER) for the SHA-256 of ``message``, asking for the signer's certificate,
    with a fresh nonce; and that nonce."""
    request = TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256).build()
    nonce = request.nonce
    if nonce is None:
        raise StampError("the time-stamp request has no nonce")
    return request.as_bytes(), int(nonce)


def load_certificates(pem: bytes) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """The roots (self-issued certificates) and the intermediates of a PEM bundle (StampError when it
    holds no certificate)."""
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise StampError(f"not a PEM file of certificates: {exc}") from exc
    roots = [c for c in certificates if c.subject == c.issuer]
    if not roots:
        raise StampError("the certificates hold no root (self-issued) certificate")
    return roots, [c for c in certificates if c.subject != c.issuer]


def check_stamp(token: bytes, message: bytes, roots: Sequence[x509.Certificate],
                intermediates: Sequence[x509.Certificate] = (), nonce: int | None = None) -> Stamp:
    """Check a time-stamp response (DER) for ``message`` against the roots (and the nonce of the request,
    when it is known); its time and signer, or StampError naming what is wrong."""
    try:
        response = decode_timestamp_response(token)
    except ValueError as exc:
        raise StampError(f"not a time-stamp response: {exc}") from exc
    builder = VerifierBuilder(nonce=nonce)
    for root in roots:
        builder = builder.add_root_certificate(root)
    for intermediate in intermediates:
        builder = builder.add_intermediate_certificate(intermediate)
    try:
        builder.build().verify_message(response, message)
    except (VerificationError, ValueError) as exc:
        raise StampError(f"the time-stamp token does not verify: {exc}") from exc
    return Stamp(response.tst_info.gen_time, _signer(response.signed_data.certificates))


def _signer(certificates: object) -> str:
    """The subject of the time-stamping certificate the token carries (its extended key usage says so)."""
    for raw in sorted(certificates) if isinstance(certificates, set | list | tuple) else ():
        try:
            certificate = x509.load_der_x509_certificate(raw)
            usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, x509.ExtensionNotFound):
            continue
        if x509.oid.ExtendedKeyUsageOID.TIME_STAMPING in usage:
            return certificate.subject.rfc4514_string()
    return "the time-stamp authority"
