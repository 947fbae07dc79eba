"""Command line verifier: ``python -m audit verify BUNDLE.zip [--key KEY]``.

Exit status 0 when the bundle is intact, 1 when it is not, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from audit.bundle import verify_bundle
from audit.evidence_bundle import EVIDENCE_BUNDLE_CHECKS


def _key_text(value: str | None) -> str | None:
    """Accept a verifier key either inline or as the path of a file holding it."""
    if value is None:
        return None
    path = Path(value)
    if "+" not in value or path.is_file():
        return path.read_text(encoding="utf-8").strip()
    return value.strip()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    parser = argparse.ArgumentParser(prog="python -m audit", description="Verify a Decoy evidence bundle.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify an evidence bundle (ZIP)")
    verify.add_argument("path", help="the bundle")
    verify.add_argument("--key", help="the expected verifier key, or a file holding it")
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

    report = verify_bundle(bundle, expected_key=expected, checks=EVIDENCE_BUNDLE_CHECKS)
    if report.ok:
        print(f"OK {bundle}: {report.reason}")
        return 0
    print(f"FAILED {bundle}: {report.reason}")
    if report.first_bad_index is not None:
        print(f"first bad entry: {report.first_bad_index}")
    if report.file is not None:
        print(f"file: {report.file}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
