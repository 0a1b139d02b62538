"""The tests' own layout: shared helpers live in tests/helpers, test modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
ROOT = TESTS.parent
MAX_LINES = 800  # a test module past this mixes features: split it by feature


def imported_modules(path: Path) -> set[str]:
    """Return the last part of every module a file imports (`from .test_x import` -> test_x)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.rsplit(".", 1)[-1])
        elif isinstance(node, ast.Import):
            names.update(alias.name.rsplit(".", 1)[-1] for alias in node.names)
    return names


def test_no_module_imports_a_test_module() -> None:
    """Tests and benchmarks share helpers from tests/helpers, never from another test module."""
    files = [
        *TESTS.rglob("*.py"),
        *(ROOT / "bench").glob("*.py"),
        *(ROOT / "satellite/tests").glob("*.py"),
    ]
    importing = {
        str(path.relative_to(ROOT)): sorted(n for n in imported_modules(path) if n[:5] == "test_")
        for path in files
    }
    assert {path: names for path, names in importing.items() if names} == {}
    assert len(files) > 10  # the check above looked at the real tree


def test_test_modules_stay_under_800_lines() -> None:
    """A module that grows past 800 lines is split by feature."""
    sizes = {
        path.name: len(path.read_text("utf-8").splitlines()) for path in TESTS.rglob("test_*.py")
    }
    assert len(sizes) > 10
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}
