"""Names and exports: each package's `__all__` is exactly its public names, and the
exception tree drawn in `ldnkit.errors` lists every `LdnkitError` subclass under its parent.

The habit is httpx's (`test_all_imports_are_exported`, the tree in `_exceptions.py`): a reader
finds a name from the package or from the drawing, and neither goes stale silently.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest

import ldnkit
from ldnkit.errors import LdnkitError

# The packages whose `__init__` re-exports a public API (web, cli and the rest of interop have
# their own owners).
PACKAGES = (
    "ldnkit",
    "ldnkit.analytics",
    "ldnkit.clinical",
    "ldnkit.diagrams",
    "ldnkit.evidence",
    "ldnkit.interop.cds",
    "ldnkit.interop.fhir",
    "ldnkit.pharmacology",
    "ldnkit.report",
    "ldnkit.research",
    "ldnkit.store",
    "ldnkit.store.repositories",
)
# Public on purpose although it starts with an underscore.
DUNDER_EXPORTS = {"__version__"}


def _public_names(package: ModuleType) -> list[str]:
    """Names a reader would take for API: not private, not `from __future__ import
    annotations`, and not a submodule merely loaded by some other import."""
    names = []
    for name, value in vars(package).items():
        if name.startswith("_") and name not in DUNDER_EXPORTS:
            continue
        if name == "annotations" or isinstance(value, ModuleType):
            continue
        names.append(name)
    return sorted(names)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_exactly_the_public_names(name: str) -> None:
    package = importlib.import_module(name)
    exported = package.__all__
    assert len(exported) == len(set(exported)), "a name is exported twice"
    # Submodules may be exported deliberately (`repositories.audit`), never by accident.
    modules = {n for n in exported if isinstance(getattr(package, n, None), ModuleType)}
    for n in modules:
        assert getattr(package, n).__name__ == f"{name}.{n}"
    assert sorted(set(exported) - modules) == _public_names(package)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_imports(name: str) -> None:
    package = importlib.import_module(name)
    for exported in package.__all__:
        namespace: dict[str, object] = {}
        exec(f"from {name} import {exported}", namespace)
        assert namespace[exported] is getattr(package, exported)


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


_NODE = re.compile(r"^(?P<prefix>(?:│   |    )*(?:├── |└── )?)(?P<name>[A-Z]\w+)(?P<rest>.*)$")


def _drawn_tree() -> dict[str, tuple[str | None, str | None]]:
    """name -> (drawn parent, module named on the line) from the docstring of ldnkit.errors."""
    doc = importlib.import_module("ldnkit.errors").__doc__ or ""
    lines = doc.split("    LdnkitError\n", 1)[1].split("\n\n", 1)[0].splitlines()
    tree: dict[str, tuple[str | None, str | None]] = {"LdnkitError": (None, None)}
    stack = ["LdnkitError"]
    for line in lines:
        match = _NODE.match(line[4:])
        assert match, f"cannot read the tree line {line!r}"
        depth = len(match["prefix"]) // 4
        stack[depth:] = [match["name"]]
        module = re.search(r"\bldnkit(?:\.\w+)+", match["rest"])
        assert match["name"] not in tree, f"{match['name']} drawn twice"
        tree[match["name"]] = (stack[depth - 1], module[0] if module else None)
    return tree


def test_the_exception_tree_lists_every_ldnkit_error() -> None:
    for info in pkgutil.walk_packages(ldnkit.__path__, "ldnkit."):
        if info.name != "ldnkit.__main__":  # runs the CLI on import
            importlib.import_module(info.name)
    tree = _drawn_tree()
    # Only ldnkit's own classes: tests may subclass LdnkitError for their fakes.
    classes = {
        c.__name__: c
        for c in _all_subclasses(LdnkitError)
        if c.__module__.split(".")[0] == "ldnkit"
    }
    missing = sorted(set(classes) - set(tree))
    assert not missing, f"add to the tree in ldnkit/errors.py: {missing}"
    stale = sorted(set(tree) - set(classes) - {"LdnkitError"})
    assert not stale, f"no longer exist, remove from the tree: {stale}"
    for name, cls in classes.items():
        parent, module = tree[name]
        assert parent in {b.__name__ for b in cls.__bases__}, f"{name} drawn under {parent}"
        expected = None if cls.__module__ == "ldnkit.errors" else cls.__module__
        assert module == expected, f"{name} lives in {cls.__module__}"
