"""The hazard log (docs/safety.md) names only controls and tests that exist.

A control renamed or deleted, or a test renamed, would otherwise drop out of the safety case
without anyone noticing. Names are collected by parsing the files with `ast` (nothing is
imported), so the check is cheap and sees nested and async functions and class methods.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAFETY = ROOT / "docs" / "safety.md"
CODE_REF = re.compile(r"`(src/ldnkit/[\w/]+\.py)::([\w.]+)`")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::([\w.]+)`")
HAZARD = re.compile(r"^### ([HE]-\d{2}) ", re.MULTILINE)


@cache
def defined_names(path: Path) -> frozenset[str]:
    """Every function and class defined in a file, plain and as `Class.method`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(child.name)
                names.add(f"{prefix}{child.name}")
                inner = f"{prefix}{child.name}." if isinstance(child, ast.ClassDef) else prefix
                visit(child, inner)
            else:
                visit(child, prefix)

    visit(tree, "")
    return frozenset(names)


@cache
def defined_tests(path: Path) -> frozenset[str]:
    """Test functions pytest would collect: top-level `test_*` and `Test*` class methods."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    names.update({f"{node.name}.{item.name}", f"{node.name}::{item.name}"})
    return frozenset(names)


def sections(text: str) -> dict[str, str]:
    """Each hazard's text, keyed by its id (H-01, E-01, ...)."""
    marks = list(HAZARD.finditer(text))
    return {
        m.group(1): text[m.start() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        for i, m in enumerate(marks)
    }


TEXT = SAFETY.read_text(encoding="utf-8")
CODE = sorted(set(CODE_REF.findall(TEXT)))
TESTS = sorted(set(TEST_REF.findall(TEXT)))


def test_the_log_has_hazards_and_no_open_extension_section() -> None:
    found = sections(TEXT)
    assert sum(k.startswith("H-") for k in found) >= 26
    assert "## Controls being extended" not in TEXT, "issue 11's extended controls are merged"
    assert not any(k.startswith("E-") for k in found)
    assert len(found) == len(HAZARD.findall(TEXT)), "hazard ids must be unique"


@pytest.mark.parametrize(("path", "name"), CODE, ids=[f"{p}::{n}" for p, n in CODE])
def test_every_named_control_exists(path: str, name: str) -> None:
    file = ROOT / path
    assert file.is_file(), f"{path} does not exist"
    assert name in defined_names(file), f"{path} defines no {name}"


@pytest.mark.parametrize(("path", "name"), TESTS, ids=[f"{p}::{n}" for p, n in TESTS])
def test_every_named_test_exists(path: str, name: str) -> None:
    file = ROOT / path
    assert file.is_file(), f"{path} does not exist"
    assert name in defined_tests(file), f"{path} has no test {name}"


def test_every_hazard_has_a_control_and_every_control_line_names_its_test() -> None:
    for hid, body in sections(TEXT).items():
        assert CODE_REF.search(body), f"{hid} names no control"
        assert TEST_REF.search(body), f"{hid} names no test"
        for line in body.splitlines():
            if CODE_REF.search(line):
                assert TEST_REF.search(line), f"{hid}: control without a test: {line[:80]}"


def test_the_checker_notices_a_missing_name(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("class A:\n    def b(self): ...\nasync def c(): ...\ndef test_d(): ...\n")
    assert {"A", "A.b", "b", "c"} <= defined_names(sample)
    assert "A.z" not in defined_names(sample)
    assert defined_tests(sample) == {"test_d"}
