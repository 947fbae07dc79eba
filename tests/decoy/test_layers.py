"""Services know no request: no module of decoy outside decoy/api imports the API package."""

from __future__ import annotations

import ast
from pathlib import Path

import decoy

PACKAGE = Path(decoy.__file__).parent
#: The application factory registers every blueprint, the API's included; nothing else may import it.
FACTORY = PACKAGE / "__init__.py"


def _imported(path: Path) -> set[str]:
    """The absolute names of the modules (and names) ``path`` imports, relative imports resolved."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    package = ["decoy", *parts[:-1]]  # the package a relative import starts from, for __init__ too
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            prefix = ".".join([*base, node.module] if node.module else base)
            names |= {prefix, *(f"{prefix}.{alias.name}" for alias in node.names)}
    return names


def _is_api(name: str) -> bool:
    return name == "decoy.api" or name.startswith("decoy.api.")


def test_only_the_api_imports_the_api() -> None:
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != FACTORY and not path.is_relative_to(PACKAGE / "api"):
            found = sorted(filter(_is_api, _imported(path)))
            if found:
                offenders[str(path.relative_to(PACKAGE))] = found
    assert offenders == {}


def test_the_check_resolves_relative_imports() -> None:
    assert {"decoy.db", "decoy.export.bundle"} <= _imported(PACKAGE / "export" / "views.py")
    assert "decoy.api" in _imported(FACTORY)  # `from .api import bp as api_bp`
