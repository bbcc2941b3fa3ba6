"""The architecture contracts in pyproject.toml ([tool.importlinter]) hold.

`make test` runs `lint-imports` too; this test makes a plain `pytest` run (an IDE, a single
CI job) fail the same way, naming the broken contract in its output.
"""

from __future__ import annotations

import re
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(capsys) -> None:
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
    kept, broken = map(int, re.search(r"Contracts: (\d+) kept, (\d+) broken", report).groups())
    # core-is-pure, interop-without-web, layers, no-module-circles: none silently dropped
    assert broken == 0 and kept >= 4
