"""Fuzz every JSON API operation with schemathesis against a running server: no 5xx, ever.

The server is a separate instance with its own database, so fuzzed records and the failed
logins the fuzzer provokes do not disturb the other tests. The run is bounded (examples per
operation and a time budget) to keep `make test` short; the number of generated cases is
printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.conftest import ARTIFACTS, running_clinic

MAX_EXAMPLES = int(os.environ.get("LDNKIT_FUZZ_EXAMPLES", "10"))
MAX_SECONDS = int(os.environ.get("LDNKIT_FUZZ_SECONDS", "45"))


def _schemathesis() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]


@pytest.mark.slow
def test_api_fuzzing_finds_no_server_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_clinic(tmp_path) as clinic:
        token = clinic.token("dr_a")
        cmd = [
            *_schemathesis(),
            "run",
            f"{clinic.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--max-time",
            str(MAX_SECONDS),
            "--workers",
            "2",
            "--seed",
            "20261125",
            "--header",
            f"Authorization: Bearer {token}",
            "--exclude-path",
            "/api/auth/logout",
            "--request-timeout",
            "30",
        ]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=MAX_SECONDS + 120, cwd=tmp_path
        )
    out = proc.stdout + proc.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "schemathesis.txt").write_text(out)
    match = re.search(r"(\d+) generated", out)
    assert match, out[-3000:]
    with capsys.disabled():
        print(f"\nschemathesis: {match.group(0)} test cases against {clinic.url}/openapi.json")
    assert proc.returncode == 0, out[-5000:]
