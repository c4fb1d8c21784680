"""The layout's rules: dependencies flow one way, and facts kept in more than one file agree.

The libraries (`realm/`, `policies/`, `infra/`) never import the CLI and local platform (`scripts/`)
or the load tests (`loadtests/`); `loadtests/` is a client of the libraries and may use `scripts/`
only for the local platform's settings. Imports are read with `ast`, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from realm.platform import REPO_ROOT

LIBRARIES = ("realm", "policies", "infra")
FORBIDDEN = {
    "realm": ("scripts", "loadtests", "tests", "policies", "infra"),
    "policies": ("scripts", "loadtests", "tests", "infra"),
    "infra": ("scripts", "loadtests", "tests"),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an `import` or `from … import` in the file names (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO_ROOT / folder).rglob("*.py") if "extensions" not in p.parts)


@pytest.mark.parametrize("library", LIBRARIES)
def test_libraries_do_not_import_upward(library: str) -> None:
    offending = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
        for path in python_files(library)
        for line, module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN[library]
    ]
    assert offending == [], "\n".join(offending)


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from scripts.settings import load\n    import loadtests.cli\n")
    assert imported_modules(source) == [(2, "scripts.settings"), (3, "loadtests.cli")]


def test_the_tree_has_libraries_to_check() -> None:
    for library in LIBRARIES:
        assert python_files(library), library
