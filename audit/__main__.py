"""Command line verifier: ``python -m audit verify BUNDLE.zip [--key KEY] [--checkpoint NOTES]``.

Exit status 0 when the bundle is intact and its key is vouched for (``--key``, or a published checkpoint
given with ``--checkpoint``), 1 when it is not intact, 2 when it is intact but nothing vouches for the key
inside it (a forger re-signs with a key of their own), and 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from audit.bundle import verify_bundle
from audit.checkpoint import CheckpointError, split_published
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS, EVIDENCE_BUNDLE_NOTES

UNVERIFIED = 2
HOW_TO_VOUCH = (
    "the key inside the bundle is unverified: pass the log's key, obtained independently, with --key "
    "(the integrity page, GET /api/v1/audit/public-key), or a checkpoint the log published with "
    "--checkpoint (the published checkpoints file, or the note sent to the legal officers)"
)


def _key_text(value: str | None) -> str | None:
    """Accept a verifier key either inline or as the path of a file holding it."""
    if value is None:
        return None
    path = Path(value)
    if "+" not in value or path.is_file():
        return path.read_text(encoding="utf-8").strip()
    return value.strip()


def _published(value: str | None) -> list[str]:
    """The signed notes in a file: one checkpoint note, or a published file of them."""
    if value is None:
        return []
    text = Path(value).read_text(encoding="utf-8").replace("\r\n", "\n")
    # A note copied from a mail may have lost its final newline.
    notes = split_published(text.rstrip("\n") + "\n\n")
    if not notes:
        raise CheckpointError("it holds no signed note")
    return notes


def _anchors(witnesses: Sequence[str], quorum: int, witnessed_by: Sequence[str], stamped: str | None) -> str:
    """Which anchors outside the log's own key were checked, and which were not."""
    if witnesses:
        said = (f"{len(witnessed_by)} of the witnesses given cosigned ({', '.join(witnessed_by) or 'none'}), "
                f"{quorum} required")
    else:
        said = "witnesses not checked (give --witness KEY for each witness you trust, and --quorum)"
    if stamped is None:
        said += "; time-stamp token not checked (give --tsa-certs PEM)"
    else:
        said += f"; time-stamped {stamped}"
    return f"anchors: {said}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    parser = argparse.ArgumentParser(prog="python -m audit", description="Verify a Decoy evidence bundle.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify an evidence bundle (ZIP)")
    verify.add_argument("path", help="the bundle")
    verify.add_argument("--key", help="the log's verifier key, obtained independently, or a file holding it")
    verify.add_argument(
        "--checkpoint",
        metavar="NOTES",
        help="a file holding a checkpoint the log published (a signed note), or the published file of them",
    )
    verify.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="KEY",
        help="a witness's cosignature verifier key (name+id+key), obtained from the witness; repeatable",
    )
    verify.add_argument(
        "--quorum",
        type=int,
        default=None,
        metavar="K",
        help="how many of the witnesses given must have cosigned the checkpoint (default: all of them)",
    )
    verify.add_argument(
        "--tsa-certs",
        metavar="PEM",
        help="the time-stamp authority's certificates (PEM), obtained from it: the checkpoint's time-stamp "
        "token (audit/checkpoint.tsr) must verify against them",
    )
    arguments = parser.parse_args(argv)

    bundle = Path(arguments.path)
    if not bundle.is_file():
        print(f"error: {bundle} is not a file", file=sys.stderr)
        return 2
    try:
        expected = _key_text(arguments.key)
    except OSError as exc:
        print(f"error: cannot read the key: {exc}", file=sys.stderr)
        return 2
    try:
        published = _published(arguments.checkpoint)
    except (OSError, UnicodeDecodeError, CheckpointError) as exc:
        print(f"error: cannot read the published checkpoint {arguments.checkpoint}: {exc}", file=sys.stderr)
        return 2

    try:
        tsa_certs = None if arguments.tsa_certs is None else Path(arguments.tsa_certs).read_bytes()
    except OSError as exc:
        print(f"error: cannot read the time-stamp authority's certificates: {exc}", file=sys.stderr)
        return 2
    quorum = len(arguments.witness) if arguments.quorum is None else arguments.quorum
    if not 0 <= quorum <= len(arguments.witness):
        given = len(arguments.witness)
        print(f"error: --quorum must be between 0 and the number of --witness keys ({given})",
              file=sys.stderr)
        return 2
    report = verify_bundle(
        bundle,
        expected_key=expected,
        published=published,
        checks=EVIDENCE_BUNDLE_CHECKS,
        notes=EVIDENCE_BUNDLE_NOTES,
        witnesses=arguments.witness,
        quorum=quorum,
        tsa_certs=tsa_certs,
    )
    if not report.ok:
        print(f"FAILED {bundle}: {report.reason}")
        if report.first_bad_index is not None:
            print(f"first bad entry: {report.first_bad_index}")
        if report.file is not None:
            print(f"file: {report.file}")
        return 1
    for note in report.notes:
        print(f"note: {note}")
    print(_anchors(arguments.witness, quorum, report.witnessed_by, report.stamped))
    if not report.trusted:
        print(f"KEY UNVERIFIED {bundle}: {report.reason}")
        print(HOW_TO_VOUCH)
        return UNVERIFIED
    print(f"OK {bundle}: {report.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
