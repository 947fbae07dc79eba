"""VERIFY.md: the text in every evidence bundle on how to check it by hand and with the verifier."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bundle import ExportPlan

VERIFY_TEXT_PATH = "VERIFY.md"


def verify_text(operation: dict[str, Any], plan: ExportPlan) -> str:
    """VERIFY.md: how to check the bundle by hand and with the verifier."""
    previous = (
        f" It extends the checkpoint of size {plan.previous.size} (`audit/consistency.json`)."
        if plan.previous is not None and plan.previous.size <= plan.checkpoint.size
        else ""
    )
    return f"""# Verifying this evidence bundle

Operation: {operation["name"]} (id {operation["id"]}), exported {operation["exported_at"]} by
{plan.exported_by}. Signed checkpoint: size {plan.checkpoint.size}, published when the bundle was
made.{previous}

## With the verifier

Do not check the bundle against the key inside it (`audit/public_key.txt`): whoever alters a bundle can
sign it again with a key of their own. Obtain the log's key, or a checkpoint the log published,
independently of this bundle, and give it to the verifier:

    python -m audit verify THIS_BUNDLE.zip --key "KEY"
    python -m audit verify THIS_BUNDLE.zip --checkpoint PUBLISHED_CHECKPOINTS.txt

Where to get them, from the force rather than from whoever handed over this bundle:

* the key (one line, `name+keyid+base64`): on Decoy's integrity page, or from
  `GET /api/v1/audit/public-key` with any account of the force;
* published checkpoints: the published checkpoints file (`checkpoints.txt` in Decoy's data directory,
  every signed checkpoint appended as it is made), or the daily checkpoint notification sent to the legal
  officers (save its signed note in a file). The file must hold this bundle's checkpoint (size
  {plan.checkpoint.size}) or the one its consistency proof starts from.

Witnesses outside the police cosign the log's checkpoints (`audit/checkpoint.txt` carries their
signature lines after the log's own). Obtain each witness's key from the witness's operator (for
example the public prosecution service), not from this bundle, and require as many as you trust:

    python -m audit verify THIS_BUNDLE.zip --key "KEY" \\
        --witness "WITNESS-KEY-1" --witness "WITNESS-KEY-2" --quorum 2

A cosignature is the witness's statement that this checkpoint extends every checkpoint of the log it
saw before: a log rebuilt and signed again with the log's own key would not get one. Without
`--witness`, the verifier says that the witnesses were not checked; a bundle whose checkpoint lacks the
quorum fails.

A time-stamp authority outside the police dated the checkpoint when `audit/checkpoint.tsr` is present
(an RFC 3161 token for the SHA-256 of the checkpoint's text). Obtain the authority's certificates (PEM)
from the authority and check the token too:

    python -m audit verify THIS_BUNDLE.zip --key "KEY" --tsa-certs AUTHORITY-CERTIFICATES.pem

What each option proves, and what is checked without it:

* `--key` or `--checkpoint` (required for a trusted result): the bundle was signed by the log's key,
  and (with `--checkpoint`) its tree is the one the log published. Without either, the verifier checks
  the bundle against the key inside it and exits 2: anyone could have made such a bundle.
* `--witness` and `--quorum` (default: all the witnesses given): parties outside the police saw this
  checkpoint and that it extends everything they saw before. This is what stops a log rebuilt by someone
  who holds the database and the log's key. Without them, cosignature lines are not checked.
* `--tsa-certs`: the checkpoint existed at the stamped time. Without it, `audit/checkpoint.tsr` is not
  checked.

The verifier prints an `anchors:` line saying which of these were checked and which were not.

The verifier needs only Python 3.11+ and the `cryptography` package (it ships with Decoy as the
`audit` package), and `rfc3161-client` for `--tsa-certs`. It exits 0 when everything below holds and the
key is vouched for; 1 naming the first file or audit entry that fails (or a key other than the one given); 2
when the bundle is intact under the key inside it but nothing vouches for that key.

## By hand

1. `manifest.json` lists every other file with its SHA-256 and size; recompute them
   (`sha256sum`) and check that no file is missing or extra.
2. `audit/checkpoint.txt` is a C2SP signed note: origin, tree size and base64 root hash, then an
   Ed25519 signature by the log's key (format: name+keyid+base64(0x01||key)), the one obtained
   independently as above: `audit/public_key.txt` must be that same key.
3. Each line of `audit/entries.jsonl` holds an audit entry (base64 of the exact stored bytes), its
   leaf hash SHA-256(0x00 || bytes), and an RFC 9162 inclusion proof of that leaf in the tree of the
   checkpoint's size; recompute the root from the leaf and the proof (node hash SHA-256(0x01 || left ||
   right)) and compare with the checkpoint's root.
4. `audit/consistency.json` (when present) proves that this checkpoint extends the previously
   published one (RFC 9162 consistency proof).
5. For every message in `contacts/*/transcript.json`, HMAC-SHA256 of the UTF-8 text keyed with the
   bytes of its `body_salt` (hex) equals `evidence.body_commitment` in its `message.create` audit entry
   (for a message recorded before commitments: the SHA-256 of the text equals `evidence.body_sha256`),
   and every attachment's SHA-256 (the file `attachments/<sha256>`) is listed in the entry's
   `evidence.attachments`.
6. Every authorization in `authorizations.json`, decision in `reviews.json` and profile and change of
   status in `profiles.json` has its audit entry (`authorization.register`, `review.decide`,
   `profile.*`), whose `evidence.row_sha256` is the SHA-256 of the record's columns in canonical JSON;
   every name shown as who did something is that entry's `actor` (officers are named by their
   verbalisant codes).
7. Every contact, message, attachment or journal note listed in `withheld.json` (withheld or
   sensitive: its content is not in this bundle) has its audit entry in the bundle, whose recorded
   SHA-256 is the one listed (a text recorded with a commitment: its `commitment`, which reveals
   nothing of the text); an entry whose record is not shown is listed. An import whose original
   export file holds sensitive material is listed there too (kind `import`, the file's SHA-256 as its
   `import.create` entry recorded it) instead of being copied.

This bundle discloses the contacts named in `operation.json` (`export`). Entries of other operations,
and of this operation's other contacts, are not in it; their leaves appear only as hashes inside the
proofs, which reveal nothing of their content.

The full format, with test vectors, is described in Decoy's `docs/evidence-format.md`.
"""
