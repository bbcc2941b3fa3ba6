"""`ldnkit fhir export/read` and `ldnkit document` from the command line."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from pypdf import PdfReader

from ldnkit.cli import main
from ldnkit.interop.fhir.common import validate_bundle

EXAMPLE = str(Path(__file__).resolve().parents[2] / "src/ldnkit/examples/fibromyalgia.yaml")


def test_fhir_export_then_read(tmp_path, capsys):
    diary = tmp_path / "diary.yaml"
    diary.write_text(
        "- {date: 2026-03-01, pain: 7, dose_taken: false}\n"
        "- {date: 2026-03-03, pain: 6, dose_taken: true, dose_mg: '1.5', side_effects: 'vivid_dreams:mild'}\n"
    )
    out = tmp_path / "bundle.json"
    code = main(
        ["fhir", "export", EXAMPLE, "--start", "2026-03-02", "--diary", str(diary), "-o", str(out)]
    )
    assert code == 0
    bundle = json.loads(out.read_text())
    validate_bundle(bundle)
    capsys.readouterr()
    assert main(["fhir", "read", str(out), "--today", "2026-04-01"]) == 0
    text = capsys.readouterr().out
    assert "Diary days (2)" in text and "vivid_dreams (mild)" in text
    assert "Plan: Fibromyalgia from 2026-03-02" in text and "2026-03-16 3 mg" in text


def test_document_pdf(tmp_path):
    out = tmp_path / "handout.pdf"
    code = main(
        [
            "document",
            "handout",
            EXAMPLE,
            "--start",
            "2026-03-02",
            "--phone",
            "555 0100",
            "--calendar-url",
            "https://x.example/plan.ics",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    text = re.sub(r"\s+", " ", text)
    assert "2026-03-16" in text and "3 mg" in text and "555 0100" in text
    assert "https://x.example/plan.ics" in text


def test_document_errors_are_one_line(capsys):
    code = main(["document", "wallet_card", EXAMPLE, "--start", "2026-03-02"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --output")
    code = main(["fhir", "export", EXAMPLE, "--start", "2026-13-01"])
    assert code == 2 and "--start" in capsys.readouterr().err
